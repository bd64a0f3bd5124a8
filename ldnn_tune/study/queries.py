"""Questions asked of a study: how many trials in each state, which are best, which were ill."""

from collections import Counter

import optuna
from optuna.trial import FrozenTrial, TrialState

from ldnn_tune.names import REASON_ATTR

FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)
HEALTH_REASONS = ("diverged", "unhealthy")  # how the health monitor's reasons start


def state_counts(study: optuna.Study) -> Counter[TrialState]:
    """Return how many of ``study``'s trials are in each state (one read of the storage)."""
    return Counter(t.state for t in study.get_trials(deepcopy=False))


def finished_trials(study: optuna.Study) -> int:
    """Return how many trials of ``study`` completed or were pruned."""
    counts = state_counts(study)
    return sum(counts[s] for s in FINISHED)


def trial_counts(study: optuna.Study) -> tuple[int, int]:
    """Return ``study``'s (finished, running) trial counts."""
    counts = state_counts(study)
    return sum(counts[s] for s in FINISHED), counts[TrialState.RUNNING]


def best_trials(study: optuna.Study, top: int) -> list[FrozenTrial]:
    """Return the ``top`` complete trials with the lowest validation loss."""
    complete = [
        t
        for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
        if t.value is not None
    ]
    return sorted(complete, key=lambda t: t.value)[:top]  # type: ignore[arg-type, return-value]


def health_pruned(study: optuna.Study) -> list[FrozenTrial]:
    """Return the trials ended by the health monitor (diverged or unhealthy), newest first."""
    pruned = study.get_trials(deepcopy=False, states=(TrialState.PRUNED,))
    marked = [
        t for t in pruned if str(t.user_attrs.get(REASON_ATTR, "")).startswith(HEALTH_REASONS)
    ]
    return sorted(marked, key=lambda t: -t.number)
