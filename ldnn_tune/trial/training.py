"""Train one trial's model with Lightning and collect what the study and ensembles need."""

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import lightning.pytorch as pl
import numpy as np
import torch
from torch.utils.data import DataLoader

from ldnn_tune.plugin.task import Task
from ldnn_tune.recipe.hparams import HParams
from ldnn_tune.recipe.metrics import score
from ldnn_tune.trial.callbacks import KeepBestWeights, StopAtLrFloor


@dataclass
class TrialOutcome:
    """The result of training one trial, evaluated with its best-epoch weights."""

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
) -> TrialOutcome:
    """Train ``task``'s model for ``hp`` from ``seed``; evaluate the best epoch's weights.

    Training ends when ``max_epochs`` run out or the LR falls below ``min_lr``;
    ``callbacks`` (pruning, logging, progress) may end it earlier by raising.
    """
    pl.seed_everything(seed, workers=True, verbose=False)
    datamodule = task.datamodule(hp)
    model = task.model(hp)
    best = KeepBestWeights()
    floor = StopAtLrFloor(min_lr)
    trainer = pl.Trainer(
        max_epochs=max_epochs,
        accelerator="auto",
        devices=1,
        logger=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        enable_checkpointing=False,
        num_sanity_val_steps=0,
        callbacks=[best, floor, *callbacks],
    )
    trainer.fit(model, datamodule=datamodule)
    best.restore(model)
    model.cpu()
    val_pred, val_true = predict_loader(model, datamodule.val_dataloader())
    test_pred, test_true = predict_loader(model, datamodule.test_dataloader())
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    stop_reason = (
        f"lr below min_lr at epoch {floor.stopped_epoch}"
        if floor.stopped_epoch is not None
        else "max epochs"
    )
    return TrialOutcome(
        best_val_loss=best.best_score,
        best_epoch=best.best_epoch,
        epochs_run=trainer.current_epoch,
        stop_reason=stop_reason,
        val_scores=score(task.kind, val_pred, val_true),
        test_scores=score(task.kind, test_pred, test_true),
        predictions={
            "val_predictions": val_pred,
            "val_targets": val_true,
            "test_predictions": test_pred,
            "test_targets": test_true,
        },
        state_dict=buffer.getvalue(),
    )


def predict_loader(
    model: pl.LightningModule, loader: DataLoader[tuple[torch.Tensor, ...]]
) -> tuple[np.ndarray, np.ndarray]:
    """Return (predictions, targets) over ``loader`` in eval mode: no dropout, no augmentation."""
    was_training = model.training
    model.eval()
    predictions, targets = [], []
    with torch.no_grad():
        for batch_idx, (x, y) in enumerate(loader):
            predictions.append(model.predict_step((x,), batch_idx).cpu().numpy())
            targets.append(y.cpu().numpy())
    model.train(was_training)
    return np.concatenate(predictions), np.concatenate(targets)
