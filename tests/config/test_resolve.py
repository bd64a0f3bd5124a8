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


@pytest.mark.parametrize(
    ("space", "word", "message"),
    [
        ("", "lr=5", "lr=5 is outside the search space [0.01, 1]; widen it with space=FILE"),
        (
            "narrow.yaml",
            "lr=0.5",
            "lr=0.5 is outside the search space [0.02, 0.2]; widen it in narrow.yaml",
        ),
        (
            "article",
            "lr=0.05",
            "lr=0.05 is outside the search space [0.1, 0.1]; space=article sets that range; "
            "widen it with a space file of your own",
        ),
        (
            "narrow.yaml",
            "dropout=0.15",
            "dropout=0.15 is off the search space's grid (float [0, 0.2] step 0.1); give a "
            "value on it",
        ),
        (
            "narrow.yaml",
            "momentum=0.5",
            "momentum= cannot be pinned: space=narrow.yaml removes it from the search "
            "(momentum: null), so trials keep 0.9; drop momentum=, or that line of the file",
        ),
    ],
)
def test_a_pin_the_space_does_not_hold_says_where_that_space_comes_from(
    space: str,
    word: str,
    message: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "narrow.yaml").write_text(
        "lr: {type: float, low: 0.02, high: 0.2, log: true, default: 0.1}\n"
        "dropout: {type: float, low: 0.0, high: 0.2, step: 0.1, default: 0.0}\n"
        "momentum: null\n"
    )
    words = ["space", "task=image", *([f"space={space}"] if space else []), word]
    assert_usage_error(run_main(words, capsys), message)


@pytest.mark.parametrize("space", ["", "space=wide"])
def test_a_knob_the_task_s_own_space_removes_is_named_as_the_task_s(
    space: str, capsys: pytest.CaptureFixture[str]
) -> None:
    words = ["space", "task=sequence", "problem=parity", "model=mlp", "layers=2"]
    assert_usage_error(
        run_main([*words, *([space] if space else [])], capsys),
        "layers= cannot be pinned: task 'sequence' does not search it with these options (its "
        "space for them removes it); drop layers=",
    )
