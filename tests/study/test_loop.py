"""The trial loop: a trial the deadline cut before its first epoch ended runs again first."""

import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

import optuna
import pytest
from optuna.trial import FrozenTrial, TrialState

from ldnn_tune.errors import Interrupted
from ldnn_tune.interrupts import ignore_further, interruptible, stops_in_place
from ldnn_tune.names import DEADLINE_CUT, HOST_ERROR_ATTR, REASON_ATTR
from ldnn_tune.study.loop import (
    Budget,
    FailingTrials,
    carrying_stops,
    optimize_one,
    requeue_cut,
    work,
)
from ldnn_tune.study.queries import interrupted_since


def test_a_trial_cut_before_its_first_epoch_is_not_counted_and_runs_first_next_time(
    tmp_path: Path,
) -> None:
    study = optuna.create_study(storage=f"sqlite:///{tmp_path / 'study.db'}")
    study.enqueue_trial({"x": 0.25})  # the article's defaults, in a real study
    deadline = time.time() + 1.0

    def objective(trial: optuna.Trial) -> float:
        x = trial.suggest_float("x", 0, 1)
        if trial.number == 0:  # as the objective ends one the timeout cut
            time.sleep(max(0.0, deadline - time.time()))
            trial.set_user_attr(REASON_ATTR, f"{DEADLINE_CUT} timeout during epoch 1, ...")
            raise RuntimeError("cut")
        return x

    failures: list[FrozenTrial] = []
    work(study, objective, Budget(total=2, deadline=deadline), on_failure=failures.append)
    assert [(t.state, t.params.get("x")) for t in study.trials] == [
        (TrialState.FAIL, 0.25),
        (TrialState.WAITING, None),
    ]
    assert not failures  # not a failure of the task's: nothing to point the user at

    work(study, objective, Budget(total=2))  # the same command again
    again = study.trials[1]
    assert again.state == TrialState.COMPLETE and again.params == {"x": 0.25}
    assert sum(t.state == TrialState.COMPLETE for t in study.trials) == 2


def test_the_trials_a_stop_failed_are_found_among_those_that_had_not_ended(
    tmp_path: Path,
) -> None:
    study = optuna.create_study(storage=f"sqlite:///{tmp_path / 'study.db'}")
    for reason in ("interrupted (SIGINT)", "interrupted (SIGINT)", "ValueError: x"):
        trial = study.ask()
        trial.set_user_attr(REASON_ATTR, reason)
        study.tell(trial, state=TrialState.FAIL)
    assert interrupted_since(study, ended={0}) == [1]


def test_a_worker_waiting_on_others_trials_waits_until_the_deadline(tmp_path: Path) -> None:
    # another worker runs the study's last trial: this one waits for it, though a trial of
    # its own would not fit; that trial may fail, and then this worker runs its own
    study = optuna.create_study(storage=f"sqlite:///{tmp_path / 'study.db'}")
    others = study.ask()
    others.set_user_attr("worker", "elsewhere:1:1")
    ran: list[int] = []

    def objective(trial: optuna.Trial) -> float:
        ran.append(trial.number)
        return 0.0

    started = time.time()
    budget = Budget(total=1, deadline=started + 2.0, poll_seconds=0.5)
    work(study, objective, budget, first_epoch=lambda: 100.0)
    assert time.time() - started >= 1.9 and not ran  # waited, and started nothing
    study.tell(others, state=TrialState.FAIL)  # the other worker's trial failed
    work(study, objective, Budget(total=1, deadline=time.time() + 5.0))
    assert ran == [1]


def test_three_failures_are_ldnn_tune_s_only_when_each_of_them_was(tmp_path: Path) -> None:
    study = optuna.create_study(storage=f"sqlite:///{tmp_path / 'study.db'}")

    def objective(trial: optuna.Trial) -> float:
        if trial.number >= 2:  # the task's first two failures, then one in ldnn-tune's code
            trial.set_user_attr(HOST_ERROR_ATTR, True)
        raise RuntimeError("boom")

    with pytest.raises(FailingTrials) as error:
        work(study, objective, Budget(total=10), max_failures=3)
    assert not error.value.in_host
    with pytest.raises(FailingTrials) as again:  # three of ldnn-tune's in a row
        work(study, objective, Budget(total=10), max_failures=3)
    assert again.value.in_host
    assert str(again.value).startswith("its own code, not the task's, failed 3 trials in a row")


def ctrl_c() -> None:
    """Send this process SIGINT and let its handler run."""
    os.kill(os.getpid(), signal.SIGINT)
    time.sleep(0.05)


class CtrlCAfterCreating(optuna.storages.InMemoryStorage):
    """A storage during whose work (inside Optuna's ask, the trial created) Ctrl-C lands."""

    def create_new_trial(self, study_id, template_trial=None):  # type: ignore[no-untyped-def]
        trial_id = super().create_new_trial(study_id, template_trial)
        ctrl_c()
        return trial_id


def stopped_states(
    study: optuna.Study, objective: Callable[[optuna.Trial], float]
) -> list[TrialState]:
    """Run one trial of ``objective``, stopped by a Ctrl-C; return the trials' states."""
    with interruptible():
        with pytest.raises(Interrupted):
            optimize_one(study, carrying_stops(objective))
        ignore_further()  # handled: inside, so that the handlers are restored after
    return [t.state for t in study.trials]


def test_a_ctrl_c_while_optuna_creates_the_trial_fails_it_not_leaves_it_running() -> None:
    study = optuna.create_study(storage=CtrlCAfterCreating())

    def objective(trial: optuna.Trial) -> float:
        with stops_in_place():  # the training, where the stop is raised
            return trial.suggest_float("x", 0, 1)

    assert stopped_states(study, objective) == [TrialState.FAIL]


def test_a_ctrl_c_after_the_training_lets_the_trial_finish_then_stops() -> None:
    study = optuna.create_study()

    def objective(trial: optuna.Trial) -> float:
        with stops_in_place():
            value = trial.suggest_float("x", 0, 1)
        ctrl_c()  # lands in the trial's bookkeeping, its training done
        return value

    assert stopped_states(study, objective) == [TrialState.COMPLETE]


def test_only_a_trial_the_deadline_cut_is_queued_again() -> None:
    study = optuna.create_study()
    study.enqueue_trial({"x": 0.5})
    cut = study.ask()
    cut.suggest_float("x", 0, 1)
    cut.set_user_attr(REASON_ATTR, f"{DEADLINE_CUT} before its first epoch ended")
    study.tell(cut, state=TrialState.FAIL)
    failed = study.ask()
    failed.set_user_attr(REASON_ATTR, "a bug")
    study.tell(failed, state=TrialState.FAIL)
    assert requeue_cut(study, [study.trials[0]])
    assert not requeue_cut(study, [study.trials[1]]) and not requeue_cut(study, [])
    waiting = study.get_trials(states=(TrialState.WAITING,))
    assert [t.system_attrs["fixed_params"] for t in waiting] == [{"x": 0.5}]
