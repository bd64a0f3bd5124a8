"""HParams: typed access to a trial's task knobs."""

import pytest

from ldnn_tune import HParams
from ldnn_tune.space.load import load_space, space_file


def with_task_knobs(**extra: object) -> HParams:
    """Return the recipe's first-trial knobs with the task knobs ``extra``."""
    recipe = load_space([space_file("recipe.yaml")])
    return HParams.from_params({**recipe.complete(recipe.defaults()), **extra})


def test_get_bool_returns_a_true_or_false_knob_and_refuses_others() -> None:
    hp = with_task_knobs(norm=True, off=False, width=8)
    assert hp.get_bool("norm") is True and hp.get_bool("off") is False
    with pytest.raises(TypeError, match=r"'width' is 8, not true or false"):
        hp.get_bool("width")
    with pytest.raises(KeyError, match="has no value"):
        hp.get_bool("missing")


def test_a_knob_saved_without_a_value_takes_the_missing_value_where_one_is_given() -> None:
    hp = with_task_knobs(width=8)
    assert hp.get_bool("norm", missing=False) is False
    assert hp.get_float("speed", missing=0.0) == 0.0
    assert hp.get_int("width", missing=4) == 8
    with pytest.raises(KeyError, match="has no value"):
        hp.get_float("speed")


def test_get_str_returns_a_categorical_of_strings_and_names_the_knobs_there_are() -> None:
    hp = with_task_knobs(pool="max", width=8)
    assert hp.get_str("pool") == "max"
    assert hp.get_str("mode", missing="mean") == "mean"  # saved before the knob existed
    with pytest.raises(KeyError, match=r"task knob 'pools' has no value; .*: pool, width"):
        hp.get_str("pools")  # a knob renamed in the space, not in the code
