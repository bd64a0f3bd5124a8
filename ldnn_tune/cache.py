"""Where ldnn-tune keeps what it can rebuild: ``$XDG_CACHE_HOME/ldnn_tune`` (``~/.cache``)."""

import os
import tempfile
from collections.abc import Mapping, MutableMapping
from pathlib import Path


def cache_root() -> Path:
    """Return ``$XDG_CACHE_HOME/ldnn_tune`` (``~/.cache/ldnn_tune``)."""
    return _user_cache(os.environ) / "ldnn_tune"


def _user_cache(environ: Mapping[str, str]) -> Path:
    """Return the user's cache folder: ``$XDG_CACHE_HOME``, or ``~/.cache``."""
    return Path(environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")


def give_matplotlib_a_cache(environ: MutableMapping[str, str] = os.environ) -> None:
    """Point ``MPLCONFIGDIR`` at a folder in the temp dir when matplotlib's cannot be made.

    Matplotlib (loaded by Lightning, through torchmetrics) wants a writable
    ``$XDG_CACHE_HOME/matplotlib``. Without one it printed two warnings and made a new
    temporary folder for each command, which a command that skips the interpreter's
    teardown never removed; this folder is made once and kept.
    """
    if "MPLCONFIGDIR" in environ:
        return
    wanted = _user_cache(environ) / "matplotlib"
    try:
        wanted.mkdir(parents=True, exist_ok=True)
        if os.access(wanted, os.W_OK):
            return
    except OSError:
        pass
    fallback = Path(tempfile.gettempdir()) / f"ldnn-tune-matplotlib-{os.getuid()}"
    fallback.mkdir(mode=0o700, exist_ok=True)
    environ["MPLCONFIGDIR"] = str(fallback)
