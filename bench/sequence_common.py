"""Shared helpers of the sequence benchmarks: a wall-clock budget and scores of an outcome."""

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import numpy as np
from ldnn_tune_sequence import SOLVED_ERROR, SequenceOptions, SequenceTask

from ldnn_tune import HParams, TrialOutcome, quiet_frameworks, train_trial

RESULTS = Path(__file__).with_name("results") / "sequence.md"
# The LSTM recipe that solves the adding problem on a GPU (results/sequence_adding_gpu.md)
ADDING_RECIPE: dict[str, Any] = {
    "hidden": 128,
    "batch_size": 128,
    "init": "scaled",
    "init_scale": 1.0,
    "lr": 0.5,
    "momentum": 0.9,
    "clip_norm": 10.0,
}


class WallBudget(pl.Callback):
    """Stop training after the first validation that ends past ``seconds`` of wall time."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.start = time.monotonic()
        self.steps = 0

    def on_train_batch_end(self, *args: Any) -> None:
        self.steps += 1

    def on_validation_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if time.monotonic() - self.start > self.seconds:
            trainer.should_stop = True


@dataclass
class Result:
    outcome: TrialOutcome
    seconds: float
    steps: int
    epochs: int


def run(
    options: SequenceOptions,
    params: dict[str, Any],
    seconds: float,
    seed: int = 0,
    data_dir: Path | None = None,
) -> Result:
    """Train one model for about ``seconds`` of wall time; return its best-epoch outcome."""
    quiet_frameworks()
    task = SequenceTask(options, data_dir, seed)
    task.prepare()
    budget = WallBudget(seconds)
    hp = HParams.for_task(task, None, **params)
    outcome = train_trial(task, hp, seed, 10_000, 1e-6, callbacks=[budget])
    return Result(outcome, time.monotonic() - budget.start, budget.steps, outcome.epochs_run)


def test_arrays(result: Result) -> tuple[np.ndarray, np.ndarray]:
    p = result.outcome.predictions
    return p["test_predictions"], p["test_targets"]


def solved(result: Result) -> float:
    pred, target = test_arrays(result)
    return float((np.abs(pred.reshape(target.shape) - target) < SOLVED_ERROR).mean())


def position_accuracy(result: Result) -> float:
    pred, target = test_arrays(result)
    return float((pred.argmax(-1) == target).mean())


def sequence_accuracy(result: Result) -> float:
    pred, target = test_arrays(result)
    return float((pred.argmax(-1) == target).all(axis=-1).mean())


def budget_text(result: Result) -> str:
    return f"{result.seconds:.0f} s, {result.steps} steps, {result.epochs} epochs"
