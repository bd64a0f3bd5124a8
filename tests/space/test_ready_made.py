"""The ready-made spaces in search_spaces/ a user passes as ``space=NAME``."""

from pathlib import Path
from typing import Any

import pytest

from ldnn_tune import HParams, Task, task_space
from ldnn_tune.errors import UsageError
from ldnn_tune.plugin.manager import Host, get_plugin_manager
from ldnn_tune.recipe.hparams import RECIPE_KNOBS
from ldnn_tune.space.load import ready_made_spaces, space_file, user_space_file
from ldnn_tune.testing import BoringOptions, BoringTask
from ldnn_tune.testing.cli import assert_usage_error, run_cli, run_main

READY_MADE = ["article", "quick-cpu", "wide"]
BUILT_IN = {"image": {}, "speech": {}, "sequence": {"scale": "cpu"}, "sequence-gpu": {}}


def built_in(name: str) -> Task[Any]:
    options: dict[str, Any] = dict(BUILT_IN[name])
    if name == "sequence-gpu":
        name, options = "sequence", {"scale": "gpu"}
    entry = Host(get_plugin_manager()).task(name)
    return entry.task(entry.task.options_type(**options), None, 0)


def tasks() -> list[Task[Any]]:
    return [*(built_in(name) for name in BUILT_IN), BoringTask(BoringOptions(), None, 0)]


def test_the_ready_made_spaces_are_listed() -> None:
    assert ready_made_spaces() == READY_MADE


@pytest.mark.parametrize("name", READY_MADE)
def test_a_ready_made_space_loads_for_every_task(name: str) -> None:
    for task in tasks():
        own = task_space(task)
        space = task_space(task, Path(name))
        assert set(space.names) <= set(own.names) | RECIPE_KNOBS, task.name  # no stray knob
        hp = HParams.for_task(task, Path(name))  # the first trial: defaults inside the space
        assert hp.recipe.lr == space["lr"].default


def test_article_pins_what_the_article_gives_one_value_for() -> None:
    space = task_space(built_in("image"), Path("article"))
    assert space["lr"].describe() == "fixed 0.1"
    assert space["batch_size"].describe() == "fixed 128"
    assert space["lr_factor"].describe() == "one of 2, 5"
    assert space["clip_norm"].describe() == "float [5, 15]"
    assert space["dropout"].describe() == "float [0, 0.5]"
    # the first trial is the article's defaults, as without space=
    assert space.defaults() == task_space(built_in("image")).defaults()


def test_article_leaves_the_initialisation_to_the_task() -> None:
    boring = task_space(BoringTask(BoringOptions(), None, 0), Path("article"))
    assert boring["init"].describe() == "one of lazy, scaled"  # the recipe's: the article's
    assert boring["init_scale"].describe() == "float [0.1, 1]"
    image = task_space(built_in("image"), Path("article"))
    assert image["init"].describe() == "fixed scaled"  # lazy stalls its CNN


def test_article_overrides_the_speech_tasks_own_lr() -> None:
    assert task_space(built_in("speech"))["lr"].default == 0.03
    assert task_space(built_in("speech"), Path("article"))["lr"].describe() == "fixed 0.1"


def test_quick_cpu_keeps_each_built_in_net_small() -> None:
    image = task_space(built_in("image"), Path("quick-cpu"))
    assert image["width"].describe() == "one of 8, 16" and image["depth"].describe() == "int [1, 2]"
    speech = task_space(built_in("speech"), Path("quick-cpu"))
    assert speech["lr"].default == 0.03  # its section keeps the speech LR
    sequence = task_space(built_in("sequence-gpu"), Path("quick-cpu"))
    assert sequence["hidden"].describe() == "one of 32, 64"
    assert sequence["layers"].describe() == "fixed 1"
    assert image["convs"].describe() == "fixed 1"
    assert image["init"].describe() == "fixed scaled"  # the task's own initialisation


def test_wide_widens_every_shared_knob() -> None:
    task = built_in("image")
    wide, own = task_space(task, Path("wide")), task_space(task)
    for name in ("lr", "lr_patience", "init_scale", "dropout", "clip_norm"):
        w, o = wide[name].distribution, own[name].distribution
        assert w.low <= o.low and w.high >= o.high and (w.low, w.high) != (o.low, o.high), name  # type: ignore[attr-defined]
    for name in ("lr_factor", "batch_size", "width"):
        assert set(own[name].distribution.choices) < set(wide[name].distribution.choices)  # type: ignore[attr-defined]
    assert wide["init"].describe() == "fixed scaled"  # the task's own: lazy stalls its CNN


