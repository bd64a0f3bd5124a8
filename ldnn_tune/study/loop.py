"""The trial loop of one worker: run trials until the study's total or the deadline.

Any number of workers (``n_jobs`` processes here, ``ldnn-tune run`` on other machines) may
run one study through a shared storage. Each worker runs trials while the study's finished
plus running trials are fewer than ``trials``; when they are not, it waits for the running
ones (another worker's, or a dead worker's that the heartbeat check fails and retries) and
stops once ``trials`` have finished or its timeout passes.
"""

import contextlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import optuna
from optuna.trial import FrozenTrial, TrialState

from ldnn_tune.errors import USER_STOPS, Interrupted
from ldnn_tune.interrupts import ignore_further, raise_pending, stops_deferred
from ldnn_tune.names import DEADLINE_CUT, HOST_ERROR_ATTR, REASON_ATTR, RESEED_OF_ATTR, SURPLUS
from ldnn_tune.study.queries import StudyView, given_up, reason, view
from ldnn_tune.study.recovery import fail_dead_trials, fail_stale_trials, taken_over

ACTIVE = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.RUNNING, TrialState.WAITING)
Objective = Callable[[optuna.Trial], float]
TrialCallback = Callable[[optuna.Study, optuna.trial.FrozenTrial], None]


class SurplusTrialError(Exception):
    """A trial asked for after the study's total was already taken by other workers."""


class FailingTrials(Exception):
    """Too many trials in a row failed: the task's code is likely broken, not one knob."""

    def __init__(self, trial: FrozenTrial, count: int, in_host: bool = False) -> None:
        """Remember the last failed ``trial`` and how many failed in a row.

        ``in_host``: each of them failed in ldnn-tune's own code, not the task's.
        """
        reason = trial.user_attrs.get(REASON_ATTR) or "no reason recorded"
        self.in_host = in_host
        if self.in_host:
            super().__init__(
                f"its own code, not the task's, failed {count} trials in a row; the last, "
                f"trial {trial.number}: {reason}"
            )
        else:
            super().__init__(
                f"failed {count} trials in a row; the last, trial {trial.number}: {reason}"
            )
        self.trial = trial
        self.count = count


@dataclass(frozen=True)
class Budget:
    """How many finished trials the study needs, and until when this worker may start one."""

    total: int
    deadline: float | None = None  # time.time(); shared by processes on one machine
    poll_seconds: float = 5.0  # how often a waiting worker looks at the study again

    def expired(self) -> bool:
        """Return whether the timeout has passed."""
        return self.deadline is not None and time.time() >= self.deadline

    def allows(self, seconds: float) -> bool:
        """Return whether ``seconds`` of work fit before the deadline."""
        return self.deadline is None or time.time() + seconds <= self.deadline

    def wait_seconds(self) -> float:
        """Return how long a waiting worker sleeps before it looks again: not past the deadline."""
        if self.deadline is None:
            return self.poll_seconds
        return max(0.0, min(self.poll_seconds, self.deadline - time.time()))


class _CarriedStop(KeyboardInterrupt):
    """Carries an :class:`Interrupted` through Optuna, so that its trial ends FAIL.

    Optuna fails a trial that raised an Exception or a KeyboardInterrupt; anything else
    would leave it RUNNING.
    """

    def __init__(self, stop: Interrupted) -> None:
        super().__init__(str(stop))
        self.stop = stop


def is_surplus(trial: optuna.Trial, total: int) -> bool:
    """Return whether ``total`` trials numbered below ``trial`` are finished, running or queued.

    Two workers may both see room for one more trial and ask at once; the one that got
    the higher number then gives its trial up, so the study's total stays exact. Below
    ``total`` a number has too few trials before it to be one: the study is not read.
    """
    if trial.number < total:  # a read of every trial, 2-7 ms at 1,000 on SQLite
        return False
    earlier = trial.study.get_trials(deepcopy=False, states=ACTIVE)
    return sum(t.number < trial.number for t in earlier) >= total


def carrying_stops(objective: Objective) -> Objective:
    """Return ``objective`` with an :class:`Interrupted` carried through Optuna.

    Run it with :func:`optimize_one`, which lets the Interrupted out again.
    """

    def run(trial: optuna.Trial) -> float:
        try:
            return objective(trial)
        except Interrupted as stop:
            raise _CarriedStop(stop) from stop

    return run


def optimize_one(
    study: optuna.Study, run: Objective, callbacks: Sequence[TrialCallback] = ()
) -> None:
    """Run one trial of ``study`` (a queued one first); a trial that raises ends FAIL.

    Ctrl-C or SIGTERM (an :class:`Interrupted` from :func:`carrying_stops`) ends the
    trial as FAIL and queues its knobs to run again first (:func:`retry_interrupted`),
    then is raised here.
    """
    started: list[int] = []

    def tracked(trial: optuna.Trial) -> float:
        started.append(trial._trial_id)
        return run(trial)

    try:
        with stops_deferred():  # a stop in Optuna's ask or tell waits for the trial's end
            study.optimize(tracked, n_trials=1, catch=(Exception,), callbacks=list(callbacks))
    except _CarriedStop as carried:  # the trial is FAIL now; stop as the user asked
        retry_interrupted(study, carried.stop.trial)
        raise carried.stop from None
    except Exception:
        # Optuna could not record the trial because another worker had already failed it
        # (this one was paused too long): the other worker retries it, and this one goes on
        if not (started and taken_over(study, started[-1])):
            raise


