"""Scores of predictions against targets: what trials report and ensembles compare."""

import numpy as np

from ldnn_tune.plugin.task import TaskKind

PROBABILITY_FLOOR = 1e-12


def score(kind: TaskKind, predictions: np.ndarray, targets: np.ndarray) -> dict[str, float]:
    """Return ``{"loss", "acc"}`` (NLL and accuracy) or ``{"loss", "mse"}`` (regression).

    Classification ``predictions`` are probabilities of shape ``(..., classes)``.
    """
    if kind is TaskKind.CLASSIFICATION:
        probs = predictions.reshape(-1, predictions.shape[-1])
        labels = targets.reshape(-1).astype(np.int64)
        picked = probs[np.arange(len(labels)), labels]
        nll = float(-np.log(np.maximum(picked, PROBABILITY_FLOOR)).mean())
        accuracy = float((probs.argmax(axis=-1) == labels).mean())
        return {"loss": nll, "acc": accuracy}
    mse = float(((predictions.reshape(targets.shape) - targets) ** 2).mean())
    return {"loss": mse, "mse": mse}
