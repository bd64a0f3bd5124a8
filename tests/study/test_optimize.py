"""A command stopped outside a trial (before the first, in the ensemble, in the final plots)."""

import signal
from pathlib import Path
from typing import Any

import pytest
from helpers import TINY_RUN, mlflow_client

from ldnn_tune.errors import Interrupted
from ldnn_tune.testing.cli import run_main

STOPS = {
    # in the pre-flight checks, before the study is opened
    "in the pre-flight": ("ldnn_tune.health.preflight.preflight", lambda *a, **k: True),
    # right after the study's data line, before any trial
    "before the trials": ("ldnn_tune.study.optimize.make_budget", lambda *a, **k: True),
    # while the ensemble run logs its bundle
    "in the ensemble": ("ldnn_tune.ensembles.from_study._log_bundle", lambda *a, **k: True),
    # while the final report draws the study's plots (not when it logs the tables alone)
    "in the final plots": ("ldnn_tune.report.publish.refresh", lambda *a, **k: a[-1] is True),
}


@pytest.mark.parametrize("where", list(STOPS))
def test_a_ctrl_c_outside_a_trial_leaves_no_run_running(
    where: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    target, stops_here = STOPS[where]
    module, _, name = target.rpartition(".")
    original = getattr(__import__(module, fromlist=[name]), name)

    def stop_there(*args: Any, **kwargs: Any) -> Any:
        if stops_here(*args, **kwargs):
            raise Interrupted(signal.SIGINT)
        return original(*args, **kwargs)

    monkeypatch.setattr(target, stop_there)
    monkeypatch.chdir(tmp_path)
    check = "check=true" if where == "in the pre-flight" else "check=false"
    words = ["run", "task=image", check, *TINY_RUN]
    result = run_main(words, capsys)
    assert result.returncode == 130, result.stderr
    assert result.stderr.strip().startswith("interrupted (SIGINT)")
    if where == "in the pre-flight":
        assert "before any trial started; run the same command again to run" in result.stderr
        assert not (tmp_path / "mlflow.db").exists()
        return
    assert "continue the study" in result.stderr
    client = mlflow_client(tmp_path)
    experiment = client.get_experiment_by_name("image")
    assert experiment is not None
    runs = client.search_runs([experiment.experiment_id])
    statuses = {run.info.run_name: run.info.status for run in runs}
    assert "RUNNING" not in statuses.values(), statuses
    assert statuses["image"] == "KILLED"


def test_a_next_trial_that_cannot_fit_ends_the_study_with_the_timeout_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # the study's trials stop early when the next one could not reach its first epoch
    # before the deadline: the deadline itself is still ahead, but the user must hear why
    monkeypatch.setattr(
        "ldnn_tune.trial.objective.Objective.first_epoch_seconds", lambda self: 7200.0
    )
    monkeypatch.chdir(tmp_path)
    words = ["run", "task=image", "check=false", "trials=2", "epochs=2", "timeout=1h"]
    result = run_main(words, capsys)
    assert result.returncode == 1, result.stderr  # no trial at all: the same would recur
    out = " ".join(result.stdout.split())
    assert "timeout 1h leaves no time for a trial to reach its first epoch" in out
    assert "give a longer timeout" in result.stderr


def test_the_ensemble_hint_of_a_worker_names_its_stores() -> None:
    from ldnn_tune.config.settings import RunConfig
    from ldnn_tune.study.optimize import ensemble_command

    assert ensemble_command(RunConfig(task="image")) == "ldnn-tune ensemble study=image"
    shared = RunConfig(
        task="image", study="team", storage="postgresql://u:pw@db/s", mlflow="http://m:5000"
    )
    assert ensemble_command(shared) == (
        "ldnn-tune ensemble study=team 'storage=postgresql://u:***@db/s' mlflow=http://m:5000"
    )
