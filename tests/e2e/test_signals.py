"""Ctrl-C, SIGTERM and SIGHUP sent to a real `ldnn-tune run` in the middle of an epoch."""

import os
import signal
import subprocess
import time
from pathlib import Path

import optuna
import pytest
from helpers import load_study, mlflow_client

from ldnn_tune.testing.cli import CLI, run_main
from ldnn_tune.tracking import trial_run_name

LONG = (
    "run",
    "task=image",
    "trials=5",
    "epochs=100",
    "min_lr=1e-12",
    "health=false",
    "check=false",
)


def started_epochs(cwd: Path) -> int:
    """Return how many epochs the study's running trial has reported (0 if none yet)."""
    try:
        study = load_study(cwd)
        running = study.get_trials(states=(optuna.trial.TrialState.RUNNING,))
    except Exception:  # the study is not created yet
        return 0
    return len(running[0].intermediate_values) if running else 0


@pytest.mark.slow
@pytest.mark.parametrize(
    ("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143), (signal.SIGHUP, 129)]
)
def test_a_signal_mid_epoch_fails_the_trial_ends_the_runs_and_exits_with_its_code(
    tmp_path: Path,
    signum: int,
    code: int,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    process = subprocess.Popen(
        [CLI, *LONG],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # the signal goes to ldnn-tune alone, not to pytest
    )
    deadline = time.monotonic() + 120
    while started_epochs(tmp_path) < 2:
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "no trial started its epochs"
        time.sleep(0.2)
    os.kill(process.pid, signum)
    _, stderr = process.communicate(timeout=60)

    assert process.returncode == code, stderr
    name = signal.Signals(signum).name
    assert stderr.strip().splitlines() == [
        f"interrupted ({name}): trial 0 marked FAIL; run the same command again to continue "
        "(trial 0's knobs run again first)"
    ]
    trial, retry = load_study(tmp_path).trials
    assert trial.state == optuna.trial.TrialState.FAIL
    assert trial.user_attrs["reason"] == f"interrupted ({name})"
    assert retry.state == optuna.trial.TrialState.WAITING  # the same knobs, queued
    assert retry.system_attrs["fixed_params"] == trial.params
    client = mlflow_client(tmp_path)
    experiment = client.get_experiment_by_name("image")
    assert experiment is not None
    runs = {r.info.run_name: r for r in client.search_runs([experiment.experiment_id])}
    failed = runs[trial_run_name(0, "FAIL")]
    assert failed.info.status == "KILLED"
    assert failed.data.tags["optuna.state"] == "FAIL"
    assert runs["image"].info.status == "KILLED"

    monkeypatch.chdir(tmp_path)  # continued in this process: the start-up was paid above
    stores = (
        f"storage=sqlite:///{tmp_path}/ldnn_tune.db",
        f"mlflow=sqlite:///{tmp_path}/mlflow.db",
    )
    again = run_main(["run", "task=image", "trials=1", "epochs=1", "reseeds=0", *stores], capsys)
    assert again.returncode == 0, again.stderr
    stopped, rerun = load_study(tmp_path).trials
    assert stopped.state == optuna.trial.TrialState.FAIL
    assert rerun.state == optuna.trial.TrialState.COMPLETE
    assert rerun.params == stopped.params  # the article's defaults, trained after all
    assert "reason" not in rerun.user_attrs
