"""Lightning callbacks the host adds to every trial."""

import copy
import math
import time
from typing import Any

import lightning.pytorch as pl
import torch


def current_lr(trainer: pl.Trainer) -> float:
    """Return the learning rate of the trainer's first optimiser's first group."""
    return float(trainer.optimizers[0].param_groups[0]["lr"])


def epoch_metrics(trainer: pl.Trainer) -> dict[str, float]:
    """Return the epoch's logged metrics as plain floats."""
    return {k: float(v) for k, v in trainer.callback_metrics.items() if v.numel() == 1}


def epochs_text(done: int) -> str:
    """Return ``"2 epochs"``: epochs trained, a count as in the ``epochs`` column.

    Stop reasons say it so: Optuna's and MLflow's steps count from 0.
    """
    return f"{done} epoch{'s' * (done != 1)}"


class LrFloorReached(Exception):
    """Raised by :class:`StopAtLrFloor` to end training before an epoch under ``min_lr``."""


class StopAtLrFloor(pl.Callback):
    """Stop training once the learning rate has been divided below ``min_lr``.

    The schedule divides the LR after an epoch's validation, so the floor is checked as
    the next epoch starts: no epoch trains at an LR under it.
    """

    def __init__(self, min_lr: float) -> None:
        """Stop before an epoch whose LR would be below ``min_lr``."""
        self.min_lr = min_lr

    def on_train_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        """Raise :class:`LrFloorReached` when the LR this epoch would use is under the floor.

        The first epoch always runs: its LR is the trial's own (``run`` refuses a floor
        above the lowest LR the space can draw).
        """
        if trainer.current_epoch > 0 and current_lr(trainer) < self.min_lr:
            raise LrFloorReached(f"lr below min_lr after {epochs_text(trainer.current_epoch)}")


class DeadlineReached(Exception):
    """Raised by :class:`StopAtDeadline` to end training at the invocation's deadline."""


class CutBeforeFirstEpoch(Exception):
    """The deadline came before a trial's first epoch ended: it trained no net to keep.

    Not a verdict on its knobs: the study queues them to run first next time.
    """


class StopAtDeadline(pl.Callback):
    """End training as soon as a batch finishes past ``deadline`` (a ``time.time()``)."""

    def __init__(self, deadline: float) -> None:
        """Stop at ``deadline``."""
        self.deadline = deadline

    def _check(self, trainer: pl.Trainer) -> None:
        if time.time() >= self.deadline:
            # epochs count from 1 here, as in the pruner's reason and the `epochs` column
            raise DeadlineReached(f"timeout during epoch {trainer.current_epoch + 1}")

    def on_train_batch_end(self, trainer: pl.Trainer, *args: Any) -> None:
        """Stop after this training batch if the deadline has passed."""
        self._check(trainer)

    def on_validation_batch_end(self, trainer: pl.Trainer, *args: Any) -> None:
        """Stop after this validation batch if the deadline has passed."""
        self._check(trainer)


class KeepBestWeights(pl.Callback):
    """Remember the weights of the ``keep`` epochs with the lowest validation loss, in memory."""

    def __init__(self, monitor: str = "val_loss", keep: int = 1) -> None:
        """Watch ``monitor`` (lower is better) and keep the ``keep`` best epochs' weights."""
        self.monitor = monitor
        self.keep = keep
        self.kept: list[tuple[float, int, dict[str, torch.Tensor]]] = []  # best first

    @property
    def best_score(self) -> float:
        """Return the lowest monitored score seen (inf before the first epoch)."""
        return self.kept[0][0] if self.kept else math.inf

    @property
    def best_epoch(self) -> int:
        """Return the epoch of the lowest score (-1 before the first epoch)."""
        return self.kept[0][1] if self.kept else -1

    @property
    def best_state(self) -> dict[str, torch.Tensor] | None:
        """Return the weights of the best epoch, or None before the first epoch."""
        return self.kept[0][2] if self.kept else None

    def states(self) -> list[dict[str, torch.Tensor]]:
        """Return the kept weights, the best epoch's first."""
        return [state for _, _, state in self.kept]

    def on_validation_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        """Copy the weights when the epoch is among the ``keep`` best so far."""
        if trainer.sanity_checking:
            return
        value = trainer.callback_metrics.get(self.monitor)
        if value is None or not math.isfinite(score := float(value)):
            return
        if len(self.kept) < self.keep or score < self.kept[-1][0]:
            entry = (score, trainer.current_epoch, copy.deepcopy(pl_module.state_dict()))
            self.kept = sorted([*self.kept, entry], key=lambda kept: kept[0])[: self.keep]

    def restore(self, pl_module: pl.LightningModule) -> None:
        """Load the best weights seen into ``pl_module`` (no-op if none were seen)."""
        if self.best_state is not None:
            pl_module.load_state_dict(self.best_state)


class EpochEndHook(pl.Callback):
    """Call ``fn(epoch, metrics)`` at the end of every training epoch, after validation.

    The metrics include the epoch's train and validation values and the LR it used.
    """

    def __init__(self, fn: Any) -> None:
        """Call ``fn`` with the epoch number and its metrics dict."""
        self.fn = fn

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        """Hand the finished epoch's metrics to ``fn``."""
        metrics = epoch_metrics(trainer)
        metrics["lr"] = current_lr(trainer)
        self.fn(trainer.current_epoch, metrics)
