"""Report each epoch's validation loss to the Optuna trial; let the pruner stop it.

Like optuna-integration's ``PyTorchLightningPruningCallback``, this reports and asks the
pruner after every validation, so a study's pruning decisions depend on its trials'
values and never on the machine's speed. The questions are cheap: the default median
pruner reads the complete trials once per trial (:mod:`ldnn_tune.study.pruner_snapshot`),
and the successive-halving pruners read the storage only at their rungs.
"""

import lightning.pytorch as pl
import optuna

from ldnn_tune.trial.callbacks import epochs_text


class EpochPruning(pl.Callback):
    """Report ``monitor`` to ``trial`` each epoch; raise ``TrialPruned`` when the pruner says.

    The pruner is asked when validation ends, and the prune raised when the training
    epoch ends, after the callbacks listed before this one: the epoch's metrics reach
    MLflow, as every epoch of a complete trial's do. It is not asked after the last
    epoch: a trial that trained to the end completes.
    """

    def __init__(self, trial: optuna.Trial, monitor: str = "val_loss", prune: bool = True):
        """Watch ``monitor``; with ``prune=False`` report it (for the plots) but never prune."""
        self.trial = trial
        self.prune = prune
        self.monitor = monitor
        self._pruned: optuna.TrialPruned | None = None

    def on_validation_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        """Report the epoch's value; ask the pruner whether the trial should stop."""
        value = trainer.callback_metrics.get(self.monitor)
        if trainer.sanity_checking or value is None:
            return
        epoch = trainer.current_epoch
        self.trial.report(float(value), step=epoch)
        # at the last epoch the training is done: pruning would only throw the net away
        last = trainer.max_epochs is not None and epoch >= trainer.max_epochs - 1
        if self.prune and not last and self.trial.should_prune():
            self._pruned = optuna.TrialPruned(
                f"pruned after {epochs_text(epoch + 1)}: {self.monitor} "
                f"{float(value):.4g} is behind the other trials at that epoch"
            )

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        """Raise the prune the pruner asked for at this epoch's validation."""
        if self._pruned is not None:
            raise self._pruned
