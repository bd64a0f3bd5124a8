"""Helpers the host's tests share (fixtures live in conftest.py).

The real PostgreSQL and Redis servers the storage tests use: absent servers skip their
tests, unless LDNN_TUNE_REQUIRE_SERVICES=1 (as in CI): then they fail.
"""

import os
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess

import optuna
import pytest
from mlflow.tracking import MlflowClient

from ldnn_tune import hookimpl
from ldnn_tune.testing import BoringTask

PG_HOST = os.environ.get("LDNN_TUNE_PG", "postgresql://postgres@127.0.0.1:5432")
REDIS_HOST = os.environ.get("LDNN_TUNE_REDIS", "redis://127.0.0.1:6379")
Cli = Callable[..., CompletedProcess[str]]  # the `cli` fixture: run the real command
TINY_RUN = ("trials=2", "epochs=2", "timeout=5m", "reseeds=0")  # a study in seconds


def unavailable(service: str, error: BaseException) -> None:
    """Skip the test, or fail it when services are required."""
    first = (str(error).strip().splitlines() or [""])[0]
    reason = f"{service} is not reachable ({type(error).__name__}: {first}); start it"
    if os.environ.get("LDNN_TUNE_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{reason} (LDNN_TUNE_REQUIRE_SERVICES=1)")
    pytest.skip(reason)


def load_study(cwd: Path, name: str = "image") -> optuna.Study:
    """Return study ``name`` from the default SQLite storage in ``cwd``."""
    return optuna.load_study(study_name=name, storage=f"sqlite:///{cwd / 'ldnn_tune.db'}")


def mlflow_client(cwd: Path) -> MlflowClient:
    """Return a client of the default MLflow store in ``cwd``."""
    return MlflowClient(tracking_uri=f"sqlite:///{cwd / 'mlflow.db'}")


class BoringPlugin:
    """A plugin that adds the boring test task, for studies run in the test's process."""

    @hookimpl
    def ldnn_tune_tasks(self) -> list[type[BoringTask]]:
        """Return the boring task."""
        return [BoringTask]


def run_study_here(tmp_path: Path, plugin: object, *words: str) -> optuna.Study:
    """Run ``ldnn-tune run WORDS`` in this process with ``plugin``'s tasks; return the study.

    The caller has made ``tmp_path`` the working directory (``monkeypatch.chdir``).
    """
    from rich.console import Console

    from ldnn_tune.config.resolve import resolve_run
    from ldnn_tune.plugin.manager import Host, get_plugin_manager
    from ldnn_tune.study.optimize import run_study

    host = Host(get_plugin_manager(extra_plugins=(plugin,)))
    # absolute store paths: MLflow caches a store per URI for the whole test process
    stores = [
        f"storage=sqlite:///{tmp_path}/ldnn_tune.db",
        f"mlflow=sqlite:///{tmp_path}/mlflow.db",
    ]
    epochs = [] if any(w.startswith("epochs=") for w in words) else ["epochs=2"]
    return run_study(resolve_run([*epochs, *stores, *words], host), host, Console(quiet=True))


def free_port() -> int:
    """Return a port of 127.0.0.1 that nothing listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_is_free(port: int) -> bool:
    """Return whether nothing answers on ``port`` of 127.0.0.1."""
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def ctrl_c(server: "subprocess.Popen[str]") -> tuple[int, str]:
    """Send SIGINT to a server's process group, as a terminal's Ctrl-C; return code and output."""
    os.killpg(server.pid, signal.SIGINT)
    out, _ = server.communicate(timeout=60)
    return server.returncode, out


def wait_for_page(url: str, server: "subprocess.Popen[str]", seconds: float = 90) -> str:
    """Return the page at ``url`` once ``server`` answers 200 with it; fail if it exits."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as page:
                assert page.status == 200
                return str(page.read().decode())
        except OSError:
            assert server.poll() is None, server.stdout.read() if server.stdout else ""
            assert time.monotonic() < deadline, f"{url} did not come up"
            time.sleep(1)


def running_trial(cwd: Path) -> bool:
    """Return whether the study in ``cwd``'s default storage has a trial running now."""
    try:
        return bool(load_study(cwd).get_trials(states=(optuna.trial.TrialState.RUNNING,)))
    except Exception:  # not created yet
        return False
