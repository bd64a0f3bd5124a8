"""Many workers on one study through the real storages: exact totals, crashes, retries."""

import itertools
import os
import signal
import subprocess
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import optuna
import pytest
from mlflow.tracking import MlflowClient

from ldnn_tune.config.resolve import resolve_run
from ldnn_tune.console.quiet import quiet_frameworks
from ldnn_tune.plugin.manager import Host, get_plugin_manager
from ldnn_tune.recipe.hparams import HParams
from ldnn_tune.study.recovery import DEAD_PROCESS, DEAD_WORKER
from ldnn_tune.study.storages import make_storage
from ldnn_tune.testing.cli import CLI
from ldnn_tune.tracking import trial_run_name
from ldnn_tune.trial.training import train_trial

TrialState = optuna.trial.TrialState
COMPLETE = (TrialState.COMPLETE,)
QUICK = ("task=image", "check=false", "ensemble=none", "timeout=4m")
# trials far longer than a test waits, so that both are still running when it stops the
# command (30 epochs finished one trial first on a fast CI machine: 1 FAIL, not 2): no
# health check to prune them, no LR floor that drawn knobs reach in 1,000 epochs
STILL_RUNNING = ("trials=20", "epochs=1000", "min_lr=1e-30", "health=false")


def start(cwd: Path, *words: str, base: tuple[str, ...] = QUICK) -> subprocess.Popen[str]:
    """Start ``ldnn-tune run`` with ``base`` and ``words`` in its own process group."""
    return subprocess.Popen(
        [CLI, "run", *base, *words],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        env={**os.environ, "COLUMNS": "200"},
    )


def finish(process: subprocess.Popen[str]) -> str:
    """Wait for ``process``; assert it succeeded; return its stdout."""
    out, err = process.communicate(timeout=300)
    assert process.returncode == 0, err
    assert "database is locked" not in out + err
    return out


def load(storage: str, name: str) -> optuna.Study:
    return optuna.load_study(study_name=name, storage=make_storage(storage))


def overlapping(trials: list[optuna.trial.FrozenTrial]) -> bool:
    spans = sorted((t.datetime_start, t.datetime_complete) for t in trials)
    return any(b[0] < a[1] for a, b in itertools.pairwise(spans))  # type: ignore[operator]


def assert_exact(study: optuna.Study, total: int) -> list[optuna.trial.FrozenTrial]:
    """Assert ``total`` finished trials with unique, gap-free numbers; return them."""
    trials = study.get_trials()
    assert [t.number for t in trials] == list(range(len(trials)))
    finished = [t for t in trials if t.state in (TrialState.COMPLETE, TrialState.PRUNED)]
    assert len(finished) == total, [(t.number, t.state, t.user_attrs) for t in trials]
    return finished


def mlflow_runs(cwd: Path, experiment: str) -> dict[str, object]:
    client = MlflowClient(tracking_uri=f"sqlite:///{cwd / 'mlflow.db'}")
    found = client.get_experiment_by_name(experiment)
    assert found is not None
    return {r.info.run_name: r for r in client.search_runs([found.experiment_id])}


@pytest.mark.slow
def test_two_workers_on_redis_share_one_study_exactly(redis_url: str, tmp_path: Path) -> None:
    name = f"two-{uuid.uuid4().hex[:8]}"
    words = (
        f"study={name}",
        f"storage={redis_url}",
        "trials=4",
        "epochs=4",
    )  # trials long enough to overlap
    workers = [start(tmp_path, *words) for _ in range(2)]
    for worker in workers:
        finish(worker)
    study = load(redis_url, name)
    finished = assert_exact(study, 4)
    assert overlapping(finished), "the two workers did not run trials at the same time"
    assert_one_parent_run(study, tmp_path)


@pytest.mark.slow
def test_two_workers_on_postgres_one_killed_mid_trial(postgres_url: str, tmp_path: Path) -> None:
    name = f"kill-{uuid.uuid4().hex[:8]}"
    words = (f"study={name}", f"storage={postgres_url}", "trials=5", "epochs=3", "heartbeat=1")
    survivor, victim = start(tmp_path, *words), start(tmp_path, *words)
    wait_for_running_trials(postgres_url, name, 2, survivor, victim)
    kill_group(victim)  # both workers had a trial running: the victim's dies with it
    done = {t.number: t.value for t in load(postgres_url, name).get_trials(states=COMPLETE)}
    finish(survivor)  # which fails the dead trial after 3 s without heartbeat and retries it
    study = load(postgres_url, name)
    failed = study.get_trials(states=(TrialState.FAIL,))
    assert len(failed) == 1
    assert_recovered(study, failed[0].number, tmp_path, 5)
    for number, value in done.items():  # nothing complete was lost or run again
        assert study.trials[number].value == value
    assert_one_parent_run(study, tmp_path)
    assert_trial_reproduces(study, epochs=3)


