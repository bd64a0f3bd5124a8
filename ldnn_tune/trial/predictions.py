"""A model's predictions over a loader, as trials save them and ensembles average them."""

from collections.abc import Iterable

import lightning.pytorch as pl
import numpy as np
import torch

from ldnn_tune.recipe.metrics import like_targets


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
    stacked = np.concatenate(targets)
    return like_targets(np.concatenate(predictions), stacked), stacked
