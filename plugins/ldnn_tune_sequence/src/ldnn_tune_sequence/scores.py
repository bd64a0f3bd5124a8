"""The article's scores of each sequence problem, from a trial's kept predictions."""

import numpy as np

from ldnn_tune_sequence.options import SOLVED_ERROR

PROBABILITY_FLOOR = 1e-12  # as the host's NLL: one confident error costs at most 27.6 nats


def problem_scores(problem: str, predictions: np.ndarray, targets: np.ndarray) -> dict[str, float]:
    """Return ``problem``'s own scores of ``predictions`` (probabilities, or sums)."""
    if problem == "adding":
        error = np.abs(predictions.reshape(targets.shape) - targets)
        return {"solved": float((error < SOLVED_ERROR).mean())}
    if problem in ("copy", "sort"):
        right = predictions.argmax(axis=-1) == targets
        return {"seq_acc": float(right.reshape(len(targets), -1).all(axis=-1).mean())}
    if problem == "text":
        flat = predictions.reshape(-1, predictions.shape[-1])
        picked = flat[np.arange(len(flat)), targets.reshape(-1).astype(np.int64)]
        return {"nats_per_char": float(-np.log(np.maximum(picked, PROBABILITY_FLOOR)).mean())}
    return {}
