"""Scores of predictions against targets: what trials report and ensembles compare."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ldnn_tune.plugin.task import TaskKind

if TYPE_CHECKING:  # the command line imports this module; torch loads with a study
    from ldnn_tune.recipe.data import Standardizer

PROBABILITY_FLOOR = 1e-12


def like_targets(predictions: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Return a regression's ``predictions`` in the shape of its ``targets``.

    A net may output ``(N, 1, 1)`` for targets ``(N, 1)``: saved so, ``predictions -
    targets`` in a user's own code would broadcast to ``(N, N, 1)`` silently. Class
    scores (more values than targets) are returned as they are.
    """
    if predictions.size == targets.size and predictions.shape != targets.shape:
        return predictions.reshape(targets.shape)
    return predictions


def score(
    kind: TaskKind,
    predictions: np.ndarray,
    targets: np.ndarray,
    target_transform: Standardizer | None = None,
) -> dict[str, float]:
    """Return ``{"loss", "acc"}`` (NLL and accuracy) or ``{"loss", "mse", "mae"}``.

    Classification ``predictions`` are probabilities of shape ``(..., classes)``.
    Regression ``predictions`` and ``targets`` are in the model's units: ``loss`` is their
    mean squared error there (what trains), ``mse`` and ``mae`` are in the target's units,
    mapped back by the task's ``target_transform`` (the same without one).
    """
    if kind is TaskKind.CLASSIFICATION:
        labels = targets.reshape(-1).astype(np.int64)
        accuracy = float((predictions.reshape(len(labels), -1).argmax(axis=-1) == labels).mean())
        return {"loss": nll(predictions, targets), "acc": accuracy}
    error = predictions.reshape(targets.shape) - targets
    units = to_units(predictions.reshape(targets.shape), target_transform) - to_units(
        targets, target_transform
    )
    return {
        "loss": float((error**2).mean()),
        "mse": float((units**2).mean()),
        "mae": float(np.abs(units).mean()),
    }


def nll(probs: np.ndarray, targets: np.ndarray) -> float:
    """Return the mean negative log-likelihood of integer ``targets`` under ``probs``.

    ``probs`` has shape ``(..., classes)`` for targets of shape ``(...)``; probabilities are
    floored at ``PROBABILITY_FLOOR``, so one confident error costs at most 27.6 nats.
    """
    flat = probs.reshape(-1, probs.shape[-1])
    labels = targets.reshape(-1).astype(np.int64)
    picked = flat[np.arange(len(labels)), labels]
    return float(-np.log(np.maximum(picked, PROBABILITY_FLOOR)).mean())


def to_units(values: np.ndarray, target_transform: Standardizer | None) -> np.ndarray:
    """Return regression ``values`` in the target's units (as they are without a transform)."""
    if target_transform is None:
        return values
    std, mean = to_numpy(target_transform.std), to_numpy(target_transform.mean)
    mapped: np.ndarray = values * std + mean
    return np.expm1(mapped) if target_transform.log1p else mapped


def to_numpy(tensor: object) -> np.ndarray:
    """Return a torch tensor (on any device) or an array as a NumPy array."""
    detach = getattr(tensor, "detach", None)
    if detach is not None:
        return np.asarray(detach().cpu().numpy())
    return np.asarray(tensor)
