"""Runs a killed command left RUNNING are ended when the next command gets there."""

import socket
import subprocess
import sys
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from ldnn_tune.names import (
    ENSEMBLE_ROLE,
    PARENT_RUN_TAG,
    REASON_ATTR,
    REASON_TAG,
    ROLE_TAG,
    TRIAL_RUN_ATTR,
    WORKER_ATTR,
    WORKER_TAG,
)
from ldnn_tune.study import recovery
from ldnn_tune.study.recovery import (
    ABANDONED_ENSEMBLE,
    DEAD_PROCESS,
    ORPHANED,
    OrphanRunSweeper,
    end_abandoned_ensembles,
    fail_dead_trials,
    this_worker,
)
from ldnn_tune.tracking import StudyTracker


def gone_worker() -> str:
    """Return ``host:pid:start`` of a process of this machine that has ended."""
    child = subprocess.run(
        [sys.executable, "-c", "from ldnn_tune.study.recovery import this_worker as w; print(w())"],
        capture_output=True,
        text=True,
        check=True,
    )
    return child.stdout.strip()


def image_study_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[StudyTracker, str]:
    """Return an MLflow store in ``tmp_path`` (the working directory) and its study's run."""
    monkeypatch.chdir(tmp_path)
    tracker = StudyTracker("sqlite:///mlflow.db", "image")
    return tracker, tracker.open_parent_run(None, "image", {"task": "image"})


def test_an_ensemble_run_of_a_killed_command_is_ended_failed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tracker, parent = image_study_runs(tmp_path, monkeypatch)

    def ensemble_run(worker: str) -> str:
        tags = {PARENT_RUN_TAG: parent, ROLE_TAG: ENSEMBLE_ROLE, WORKER_TAG: worker}
        return tracker.start_child_run(parent, "ensemble-seeds", tags)

    killed, alive = ensemble_run(gone_worker()), ensemble_run(this_worker())
    elsewhere = ensemble_run(f"{socket.gethostname()}-other:1:1")  # another machine's
    assert end_abandoned_ensembles(tracker, parent) == 1
    ended = tracker.client.get_run(killed)
    assert ended.info.status == "FAILED"
    assert ended.data.tags[REASON_TAG] == ABANDONED_ENSEMBLE
    for run in (alive, elsewhere):
        assert tracker.client.get_run(run).info.status == "RUNNING"


def test_a_trial_whose_process_died_here_is_failed_saying_why(tmp_path: Path) -> None:
    study = optuna.create_study(storage=f"sqlite:///{tmp_path / 's.db'}")
    trial = study.ask()
    trial.set_user_attr(WORKER_ATTR, gone_worker())
    assert fail_dead_trials(study, study.trials) == 1
    (dead,) = study.trials
    assert dead.state == TrialState.FAIL and dead.user_attrs[REASON_ATTR] == DEAD_PROCESS


def test_a_retry_just_taken_is_not_failed_for_the_dead_worker_name_it_inherited(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(recovery, "_seen_orphans", set())  # trial ids of this study's
    storage = optuna.storages.RDBStorage(
        f"sqlite:///{tmp_path / 's.db'}",
        heartbeat_interval=60,
        failed_trial_callback=optuna.storages.RetryFailedTrialCallback(max_retry=1),
    )
    study = optuna.create_study(storage=storage)
    study.ask().set_user_attr(WORKER_ATTR, gone_worker())
    assert fail_dead_trials(study, study.trials) == 1  # and queued again, the name copied
    retry = study.ask()  # taken by a live worker, which has not named itself yet
    assert retry.user_attrs[WORKER_ATTR] == study.trials[0].user_attrs[WORKER_ATTR]
    assert fail_dead_trials(study, study.trials) == 0
    assert study.trials[1].state == TrialState.RUNNING
    retry.set_user_attr(WORKER_ATTR, gone_worker())  # its own worker, dead in turn
    assert fail_dead_trials(study, study.trials) == 1


def test_a_trial_other_code_left_running_is_failed_once_it_is_old(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    study = optuna.create_study(storage=f"sqlite:///{tmp_path / 's.db'}")
    study.ask()  # a hand-written study.ask(), never told
    assert fail_dead_trials(study, study.trials) == 0  # just asked: a worker's, maybe
    monkeypatch.setattr(recovery, "ORPHAN_SECONDS", -1)  # as if asked long ago
    assert fail_dead_trials(study, study.trials) == 1  # seen without a worker twice
    study.ask()  # its start time alone (another machine's clock) is not enough: two looks
    assert fail_dead_trials(study, study.trials) == 0
    assert fail_dead_trials(study, study.trials) == 1
    orphan = study.trials[0]
    assert orphan.state == TrialState.FAIL and orphan.user_attrs[REASON_ATTR] == ORPHANED


def test_a_process_of_another_machine_with_this_host_name_is_not_judged_dead() -> None:
    # cloned VMs, or containers sharing the host's network: the same host name, other
    # process ids; a worker there is alive though no process here has its pid
    gone = gone_worker()
    host, pid, start, machine = gone.split(":")
    assert machine and recovery.dead_here(gone)  # this machine's: its process is gone
    assert not recovery.dead_here(f"{host}:{pid}:{start}:0badb00t.4026531836")
    assert recovery.dead_here(f"{host}:{pid}:{start}")  # an older ldnn-tune's name


def test_the_mlflow_run_of_a_dead_process_s_trial_says_what_its_trial_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tracker, parent = image_study_runs(tmp_path, monkeypatch)
    study = optuna.create_study(storage=f"sqlite:///{tmp_path / 's.db'}")
    trial = study.ask()
    trial.set_user_attr(WORKER_ATTR, gone_worker())
    trial.set_user_attr(TRIAL_RUN_ATTR, tracker.start_trial_run(parent, 0, {}))
    fail_dead_trials(study, study.trials)
    assert OrphanRunSweeper(tracker).sweep(study.trials) == 1
    run = tracker.client.get_run(study.trials[0].user_attrs[TRIAL_RUN_ATTR])
    assert run.info.status == "FAILED"
    assert run.data.tags[REASON_TAG] == DEAD_PROCESS  # not "stopped sending heartbeats"
