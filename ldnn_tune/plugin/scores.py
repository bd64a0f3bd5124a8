"""What a task's ``own_scores()`` may return: new score names, each with a number.

Its scores are recorded beside ldnn-tune's own (``val_NAME``, ``test_NAME``), so a name
ldnn-tune records itself would overwrite the loss the study is ranked by; a value that is
no number would fail the trial only when its attributes are written.
"""

import numbers
from typing import Any, cast

import numpy as np

from ldnn_tune.plugin.task import TaskKind

# what recipe.metrics.score() records for each kind of task, and for either
RECORDED = {
    TaskKind.CLASSIFICATION: ("loss", "acc"),
    TaskKind.REGRESSION: ("loss", "mse", "mae"),
}
HOST_SCORES = tuple(dict.fromkeys(name for names in RECORDED.values() for name in names))


def own_scores(task: Any, predictions: np.ndarray, targets: np.ndarray) -> dict[str, float]:
    """Return ``task.own_scores(predictions, targets)`` with each value as a float.

    Raises TypeError, naming ``own_scores()``, for a return that is no mapping of new
    score names to numbers (:func:`scores_problem`).
    """
    scores = task.own_scores(predictions, targets)
    problem = scores_problem(scores, task.kind)
    if problem:
        raise TypeError(problem)
    return {name: cast(float, _number(value)) for name, value in scores.items()}


def scores_problem(scores: object, kind: TaskKind) -> str:
    """Return what is wrong with ``scores`` of a ``kind`` task's ``own_scores()``, or ""."""
    if not isinstance(scores, dict):
        return (
            f"own_scores() returns a {type(scores).__name__}, not a dict of score names to numbers"
        )
    for name, value in scores.items():
        if not isinstance(name, str) or not name.isidentifier():
            return f"own_scores() names a score {name!r}: a name is an identifier (top5, f1)"
        if name in RECORDED[kind]:
            return (
                f"own_scores() returns {name!r}, a score ldnn-tune records itself "
                f"({', '.join(RECORDED[kind])}): name it otherwise"
            )
        if _number(value) is None:
            return f"own_scores() gives {name!r} a {type(value).__name__}, not a number"
    return ""


def _number(value: object) -> float | None:
    """Return ``value`` as a float when it is one number (a tensor or array of one too)."""
    if isinstance(value, numbers.Real):
        return float(value)
    item = getattr(value, "item", None)
    if callable(item):
        try:
            single = item()
        except (ValueError, RuntimeError):  # more than one element
            return None
        return float(single) if isinstance(single, numbers.Real) else None
    return None
