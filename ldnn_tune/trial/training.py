"""Train one trial's model with Lightning and collect what the study and ensembles need."""

import io
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import lightning.pytorch as pl
import numpy as np
import torch
from lightning.fabric.utilities.exceptions import MisconfigurationException

from ldnn_tune.plugin.scores import own_scores
from ldnn_tune.plugin.task import Task, TaskKind
from ldnn_tune.recipe.data import SplitDataModule
from ldnn_tune.recipe.hparams import HParams
from ldnn_tune.recipe.metrics import score, to_numpy
from ldnn_tune.recipe.module import RecipeModule
from ldnn_tune.trial.averaging import keep_average_if_better
from ldnn_tune.trial.callbacks import (
    CutBeforeFirstEpoch,
    DeadlineReached,
    KeepBestWeights,
    LrFloorReached,
    StopAtDeadline,
    StopAtLrFloor,
)
from ldnn_tune.trial.predictions import predict_loader

# what Lightning's LR scheduler says, in a trial's terms: every trial of the task fails so
NO_VAL_LOSS = (
    "the model logged no val_loss, which decides LR drops, pruning and the best epoch: a "
    "RecipeModule subclass that overrides validation_step or on_validation_epoch_end must "
    "call super()'s"
)


@dataclass
class TrialOutcome:
    """The result of training one trial, evaluated with the weights it kept.

    ``predictions`` holds ``val_predictions``, ``val_targets``, ``test_predictions`` and
    ``test_targets`` in the model's units and, for a task with a ``target_transform()``,
    its ``target_mean`` and ``target_std`` (what maps them to the target's units); the
    regression scores' ``mse`` and ``mae`` are in the target's units.
    """

    best_val_loss: float  # of the weights kept: the best epoch's, or their average's
    best_epoch: int
    averaged_epochs: int  # how many best epochs' weights were averaged; 1: the best alone
    epochs_run: int
    stop_reason: str
    val_scores: dict[str, float]
    test_scores: dict[str, float]
    predictions: dict[str, np.ndarray] = field(repr=False)
    state_dict: bytes = field(repr=False)

    def divergence(self) -> str:
        """Return why the kept net is unusable ("diverged: ..."), or "" when it is not.

        A net can also turn to NaN after its best epoch (its weights averaged, a forward
        pass that breaks on later calls): its predictions would wreck every ensemble.
        """
        if not math.isfinite(self.best_val_loss):
            return "diverged: validation loss is not finite"
        parts = ("val_predictions", "test_predictions")
        if not all(bool(np.isfinite(self.predictions[part]).all()) for part in parts):
            return "diverged: its kept net predicts NaN or infinity"
        return ""


def train_trial(
    task: Task[Any],
    hp: HParams,
    seed: int,
    max_epochs: int,
    min_lr: float,
    callbacks: Sequence[pl.Callback] = (),
    deadline: float | None = None,
    average_epochs: int = 1,
) -> TrialOutcome:
    """Train ``task``'s model for ``hp`` from ``seed``; evaluate the weights it keeps.

    Training ends when ``max_epochs`` run out, the LR falls below ``min_lr`` or the clock
    passes ``deadline`` (a ``time.time()``: the trial keeps its best epoch so far, or
    raises :class:`CutBeforeFirstEpoch` when no epoch finished); ``callbacks`` (pruning,
    logging, progress) may end it earlier by raising. With ``average_epochs`` above 1 the
    trial keeps the average of that many best epochs' weights instead, when it has a lower
    validation loss (:mod:`ldnn_tune.trial.averaging`), unless the deadline is less than an
    epoch away.
    """
    pl.seed_everything(seed, workers=True, verbose=False)
    datamodule = task.datamodule(hp)
    model = task.model(hp)
    best = KeepBestWeights(keep=average_epochs)
    stops: list[pl.Callback] = [] if deadline is None else [StopAtDeadline(deadline)]
    trainer = pl.Trainer(
        max_epochs=max_epochs,
        accelerator="auto",
        devices=1,
        logger=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        enable_checkpointing=False,
        num_sanity_val_steps=0,
        callbacks=[best, StopAtLrFloor(min_lr), *stops, *callbacks],
    )
    if isinstance(datamodule, SplitDataModule):  # the data moves to the device once
        datamodule.to(trainer.strategy.root_device)
    stop_reason, started = "max epochs", time.time()
    try:
        trainer.fit(model, datamodule=datamodule)
    except DeadlineReached as reached:
        if best.best_state is None:
            raise CutBeforeFirstEpoch(f"{reached}, before its first epoch ended") from None
        stop_reason = str(reached)
    except LrFloorReached as floor:
        stop_reason = str(floor)
    except MisconfigurationException as error:
        if "val_loss" not in str(error):
            raise
        raise ValueError(NO_VAL_LOSS) from error
    best.restore(model)
    in_time = time_to_average(time.time() - started, trainer.current_epoch, deadline)
    best_val_loss, averaged = (
        _average_best_epochs(model, best, datamodule) if in_time else (best.best_score, 1)
    )
    val_pred, val_true = predict_loader(model, datamodule.val_dataloader())
    test_pred, test_true = predict_loader(model, datamodule.test_dataloader())
    buffer = io.BytesIO()
    torch.save(model.cpu().state_dict(), buffer)
    transform = task.target_transform() if task.kind is TaskKind.REGRESSION else None
    predictions = {
        "val_predictions": val_pred,
        "val_targets": val_true,
        "test_predictions": test_pred,
        "test_targets": test_true,
    }
    if transform is not None:
        predictions["target_mean"] = to_numpy(transform.mean)
        predictions["target_std"] = to_numpy(transform.std)
        predictions["target_log1p"] = np.asarray(transform.log1p)
    return TrialOutcome(
        best_val_loss=best_val_loss,
        best_epoch=best.best_epoch,
        averaged_epochs=averaged,
        epochs_run=trainer.current_epoch,
        stop_reason=stop_reason,
        val_scores={
            **score(task.kind, val_pred, val_true, transform),
            **own_scores(task, val_pred, val_true),
        },
        test_scores={
            **score(task.kind, test_pred, test_true, transform),
            **own_scores(task, test_pred, test_true),
        },
        predictions=predictions,
        state_dict=buffer.getvalue(),
    )


def time_to_average(fit_seconds: float, epochs: int, deadline: float | None) -> bool:
    """Return whether an epoch's time is left before ``deadline`` (a ``time.time()``).

    Averaging costs less than an epoch: a pass over the training inputs for BatchNorm's
    statistics and one over the validation split.
    """
    return deadline is None or time.time() + fit_seconds / max(epochs, 1) < deadline


def _average_best_epochs(
    model: pl.LightningModule, best: KeepBestWeights, datamodule: pl.LightningDataModule
) -> tuple[float, int]:
    """Return (val loss, epochs averaged) of the weights ``model`` keeps: see averaging.py."""
    states = best.states()
    if len(states) < 2 or not isinstance(model, RecipeModule):
        return best.best_score, 1
    loss = keep_average_if_better(
        model, states, best.best_score, datamodule.val_dataloader(), datamodule.train_dataloader()
    )
    return (best.best_score, 1) if loss is None else (loss, len(states))