def assert_one_parent_run(study: optuna.Study, cwd: Path) -> None:
    """All trials' MLflow runs hang under the study's single parent run."""
    runs = mlflow_runs(cwd, study.study_name)
    parents = [r for r in runs.values() if r.data.tags.get("ldnn_tune.role") == "study"]  # type: ignore[attr-defined]
    assert len(parents) == 1
    parent_id = parents[0].info.run_id  # type: ignore[attr-defined]
    assert study.user_attrs["mlflow_parent_run_id"] == parent_id
    for trial in study.get_trials(states=COMPLETE):
        run = runs[trial_run_name(trial.number, "COMPLETE")]
        assert run.data.tags["mlflow.parentRunId"] == parent_id  # type: ignore[attr-defined]


def assert_trial_reproduces(study: optuna.Study, epochs: int) -> None:
    """Re-train the last complete trial alone, from its seed: the same validation loss."""
    quiet_frameworks()
    trial = [t for t in study.get_trials() if t.state == TrialState.COMPLETE][-1]
    plan = resolve_run(["task=image", f"epochs={epochs}"], Host(get_plugin_manager()))
    hp = HParams.for_task(plan.task, **trial.params)
    outcome = train_trial(plan.task, hp, trial.user_attrs["seed"], epochs, plan.config.min_lr)
    assert outcome.best_val_loss == pytest.approx(trial.value, rel=1e-4)


def wait_for_running_trials(
    url: str, name: str, count: int, *processes: subprocess.Popen[str]
) -> list[int]:
    """Return the numbers of ``count`` trials running at once, each begun by its worker."""
    deadline = time.monotonic() + 180
    storage = None
    while time.monotonic() < deadline:
        for process in processes:
            assert process.poll() is None, process.communicate()
        time.sleep(0.2)
        if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
            continue
        storage = storage or make_storage(url)
        try:
            study = optuna.load_study(study_name=name, storage=storage)
        except KeyError:  # not created yet
            continue
        # a worker names itself on its trial after recording the trial's MLflow run
        running = [
            t for t in study.get_trials(states=(TrialState.RUNNING,)) if "worker" in t.user_attrs
        ]
        if len(running) >= count:
            return [t.number for t in running]
    raise AssertionError(f"{count} trials never ran at once")


def assert_recovered(study: optuna.Study, killed: int, cwd: Path, total: int) -> None:
    """The killed trial failed, its retry finished, its MLflow run (if begun) is FAILED."""
    finished = assert_exact(study, total)
    dead = study.trials[killed]
    assert dead.state == TrialState.FAIL
    retries = [t for t in finished if t.system_attrs.get("failed_trial") == killed]
    assert len(retries) == 1 and retries[0].params == dead.params
    if "mlflow_run_id" not in dead.user_attrs:  # killed before its run was created
        return
    runs = {r.info.run_id: r for r in mlflow_runs(cwd, study.study_name).values()}  # type: ignore[attr-defined]
    run = runs[dead.user_attrs["mlflow_run_id"]]
    assert run.info.status == "FAILED"
    # as the trial says: heartbeats stopped, or (a worker of this machine) its process ended
    assert run.data.tags["ldnn_tune.reason"] == dead.user_attrs["reason"]
    assert dead.user_attrs["reason"] in (DEAD_WORKER, DEAD_PROCESS)


def kill_group(process: subprocess.Popen[str]) -> None:
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)


@pytest.mark.slow
def test_a_sqlite_study_of_two_local_workers_continues_after_a_crash(tmp_path: Path) -> None:
    storage = f"sqlite:///{tmp_path / 'ldnn_tune.db'}"
    first = start(tmp_path, "trials=4", "epochs=3", "heartbeat=1", "n_jobs=2")
    wait_for_running_trials(storage, "image", 1, first)
    kill_group(first)  # the parent and both worker processes, mid-trial
    out = finish(start(tmp_path, "trials=4", "epochs=3", "heartbeat=1"))
    assert "of 4 trials finished" in out
    study = load(storage, "image")
    failed = study.get_trials(states=(TrialState.FAIL,))
    assert any("mlflow_run_id" in t.user_attrs for t in failed)
    for trial in failed:
        assert_recovered(study, trial.number, tmp_path, 4)