def retry_interrupted(study: optuna.Study, number: int | None) -> None:
    """Queue trial ``number``'s knobs (and its role, a retrain's) to run again: it was stopped.

    A stop (the user's, or a deadline before the first epoch ended) says nothing about the
    knobs; without the retry, a study stopped during its first trial would never train the
    article's defaults, nor a retrain its seed.
    """
    if number is None:  # stopped between trials
        return
    stopped = next(t for t in study.get_trials(deepcopy=False) if t.number == number)
    role = {k: v for k, v in stopped.user_attrs.items() if k == RESEED_OF_ATTR}
    study.enqueue_trial(stopped.params, user_attrs=role)


def requeue_cut(study: optuna.Study, ended: Sequence[FrozenTrial]) -> bool:
    """Queue the knobs of the last ``ended`` trial again if the deadline cut it; say so.

    It was cut before its first epoch ended: it trained nothing, and counted, a short
    ``timeout`` could use up the article's defaults.
    """
    last = ended[-1] if ended else None
    if last is None or not reason(last).startswith(DEADLINE_CUT):
        return False
    retry_interrupted(study, last.number)
    return True


def guarded(objective: Objective, total: int) -> Objective:
    """Return ``objective`` preceded by the surplus check of :func:`is_surplus`."""

    def run(trial: optuna.Trial) -> float:
        if is_surplus(trial, total):
            trial.set_user_attr(REASON_ATTR, f"{SURPLUS}: the study already had {total} trials")
            raise SurplusTrialError(trial.number)
        return objective(trial)

    return carrying_stops(run)


def look_after_dead_workers(study: optuna.Study) -> StudyView:
    """Fail the trials of workers known dead (queued again once); return the study then.

    A worker is known dead when its heartbeats stopped, or, on this machine, when its
    process is gone.
    """
    fail_stale_trials(study)
    trials = view(study)
    if fail_dead_trials(study, trials.trials):
        trials = view(study)
    return trials


def work(
    study: optuna.Study,
    objective: Objective,
    budget: Budget,
    on_poll: Callable[[StudyView], None] | None = None,
    first_epoch: Callable[[], float] = lambda: 0.0,
    max_failures: int = 3,
    on_failure: Callable[[FrozenTrial], None] | None = None,
) -> None:
    """Run ``study``'s trials with ``objective`` until ``budget`` says stop.

    A trial starts only when ``first_epoch()`` seconds (the expected time to its first
    validation) fit before the deadline. While other workers' running trials would make
    up the total, this worker waits, up to the deadline: one of them may yet fail, and
    its trial is then run here. ``on_poll(view)`` is called each round with one read of
    the study's trials, e.g. to show progress and end dead workers' runs.

    A trial the deadline cut before its first epoch ended is queued to run again first
    (it trained nothing; counted, a short ``timeout`` could use up the article's defaults).
    A trial that raises ends FAIL (its reason recorded by the objective) and the study
    goes on; ``on_failure(trial)`` hears of it, and after ``max_failures`` in a row
    :class:`FailingTrials` is raised.
    """
    run = guarded(objective, budget.total)
    ended: list[FrozenTrial] = []
    in_a_row: list[FrozenTrial] = []  # the failed trials since the last that did not fail
    while not budget.expired():
        raise_pending()
        trials = look_after_dead_workers(study)
        finished, running = trials.finished, trials.running
        if on_poll is not None:
            on_poll(trials)
        if finished >= budget.total:
            return
        if finished + running >= budget.total:
            time.sleep(budget.wait_seconds())
            continue
        if not budget.allows(first_epoch()):
            return
        ended.clear()  # a trial taken over by another worker ends without a callback
        try:
            optimize_one(study, run, [lambda _, trial: ended.append(trial)])
        except USER_STOPS:  # raised as the trial was recorded: a cut one still runs again
            ignore_further()  # stopping: a second signal must not cut the queueing short
            with contextlib.suppress(Exception):  # the stop, not a store's error, ends it
                requeue_cut(study, ended)
            raise
        if requeue_cut(study, ended):
            continue
        last = ended[-1] if ended else None
        if last is None or last.state != TrialState.FAIL or given_up(last):
            in_a_row.clear()
            continue
        in_a_row.append(last)
        if on_failure is not None:
            on_failure(last)
        if len(in_a_row) >= max_failures:
            in_host = all(t.user_attrs.get(HOST_ERROR_ATTR) for t in in_a_row)
            raise FailingTrials(last, len(in_a_row), in_host)
