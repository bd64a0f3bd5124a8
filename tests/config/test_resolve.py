"""Resolving a run's words: settings the space makes impossible are refused up front."""

from pathlib import Path

import pytest

from ldnn_tune.testing.cli import assert_usage_error, run_main


def test_a_space_whose_lr_reaches_the_default_min_lr_says_so_and_space_shows_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "s.yaml").write_text("lr: {type: float, low: 0.00005, high: 0.1, default: 0.05}\n")
    shown = run_main(["space", "task=image", "space=s.yaml"], capsys)
    assert shown.returncode == 0, shown.stderr  # space ignores min_lr: nothing to refuse
    refused = run_main(["run", "task=image", "space=s.yaml"], capsys)
    assert_usage_error(
        refused,
        "invalid min_lr=0.0001 (the default): a trial stops once its LR is divided below it, "
        "so it must be below the lowest lr the space can start from (5e-05); give "
        "min_lr=5e-07 or lower",
    )
