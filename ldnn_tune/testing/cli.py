"""Run the real ``ldnn-tune`` command in tests, and check what a user mistake looks like.

``run_cli`` starts the installed console script in a subprocess (what a user types);
``run_main`` calls :func:`ldnn_tune.cli.main` in this process (fast, same checks).
"""

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

CLI = str(Path(sys.executable).with_name("ldnn-tune"))


def run_cli(cwd: Path, *words: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run the installed ``ldnn-tune`` console script with ``words`` in ``cwd``."""
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run(
        [CLI, *words], cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env
    )


def run_main(
    words: Sequence[str], capsys: pytest.CaptureFixture[str]
) -> subprocess.CompletedProcess[str]:
    """Run ``ldnn-tune WORDS`` in this process; return it as a finished subprocess would."""
    from ldnn_tune.cli import main

    capsys.readouterr()  # what the test itself printed before is not the command's
    code = main(list(words))
    captured = capsys.readouterr()
    return subprocess.CompletedProcess(list(words), code, captured.out, captured.err)


def assert_usage_error(result: subprocess.CompletedProcess[str], *needles: str) -> None:
    """Assert exit code 2 and a single ``error:`` line containing ``needles``, no traceback."""
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2, result.stderr
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert "Traceback" not in result.stderr + result.stdout
    for needle in needles:
        assert needle in lines[0], lines[0]
