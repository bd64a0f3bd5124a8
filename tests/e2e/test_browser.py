"""`ldnn-tune ui` in a real browser: headless Chromium on a finished tiny study.

Chromium is driven over the DevTools protocol on a pipe (``--remote-debugging-pipe``), so
no driver package is needed. Without ``chromium`` on PATH the tests skip, unless
LDNN_TUNE_REQUIRE_BROWSER=1 (as in CI): then they fail. With LDNN_TUNE_SCREENSHOTS=DIR
the screenshots (runs table, parallel-coordinates plot) are saved there.
"""

import base64
import io
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import mlflow_client
from PIL import Image

from ldnn_tune.testing.cli import CLI, run_cli

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--remote-debugging-pipe",
)
CLICK_TEXT = """(name => {
  const hit = document.evaluate(`//*[text()='${name}']`, document, null,
                                XPathResult.FIRST_ORDERED_NODE_TYPE, null).singleNodeValue;
  if (hit) hit.click();
  return Boolean(hit);
})"""
EXPAND = 'button[data-component-id$="runnamecellrenderer.tsx_46"]'
PAGE_SECONDS = 90.0


class Chromium:
    """Headless Chromium with one page, driven over the DevTools protocol on a pipe."""

    def __init__(self, binary: str, profile: Path, width: int = 1600, height: int = 900) -> None:
        to_chrome, self._to_chrome = os.pipe()
        self._from_chrome, from_chrome = os.pipe()

        def on_fds_3_and_4() -> None:  # where --remote-debugging-pipe reads and writes
            os.dup2(to_chrome, 3)
            os.dup2(from_chrome, 4)

        self.process = subprocess.Popen(
            [binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "about:blank"],
            pass_fds=(3, 4),
            preexec_fn=on_fds_3_and_4,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(to_chrome)
        os.close(from_chrome)
        self._buffer = b""
        self._id = 0
        target = self.send("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.send("Target.attachToTarget", targetId=target, flatten=True)[
            "sessionId"
        ]
        self.send(
            "Emulation.setDeviceMetricsOverride",
            page=True,
            width=width,
            height=height,
            deviceScaleFactor=1,
            mobile=False,
        )

    def send(self, method: str, page: bool = False, **params: Any) -> dict[str, Any]:
        """Send one command (to the page when ``page``) and return its result."""
        self._id += 1
        message: dict[str, Any] = {"id": self._id, "method": method, "params": params}
        if page:
            message["sessionId"] = self.session
        os.write(self._to_chrome, json.dumps(message).encode() + b"\0")
        while True:
            while b"\0" not in self._buffer:
                chunk = os.read(self._from_chrome, 1 << 20)
                if not chunk:
                    raise RuntimeError("chromium closed its pipe")
                self._buffer += chunk
            raw, self._buffer = self._buffer.split(b"\0", 1)
            answer = json.loads(raw)
            if answer.get("id") == self._id:
                if "error" in answer:
                    raise RuntimeError(f"{method}: {answer['error']}")
                result: dict[str, Any] = answer.get("result", {})
                return result

    def goto(self, url: str) -> None:
        """Load ``url``."""
        self.send("Page.navigate", page=True, url=url)

    def js(self, expression: str) -> Any:
        """Return the value of a JavaScript ``expression`` on the page."""
        result = self.send("Runtime.evaluate", page=True, expression=expression, returnByValue=True)
        return result.get("result", {}).get("value")

    def wait_for(self, expression: str, seconds: float = PAGE_SECONDS) -> Any:
        """Wait until ``expression`` is truthy on the page; return its value."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            value = self.js(expression)
            if value:
                return value
            time.sleep(0.5)
        text = self.js("document.body ? document.body.innerText : ''") or ""
        raise AssertionError(f"timed out waiting for {expression}; the page: {text[:2000]}")

    def text(self) -> str:
        """Return the page's visible text."""
        return str(self.js("document.body ? document.body.innerText : ''") or "")

    def screenshot(self) -> bytes:
        """Return the page as PNG."""
        return base64.b64decode(self.send("Page.captureScreenshot", page=True)["data"])

    def close(self) -> None:
        """Close the browser."""
        try:
            self.send("Browser.close")
            self.process.wait(timeout=20)
        except Exception:
            self.process.kill()
            self.process.wait(timeout=20)


def chromium_binary() -> str:
    """Return Chromium's path; skip (or fail, when it is required) without one."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        reason = "chromium is not on PATH (Debian: apt-get install chromium)"
        if os.environ.get("LDNN_TUNE_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{reason}; LDNN_TUNE_REQUIRE_BROWSER=1")
        pytest.skip(reason)
    return found


def save_screenshot(name: str, png: bytes) -> None:
    """Save ``png`` as NAME.png under $LDNN_TUNE_SCREENSHOTS, when that is set."""
    folder = os.environ.get("LDNN_TUNE_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        (Path(folder) / f"{name}.png").write_bytes(png)


def assert_not_blank(png: bytes) -> None:
    image = Image.open(io.BytesIO(png)).convert("L")
    low, high = image.getextrema()
    assert high - low > 100, "the image is one flat colour"


@pytest.fixture(scope="module")
def study_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return a folder holding a finished tiny image study (4 trials of 2 epochs)."""
    chromium_binary()
    folder = tmp_path_factory.mktemp("browser")
    result = run_cli(folder, "run", "task=image", "trials=4", "epochs=2", "timeout=5m", "reseeds=1")
    assert result.returncode == 0, result.stderr
    return folder


@pytest.fixture(scope="module")
def ui_url(study_dir: Path) -> Iterator[str]:
    """Start `ldnn-tune ui` on the study; yield the URL it printed, once it answers."""
    port = free_port()
    server = subprocess.Popen(
        [CLI, "ui", f"port={port}", "browser=false"],
        cwd=study_dir,
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "COLUMNS": "80"},
    )
    try:
        assert server.stdout is not None
        line = server.stdout.readline()
        assert line.startswith("MLflow UI for sqlite:///mlflow.db: http://127.0.0.1:"), line
        url = line.split(": ", 1)[1].split(" (Ctrl-C")[0]
        wait_until_up(f"http://127.0.0.1:{port}/", server)
        yield url
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until_up(url: str, server: "subprocess.Popen[str]") -> None:
    deadline = time.monotonic() + 120
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as page:
                assert page.status == 200
                return
        except OSError:
            assert server.poll() is None, "ldnn-tune ui stopped"
            assert time.monotonic() < deadline, "the MLflow UI did not come up"
            time.sleep(1)


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Chromium]:
    """Yield a fresh headless Chromium."""
    chrome = Chromium(chromium_binary(), Path(tempfile.mkdtemp(dir=tmp_path)))
    try:
        yield chrome
    finally:
        chrome.close()


