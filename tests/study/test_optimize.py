"""A command stopped outside a trial (before the first, in the ensemble, in the final plots)."""

import signal
from pathlib import Path
from typing import Any

import pytest
from helpers import TINY_RUN, mlflow_client

from ldnn_tune.errors import Interrupted
from ldnn_tune.testing.cli import run_main

STOPS = {
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
    words = ["run", "task=image", "check=false", *TINY_RUN]
    result = run_main(words, capsys)
    assert result.returncode == 130, result.stderr
    assert result.stderr.strip().startswith("interrupted (SIGINT)")
    client = mlflow_client(tmp_path)
    experiment = client.get_experiment_by_name("image")
    assert experiment is not None
    runs = client.search_runs([experiment.experiment_id])
    statuses = {run.info.run_name: run.info.status for run in runs}
    assert "RUNNING" not in statuses.values(), statuses
    assert statuses["image"] == "KILLED"
