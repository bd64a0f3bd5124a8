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


@pytest.mark.parametrize(
    ("word", "takes"),
    [
        ("depth=9", "invalid depth=9: the task takes an integer > 0 and <= 8"),
        ("aug_strength=1.5", "invalid aug_strength=1.5: the task takes a number >= 0 and <= 1"),
        ("lr=-1", "invalid lr=-1: the task takes a number > 0"),
    ],
)
def test_a_pinned_value_the_knob_s_code_does_not_take_is_not_sent_to_widen_the_space(
    word: str, takes: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # "widen it with space=FILE" would be refused in turn: no file widens what code takes
    result = run_main(["space", "task=image", word], capsys)
    assert_usage_error(result, takes)
    assert "space=FILE" not in result.stderr
