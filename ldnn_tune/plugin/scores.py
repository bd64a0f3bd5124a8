"""What a task's ``own_scores()`` may return: new score names, each with a number.

Its scores are recorded beside ldnn-tune's own (``val_NAME``, ``test_NAME``), so a name
ldnn-tune records itself would overwrite the loss the study is ranked by; a value that is
no number would fail the trial only when its attributes are written.
"""

import numbers
from typing import Any

import numpy as np

HOST_SCORES = ("loss", "acc", "mse", "mae")  # what recipe.metrics.score() records


def own_scores(task: Any, predictions: np.ndarray, targets: np.ndarray) -> dict[str, float]:
    """Return ``task.own_scores(predictions, targets)`` with each value as a float.

    Raises TypeError, naming ``own_scores()``, for a return that is no mapping of new
    score names to numbers (:func:`scores_problem`).
    """
    scores = task.own_scores(predictions, targets)
    problem = scores_problem(scores)
    if problem:
        raise TypeError(problem)
    values = {name: _number(value) for name, value in scores.items()}
    return {name: value for name, value in values.items() if value is not None}


def scores_problem(scores: object) -> str:
    """Return what is wrong with ``scores`` returned by ``own_scores()``, or ""."""
    if not isinstance(scores, dict):
        return (
            f"own_scores() returns a {type(scores).__name__}, not a dict of score names to numbers"
        )
    for name, value in scores.items():
        if not isinstance(name, str) or not name.isidentifier():
            return f"own_scores() names a score {name!r}: a name is an identifier (top5, f1)"
        if name in HOST_SCORES:
            return (
                f"own_scores() returns {name!r}, a score ldnn-tune records itself "
                f"({', '.join(HOST_SCORES)}): name it otherwise"
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
