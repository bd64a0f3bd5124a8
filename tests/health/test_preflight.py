"""The pre-flight of a new study, and its memory of setups that passed."""

from pathlib import Path

import pytest

from ldnn_tune.cache import cache_root
from ldnn_tune.testing.cli import run_main

QUICK = ("task=image", "trials=1", "epochs=1", "ensemble=none")


@pytest.mark.slow
def test_a_setup_that_passed_is_not_checked_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    first = run_main(["run", *QUICK, "study=a"], capsys)
    assert first.returncode == 0, first.stderr
    assert "pre-flight: data ok, batch mean ok, gradient ok, init scale ok" in first.stdout
    again = run_main(["run", *QUICK, "study=b"], capsys)
    assert "pre-flight: passed before with these settings (skipped)" in again.stdout
    other_knobs = run_main(["run", *QUICK, "study=c", "width=16"], capsys)
    assert "pre-flight: data ok, batch mean ok, gradient ok, init scale ok" in other_knobs.stdout
    assert len(list((cache_root() / "preflight").iterdir())) == 2


def test_the_memory_of_a_passed_setup_forgets_it_when_a_plugin_file_changes(
    tmp_path: Path,
) -> None:
    import os

    from ldnn_tune.health.preflight import code_stamp

    module = tmp_path / "plugin" / "task.py"
    module.parent.mkdir()
    module.write_text("x = 1\n")
    before = code_stamp(tmp_path / "plugin")
    assert code_stamp(tmp_path / "plugin") == before
    module.write_text("x = 2\n")  # an edit of the same size, a second later
    stat = module.stat()
    os.utime(module, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert code_stamp(tmp_path / "plugin") != before


def test_the_pre_flight_stamp_covers_the_task_plugins_own_files() -> None:
    from ldnn_tune_image.task import ImageTask

    import ldnn_tune
    from ldnn_tune.health.preflight import _package_folder

    assert _package_folder(ldnn_tune) == Path(ldnn_tune.__file__).parent
    assert _package_folder(ImageTask) == Path(__import__("ldnn_tune_image").__file__).parent
