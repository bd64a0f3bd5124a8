"""A bug in a plugin's own code is one line naming the task, its package and the method."""

import dataclasses
from pathlib import Path
from typing import Any

import pluggy
import pytest

import ldnn_tune.commands.check
import ldnn_tune.commands.info
import ldnn_tune.commands.run
from ldnn_tune import hookimpl
from ldnn_tune.plugin.manager import get_plugin_manager
from ldnn_tune.space.load import task_space_files
from ldnn_tune.testing import BoringOptions, BoringTask
from ldnn_tune.testing.cli import run_main


class BrokenPrepare(BoringTask):
    name = "broken"
    description = "a task whose prepare() has a bug"

    def prepare(self) -> None:
        raise KeyError("label")


class BrokenModel(BoringTask):
    name = "brokenmodel"
    description = "a task whose model() has a bug"

    def model(self, hp: Any) -> Any:
        raise RuntimeError("shape mismatch in my net")


@dataclasses.dataclass(frozen=True)
class SeedOptions(BoringOptions):
    seed: int = 3  # the host's own setting: the task's would never be set


class SeedOption(BoringTask):
    name = "seedoption"
    options_type = SeedOptions


@dataclasses.dataclass
class LoudOptions:
    noise: float = "loud"  # type: ignore[assignment]  # a default of the wrong type


class LoudOption(BoringTask):
    name = "loudoption"
    options_type = LoudOptions


@dataclasses.dataclass(frozen=True)
class FewOptions(BoringOptions):
    samples: int = 10  # below BoringOptions' own minimum of 30


class FewSamples(BoringTask):
    name = "fewsamples"
    options_type = FewOptions


@dataclasses.dataclass(frozen=True)
class DropoutOptions(BoringOptions):
    dropout: float = 0.0  # the shared recipe's knob too


class DropoutOption(BoringTask):
    name = "dropoutoption"
    options_type = DropoutOptions


class NoneModel(BoringTask):
    name = "nonemodel"

    def model(self, hp: Any) -> Any:
        return None  # forgot the return


class LoaderData(BoringTask):
    name = "loaderdata"

    def datamodule(self, hp: Any) -> Any:
        from torch.utils.data import DataLoader, TensorDataset

        return DataLoader(TensorDataset(self.split.x_train, self.split.y_train))


class NamedSpace(BoringTask):
    name = "namedspace"

    def search_space(self) -> Any:
        return "space.yaml"


class ListDomains(BoringTask):
    name = "listdomains"

    def knob_domains(self) -> Any:
        return ["width"]


class EpochsKnob(BoringTask):
    name = "epochsknob"

    def search_space(self) -> list[Any]:  # type: ignore[override]
        return [*task_space_files(BoringTask(BoringOptions(), None, 0)), EPOCHS_SPACE]


EPOCHS_SPACE = Path(__file__).with_name("epochs_knob.yaml")


class Tasks:
    @hookimpl
    def ldnn_tune_tasks(self) -> list[type[BoringTask]]:
        return [
            BrokenPrepare,
            BrokenModel,
            SeedOption,
            LoudOption,
            EpochsKnob,
            FewSamples,
            DropoutOption,
            NoneModel,
            LoaderData,
            NamedSpace,
            ListDomains,
        ]


class BrokenHook:
    @hookimpl
    def ldnn_tune_tasks(self) -> list[type[BoringTask]]:
        raise ImportError("no module named 'tabulate'")


def with_plugin(monkeypatch: pytest.MonkeyPatch, plugin: object) -> None:
    for module in (ldnn_tune.commands.run, ldnn_tune.commands.info, ldnn_tune.commands.check):
        monkeypatch.setattr(module, "get_plugin_manager", lambda: get_plugin_manager((plugin,)))


