from pathlib import Path

import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution

from ldnn_tune.errors import UsageError
from ldnn_tune.recipe.hparams import RECIPE_KNOBS, HParams
from ldnn_tune.space.load import load_space, space_file


def write(tmp_path: Path, text: str, name: str = "space.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_recipe_space_defaults_are_the_article_values() -> None:
    space = load_space([space_file("recipe.yaml")])
    defaults = space.defaults()
    assert defaults == {
        "lr": 0.1,
        "lr_factor": 2,
        "lr_patience": 2,
        "init": "lazy",
        "dropout": 0.0,
        "batch_size": 128,
        "clip_norm": 10.0,
        "momentum": 0.9,
    }
    assert "init_scale" not in defaults  # conditional on init=scaled
    recipe = HParams.from_params(space.complete(defaults)).recipe
    for name, value in defaults.items():
        assert getattr(recipe, name) == value
    assert recipe.init_scale == 1.0  # inactive knobs keep their YAML default


def test_recipe_yaml_is_the_one_source_of_every_recipe_knob() -> None:
    assert set(load_space([space_file("recipe.yaml")]).names) == RECIPE_KNOBS


def test_a_removed_knob_is_not_searched_but_keeps_its_last_default(tmp_path: Path) -> None:
    user = write(tmp_path, "momentum: null\n")
    space = load_space([space_file("recipe.yaml"), user])
    assert "momentum" not in space.names
    assert "momentum" not in space.defaults()
    assert space.complete({"lr": 0.3})["momentum"] == 0.9
    assert HParams.from_params(space.complete({})).recipe.momentum == 0.9


def test_recipe_space_has_the_article_ranges() -> None:
    space = load_space([space_file("recipe.yaml")])
    lr = space["lr"].distribution
    assert isinstance(lr, FloatDistribution) and lr.log and lr.low < 0.1 < lr.high
    factor = space["lr_factor"].distribution
    assert isinstance(factor, CategoricalDistribution) and set(factor.choices) == {2, 5}
    assert space["init_scale"].when == {"init": ("scaled",)}


def test_later_files_override_and_null_removes(tmp_path: Path) -> None:
    user = write(
        tmp_path,
        "lr: {type: float, low: 0.001, high: 2, log: true, default: 0.5}\nmomentum: null\n",
    )
    space = load_space([space_file("recipe.yaml"), user])
    assert space["lr"].default == 0.5
    assert "momentum" not in space.names


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("lr: [", "malformed YAML"),
        ("lr: {high: 0.3}", "knob 'lr': missing 'type'; a knob's spec is whole"),
        ("lr: {type: float, low: 0.01, high: 1, default: '0.1'}", "default '0.1' of a float"),
        ("i: {type: categorical, choices: [{a: 1}], default: a}", "choice {'a': 1} is not a"),
        ("i: {type: categorical, choices: [x, x], default: x}", "choice 'x' is listed twice"),
        (
            "a: {type: categorical, choices: [x, y], default: x}\n"
            "b: {type: int, low: 0, high: 3, default: 1, when: {a: []}}",
            "'when' lists no value of 'a', so the knob would never apply",
        ),
        ("- 1\n- 2\n", "expected a mapping"),
        ("lr: {type: floaty, low: 0, high: 1, default: 0}", "invalid type 'floaty'"),
        ("lr: {type: float, low: 1, high: 0, default: 0.5}", "low 1 is greater than high 0"),
        ("lr: {type: float, low: 0, high: 1, default: 3}", "default 3 is outside"),
        ("lr: {type: float, low: 0, high: 1}", "missing 'default'"),
        ("lr: {type: float, low: 0, high: 1, default: 0, colour: red}", "unknown field 'colour'"),
        (
            "a: {type: int, low: 0, high: 3, default: 1, when: {zz: x}}",
            "not an earlier categorical",
        ),
        (
            "a: {type: categorical, choices: [x, y], default: x}\n"
            "b: {type: int, low: 0, high: 3, default: 1, when: {a: z}}",
            "'when' value 'z'",
        ),
        (
            "lr: {type: float, low: 0, high: 1, log: true, default: 0.5}",
            "knob 'lr': log: true needs low above 0 (a log scale has no 0), got 0",
        ),
        ("d: {type: int, low: 1, high: 3.5, default: 3}", "high 3.5 of an int knob must be"),
        ("d: {type: int, low: 0.5, high: 3, default: 2}", "low 0.5 of an int knob must be a whole"),
        ("d: {type: int, low: 0, high: 3, default: 2.7}", "default 2.7 of an int knob must be a"),
        ("lr: {type: float, low: 0.01, high: .inf, default: 0.1}", "high inf is not a finite"),
        (
            "lr: {type: float, low: 0.01, high: 1, choices: [0.1], default: 0.1}",
            "knob 'lr': field 'choices' does not apply to type float",
        ),
        (
            "w: {type: categorical, choices: [16, 32], low: 8, default: 16}",
            "knob 'w': field 'low' does not apply to type categorical",
        ),
        (
            "lr: {type: float, low: 0.01, high: 1, log: 'false', default: 0.1}",
            "'log' must be true or false, got 'false'",
        ),
        (
            "lr: {type: float, low: 0.01, high: 1, default: 0.1}\n"
            "lr: {type: float, low: 0.01, high: 2, default: 0.1}",
            "at line 2: key 'lr' given twice",
        ),
        ("lr: {type: float, low: abc, high: 1, default: 0.1}", "needs a numeric 'low', got 'abc'"),
    ],
)
def test_invalid_space_files_are_one_line_errors(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(UsageError) as error:
        load_space([write(tmp_path, text)])
    assert message in str(error.value)
    assert "\n" not in str(error.value)


def test_numbers_in_e_notation_are_numbers(tmp_path: Path) -> None:
    text = "lr: {type: float, low: 1e-4, high: 1E-1, log: true, default: 1e-2}\n"
    space = load_space([write(tmp_path, text)])
    assert space.defaults() == {"lr": 0.01}
    assert (space["lr"].distribution.low, space["lr"].distribution.high) == (1e-4, 0.1)


def test_removing_a_knob_another_depends_on_says_to_remove_both(tmp_path: Path) -> None:
    user = write(tmp_path, "init: null\n")
    with pytest.raises(UsageError) as error:
        load_space([space_file("recipe.yaml"), user])
    assert str(error.value) == (
        "knob 'init_scale' depends on 'init' (its when:), which a space file removes "
        "(init: null); remove init_scale too (init_scale: null)"
    )
    both = write(tmp_path, "init: null\ninit_scale: null\n", "both.yaml")
    assert "init_scale" not in load_space([space_file("recipe.yaml"), both]).names


def test_missing_space_file(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="does not exist"):
        load_space([tmp_path / "nope.yaml"])


def test_an_override_keeps_its_place_so_later_conditions_still_hold(tmp_path: Path) -> None:
    user = write(tmp_path, "init: {type: categorical, choices: [lazy, scaled], default: scaled}\n")
    space = load_space([space_file("recipe.yaml"), user])
    assert space.names.index("init") < space.names.index("init_scale")
    assert space.defaults()["init_scale"] == 1.0


def test_an_error_names_the_file_at_fault(tmp_path: Path) -> None:
    user = write(tmp_path, "init: {type: categorical, choices: [], default: lazy}\n", "mine.yaml")
    with pytest.raises(UsageError, match=r"mine\.yaml: knob 'init': categorical needs"):
        load_space([space_file("recipe.yaml"), user])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("lr: {type: float, low: -0.1, high: 1, default: 0.1}", "knob 'lr': low -0.1 is not"),
        (
            "lr: {type: float, low: 0, high: 1, default: 0.1}",
            "knob 'lr': low 0 is not a number > 0",
        ),
        (
            "batch_size: {type: categorical, choices: [0, 32], default: 32}",
            "knob 'batch_size': choice 0 is not an integer > 0",
        ),
        (
            "batch_size: {type: categorical, choices: [big], default: big}",
            "knob 'batch_size': choice 'big' is not an integer > 0",
        ),
        (
            "batch_size: {type: float, low: 64, high: 128, step: 64, default: 128}",
            "knob 'batch_size': type float samples numbers like 64.0; it must be an integer > 0 "
            "(type: int)",
        ),
        ("dropout: {type: float, low: 0, high: 1.5, default: 0}", "knob 'dropout': high 1.5"),
        (
            "dropout: {type: float, low: 0, high: 1, default: 0}",
            "high 1 is not a number >= 0 and < 1",
        ),
        ("momentum: {type: float, low: 0, high: 1, default: 0.9}", "knob 'momentum': high 1"),
        ("clip_norm: {type: float, low: 0, high: 5, default: 1}", "knob 'clip_norm': low 0"),
        ("lr_factor: {type: categorical, choices: [1, 2], default: 2}", "knob 'lr_factor'"),
        ("init: {type: categorical, choices: [lazy, he], default: lazy}", "choice 'he' is not"),
        ("lr: {type: float, low: 0.1, high: 1, step: abc, default: 0.1}", "'step' must be"),
        ("lr: {type: float, low: 0.1, high: 1, step: 0, default: 0.1}", "'step' must be"),
        ("lr_patience: {type: int, low: 1, high: 4, step: 0.5, default: 2}", "whole number"),
    ],
)
def test_a_space_that_could_sample_what_the_code_refuses_is_refused(
    tmp_path: Path, text: str, message: str
) -> None:
    from ldnn_tune.recipe.hparams import RECIPE_DOMAINS

    with pytest.raises(UsageError) as error:
        load_space([space_file("recipe.yaml"), write(tmp_path, text)], RECIPE_DOMAINS)
    assert message in str(error.value)
    assert str(tmp_path) in str(error.value)


