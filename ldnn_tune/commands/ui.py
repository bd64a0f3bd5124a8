"""``ldnn-tune ui``: the MLflow UI on the tracking store, opened on the study's runs table.

It binds 127.0.0.1 unless ``host=`` says otherwise (the UI has no authentication), tags
each study's experiment so its runs table shows the tuner's columns, prints the URL that
opens it, and opens a browser when there is a desktop.
"""

import os
import signal
import subprocess
from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich.console import Console

from ldnn_tune.config.settings import UiConfig, check_free, exposure_warning
from ldnn_tune.config.stores import check_mlflow
from ldnn_tune.config.words import parse_words
from ldnn_tune.console.browser import base_url, has_desktop, open_when_up
from ldnn_tune.errors import UsageError, choices_text
from ldnn_tune.parent_death import launcher
from ldnn_tune.urls import redact

if TYPE_CHECKING:
    from mlflow.entities import Experiment
    from mlflow.tracking import MlflowClient


DEFAULT_EXPERIMENT = "Default"  # MLflow's own, empty unless something logged to it
STOP_SECONDS = 10.0  # how long the server gets to exit before it is killed
# MLflow's background job runner (huey workers for GenAI scorers) is of no use to a tuning
# study, costs two processes and prints tracebacks when interrupted while starting. Its
# libraries' deprecation warnings (Starlette's WSGI middleware, a UserWarning) are for
# MLflow's authors.
SERVER_ENVIRONMENT = {
    "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
    "PYTHONWARNINGS": "ignore::DeprecationWarning,ignore:starlette.middleware.wsgi is deprecated",
}


def main(words: Sequence[str], console: Console) -> int:
    """Serve the MLflow UI for the tracking store until interrupted."""
    config = parse_words(UiConfig, words)
    if config.mlflow.startswith(("http://", "https://")):
        raise UsageError(
            f"mlflow={redact(config.mlflow)} is a server already: open it in a browser"
        )
    check_mlflow(config.mlflow, read_only=True)
    check_free(config.host, config.port)
    from ldnn_tune.tracking import mlflow_client  # a moved study folder: its own mlruns/

    base = base_url(config.host, config.port)
    client = mlflow_client(config.mlflow)
    url = landing_url(client, config.study, base, console)
    warning = exposure_warning(config.host, "the MLflow UI", "read and change every run")
    if warning:
        console.print(warning, markup=False, soft_wrap=True)
    console.print(
        f"MLflow UI for {redact(config.mlflow)}: {url} (Ctrl-C stops)", markup=False, soft_wrap=True
    )
    if config.browser and has_desktop():
        open_when_up(url, base)
    return serve(server_command(config))


def server_command(config: UiConfig) -> list[str]:
    """Return the ``mlflow ui`` command line for ``config``."""
    # always given: without it MLflow prints advice in its own option names
    # ("use --host 0.0.0.0 and configure --allowed-hosts"), not ldnn-tune's
    allowed = ["--allowed-hosts", allowed_hosts(config.allowed_hosts)]
    return launcher(  # the server ends with this command, even one killed outright
        "mlflow",
        "ui",
        "--backend-store-uri",
        config.mlflow,
        "--registry-store-uri",  # MLflow's default, said aloud when not given
        config.mlflow,
        "--host",
        config.host,
        "--port",
        str(config.port),
        "--workers",
        "1",
        "--uvicorn-opts",
        "--log-level warning",
        *allowed,
    )


def allowed_hosts(extra: str | None) -> str:
    """Return MLflow's ``--allowed-hosts``: its default (localhost, private IPs) and ``extra``.

    MLflow's option replaces its default list: given alone, the names would lock out the
    browser on this machine.
    """
    from mlflow.server.security_utils import get_default_allowed_hosts

    return ",".join([*get_default_allowed_hosts(), *([extra] if extra else [])])


def serve(command: Sequence[str]) -> int:
    """Run the server ``command`` until it exits or this process is stopped; return its code.

    The server runs in its own session, so the terminal's Ctrl-C reaches only this
    process, which then stops the server's whole process group with SIGTERM (and
    SIGKILL after :data:`STOP_SECONDS`): one line for the user, no tracebacks from
    the server's children, and no server left holding the port.
    """
    env = {**SERVER_ENVIRONMENT, **os.environ}
    server = subprocess.Popen(command, env=env, start_new_session=True)
    try:
        return server.wait()
    finally:
        stop_group(server)


def stop_group(process: "subprocess.Popen[bytes]") -> None:
    """End ``process`` and every process of its group: SIGTERM, then SIGKILL if it lingers."""
    for signum in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, signum)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=STOP_SECONDS)
            return
        except subprocess.TimeoutExpired:
            continue


def studies(client: "MlflowClient") -> list["Experiment"]:
    """Return the store's active experiments, less MLflow's empty ``Default``."""
    from mlflow.entities import ViewType

    found = client.search_experiments(view_type=ViewType.ACTIVE_ONLY)
    return [e for e in found if e.name != DEFAULT_EXPERIMENT or has_runs(client, e)]


def has_runs(client: "MlflowClient", experiment: "Experiment") -> bool:
    """Return whether ``experiment`` holds any run."""
    return bool(client.search_runs([experiment.experiment_id], max_results=1))


def landing_url(client: "MlflowClient", study: str | None, base: str, console: Console) -> str:
    """Return the URL to open: ``study``'s runs table, the only study's, or the list.

    Every study's experiment is tagged for the tuner's view; with several and no
    ``study=``, each one's URL is printed.
    """
    from ldnn_tune.report.view import prepare_view, runs_url

    found = studies(client)
    if study is not None:
        chosen = [e for e in found if e.name == study]
        if not chosen:
            names = choices_text(e.name for e in found) or "none"
            raise UsageError(f"unknown study {study!r} in the MLflow store; studies: {names}")
        found = chosen
    for experiment in found:
        prepare_view(client, experiment.experiment_id)
    if len(found) == 1:
        return runs_url(base, found[0].experiment_id)
    for experiment in found:
        url = runs_url(base, experiment.experiment_id)
        console.print(f"  study {experiment.name}: {url}", markup=False, soft_wrap=True)
    if not found:
        console.print("no study in this store yet: run one with ldnn-tune run task=NAME")
    return f"{base}/#/experiments?workflowType=machine_learning"
