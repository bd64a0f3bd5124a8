"""Train one trial's model with Lightning and collect what the study and ensembles need."""

import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import lightning.pytorch as pl
import numpy as np
import optuna
import torch

from ldnn_tune.plugin.task import Task, TaskKind
from ldnn_tune.recipe.data import SplitDataModule
from ldnn_tune.recipe.hparams import HParams
from ldnn_tune.recipe.metrics import score, to_numpy
from ldnn_tune.trial.callbacks import (
    DeadlineReached,
    KeepBestWeights,
    StopAtDeadline,
    StopAtLrFloor,
)


@dataclass
class TrialOutcome:
    """The result of training one trial, evaluated with its best-epoch weights.

    ``predictions`` holds ``val_predictions``, ``val_targets``, ``test_predictions`` and
    ``test_targets`` in the model's units and, for a task with a ``target_transform()``,
    its ``target_mean`` and ``target_std`` (what maps them to the target's units); the
    regression scores' ``mse`` and ``mae`` are in the target's units.
    """

    best_val_loss: float
    best_epoch: int
    epochs_run: int
    stop_reason: str
    val_scores: dict[str, float]
    test_scores: dict[str, float]
    predictions: dict[str, np.ndarray] = field(repr=False)
    state_dict: bytes = field(repr=False)


def train_trial(
    task: Task[Any],
    hp: HParams,
    seed: int,
    max_epochs: int,
    min_lr: float,
    callbacks: Sequence[pl.Callback] = (),
    deadline: float | None = None,
) -> TrialOutcome:
    """Train ``task``'s model for ``hp`` from ``seed``; evaluate the best epoch's weights.

    Training ends when ``max_epochs`` run out, the LR falls below ``min_lr`` or the clock
    passes ``deadline`` (a ``time.time()``: the trial keeps its best epoch so far, or is
    pruned when no epoch finished); ``callbacks`` (pruning, logging, progress) may end it
    earlier by raising.
    """
    pl.seed_everything(seed, workers=True, verbose=False)
    datamodule = task.datamodule(hp)
    model = task.model(hp)
    best = KeepBestWeights()
    floor = StopAtLrFloor(min_lr)
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
        callbacks=[best, floor, *stops, *callbacks],
    )
    if isinstance(datamodule, SplitDataModule):  # the data moves to the device once
        datamodule.to(trainer.strategy.root_device)
    stop_reason = "max epochs"
    try:
        trainer.fit(model, datamodule=datamodule)
    except DeadlineReached as reached:
        if best.best_state is None:
            raise optuna.TrialPruned(f"{reached} (before its first epoch ended)") from None
        stop_reason = str(reached)
    if floor.stopped_epoch is not None:
        stop_reason = f"lr below min_lr at epoch {floor.stopped_epoch}"
    best.restore(model)
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
    return TrialOutcome(
        best_val_loss=best.best_score,
        best_epoch=best.best_epoch,
        epochs_run=trainer.current_epoch,
        stop_reason=stop_reason,
        val_scores=score(task.kind, val_pred, val_true, transform),
        test_scores=score(task.kind, test_pred, test_true, transform),
        predictions=predictions,
        state_dict=buffer.getvalue(),
    )


def predict_loader(
    model: pl.LightningModule, loader: Iterable[tuple[torch.Tensor, torch.Tensor]]
) -> tuple[np.ndarray, np.ndarray]:
    """Return (predictions, targets) over ``loader`` in eval mode: no dropout, no augmentation."""
    was_training = model.training
    model.eval()
    predictions, targets = [], []
    with torch.no_grad():
        for batch_idx, (x, y) in enumerate(loader):
            predictions.append(model.predict_step((x.to(model.device),), batch_idx).cpu().numpy())
            targets.append(y.cpu().numpy())
    model.train(was_training)
    return np.concatenate(predictions), np.concatenate(targets)
