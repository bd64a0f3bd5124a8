"""Retrains of the best trial's knobs with new seeds: the members of the default ensemble.

After the search, the trial with the lowest validation loss is trained again ``reseeds``
times, each a trial of the study with the same knobs and a new seed (its seed follows its
number), never pruned. Averaging such retrains (a deep ensemble) lowered test NLL on
digits by 45% where picking among different trials lowered it by 37% and often raised it
(bench/results/ensembles.md).

Retrains do not count towards ``trials``, the search's total. While a timeout runs, the
search leaves time for them: at most :data:`RESEED_SHARE` of the trial phase.
"""

import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import optuna
from optuna.trial import FrozenTrial, TrialState

from ldnn_tune.names import REASON_ATTR, RESEED_OF_ATTR, SURPLUS
from ldnn_tune.study.loop import (
    Budget,
    Objective,
    SurplusTrialError,
    TrialCallback,
    carrying_stops,
    optimize_one,
)
from ldnn_tune.study.queries import StudyView, reseeds_of

RESEED_SHARE = 1 / 3  # of the trial phase, at most, kept for the retrains under a timeout
DURATION_MEMORY = 10  # recent complete trials whose duration predicts a retrain's


@dataclass
class ReseedReserve:
    """The seconds the search leaves, before its deadline, for ``count`` retrains.

    A retrain is expected to take as long as the median of the recent complete trials;
    the reserve is at most ``RESEED_SHARE`` of the time from ``start`` to ``deadline``.
    """

    count: int
    deadline: float | None  # time.time() at which the trial phase ends; None: no limit
    start: float = field(default_factory=time.time)
    seconds_per_trial: float = 0.0

    def update(self, trials: StudyView) -> None:
        """Learn how long a trial takes from the study's recent complete trials."""
        durations = [
            (t.datetime_complete - t.datetime_start).total_seconds()
            for t in trials.trials
            if t.state == TrialState.COMPLETE and t.datetime_start and t.datetime_complete
        ]
        if durations:
            self.seconds_per_trial = statistics.median(durations[-DURATION_MEMORY:])

    def seconds(self) -> float:
        """Return the seconds to keep for the retrains (0 without a deadline)."""
        if self.deadline is None or self.count == 0:
            return 0.0
        cap = RESEED_SHARE * max(self.deadline - self.start, 0.0)
        return min(self.count * self.seconds_per_trial, cap)


def missing_reseeds(study: optuna.Study, anchor: FrozenTrial, count: int) -> int:
    """Return how many retrains of ``anchor`` are still to run for ``count`` in all.

    Retrains that ran (complete or pruned) or run now count; failed ones are tried again,
    and queued ones (an interrupted retrain's knobs, queued again) are still to run.
    """
    ran = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.RUNNING)
    kept = [t for t in reseeds_of(study, anchor.number) if t.state in ran]
    return max(count - len(kept), 0)


def retrain(
    study: optuna.Study,
    objective: Objective,
    anchor: FrozenTrial,
    count: int,
    budget: Budget,
    callbacks: Sequence[TrialCallback] = (),
    first_epoch: Callable[[], float] = lambda: 0.0,
) -> int:
    """Train ``anchor``'s knobs with new seeds until it has ``count`` retrains; return how many ran.

    Each retrain is queued with Optuna's ``enqueue_trial`` (the anchor's params, and
    ``reseed_of`` naming it) and run as the study's next trial. A retrain starts only when
    ``first_epoch()`` seconds fit before the budget's deadline; one that raises ends FAIL.
    The study is read again before each: another command on it may be retraining too.
    """
    attempts, ran = missing_reseeds(study, anchor, count), 0  # a failed one is not retried here
    run = _retrains_only(carrying_stops(objective))
    while ran < attempts and budget.allows(first_epoch()) and _queue_one(study, anchor, count):
        optimize_one(study, run, callbacks)
        ran += 1
    return ran


def _queue_one(study: optuna.Study, anchor: FrozenTrial, count: int) -> bool:
    """Return whether a retrain of ``anchor`` is still missing; queue one if none waits."""
    if missing_reseeds(study, anchor, count) == 0:
        return False
    queued = [t for t in reseeds_of(study, anchor.number) if t.state == TrialState.WAITING]
    if not queued:
        study.enqueue_trial(anchor.params, user_attrs={RESEED_OF_ATTR: anchor.number})
    return True


def _retrains_only(run: Objective) -> Objective:
    """Return ``run`` giving up any trial that is not a retrain.

    Another command may take the queued retrain between the check and the ask; Optuna
    then samples a new search trial, which is not this phase's to run (a surplus trial,
    as :func:`~ldnn_tune.study.loop.guarded` gives up). A retrain of another trial, queued
    again after a stop, runs: it is a member of that trial's ensemble.
    """

    def only_retrains(trial: optuna.Trial) -> float:
        if RESEED_OF_ATTR not in trial.user_attrs:
            taken = f"{SURPLUS}: another command took the queued retrain"
            trial.set_user_attr(REASON_ATTR, taken)
            raise SurplusTrialError(trial.number)
        return run(trial)

    return only_retrains