@pytest.mark.slow
def test_ctrl_c_to_the_command_alone_stops_its_workers_and_leaves_nothing_running(
    tmp_path: Path,
) -> None:
    storage = f"sqlite:///{tmp_path / 'ldnn_tune.db'}"
    process = start(tmp_path, *STILL_RUNNING, "n_jobs=2")
    wait_for_running_trials(storage, "image", 2, process)
    os.kill(process.pid, signal.SIGINT)  # `kill -INT PID`: the workers get no signal of their own
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    study = load(storage, "image")
    states = [t.state for t in study.get_trials()]
    assert TrialState.RUNNING not in states
    assert states.count(TrialState.FAIL) == 2  # the two trials running at the stop
    assert all(
        t.user_attrs.get("reason") == "interrupted (SIGINT)"
        for t in study.get_trials(states=(TrialState.FAIL,))
    )
    statuses = {r.info.status for r in mlflow_runs(tmp_path, "image").values()}  # type: ignore[attr-defined]
    assert "RUNNING" not in statuses


@pytest.mark.slow
def test_a_ctrl_c_while_a_worker_starts_stops_it_before_any_trial(tmp_path: Path) -> None:
    storage = f"sqlite:///{tmp_path / 'ldnn_tune.db'}"
    process = start(tmp_path, *STILL_RUNNING, "n_jobs=2")
    wait_for_running_trials(storage, "image", 1, process)  # the command's; its worker imports
    stopped_at = datetime.now()
    os.killpg(process.pid, signal.SIGINT)  # a terminal's Ctrl-C: the command and its worker
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    # held back while it started, the Ctrl-C reached the worker: it began no trial after it
    # (ignored, it let the worker run trials until the command's grace of 10 s ran out)
    late = [
        t.number
        for t in load(storage, "image").get_trials()
        if t.datetime_start is not None and t.datetime_start > stopped_at + timedelta(seconds=2)
    ]
    assert not late, err


@pytest.mark.slow
def test_workers_of_a_command_killed_outright_stop_with_it(tmp_path: Path) -> None:
    storage = f"sqlite:///{tmp_path / 'ldnn_tune.db'}"
    process = start(tmp_path, *STILL_RUNNING, "n_jobs=2")
    running = wait_for_running_trials(storage, "image", 2, process)
    trials = load(storage, "image").get_trials()
    workers = [t.user_attrs["worker"] for t in trials if t.number in running]
    pids = {int(worker.split(":")[1]) for worker in workers}
    os.kill(process.pid, signal.SIGKILL)  # nothing it can pass on
    process.wait(timeout=30)
    deadline = time.monotonic() + 60
    while any(alive(pid) for pid in pids):
        assert time.monotonic() < deadline, "the workers went on without their command"
        time.sleep(0.5)
    failed = load(storage, "image").get_trials(states=(TrialState.FAIL,))
    assert {t.user_attrs.get("reason") for t in failed} == {"interrupted (SIGTERM)"}


def alive(pid: int) -> bool:
    """Return whether process ``pid`` still runs (a zombie counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def start_seeds(cwd: Path, *words: str) -> subprocess.Popen[str]:
    """Start ``ldnn-tune run`` of one search trial on the image task."""
    return start(cwd, *words, base=("task=image", "check=false", "trials=1"))


@pytest.mark.slow
def test_a_command_killed_in_its_retrains_is_continued_by_the_same_command(
    tmp_path: Path,
) -> None:
    storage = f"sqlite:///{tmp_path / 'ldnn_tune.db'}"
    finish(start_seeds(tmp_path, "epochs=2", "ensemble=none"))  # the search, no retrain
    retraining = start_seeds(tmp_path, *STILL_RUNNING[1:], "reseeds=1")  # the retrain alone
    wait_for_running_trials(storage, "image", 1, retraining)
    kill_group(retraining)
    # it found its retrain "still running in other workers" for good: no retrain, no ensemble
    out = finish(start_seeds(tmp_path, "epochs=2", "reseeds=1"))
    assert f"trial 1 FAIL {DEAD_PROCESS}" in out
    assert "nothing to run" not in out  # the dead retrain counted as made, before its line
    assert "ensemble saved in MLflow run" in out
    study = load(storage, "image")
    assert TrialState.RUNNING not in {t.state for t in study.get_trials()}
    retrains = study.get_trials(states=COMPLETE)[1:]
    assert [t.user_attrs.get("reseed_of") for t in retrains] == [0]
    statuses = {r.info.status for r in mlflow_runs(tmp_path, "image").values()}  # type: ignore[attr-defined]
    assert "RUNNING" not in statuses
