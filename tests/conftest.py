import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from ldnn_tune.console.quiet import quiet_frameworks
from ldnn_tune.testing import BoringOptions, BoringTask

CLI = str(Path(sys.executable).with_name("ldnn-tune"))


def run_cli(cwd: Path, *words: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run the installed ``ldnn-tune`` console script in ``cwd``."""
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run(
        [CLI, *words], cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env
    )


@pytest.fixture
def cli(tmp_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Return a runner of the real CLI with ``tmp_path`` as working directory."""
    return lambda *words, **kw: run_cli(tmp_path, *words, **kw)


@pytest.fixture
def task() -> BoringTask:
    """Return the prepared boring test task (study seed 0)."""
    quiet_frameworks()
    task = BoringTask(BoringOptions(), None, seed=0)
    task.prepare()
    return task


def assert_usage_error(result: subprocess.CompletedProcess[str], *needles: str) -> None:
    """Assert exit code 2 and a single ``error:`` line containing ``needles``, no traceback."""
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2, result.stderr
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert "Traceback" not in result.stderr + result.stdout
    for needle in needles:
        assert needle in lines[0]
