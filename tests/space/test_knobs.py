"""Knobs and spaces: sampling conditional knobs, pinning values from the command line."""

from pathlib import Path

import optuna
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution

from ldnn_tune.errors import UsageError, choices_text
from ldnn_tune.space.load import load_space, space_file


def test_conditional_knob_is_sampled_only_when_its_parent_matches() -> None:
    space = load_space([space_file("recipe.yaml")])
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=1))
    seen = []
    for _ in range(20):
        trial = study.ask()
        params = space.sample(trial)
        seen.append(params["init"])
        assert ("init_scale" in params) == (params["init"] == "scaled")
        study.tell(trial, 0.0)
    assert set(seen) == {"lazy", "scaled"}


def test_fix_pins_a_knob_to_one_value() -> None:
    space = load_space([space_file("recipe.yaml")]).fix({"lr": "0.3", "batch_size": "64"})
    # a float knob stays a float range (from the value to itself): a study that searched
    # it can go on with it pinned
    assert space["lr"].distribution == FloatDistribution(0.3, 0.3, log=True)
    assert space["lr"].describe() == "fixed 0.3"
    assert space["batch_size"].distribution == CategoricalDistribution([64])
    assert space.defaults()["batch_size"] == 64


def test_a_pin_its_pinned_parent_rules_out_is_refused() -> None:
    space = load_space([space_file("recipe.yaml")])
    with pytest.raises(UsageError) as error:
        space.fix({"init": "lazy", "init_scale": "0.5"})
    assert str(error.value) == (
        "init_scale= applies only when init is scaled, and init=lazy is pinned; drop "
        "init_scale= or change init="
    )
    assert space.fix({"init": "scaled", "init_scale": "0.5"}).defaults()["init_scale"] == 0.5
    assert space.fix({"init_scale": "0.5"})["init_scale"].describe() == "fixed 0.5"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("abc", "invalid value 'abc' for lr: expected a number"),
        ("5", "lr=5 is outside the search space [0.01, 1]"),
    ],
)
def test_fix_rejects_bad_numbers(raw: str, message: str) -> None:
    space = load_space([space_file("recipe.yaml")])
    with pytest.raises(UsageError, match=message.replace("[", r"\[").replace("]", r"\]")):
        space.fix({"lr": raw})


def test_fix_rejects_unknown_choice_and_names_the_choices() -> None:
    space = load_space([space_file("recipe.yaml")])
    with pytest.raises(UsageError, match="invalid value 'he' for init; choose from lazy, scaled"):
        space.fix({"init": "he"})


def test_fix_reads_true_and_false_for_a_boolean_knob(tmp_path: Path) -> None:
    extra = tmp_path / "space.yaml"
    extra.write_text("norm:\n  type: categorical\n  choices: [false, true]\n  default: false\n")
    space = load_space([space_file("recipe.yaml"), extra])
    assert space.fix({"norm": "true"}).defaults()["norm"] is True
    assert space.fix({"norm": "False"}).defaults()["norm"] is False
    assert space.fix({"norm": "TRUE"}).defaults()["norm"] is True
    # as the host's true/false settings (health=yes) take them
    assert space.fix({"norm": "yes"}).defaults()["norm"] is True
    assert space.fix({"norm": "0"}).defaults()["norm"] is False
    with pytest.raises(UsageError, match="invalid value 'maybe' for norm; choose from false, true"):
        space.fix({"norm": "maybe"})


def test_a_number_typed_for_a_choice_of_numbers_and_booleans_is_the_number(
    tmp_path: Path,
) -> None:
    extra = tmp_path / "space.yaml"
    extra.write_text(
        "mix:\n  type: categorical\n  choices: [true, 1.0, false, 0.5]\n  default: true\n"
        "opt:\n  type: categorical\n  choices: [adam, ADAM]\n  default: adam\n"
    )
    space = load_space([space_file("recipe.yaml"), extra])
    assert space.fix({"mix": "1"}).defaults()["mix"] == 1.0
    assert space.fix({"mix": "1"}).defaults()["mix"] is not True
    assert space.fix({"mix": "0"}).defaults()["mix"] is False  # no 0 among the numbers
    assert space.fix({"mix": "yes"}).defaults()["mix"] is True
    assert space.fix({"opt": "ADAM"}).defaults()["opt"] == "ADAM"  # text is matched as typed


@pytest.mark.parametrize(
    ("name", "value", "allowed"),
    [
        ("lr", 0.3, True),
        ("lr", 5.0, False),  # outside [0.01, 1]
        ("lr", "0.3", False),  # another kind
        ("lr_patience", 3, True),
        ("lr_patience", 2.5, False),
        ("batch_size", 64, True),
        ("batch_size", 100, False),
        ("batch_size", True, False),
        ("init", "scaled", True),
        ("init", "orthogonal", False),
    ],
)
def test_a_knob_allows_only_values_its_distribution_can_take(
    name: str, value: object, allowed: bool
) -> None:
    space = load_space([space_file("recipe.yaml")])
    assert space[name].allows(value) is allowed


def test_numeric_choices_are_listed_by_value_before_text() -> None:
    assert choices_text([128, 256, 32, 64]) == "32, 64, 128, 256"
    assert choices_text(["relu", 0.5, True, 2]) == "0.5, 2, relu, true"


def test_an_enqueued_value_the_space_does_not_allow_is_the_space_s_to_choose() -> None:
    import warnings

    import optuna

    from ldnn_tune.space.knobs import Knob, SearchSpace

    space = SearchSpace((Knob("width", CategoricalDistribution((8, 16)), 8, {}),))
    study = optuna.create_study()
    study.enqueue_trial({"width": 32})  # outside the space (by hand, or before a pin)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "out of range" warning either
        trial = study.ask()
        assert space.sample(trial)["width"] in (8, 16)
    frozen = study.get_trials(deepcopy=False)[0]
    assert frozen.params["width"] in (8, 16)
    frozen._validate()  # stored inside its distribution