@pytest.mark.parametrize("word", ["article", "article.yaml"])
def test_a_bare_name_is_the_ready_made_space(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, word: str
) -> None:
    monkeypatch.chdir(tmp_path)
    assert str(user_space_file(Path(word))) == str(space_file("article.yaml"))


def test_a_file_here_wins_over_a_ready_made_space(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "article.yaml").write_text("lr: {type: float, low: 0.2, high: 0.4, default: 0.3}\n")
    assert user_space_file(Path("article.yaml")) == Path("article.yaml")
    space = task_space(BoringTask(BoringOptions(), None, 0), Path("article.yaml"))
    assert space["lr"].default == 0.3


@pytest.mark.parametrize("word", ["artcle", "sub/article", "recipe"])
def test_an_unknown_name_lists_the_ready_made_spaces(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, word: str
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UsageError) as error:
        user_space_file(Path(word))
    assert str(error.value) == (
        f"search space file {word!r} does not exist; ready-made spaces: article, quick-cpu, wide"
    )


def test_a_folder_is_no_space_file(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="is a folder, not a YAML file; ready-made spaces"):
        user_space_file(tmp_path)


def test_space_command_shows_a_ready_made_space(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    result = run_main(["space", "task=sequence", "scale=cpu", "space=quick-cpu"], capsys)
    assert result.returncode == 0, result.stderr
    hidden = next(line for line in result.stdout.splitlines() if "│ hidden" in line)
    assert "one of 32, 64" in hidden


def test_a_mistyped_knob_in_a_users_file_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "s.yaml").write_text("dropuot: {type: float, low: 0, high: 0.5, default: 0}\n")
    result = run_main(["space", "task=image", "space=s.yaml"], capsys)
    assert_usage_error(result, "s.yaml: knob 'dropuot' is not a knob of task 'image'")


@pytest.mark.slow
def test_a_run_with_a_ready_made_space_through_the_real_command(tmp_path: Path) -> None:
    words = ("task=image", "space=quick-cpu", "trials=1", "epochs=1", "ensemble=none")
    result = run_cli(tmp_path, "run", *words, "check=false")
    assert result.returncode == 0, result.stderr
    assert "trials: 1 complete" in result.stdout
    assert "width=16" in result.stdout  # the first trial: quick-cpu's image section (own: 32)


@pytest.mark.slow
def test_the_host_wheel_holds_the_recipe_and_the_ready_made_spaces(tmp_path: Path) -> None:
    import shutil
    import subprocess
    import sys
    import zipfile

    root, source = Path(__file__).parents[2], tmp_path / "source"
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
    for folder in ("ldnn_tune", "search_spaces"):
        shutil.copytree(root / folder, source / folder, ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(root / name, source / name)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
    wheel = ["wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(tmp_path / "dist")]
    subprocess.run([*pip, *wheel, str(source)], check=True, capture_output=True)
    (built,) = (tmp_path / "dist").glob("*.whl")
    spaces = {
        Path(name).name
        for name in zipfile.ZipFile(built).namelist()
        if name.startswith("ldnn_tune/search_spaces/") and name.endswith(".yaml")
    }
    assert spaces == {"recipe.yaml", *(f"{name}.yaml" for name in READY_MADE)}


@pytest.mark.parametrize("name", READY_MADE)
def test_a_ready_made_space_brings_back_no_knob_the_task_removed(name: str) -> None:
    entry = Host(get_plugin_manager()).task("sequence")
    mlp = entry.task(entry.task.options_type(problem="parity", model="mlp", scale="cpu"), None, 0)
    own = set(task_space(mlp).names)
    assert {"layers", "forget_bias"}.isdisjoint(own)  # the two-layer net has neither
    assert set(task_space(mlp, Path(name)).names) <= own


def test_a_users_file_may_still_bring_one_back(tmp_path: Path) -> None:
    entry = Host(get_plugin_manager()).task("sequence")
    mlp = entry.task(entry.task.options_type(problem="parity", model="mlp", scale="cpu"), None, 0)
    mine = tmp_path / "mine.yaml"
    mine.write_text("task:\n  sequence:\n    layers: {type: int, low: 1, high: 2, default: 1}\n")
    assert "layers" in task_space(mlp, mine).names
