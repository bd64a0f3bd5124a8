"""A study deleted from its storage while a command runs it: one line, no run left RUNNING."""

import subprocess
import time
from pathlib import Path

import optuna
import pytest
from helpers import mlflow_client, running_trial

from ldnn_tune.testing.cli import CLI


@pytest.mark.slow
def test_a_study_deleted_while_it_runs_ends_its_runs_and_says_so(tmp_path: Path) -> None:
    words = [CLI, "run", "task=image", "trials=20", "epochs=40", "min_lr=1e-12", "check=false"]
    process = subprocess.Popen(words, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 180
    while not running_trial(tmp_path):
        assert process.poll() is None and time.monotonic() < deadline
        time.sleep(0.2)
    optuna.delete_study(study_name="image", storage=f"sqlite:///{tmp_path / 'ldnn_tune.db'}")
    stdout, stderr = process.communicate(timeout=180)
    lines = stderr.decode().strip().splitlines()
    assert process.returncode == 1
    assert lines[-1].startswith("error: the study is gone from its storage"), lines
    assert "warning:" not in stdout.decode()  # stdout is the study's log: warnings go to stderr
    client = mlflow_client(tmp_path)
    experiment = client.get_experiment_by_name("image")
    assert experiment is not None
    runs = client.search_runs([experiment.experiment_id])
    statuses = {str(r.info.run_name): r.info.status for r in runs}
    assert statuses and "RUNNING" not in statuses.values(), statuses  # the parent, the trial
