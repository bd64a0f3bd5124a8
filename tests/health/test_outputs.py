"""A model whose outputs do not fit the task's targets is named before any trial runs."""

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from torch import nn

import ldnn_tune.commands.check
import ldnn_tune.commands.run
from ldnn_tune import HParams, RecipeModule, TaskKind, hookimpl
from ldnn_tune.health.outputs import output_problem
from ldnn_tune.plugin.manager import get_plugin_manager
from ldnn_tune.testing import BoringOptions, BoringTask
from ldnn_tune.testing.cli import run_main


class Units(BoringTask):
    """BoringTask (3 classes) whose last layer has UNITS units; NAMED: it names its classes."""

    name = "units"
    description = "blobs with a last layer of the wrong size"
    UNITS = 3
    NAMED = True

    def model(self, hp: HParams) -> Any:
        width = hp.get_int("width")
        net = nn.Sequential(nn.Linear(self.options.features, width), nn.ReLU())
        net.append(nn.Dropout(hp.recipe.dropout))
        net.append(nn.Linear(width, self.UNITS))
        return RecipeModule(net, hp.recipe, kind=self.kind)

    def class_names(self) -> list[str] | None:
        return ["a", "b", "c"] if self.NAMED else None


class FiveForThree(Units):
    name = "five"
    UNITS = 5


class TwoForThree(Units):
    name = "two"
    UNITS = 2


class Regression(Units):
    """The blobs' class index as a real value: one output is right, two are not."""

    name = "regress"
    kind = TaskKind.REGRESSION
    UNITS = 2

    def prepare(self) -> None:
        super().prepare()
        s = self.split
        self.split = dataclasses.replace(
            s, y_train=s.y_train.float(), y_val=s.y_val.float(), y_test=s.y_test.float()
        )

    def class_names(self) -> list[str] | None:
        return None


class BareNet(Units):
    """model() returns the net alone, without the recipe that trains it."""

    name = "bare"

    def model(self, hp: HParams) -> Any:
        return super().model(hp).net


class Tasks:
    @hookimpl
    def ldnn_tune_tasks(self) -> list[type[BoringTask]]:
        return [FiveForThree, TwoForThree, Regression, BareNet]


def prepared(cls: type[Units], **attrs: Any) -> Units:
    task = cls(BoringOptions(), None, 0)
    for key, value in attrs.items():
        setattr(task, key, value)
    task.prepare()
    return task


def problem(task: Units) -> str:
    return output_problem(task, HParams.for_task(task, width=8))


def test_a_model_that_fits_has_no_problem() -> None:
    assert problem(prepared(Units)) == ""
    assert problem(prepared(Regression, UNITS=1)) == ""
    boring = BoringTask(BoringOptions(), None, 0)
    boring.prepare()
    assert output_problem(boring, HParams.for_task(boring)) == ""


def test_more_scores_than_named_classes() -> None:
    assert problem(prepared(FiveForThree)) == (
        "model() outputs 5 class scores, but class_names() names 3 classes"
    )


def test_more_scores_than_unnamed_classes_may_be_spare_classes() -> None:
    # without names, a class may exist that no split holds (a character of a vocabulary)
    assert problem(prepared(FiveForThree, NAMED=False)) == ""


@pytest.mark.parametrize("named", [True, False])
def test_fewer_scores_than_classes(named: bool) -> None:
    expected = (
        "model() outputs 2 class scores, but class_names() names 3 classes"
        if named
        else "model() outputs 2 class scores, but the targets hold class index 2 "
        "(at least 3 classes)"
    )
    assert problem(prepared(TwoForThree, NAMED=named)) == expected


def test_a_regression_model_with_two_outputs_for_one_target() -> None:
    assert problem(prepared(Regression)) == (
        "model() outputs 2 values per example (shape (4, 2)), but each regression target "
        "holds 1 (shape (4,))"
    )


def test_float64_inputs_for_float32_weights_are_named_before_the_forward_pass() -> None:
    task = prepared(Units)
    task.split = dataclasses.replace(task.split, x_train=task.split.x_train.double())
    assert problem(task) == (
        "the datamodule serves torch.float64 inputs, but the model's weights are "
        "torch.float32: serve torch.float32 inputs (e.g. torch.from_numpy(array).float())"
    )


def test_scores_per_position_must_match_the_targets() -> None:
    task = prepared(Units)
    task.split = dataclasses.replace(task.split, y_train=task.split.y_train[:, None].repeat(1, 2))
    assert problem(task) == (
        "model() outputs shape (4, 3) for targets of shape (4, 2); cross-entropy needs one "
        "score vector per target: (..., classes) for (...)"
    )


def with_plugin(monkeypatch: pytest.MonkeyPatch) -> None:
    for module in (ldnn_tune.commands.run, ldnn_tune.commands.check):
        monkeypatch.setattr(module, "get_plugin_manager", lambda: get_plugin_manager((Tasks(),)))