def test_a_space_file_that_is_not_utf8_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "latin.yaml"
    path.write_bytes('lr: {help: "caf\xe9"}\n'.encode("latin-1"))
    with pytest.raises(UsageError, match="is not UTF-8 text"):
        load_space([path])


SECTIONS = """\
dropout: {type: float, low: 0, high: 0.2, default: 0}
task:
  boring:
    width: {type: categorical, choices: [4, 8], default: 4}
    dropout: {type: float, low: 0, high: 0.1, default: 0}
  other:
    hidden: {type: categorical, choices: [1, 2], default: 1}
"""


def test_a_task_section_applies_to_its_task_only(tmp_path: Path) -> None:
    from ldnn_tune.testing import BoringTask

    boring = write(tmp_path, "width: {type: int, low: 1, high: 64, default: 8}\n", "b.yaml")
    user = write(tmp_path, SECTIONS)
    space = load_space([space_file("recipe.yaml"), boring], task=BoringTask.name, overrides=[user])
    assert space["width"].describe() == "one of 4, 8"
    assert space["dropout"].describe() == "float [0, 0.1]"  # the section wins over the top
    assert "hidden" not in space.names
    assert space.names.index("dropout") < space.names.index("width")  # overrides keep places


def test_a_misspelt_task_section_is_refused_and_one_for_elsewhere_is_not(
    tmp_path: Path,
) -> None:
    width = "{width: {type: categorical, choices: [4, 8], default: 4}}"
    recipe, installed = [space_file("recipe.yaml")], ("boring", "image")
    typo = write(tmp_path, f"task: {{borign: {width}}}\n", "typo.yaml")
    with pytest.raises(UsageError) as error:
        load_space(recipe, task="boring", overrides=[typo], installed=installed)
    assert str(error.value) == (
        f"{typo}: task section 'borign' is not an installed task (did you mean 'boring'?); "
        "installed: boring, image"
    )
    elsewhere = write(tmp_path, f"task: {{speech: {width}}}\n", "elsewhere.yaml")
    load_space(recipe, task="boring", overrides=[elsewhere], installed=installed)


