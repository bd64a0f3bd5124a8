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
    assert "pre-flight: data ok, gradient ok, init scale ok" in first.stdout
    again = run_main(["run", *QUICK, "study=b"], capsys)
    assert "pre-flight: passed before with these settings (skipped)" in again.stdout
    other_knobs = run_main(["run", *QUICK, "study=c", "width=16"], capsys)
    assert "pre-flight: data ok, gradient ok, init scale ok" in other_knobs.stdout
    assert len(list((cache_root() / "preflight").iterdir())) == 2
