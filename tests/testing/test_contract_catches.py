"""The contract suite fails a task whose model, class names or input reader is wrong."""

import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
import torch
from torch import nn

from ldnn_tune import HParams, RecipeModule, TaskKind, UsageError
from ldnn_tune.testing import BoringOptions, BoringTask
from ldnn_tune.testing.contract import TaskContract, one_typo_apart


class Named(BoringTask):
    """BoringTask (3 classes) with class names and a reader of CSV rows."""

    name = "named"
    NAMES = ["a", "b", "c"]
    UNITS = 3

    def class_names(self) -> list[str] | None:
        return list(self.NAMES)

    def model(self, hp: HParams) -> Any:
        net = nn.Sequential(nn.Linear(self.options.features, self.UNITS))
        net.append(nn.Dropout(hp.recipe.dropout))
        return RecipeModule(net, hp.recipe, kind=self.kind)

    def read_inputs(self, paths: Sequence[Path]) -> torch.Tensor:
        rows = []
        for path in paths:
            if not path.is_file():
                raise UsageError(f"cannot read {str(path)!r}")
            rows.append([float(v) for v in path.read_text().split(",")])
        return torch.tensor(rows)


class Suite(TaskContract):
    task_class = Named

    def prediction_inputs(self, task: Any, tmp_path: Path) -> list[Path]:
        path = tmp_path / "row.csv"
        path.write_text(",".join(["0.5"] * task.options.features))
        return [path]


def prepared(cls: type[Named]) -> Named:
    task = cls(BoringOptions(), None, 0)
    task.prepare()
    return task


def test_a_task_that_keeps_the_contract_passes(tmp_path: Path) -> None:
    task = prepared(Named)
    Suite().test_model_outputs_fit_the_targets(task)
    Suite().test_class_names_fit_the_kind(task)
    Suite().test_read_inputs_gives_model_ready_inputs(task, tmp_path)


def test_more_scores_than_named_classes_fails() -> None:
    class Wide(Named):
        UNITS = 5

    with pytest.raises(AssertionError, match="5 class scores, but class_names\\(\\) names 3"):
        Suite().test_model_outputs_fit_the_targets(prepared(Wide))


@pytest.mark.parametrize(
    ("names", "kind", "needle"),
    [
        (["a", "a", "c"], TaskKind.CLASSIFICATION, "class names repeat"),
        (["a", "b", "c"], TaskKind.REGRESSION, "a regression task names no classes"),
    ],
)
def test_bad_class_names_fail(names: list[str], kind: TaskKind, needle: str) -> None:
    task = prepared(Named)
    task.NAMES, task.kind = names, kind  # type: ignore[misc]
    with pytest.raises(AssertionError, match=needle):
        Suite().test_class_names_fit_the_kind(task)


def test_a_reader_that_does_not_say_which_file_is_missing_fails(tmp_path: Path) -> None:
    class Careless(Named):
        def read_inputs(self, paths: Sequence[Path]) -> torch.Tensor:
            return torch.tensor([[float(v) for v in p.read_text().split(",")] for p in paths])

    with pytest.raises(FileNotFoundError):
        Suite().test_read_inputs_gives_model_ready_inputs(prepared(Careless), tmp_path)


def test_a_reader_of_the_wrong_shape_fails(tmp_path: Path) -> None:
    class Short(Named):
        def read_inputs(self, paths: Sequence[Path]) -> torch.Tensor:
            return super().read_inputs(paths)[:, :3]

    with pytest.raises(AssertionError, match="inputs \\(1, 3\\)"):
        Suite().test_read_inputs_gives_model_ready_inputs(prepared(Short), tmp_path)


def test_a_misspelt_hook_fails_and_the_right_names_pass() -> None:
    class Typos(Named):
        def class_name(self) -> list[str]:  # meant class_names: never called
            return ["a", "b", "c"]

        reads_table = True  # meant reads_tables

    class Typo(Suite):
        task_class = Typos

    with pytest.raises(AssertionError, match="'class_name': 'class_names', 'reads_table': 'r"):
        Typo().test_no_method_misspells_a_task_hook()
    Suite().test_no_method_misspells_a_task_hook()  # read_inputs, class_names: no misses

    class Helpers(Named):  # names of its own, more than one typo from a hook's
        def raw_inputs(self) -> None: ...
        def describe_dataset(self) -> None: ...
        def models(self) -> None: ...  # one letter from model(): meant, and said so

    class HelpersSuite(Suite):
        task_class = Helpers
        hook_lookalikes = frozenset({"models"})

    HelpersSuite().test_no_method_misspells_a_task_hook()


@pytest.mark.parametrize(
    ("name", "typo"),
    [
        ("read_input", True),
        ("raed_inputs", True),  # two letters swapped
        ("clas_names", True),
        ("kind", False),
        ("raw_inputs", False),
        ("describe_dataset", False),
    ],
)
def test_one_typo_apart(name: str, typo: bool) -> None:
    hooks = ("read_inputs", "class_names", "kind", "describe_data")
    assert any(one_typo_apart(name, hook) for hook in hooks) is typo


FIXED_DROPOUT = '''
from torch import nn

from ldnn_tune.testing import BoringTask
from ldnn_tune.testing.contract import TaskContract


class FixedDropout(BoringTask):
    """A plugin author's slip: a Dropout of its own, deaf to the knob."""

    def model(self, hp):
        model = super().model(hp)
        model.net.append(nn.Dropout(0.1))
        for module in model.modules():
            if isinstance(module, nn.Dropout):
                module.p = 0.1
        return model


class TestFixedDropout(TaskContract):
    task_class = FixedDropout
'''


@pytest.mark.slow
def test_a_failing_contract_test_in_a_plugins_own_suite_shows_its_values(tmp_path: Path) -> None:
    (tmp_path / "test_fixed_dropout.py").write_text(FIXED_DROPOUT)
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-k", "dropout_knob"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 1, run.stdout[-2000:]
    assert "1 failed" in run.stdout
    # pytest rewrote the suite's assertion: the dropouts it found, not a bare AssertionError
    assert "assert ([Dropout(p=0.1, inplace=False)" in run.stdout, run.stdout[-2000:]
