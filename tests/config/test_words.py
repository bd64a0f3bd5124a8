from pathlib import Path

import pytest

from ldnn_tune.config.settings import RunConfig
from ldnn_tune.config.words import build_typed, split_words
from ldnn_tune.errors import UsageError


def test_split_words() -> None:
    assert split_words(["a=1", "storage=postgresql://h/db?x=y"]) == {
        "a": "1",
        "storage": "postgresql://h/db?x=y",
    }
    # spaces a quoted word kept around its key or value are not part of them
    assert split_words([" task=image ", "b= 2"]) == {"task": "image", "b": "2"}


@pytest.mark.parametrize(
    ("words", "message"),
    [
        (["trials"], "expected key=value, got 'trials'"),
        (["=3"], "expected key=value"),
        (["a=1", "a=2"], "a given twice"),
    ],
)
def test_split_words_rejects(words: list[str], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        split_words(words)


def test_build_typed_converts_by_field_type() -> None:
    config = build_typed(
        RunConfig,
        {
            "task": "image",
            "trials": "3",
            "study": "007",
            "space": "s.yaml",
            "min_lr": "1e-5",
            "data_dir": "none",
        },
    )
    assert config.trials == 3
    assert config.study == "007"
    assert config.space == Path("s.yaml")
    assert config.min_lr == 1e-5
    assert config.data_dir is None


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"trials": "abc"}, "invalid value 'abc' for trials: expected an integer"),
        ({"trials": "-2"}, "invalid trials=-2: must be at least 1"),
        ({"epochs": "0"}, "invalid epochs=0"),
        ({"sampler": "grid"}, "invalid sampler 'grid'; choose from cmaes, gp, qmc, random, tpe"),
        ({"pruner": "x"}, "invalid pruner 'x'; choose from hyperband, median, none, sha"),
        ({"timeout": "soon"}, "invalid timeout 'soon'"),
        ({"min_lr": "-1"}, "invalid min_lr=-1.0"),
        ({"data_dir": ""}, "invalid data_dir='': expected a path, got nothing"),
        ({"space": " "}, "invalid space=' ': expected a path, got nothing"),
        ({"health": "2"}, "invalid value '2' for health: expected true or false"),
        ({"check": "-1"}, "invalid value '-1' for check: expected true or false"),
    ],
)
def test_build_typed_rejects(values: dict[str, str], message: str) -> None:
    with pytest.raises(UsageError, match=message.replace("(", r"\(")):
        build_typed(RunConfig, {"task": "image", **values})


def test_a_path_from_home_is_expanded_and_booleans_take_their_words(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HOME", "/home/someone")
    config = build_typed(RunConfig, {"task": "image", "data_dir": "~/digits", "health": "no"})
    assert config.data_dir == Path("/home/someone/digits")  # not a folder named ~ here
    assert config.health is False


def test_build_typed_fills_frozen_option_dataclasses() -> None:
    from ldnn_tune.testing import BoringOptions

    options = build_typed(BoringOptions, {"samples": "60", "classes": "4"})
    assert (options.samples, options.classes) == (60, 4)
    with pytest.raises(UsageError, match="samples=10 is too small"):
        build_typed(BoringOptions, {"samples": "10"})