def parent_run(study_dir: Path) -> tuple[str, str]:
    """Return the study's (experiment id, parent run id)."""
    client = mlflow_client(study_dir)
    experiment = client.get_experiment_by_name("image")
    runs = client.search_runs([experiment.experiment_id], "tags.`ldnn_tune.role` = 'study'")
    return experiment.experiment_id, runs[0].info.run_id


def close_assistant(browser: Chromium) -> None:
    browser.js("document.querySelectorAll('button[aria-label=Close]').forEach(b => b.click())")


@pytest.mark.slow
def test_the_printed_url_shows_the_trials_nested_under_the_study_run(
    browser: Chromium, ui_url: str, study_dir: Path
) -> None:
    experiment, _ = parent_run(study_dir)
    assert f"#/experiments/{experiment}/runs?workflowType=machine_learning" in ui_url
    browser.goto(ui_url)
    browser.wait_for("document.body && document.body.innerText.includes('matching runs')")
    browser.wait_for(f"Boolean(document.querySelector('{EXPAND}'))")
    text = browser.text()
    assert "Model training" in text and "image" in text
    assert "optuna.state" in text and "best_val_loss" in text  # the shared view's columns
    assert "trial-0" not in text  # nested: hidden under the collapsed study run
    browser.js(f"document.querySelector('{EXPAND}').click()")
    close_assistant(browser)
    browser.wait_for("document.body.innerText.includes('trial-3 (COMPLETE)')")
    rows = browser.js(
        "Array.from(document.querySelectorAll('.ag-center-cols-container .ag-row, "
        ".ag-pinned-left-cols-container .ag-row')).map(r => r.innerText).join('\\n')"
    )
    assert "ensemble-seeds" in browser.text()
    for number in range(4):
        assert f"trial-{number} (COMPLETE)" in browser.text()
    assert rows.index("image") < rows.index("trial-0")
    time.sleep(1)
    save_screenshot("runs", browser.screenshot())


@pytest.mark.slow
def test_the_study_runs_artifacts_hold_the_plots(
    browser: Chromium, ui_url: str, study_dir: Path
) -> None:
    experiment, parent = parent_run(study_dir)
    base = ui_url.split("/#/")[0]
    browser.goto(
        f"{base}/#/experiments/{experiment}/runs/{parent}/artifacts?workflowType=machine_learning"
    )
    browser.wait_for("document.body && document.body.innerText.includes('trials.csv')")
    close_assistant(browser)
    assert "summary.md" in browser.text()
    assert browser.js(f"{CLICK_TEXT}('plots')")
    browser.wait_for("document.body.innerText.includes('parallel_coordinate.png')")
    for name in ("optimization_history", "param_importances", "intermediate_values", "slice"):
        assert f"{name}.png" in browser.text() and f"{name}.html" in browser.text()
    assert browser.js(f"{CLICK_TEXT}('parallel_coordinate.png')")
    browser.wait_for("Array.from(document.querySelectorAll('img')).some(i => i.naturalWidth > 300)")
    time.sleep(1)
    save_screenshot("parallel_coordinate", browser.screenshot())
    png = f"{base}/get-artifact?path=plots/parallel_coordinate.png&run_uuid={parent}"
    with urllib.request.urlopen(png, timeout=30) as answer:
        assert_not_blank(answer.read())


@pytest.mark.slow
def test_the_chart_view_opens_on_the_trials_curves(browser: Chromium, ui_url: str) -> None:
    browser.goto(f"{ui_url}&compareRunsMode=CHART")
    browser.wait_for(f"Boolean(document.querySelector('{EXPAND}'))")
    browser.js(f"document.querySelector('{EXPAND}').click()")
    close_assistant(browser)
    browser.wait_for("document.body.innerText.includes('trial-3 (COMPLETE) (val_loss)')")
    charts = browser.text().split("Model metrics", 1)[1]
    # the section the view opens on, first, with the curves a tuner reads first, in order
    assert re.match(r"\s*\(\d+\)\s*Add chart\s*val_loss\n", charts), charts[:200]
    titles = [charts.index(f"\n{name}\n") for name in ("train_loss", "val_acc", "lr")]
    assert titles == sorted(titles)
    time.sleep(1)
    save_screenshot("charts", browser.screenshot())
