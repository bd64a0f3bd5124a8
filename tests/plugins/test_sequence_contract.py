from pathlib import Path
from typing import Any

from ldnn_tune_sequence import SequenceOptions, SequenceTask

from ldnn_tune import Task
from ldnn_tune.testing.contract import TaskContract

SMALL: dict[str, Any] = {"train_size": 64, "eval_size": 32}
TEXT = "The quick brown fox jumps over the lazy dog; pack my box with five dozen jugs.\n" * 40


class TestSequenceAdding(TaskContract):
    """The default problem: regression."""

    task_class = SequenceTask

    def make_task(self, tmp_path: Path) -> Task:
        return SequenceTask(SequenceOptions(length=12, **SMALL), None, 0)

    def contract_params(self) -> dict[str, object]:
        return {"hidden": 128}


class TestSequenceSortLstm(TaskContract):
    """Per-position classification read out after a write phase."""

    task_class = SequenceTask

    def make_task(self, tmp_path: Path) -> Task:
        options = SequenceOptions(problem="sort", sort_count=4, sort_bits=3, **SMALL)
        return SequenceTask(options, None, 0)

    def contract_params(self) -> dict[str, object]:
        return {"hidden": 32, "layers": 2}


class TestSequenceParityMlp(TaskContract):
    """The article's two-hidden-layer net."""

    task_class = SequenceTask

    def make_task(self, tmp_path: Path) -> Task:
        options = SequenceOptions(problem="parity", model="mlp", bits=8, **SMALL)
        return SequenceTask(options, None, 0)

    def contract_params(self) -> dict[str, object]:
        return {"hidden": 64}


class TestSequenceText(TaskContract):
    """Character-level language model on a file given by data_dir."""

    task_class = SequenceTask

    def make_task(self, tmp_path: Path) -> Task:
        path = tmp_path / "corpus.txt"
        path.write_text(TEXT, encoding="utf-8")
        return SequenceTask(SequenceOptions(problem="text", length=16), path, 0)

    def contract_params(self) -> dict[str, object]:
        return {"hidden": 32}