@pytest.mark.parametrize(
    ("task", "mismatch"),
    [
        ("five", "model() outputs 5 class scores, but class_names() names 3 classes"),
        ("two", "model() outputs 2 class scores, but class_names() names 3 classes"),
        ("regress", "model() outputs 2 values per example (shape (4, 2)), but each"),
        ("bare", "model() returns a Sequential, which has no recipe to train it: return a"),
    ],
)
@pytest.mark.parametrize("command", ["run", "check"])
def test_run_and_check_stop_with_one_line_naming_the_task_and_exit_3(
    task: str,
    mismatch: str,
    command: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    with_plugin(monkeypatch)
    words = [command, f"task={task}", *(["check=false"] if command == "run" else [])]
    result = run_main(words, capsys)
    assert result.returncode == 3, result.stderr + result.stdout
    (line,) = result.stderr.strip().splitlines()
    prefix = f"error: task {task!r} ((local)) has a model that does not fit its data: "
    assert line.startswith(prefix + mismatch), line
    assert not (tmp_path / "ldnn_tune.db").exists()


class NoValidation(Units):
    """A datamodule of its own whose validation loader serves nothing (an empty set)."""

    name = "noval"

    def datamodule(self, hp: HParams) -> Any:
        from torch.utils.data import DataLoader, TensorDataset

        module = super().datamodule(hp)
        empty = TensorDataset(self.split.x_val[:0], self.split.y_val[:0])
        module.val_dataloader = lambda: DataLoader(empty, batch_size=4)  # type: ignore[method-assign]
        return module


def test_a_datamodule_with_an_empty_validation_set_stops_run_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(
        ldnn_tune.commands.run, "get_plugin_manager", lambda: get_plugin_manager((NoValTasks(),))
    )
    result = run_main(["run", "task=noval", "check=false"], capsys)
    assert result.returncode == 3, result.stderr + result.stdout
    assert result.stderr.strip() == (
        "error: task 'noval' ((local)) failed in datamodule(): ValueError: its "
        "val_dataloader() serves no batch: the val set is empty"
    )
    assert not (tmp_path / "ldnn_tune.db").exists()


class NoValTasks:
    @hookimpl
    def ldnn_tune_tasks(self) -> list[type[BoringTask]]:
        return [NoValidation]


def test_a_negative_class_index_is_named() -> None:
    task = prepared(Units)
    y_train = task.split.y_train.clone()
    y_train[0] = -1
    task.split = dataclasses.replace(task.split, y_train=y_train)
    assert problem(task) == "the targets hold class index -1; class indices run from 0"


class NanNet(nn.Module):
    def forward(self, x: Any) -> Any:
        return self.inner(x) * float("nan")

    def __init__(self, inner: nn.Module) -> None:
        super().__init__()
        self.inner = inner


class NanOutputs(Units):
    name = "nanout"

    def model(self, hp: HParams) -> Any:
        module = super().model(hp)
        return RecipeModule(NanNet(module.net), hp.recipe, kind=self.kind)


def test_nan_outputs_are_named_as_the_model_s_not_as_a_summed_loss() -> None:
    assert problem(prepared(NanOutputs)) == (
        "model() gives NaN outputs for the first training examples (its fresh weights, "
        "in eval mode)"
    )


class MaskedNet(nn.Module):
    """Scores of -inf for a class no example can be (a mask): cross-entropy stays finite."""

    def __init__(self, inner: nn.Module) -> None:
        super().__init__()
        self.inner = inner

    def forward(self, x: Any) -> Any:
        out = self.inner(x)
        return torch.cat([out, torch.full_like(out[:, :1], float("-inf"))], dim=1)


class Masked(Units):
    name = "masked"
    NAMED = False

    def model(self, hp: HParams) -> Any:
        return RecipeModule(MaskedNet(super().model(hp).net), hp.recipe, kind=self.kind)


def test_minus_infinity_scores_that_mask_a_class_are_no_fault() -> None:
    assert problem(prepared(Masked)) == ""


def test_nan_inputs_are_left_to_the_data_check() -> None:
    task = prepared(NanOutputs)
    task.split = dataclasses.replace(task.split, x_train=task.split.x_train * float("nan"))
    assert problem(task) == ""


class OwnScores(Units):
    """Its own_scores() returns RETURNS."""

    name = "ownscores"
    RETURNS: Any = None

    def own_scores(self, predictions: Any, targets: Any) -> Any:
        assert predictions.shape == (4, 3) and abs(predictions.sum() - 4) < 1e-4  # probabilities
        if isinstance(self.RETURNS, Exception):
            raise self.RETURNS
        return self.RETURNS


@pytest.mark.parametrize(
    ("returns", "expected"),
    [
        ({"top2": 0.5}, ""),
        ({"top2": torch.tensor(0.5), "n": np.int64(3)}, ""),  # one number, of any kind
        (
            {"loss": 0.5},
            "own_scores() returns 'loss', a score ldnn-tune records itself (loss, acc): "
            "name it otherwise",
        ),
        ({"mae": 0.5}, ""),  # a classifier's own (ordinal) error: the host records none
        (0.5, "own_scores() returns a float, not a dict of score names to numbers"),
        ({"f1": torch.ones(2)}, "own_scores() gives 'f1' a Tensor, not a number"),
        ({"f1": "0.5"}, "own_scores() gives 'f1' a str, not a number"),
        (ValueError("needs every class"), ""),  # few examples: left to the trials' splits
    ],
)
def test_own_scores_must_be_new_names_with_numbers(returns: Any, expected: str) -> None:
    assert problem(prepared(OwnScores, RETURNS=returns)) == expected
