"""The cache folders: matplotlib's falls back to one kept folder when its own cannot be made."""

import os
from pathlib import Path

from ldnn_tune.cache import give_matplotlib_a_cache


def test_matplotlib_gets_a_kept_folder_only_when_its_own_cannot_be_made(tmp_path: Path) -> None:
    unmakeable = {"XDG_CACHE_HOME": "/proc/no-such-folder"}  # not even root can make it
    give_matplotlib_a_cache(unmakeable)
    folder = Path(unmakeable["MPLCONFIGDIR"])
    assert folder.is_dir() and os.access(folder, os.W_OK)
    again = {"XDG_CACHE_HOME": "/proc/no-such-folder"}
    give_matplotlib_a_cache(again)
    assert again["MPLCONFIGDIR"] == str(folder)  # the same folder for every command

    writable = {"XDG_CACHE_HOME": str(tmp_path)}
    give_matplotlib_a_cache(writable)
    assert "MPLCONFIGDIR" not in writable and (tmp_path / "matplotlib").is_dir()
    chosen = {"XDG_CACHE_HOME": "/proc/no-such-folder", "MPLCONFIGDIR": str(tmp_path)}
    give_matplotlib_a_cache(chosen)
    assert chosen["MPLCONFIGDIR"] == str(tmp_path)  # the user's own choice stands
