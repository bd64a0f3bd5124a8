"""Report each epoch's validation loss to the Optuna trial; let the pruner stop it.

optuna-integration's ``PyTorchLightningPruningCallback`` reports and asks the pruner after
every validation. Asking reads the study back from the storage (about 6 ms on SQLite), and
on a task whose epochs take 60 ms (digits) those reads were a tenth of the trial. Here the
value is still reported every epoch, so every trial has a value at every epoch for the
pruner to compare, but the pruner is asked only once the training since the last question
has taken ``1 / share`` times what that question cost: pruning checks stay under ``share``
of a trial, and a trial with long epochs is still checked after each one.
"""

import time

import lightning.pytorch as pl
import optuna


class EpochPruning(pl.Callback):
    """Report ``monitor`` to ``trial`` each epoch; raise ``TrialPruned`` when the pruner says."""

    def __init__(
        self,
        trial: optuna.Trial,
        monitor: str = "val_loss",
        share: float = 0.02,
        prune: bool = True,
    ):
        """Watch ``monitor``; spend at most about ``share`` of the training on pruning checks.

        With ``prune=False`` the values are reported (for Optuna's plots) but never pruned.
        """
        self.trial = trial
        self.prune = prune
        self.monitor = monitor
        self.share = share
        self.check_seconds = 0.0  # what the last pruning check cost; 0: check at once
        self.last_check = time.monotonic()

    def on_validation_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        """Report the epoch's value; ask the pruner when a check is due."""
        value = trainer.callback_metrics.get(self.monitor)
        if trainer.sanity_checking or value is None:
            return
        epoch = trainer.current_epoch
        self.trial.report(float(value), step=epoch)
        if not self.prune:
            return
        started = time.monotonic()
        if (started - self.last_check) * self.share < self.check_seconds:
            return
        prune = self.trial.should_prune()
        self.last_check = time.monotonic()
        self.check_seconds = self.last_check - started
        if prune:
            raise optuna.TrialPruned(f"Trial was pruned at epoch {epoch}.")
