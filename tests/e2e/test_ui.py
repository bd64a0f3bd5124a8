"""`ldnn-tune ui` serves the MLflow UI, through the real console script."""

import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from helpers import TINY_RUN, ctrl_c, free_port, port_is_free, wait_for_page
from mlflow.tracking import MlflowClient

from ldnn_tune.commands.ui import server_command
from ldnn_tune.config.settings import UiConfig
from ldnn_tune.names import EXPERIMENT_KIND_TAG, SHARED_VIEW_TAG, TOP_KNOBS_TAG
from ldnn_tune.testing.cli import CLI, assert_usage_error, run_cli, run_main


@contextmanager
def ui_process(folder: Path, port: int, *words: str) -> Iterator["subprocess.Popen[str]"]:
    """Run `ldnn-tune ui` on ``port`` in ``folder`` as a terminal's foreground group.

    Whatever the test leaves running is killed at the end.
    """
    MlflowClient(f"sqlite:///{folder / 'mlflow.db'}").search_experiments()  # the store
    server = subprocess.Popen(
        [CLI, "ui", f"port={port}", *words],
        cwd=folder,
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        yield server
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)


def status_for_host(port: int, host: str) -> int:
    """Return the HTTP status of the UI's page asked for with ``Host: host``."""
    request = urllib.request.Request(f"http://127.0.0.1:{port}/", headers={"Host": host})
    try:
        with urllib.request.urlopen(request, timeout=5) as page:
            return int(page.status)
    except urllib.error.HTTPError as error:
        return error.code


@pytest.mark.slow
def test_ui_serves_the_mlflow_ui_and_ctrl_c_stops_it_in_one_line(tmp_path: Path) -> None:
    port = free_port()
    with ui_process(tmp_path, port, "allowed_hosts=ui.example.com") as server:
        assert "mlflow" in wait_for_page(f"http://127.0.0.1:{port}/", server).lower()
        # a name given by allowed_hosts is answered; any other public name is refused
        assert status_for_host(port, "ui.example.com") == 200
        assert status_for_host(port, "evil.example.com") == 403
        code, out = ctrl_c(server)
    assert code == 130, out
    for noise in ("Traceback", "INFO", "Warning", "Registry store URI"):
        assert noise not in out, out
    assert out.splitlines()[-1] == "interrupted (SIGINT): the MLflow UI stopped"
    assert port_is_free(port)


@pytest.mark.slow
def test_the_server_ends_with_a_ui_command_killed_outright(tmp_path: Path) -> None:
    port = free_port()
    with ui_process(tmp_path, port) as server:
        wait_for_page(f"http://127.0.0.1:{port}/", server)
        server.kill()  # SIGKILL to the command alone: it cannot stop the server itself
        server.wait(timeout=10)
        deadline = time.monotonic() + 30
        while not port_is_free(port) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert port_is_free(port)


@pytest.mark.slow
def test_a_study_tracked_on_a_server_is_browsed_there(tmp_path: Path) -> None:
    port = free_port()
    server_url = f"http://127.0.0.1:{port}"
    (tmp_path / "server").mkdir()
    with ui_process(tmp_path / "server", port, "browser=false") as server:
        wait_for_page(f"{server_url}/", server)
        words = ["task=image", "study=srv", f"mlflow={server_url}", *TINY_RUN]
        result = run_cli(tmp_path, "run", *words)
        ctrl_c(server)
    assert result.returncode == 0, result.stderr
    store = MlflowClient(f"sqlite:///{tmp_path / 'server' / 'mlflow.db'}")
    experiment = store.get_experiment_by_name("srv")
    runs = f"{server_url}/#/experiments/{experiment.experiment_id}/runs"
    # its runs' URL, not `ldnn-tune ui mlflow=http://...`, which refuses a server
    browse = f"in the MLflow UI: {runs}?workflowType=machine_learning&viewStateShareKey=ldnn-tune"
    assert browse in result.stdout
    assert json.loads(experiment.tags[f"{SHARED_VIEW_TAG}ldnn-tune"])["selectedColumns"]
    assert "predict with: ldnn-tune predict model=" in result.stdout
    assert f" mlflow={server_url} input=FILE" in result.stdout
    assert "View run" not in result.stdout  # MLflow's own line after every run's end


@pytest.mark.slow
def test_ctrl_c_while_the_ui_starts_prints_no_traceback(tmp_path: Path) -> None:
    port = free_port()
    with ui_process(tmp_path, port) as server:
        assert server.stdout is not None
        while "Ctrl-C stops" not in server.stdout.readline():  # then the server starts
            assert server.poll() is None
        time.sleep(2)
        code, out = ctrl_c(server)
    assert code == 130, out
    assert "Traceback" not in out, out
    assert port_is_free(port)


def make_store(folder: Path, *names: str) -> str:
    """Return an MLflow store in ``folder`` with a study parent run in each experiment."""
    from ldnn_tune.tracking import StudyTracker

    uri = f"sqlite:///{folder / 'mlflow.db'}"
    for name in names:
        tracker = StudyTracker(uri, name)
        parent = tracker.open_parent_run(None, name, {"task": "image"})
        tracker.set_tags(parent, {TOP_KNOBS_TAG: "batch_size,lr,dropout"})
    return uri


