"""`ldnn-tune dashboard` serves optuna-dashboard, through the real console script."""

import json
import os
import signal
import subprocess
from pathlib import Path

import optuna
import pytest
from helpers import ctrl_c, free_port, port_is_free, wait_for_page

from ldnn_tune.testing.cli import CLI

pytest.importorskip("optuna_dashboard")


@pytest.mark.slow
def test_dashboard_serves_the_study_quietly_and_ctrl_c_stops_it(tmp_path: Path) -> None:
    storage = f"sqlite:///{tmp_path / 'ldnn_tune.db'}"
    study = optuna.create_study(study_name="toy", storage=storage)
    study.optimize(lambda trial: trial.suggest_float("lr", 1e-3, 1.0), n_trials=2)
    port = free_port()
    server = subprocess.Popen(
        [CLI, "dashboard", "study=toy", f"port={port}"],
        cwd=tmp_path,
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "DISPLAY": ""},  # no browser
    )
    try:
        studies = json.loads(wait_for_page(f"http://127.0.0.1:{port}/api/studies", server))
        assert [s["study_name"] for s in studies["study_summaries"]] == ["toy"]
        code, out = ctrl_c(server)
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
    assert code == 130, out
    lines = out.splitlines()
    assert lines[0].startswith(
        f"optuna-dashboard for sqlite:///ldnn_tune.db: http://127.0.0.1:{port}/"
    )
    assert lines[1:] == ["interrupted (SIGINT)"]  # no banner, no line for each request
    assert port_is_free(port)
