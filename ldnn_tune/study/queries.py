"""Questions asked of a study: how many trials in each state, which are best, which were ill."""

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import optuna
from optuna.trial import FrozenTrial, TrialState

from ldnn_tune.names import INTERRUPTED, REASON_ATTR, RESEED_OF_ATTR, SURPLUS

FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)
HEALTH_REASONS = ("diverged", "unhealthy")  # how the health monitor's reasons start


def reason(trial: FrozenTrial) -> str:
    """Return why ``trial`` was pruned or failed ("" when it says nothing)."""
    return str(trial.user_attrs.get(REASON_ATTR) or "")


def given_up(trial: FrozenTrial) -> bool:
    """Return whether ``trial`` was given up unstarted: one over the study's total."""
    return reason(trial).startswith(SURPLUS)


def ended_numbers(study: optuna.Study) -> set[int]:
    """Return the numbers of ``study``'s trials that have ended, in whatever state."""
    return {t.number for t in study.get_trials(deepcopy=False) if t.state.is_finished()}


def interrupted_since(study: optuna.Study, ended: set[int]) -> list[int]:
    """Return the trials, other than those in ``ended``, that a user's stop failed."""
    return sorted(
        t.number
        for t in study.get_trials(deepcopy=False, states=(TrialState.FAIL,))
        if t.number not in ended and reason(t).startswith(INTERRUPTED)
    )


@dataclass(frozen=True)
class StudyView:
    """One read of a study's trials, answering the trial loop's and the display's questions."""

    trials: list[FrozenTrial]

    @property
    def finished(self) -> int:
        """Return how many trials completed or were pruned."""
        return sum(t.state in FINISHED for t in self.trials)

    @property
    def running(self) -> int:
        """Return how many trials are running (here or in other workers)."""
        return sum(t.state == TrialState.RUNNING for t in self.trials)

    @property
    def failed(self) -> list[FrozenTrial]:
        """Return the failed trials."""
        return [t for t in self.trials if t.state == TrialState.FAIL]

    @property
    def best_value(self) -> float | None:
        """Return the lowest validation loss of a complete trial, or None."""
        values = [t.value for t in self.trials if t.state == TrialState.COMPLETE]
        return min((v for v in values if v is not None), default=None)


def view(study: optuna.Study) -> StudyView:
    """Return a :class:`StudyView` of ``study`` (one read of its trials)."""
    return StudyView(study.get_trials(deepcopy=False))


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


def best_trials(study: optuna.Study, top: int | None = None) -> list[FrozenTrial]:
    """Return the ``top`` (default: all) complete trials with the lowest validation loss."""
    return best_of(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)), top)


def best_of(trials: Sequence[FrozenTrial], top: int | None = None) -> list[FrozenTrial]:
    """Return the ``top`` (default: all) of ``trials`` complete with the lowest validation loss.

    For a caller that has read the study's trials already.
    """
    complete = [t for t in trials if t.state is TrialState.COMPLETE and t.value is not None]
    return sorted(complete, key=lambda t: t.value)[:top]  # type: ignore[arg-type, return-value]


def is_reseed(trial: FrozenTrial) -> bool:
    """Return whether ``trial`` retrains another trial's knobs with a new seed."""
    return RESEED_OF_ATTR in trial.user_attrs


def reseed_count(study: optuna.Study) -> int:
    """Return how many of ``study``'s retrains ran, run now or are queued (failed ones aside).

    The search's trial loop runs a queued retrain (a stopped one's knobs, queued again)
    before any new trial, as Optuna takes queued trials first; counted here, it does not
    take the place of one of the search's trials.
    """
    counted = (*FINISHED, TrialState.RUNNING, TrialState.WAITING)
    return sum(is_reseed(t) for t in study.get_trials(deepcopy=False, states=counted))


def finished_search_trials(study: optuna.Study) -> int:
    """Return how many of ``study``'s finished trials are the search's (retrains aside)."""
    finished = study.get_trials(deepcopy=False, states=FINISHED)
    return sum(not is_reseed(t) for t in finished)


def finished_since(study: optuna.Study, since: float) -> int:
    """Return how many of ``study``'s trials finished at or after ``since`` (``time.time()``).

    Those a command started at ``since`` saw finish: its own, and its fellow workers'.
    """
    finished = study.get_trials(deepcopy=False, states=FINISHED)
    return sum(
        t.datetime_complete is not None and t.datetime_complete.timestamp() >= since
        for t in finished
    )


def stalled_since(study: optuna.Study, since: float) -> bool:
    """Return whether no trial of ``study`` finished at or after ``since``, nor runs now.

    A command started at ``since`` that ends so got nowhere: its timeout fits no trial.
    """
    return not finished_since(study, since) and not view(study).running


def best_search_trial(study: optuna.Study) -> FrozenTrial | None:
    """Return the complete trial the search found best (retrains aside), or None."""
    found = [t for t in best_trials(study) if not is_reseed(t)]
    return found[0] if found else None


def reseeds_of(study: optuna.Study, number: int) -> list[FrozenTrial]:
    """Return the retrains of trial ``number`` (any state), in trial order."""
    trials = study.get_trials(deepcopy=False)
    return [t for t in trials if t.user_attrs.get(RESEED_OF_ATTR) == number]


def health_pruned(study: optuna.Study) -> list[FrozenTrial]:
    """Return the trials ended by the health monitor (diverged or unhealthy), newest first."""
    pruned = study.get_trials(deepcopy=False, states=(TrialState.PRUNED,))
    marked = [
        t for t in pruned if str(t.user_attrs.get(REASON_ATTR, "")).startswith(HEALTH_REASONS)
    ]
    return sorted(marked, key=lambda t: -t.number)
