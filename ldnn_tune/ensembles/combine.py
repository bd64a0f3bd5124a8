"""Ensembles of a study's trials: retrains of the best, plain averaging, greedy selection.

``seeds`` averages the best trial and its retrains with new seeds (a deep ensemble),
admitting each only when it does not raise the validation loss; ``average`` and
``greedy`` (Caruana, 2004) combine the top trials of the search. A classification
ensemble's average is then temperature-scaled where a temperature fitted on validation
carries across its halves. All choose using validation predictions only; the test split
is scored once, for the report.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ldnn_tune.ensembles.calibrate import checked_temperature, with_temperature
from ldnn_tune.plugin.task import TaskKind
from ldnn_tune.recipe.metrics import score

if TYPE_CHECKING:  # the ensemble maths stays free of torch
    from ldnn_tune.recipe.data import Standardizer

GREEDY_ROUNDS = 25

# a task's own scores of predictions and targets (Task.own_scores), e.g. the adding
# problem's share of sums solved
OwnScores = Callable[[np.ndarray, np.ndarray], dict[str, float]]


@dataclass(frozen=True)
class Member:
    """One trial's saved predictions (probabilities or values) on validation and test."""

    trial_number: int
    run_id: str
    val_predictions: np.ndarray
    test_predictions: np.ndarray


@dataclass(frozen=True)
class EnsembleResult:
    """Integer weights per member and the scores of the weighted average."""

    method: str
    weights: dict[int, int]  # trial number -> weight
    val_scores: dict[str, float]
    test_scores: dict[str, float]
    temperature: float = 1.0  # applied to the average of a classification ensemble


SINGLE = "single"  # the best single trial, the baseline every ensemble is compared with
NAMED = "trials"  # the trials a user names (``ensemble trials=3,7``), averaged


@dataclass(frozen=True)
class EnsembleComparison:
    """The best single trial and each method's ensemble of the top trials, on val and test."""

    members: list[Member]
    results: dict[str, EnsembleResult]  # SINGLE, then one per method of METHODS
    run_id: str = ""  # the MLflow run holding the chosen ensemble's bundle
    left_out: tuple[int, ...] = ()  # trials passed over: their MLflow runs were deleted
    files_gone: tuple[int, ...] = ()  # trials passed over: their runs' files are gone
    logged_before: bool = False  # the same ensemble was logged before: run_id is that run
    own_names: tuple[str, ...] = ()  # the task's own scores among every result's scores


def weighted_average(predictions: Sequence[np.ndarray], weights: Sequence[float]) -> np.ndarray:
    """Return the weighted mean of ``predictions`` (weights need not sum to one)."""
    total = float(sum(weights))
    return sum(w / total * p for w, p in zip(weights, predictions, strict=True))  # type: ignore[return-value]


def average_weights(
    predictions: Sequence[np.ndarray], targets: np.ndarray, kind: TaskKind
) -> list[int]:
    """Return equal weights: the plain average of every member."""
    return [1] * len(predictions)


def greedy_weights(
    predictions: Sequence[np.ndarray],
    targets: np.ndarray,
    kind: TaskKind,
    rounds: int = GREEDY_ROUNDS,
) -> list[int]:
    """Return integer weights from forward selection with replacement.

    Each round adds the member whose inclusion gives the running average the lowest loss
    on ``targets``; the weights of the best round are returned.
    """
    counts = [0] * len(predictions)
    best_counts, best_loss = counts, np.inf
    running = np.zeros_like(predictions[0], dtype=np.float64)
    for size in range(1, rounds + 1):
        losses = [
            score(kind, (running * (size - 1) + p) / size, targets)["loss"] for p in predictions
        ]
        pick = int(np.argmin(losses))
        counts = counts.copy()
        counts[pick] += 1
        running = (running * (size - 1) + predictions[pick]) / size
        if losses[pick] < best_loss:
            best_loss, best_counts = losses[pick], counts
    return best_counts


def admitted_weights(
    predictions: Sequence[np.ndarray], targets: np.ndarray, kind: TaskKind
) -> list[int]:
    """Return 1 for the first member and for each later one that does not raise the loss.

    Members are taken in order; one is admitted when averaging it in leaves the running
    average's loss on ``targets`` no higher, else it gets weight 0.
    """
    weights = [1] + [0] * (len(predictions) - 1)
    running = np.asarray(predictions[0], dtype=np.float64)
    loss, count = score(kind, running, targets)["loss"], 1
    for index, candidate in enumerate(predictions[1:], start=1):
        average = (running * count + candidate) / (count + 1)
        candidate_loss = score(kind, average, targets)["loss"]
        if candidate_loss <= loss:
            weights[index], running, loss, count = 1, average, candidate_loss, count + 1
    return weights


Weighting = Callable[[Sequence[np.ndarray], np.ndarray, TaskKind], list[int]]
SEEDS = "seeds"  # the best trial and its retrains; the default (bench/results/ensembles.md)
METHODS: dict[str, Weighting] = {
    SEEDS: admitted_weights,
    "average": average_weights,
    "greedy": greedy_weights,
}


def build_ensemble(
    method: str,
    members: Sequence[Member],
    val_targets: np.ndarray,
    test_targets: np.ndarray,
    kind: TaskKind,
    target_transform: Standardizer | None = None,
    calibrate: bool = False,
    own_scores: OwnScores | None = None,
) -> EnsembleResult:
    """Combine ``members`` by ``method`` (a key of :data:`METHODS`) and score val and test.

    The weights are chosen from validation predictions only; with ``calibrate``, a
    classification average is then temperature-scaled by a temperature fitted on
    validation, where it carries across the validation set's halves
    (:func:`~ldnn_tune.ensembles.calibrate.checked_temperature`). A regression task's
    ``target_transform`` puts the reported ``mse`` and ``mae`` in the target's units;
    ``own_scores`` adds the task's own scores of the average, as its trials have them.
    """
    if method not in METHODS:
        raise ValueError(f"unknown ensemble method {method!r}; choose from {', '.join(METHODS)}")
    weights = METHODS[method]([m.val_predictions for m in members], val_targets, kind)
    kept = [(m, w) for m, w in zip(members, weights, strict=True) if w > 0]
    val_avg = weighted_average([m.val_predictions for m, _ in kept], [w for _, w in kept])
    test_avg = weighted_average([m.test_predictions for m, _ in kept], [w for _, w in kept])
    temperature = 1.0
    if calibrate and kind is TaskKind.CLASSIFICATION:
        temperature = checked_temperature(val_avg, val_targets)
        val_avg = with_temperature(val_avg, temperature)
        test_avg = with_temperature(test_avg, temperature)
    return EnsembleResult(
        method=method,
        weights={m.trial_number: w for m, w in kept},
        val_scores=_scores(kind, val_avg, val_targets, target_transform, own_scores),
        test_scores=_scores(kind, test_avg, test_targets, target_transform, own_scores),
        temperature=temperature,
    )


def _scores(
    kind: TaskKind,
    predictions: np.ndarray,
    targets: np.ndarray,
    target_transform: Standardizer | None,
    own_scores: OwnScores | None,
) -> dict[str, float]:
    """Return the host's scores of ``predictions``, then the task's own, if it has any."""
    own = own_scores(predictions, targets) if own_scores is not None else {}
    return {**score(kind, predictions, targets, target_transform), **own}
