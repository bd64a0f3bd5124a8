"""`ldnn-tune ui` serves the MLflow UI, through the real console script."""

import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from ldnn_tune.testing.cli import CLI


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
def test_ui_serves_the_mlflow_ui_on_localhost(tmp_path: Path) -> None:
    MlflowClient(f"sqlite:///{tmp_path / 'mlflow.db'}").search_experiments()  # the store
    port = free_port()
    server = subprocess.Popen(
        [CLI, "ui", f"port={port}"],
        cwd=tmp_path,
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as page:
                    assert page.status == 200
                    assert "mlflow" in page.read().decode().lower()
                    break
            except OSError:
                assert server.poll() is None, server.stdout.read() if server.stdout else ""
                assert time.monotonic() < deadline, "MLflow UI did not come up"
                time.sleep(1)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