def run_ui(
    words: list[str],
    folder: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> tuple[str, list[list[str]], list[str]]:
    """Run `ldnn-tune ui` in this process with the server and browser replaced."""
    from ldnn_tune.commands import ui

    served: list[list[str]] = []
    opened: list[str] = []
    monkeypatch.chdir(folder)
    monkeypatch.setattr(ui, "serve", lambda command: served.append(command) or 0)
    monkeypatch.setattr(ui, "has_desktop", lambda: True)
    monkeypatch.setattr(ui, "open_when_up", lambda url, base: opened.append(url))
    result = run_main(["ui", *words], capsys)
    assert result.returncode == 0, result.stderr
    return result.stdout, served, opened


def test_ui_prints_and_opens_the_only_studys_runs_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    uri = make_store(tmp_path, "image")
    out, served, opened = run_ui([f"mlflow={uri}", "port=5123"], tmp_path, monkeypatch, capsys)
    experiment = MlflowClient(uri).get_experiment_by_name("image")
    url = (
        f"http://127.0.0.1:5123/#/experiments/{experiment.experiment_id}/runs"
        "?workflowType=machine_learning&viewStateShareKey=ldnn-tune"
    )
    assert f"MLflow UI for {uri}: {url} (Ctrl-C stops)" in out
    assert "warning" not in out
    assert opened == [url]
    command = served[0]
    assert command[command.index("--host") + 1 :][:3] == ["127.0.0.1", "--port", "5123"]
    tags = experiment.tags
    assert tags[EXPERIMENT_KIND_TAG] == "custom_model_development"
    view = json.loads(tags[f"{SHARED_VIEW_TAG}ldnn-tune"])
    assert view["selectedColumns"][0] == "tags.`optuna.state`"
    assert "params.`batch_size`" in view["selectedColumns"]


def test_ui_lists_the_studies_when_there_are_several(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # MLflow caches a store by its URI in a process: each test gives its own, absolute
    uri = make_store(tmp_path, "image", "speech")
    port = free_port()  # not MLflow's 5000: a UI left open on this machine holds it
    words = [f"mlflow={uri}", f"port={port}", "browser=false"]
    out, _, opened = run_ui(words, tmp_path, monkeypatch, capsys)
    assert f"study image: http://127.0.0.1:{port}/#/experiments/" in out
    assert f"study speech: http://127.0.0.1:{port}/#/experiments/" in out
    assert opened == []
    words = [*words, "study=speech"]
    out, _, _ = run_ui(words, tmp_path, monkeypatch, capsys)
    assert "study image" not in out and "viewStateShareKey=ldnn-tune" in out


def test_ui_on_another_host_warns_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    uri = make_store(tmp_path, "image")
    port = free_port()
    words = [f"mlflow={uri}", "host=0.0.0.0", f"port={port}", "browser=false"]
    out, served, _ = run_ui(words, tmp_path, monkeypatch, capsys)
    warning = [line for line in out.splitlines() if line.startswith("warning:")]
    assert len(warning) == 1 and "no authentication" in warning[0]
    assert f"http://127.0.0.1:{port}/#/" in out  # where a browser here reaches it
    assert served[0][served[0].index("--host") + 1] == "0.0.0.0"


@pytest.mark.parametrize(
    ("words", "needles"),
    [
        (["study=nope"], ["unknown study 'nope'", "studies: image"]),
        (["host=http://x"], ["invalid host='http://x'"]),
        (["browser=maybe"], ["invalid value 'maybe' for browser"]),
    ],
)
def test_ui_mistakes_are_one_line(
    words: list[str],
    needles: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    uri = make_store(tmp_path, "image")
    monkeypatch.chdir(tmp_path)
    words = [f"mlflow={uri}", f"port={free_port()}", *words]
    assert_usage_error(run_main(["ui", *words], capsys), *needles)


@pytest.mark.parametrize("command", ["ui", "dashboard"])
def test_a_port_another_program_holds_is_one_line_and_serves_nothing(
    command: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    uri = make_store(tmp_path, "image")
    monkeypatch.chdir(tmp_path)
    store = {"ui": f"mlflow={uri}", "dashboard": f"storage={uri}"}[command]  # a file there
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        result = run_main([command, store, f"port={port}"], capsys)
    needle = f"cannot serve on host=127.0.0.1 port={port}: Address already in use"
    assert_usage_error(result, needle)


@pytest.mark.parametrize(
    ("environ", "platform", "expected"),
    [
        ({}, "linux", False),
        ({"DISPLAY": ":0"}, "linux", True),
        ({"WAYLAND_DISPLAY": "wayland-0"}, "linux", True),
        ({}, "darwin", True),
        ({}, "win32", True),
    ],
)
def test_a_browser_opens_only_where_there_is_a_desktop(
    environ: dict[str, str], platform: str, expected: bool
) -> None:
    from ldnn_tune.console.browser import has_desktop

    assert has_desktop(environ, platform) is expected


def test_the_browser_opens_once_the_server_answers() -> None:
    from ldnn_tune.console.browser import open_when_up

    opened: list[str] = []
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        base = f"http://127.0.0.1:{server.getsockname()[1]}"
        thread = open_when_up(f"{base}/#/x", base, opened.append, seconds=10)

        def answer() -> None:
            connection, _ = server.accept()
            connection.recv(1024)
            connection.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n")
            connection.close()

        answer()
        thread.join(timeout=10)
    assert opened == [f"{base}/#/x"]


def test_the_server_always_gets_its_allowed_hosts_so_mlflow_gives_no_advice_of_its_own() -> None:
    plain = server_command(UiConfig())
    hosts = plain[plain.index("--allowed-hosts") + 1].split(",")
    assert "localhost" in hosts and "" not in hosts  # MLflow's default list, nothing added
    extra = server_command(UiConfig(allowed_hosts="ui.example.com"))
    assert extra[extra.index("--allowed-hosts") + 1] == ",".join([*hosts, "ui.example.com"])