def test_a_task_section_in_a_tasks_own_file_adds_knobs(tmp_path: Path) -> None:
    own = write(tmp_path, SECTIONS)
    assert "hidden" in load_space([space_file("recipe.yaml"), own], task="other").names
    assert "hidden" not in load_space([space_file("recipe.yaml"), own], task="boring").names
    assert not {"width", "hidden"} & set(load_space([own]).names)  # no task: no section


@pytest.mark.parametrize(
    "text",
    ["task: [image]\n", "task: {boring: [width]}\n", "task: {boring: 3}\n", "task: 7\n"],
)
def test_a_malformed_task_section_is_one_line(tmp_path: Path, text: str) -> None:
    with pytest.raises(UsageError) as error:
        load_space([write(tmp_path, text)], task="boring")
    assert "'task' must map task names to their knobs" in str(error.value)
    assert "\n" not in str(error.value)


def test_an_empty_task_section_is_nothing(tmp_path: Path) -> None:
    user = write(tmp_path, "task:\n  boring:\n")
    space = load_space([space_file("recipe.yaml")], task="boring", overrides=[user])
    assert space == load_space([space_file("recipe.yaml")])


@pytest.mark.parametrize(
    "text",
    [
        "dropuot: {type: float, low: 0, high: 0.5, default: 0}\n",
        "dropuot: null\n",
        "task: {boring: {hidden: {type: int, low: 1, high: 2, default: 1}}}\n",
    ],
)
def test_a_user_file_may_not_add_a_knob_the_task_lacks(tmp_path: Path, text: str) -> None:
    user = write(tmp_path, text, "mine.yaml")
    with pytest.raises(UsageError) as error:
        load_space([space_file("recipe.yaml")], task="boring", overrides=[user])
    message = str(error.value)
    assert message.startswith(f"{user}: knob '")
    assert "is not a knob of task 'boring'; valid: batch_size, clip_norm, dropout," in message
    assert "(another task's knobs go under task: {NAME: {...}})" in message


def test_a_user_file_may_bring_back_a_knob_the_task_removed(tmp_path: Path) -> None:
    own = write(tmp_path, "momentum: null\n", "own.yaml")
    user = write(tmp_path, "momentum: {type: float, low: 0.5, high: 0.9, default: 0.9}\n")
    space = load_space([space_file("recipe.yaml"), own], task="boring", overrides=[user])
    assert space["momentum"].describe() == "float [0.5, 0.9]"


def test_a_json_space_file_is_read_as_json_tabs_included(tmp_path: Path) -> None:
    knob = (
        '{\n\t"lr": {\n\t\t"type": "float", "low": 0.02, "high": 0.2, "log": true, '
        '"default": 0.1\n\t}\n}'
    )
    space = load_space([space_file("recipe.yaml"), write(tmp_path, knob, "space.json")])
    assert space["lr"].distribution == FloatDistribution(0.02, 0.2, log=True)
    twice = write(tmp_path, '{\n"lr": null,\n\n"lr": null}', "twice.json")
    with pytest.raises(UsageError, match=r"malformed JSON in .*twice\.json: key 'lr' given twice"):
        load_space([space_file("recipe.yaml"), twice])
    marked = write(tmp_path, "\ufeff" + knob, "marked.json")  # saved with a byte-order mark
    assert "lr" in load_space([space_file("recipe.yaml"), marked]).names