@pytest.mark.parametrize(
    ("task", "line"),
    [
        ("broken", "error: task 'broken' ((local)) failed in prepare(): KeyError: 'label'"),
        (
            "brokenmodel",
            "error: task 'brokenmodel' ((local)) failed in model(): RuntimeError: shape "
            "mismatch in my net",
        ),
        (
            "seedoption",
            "error: task 'seedoption' ((local)) has option 'seed', a name ldnn-tune run takes "
            "for its own setting; rename it",
        ),
        (
            "epochsknob",
            "error: task 'epochsknob' ((local)) has knob 'epochs', a name ldnn-tune run takes "
            "for its own setting; rename it",
        ),
        (
            "dropoutoption",
            "error: task 'dropoutoption' ((local)) has option 'dropout', the name of one of its "
            "knobs; rename the option (the task reads the knob from hp, e.g. hp.recipe.dropout)",
        ),
        (
            "nonemodel",
            "error: task 'nonemodel' ((local)) failed in model(): TypeError: it returns a "
            "NoneType, not a LightningModule: return a RecipeModule wrapping the net",
        ),
        (
            "loaderdata",
            "error: task 'loaderdata' ((local)) failed in datamodule(): TypeError: it returns a "
            "DataLoader, not a LightningDataModule: return SplitDataModule(self.split, hp) or "
            "a LightningDataModule of your own",
        ),
        (
            "namedspace",
            "error: task 'namedspace' ((local)) failed in search_space(): TypeError: "
            "search_space() returns a str, not a Path (or a list of them): e.g. "
            "Path(__file__).with_name('space.yaml')",
        ),
        (
            "listdomains",
            "error: task 'listdomains' ((local)) failed in knob_domains(): TypeError: "
            "knob_domains() returns a list, not a dict of knob names to domains",
        ),
        (
            "fewsamples",
            "error: task 'fewsamples' ((local)) has option defaults that its own check refuses: "
            "samples=10 is too small; need at least 30",
        ),
        (
            "loudoption",
            "error: task 'loudoption' ((local)) failed in options_type (its fields and "
            "defaults): ValidationError: Value 'loud' of type 'str' could not be converted to "
            "Float",
        ),
    ],
)
def test_a_plugin_bug_is_one_line_with_exit_code_3_and_creates_nothing(
    task: str,
    line: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    with_plugin(monkeypatch, Tasks())
    result = run_main(["run", f"task={task}"], capsys)
    assert result.returncode == 3
    assert result.stderr.strip().splitlines() == [line]
    assert not (tmp_path / "ldnn_tune.db").exists()


@pytest.mark.parametrize("command", ["space", "check"])
def test_a_plugin_name_taken_by_run_is_the_plugins_bug_for_every_command(
    command: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    with_plugin(monkeypatch, Tasks())
    result = run_main([command, "task=epochsknob", "epochs=3"], capsys)
    assert result.returncode == 3  # not "epochs= is a setting of run, which it ignores"
    assert "has knob 'epochs', a name ldnn-tune run takes" in result.stderr


def test_the_debug_variable_adds_the_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LDNN_TUNE_DEBUG", "1")
    with_plugin(monkeypatch, Tasks())
    result = run_main(["run", "task=broken"], capsys)
    assert result.returncode == 3
    assert "Traceback" in result.stderr and "raise KeyError" in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("error: task 'broken'")


def test_a_hook_that_raises_is_a_warning_and_the_other_tasks_work(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def manager() -> pluggy.PluginManager:
        pm = get_plugin_manager()
        pm.register(BrokenHook(), name="tabular")
        return pm

    for module in (ldnn_tune.commands.run, ldnn_tune.commands.info):
        monkeypatch.setattr(module, "get_plugin_manager", manager)
    failure = (
        "plugin 'tabular' ((local)) failed in ldnn_tune_tasks(): "
        "ImportError: no module named 'tabulate'"
    )
    listed = run_main(["tasks"], capsys)
    assert listed.returncode == 0 and "image" in listed.stdout
    assert listed.stderr.strip().splitlines() == [
        f"warning: {failure}; its tasks are not available"
    ]
    asked = run_main(["space", "task=tabular"], capsys)  # the broken plugin's own name
    assert asked.returncode == 3
    assert asked.stderr.strip().splitlines() == [f"error: {failure}"]


class TasksAndOneCallback:
    @hookimpl
    def ldnn_tune_tasks(self) -> list[type[BoringTask]]:
        return [BoringTask]

    @hookimpl
    def ldnn_tune_trial_callbacks(self) -> Any:
        import lightning.pytorch as pl

        return pl.Callback()  # not in a list


def test_a_broken_callbacks_hook_names_its_plugin_before_any_trial(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    with_plugin(monkeypatch, TasksAndOneCallback())
    result = run_main(["run", "task=boring", "check=false"], capsys)
    assert result.returncode == 3
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("error: plugin '"), line  # not "task 'boring' failed 3 trials"
    assert line.endswith(
        "failed in ldnn_tune_trial_callbacks(): TypeError: must return a list of Lightning "
        "callbacks, not a Callback"
    )
    assert not (tmp_path / "ldnn_tune.db").exists()
