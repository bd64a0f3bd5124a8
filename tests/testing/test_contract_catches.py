"""The contract suite fails a task whose model, class names or input reader is wrong."""

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
import torch
from torch import nn

from ldnn_tune import HParams, RecipeModule, TaskKind, UsageError
from ldnn_tune.testing import BoringOptions, BoringTask
from ldnn_tune.testing.contract import TaskContract


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
