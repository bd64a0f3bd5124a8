"""A reader that goes away (`| head -1`) or no stdout at all does not stop a command."""

import os
import subprocess
from pathlib import Path

from helpers import TINY_RUN, load_study, mlflow_client

from ldnn_tune.testing.cli import CLI


def test_a_study_goes_on_when_its_reader_closes_the_pipe(tmp_path: Path) -> None:
    words = [CLI, "run", "task=image", "check=false", *TINY_RUN]
    with subprocess.Popen(
        words, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    ) as process:
        assert process.stdout is not None and process.stderr is not None
        first = process.stdout.readline()  # what `| head -1` reads before it exits
        process.stdout.close()
        stderr = process.stderr.read().decode()
        code = process.wait(timeout=300)
    assert first.startswith(b"study 'image'")
    assert code == 0 and stderr == "", stderr
    assert [t.state.name for t in load_study(tmp_path).trials] == ["COMPLETE", "COMPLETE"]
    client = mlflow_client(tmp_path)
    experiment = client.get_experiment_by_name("image")
    assert experiment is not None
    statuses = {r.info.status for r in client.search_runs([experiment.experiment_id])}
    assert statuses == {"FINISHED"}


def test_a_command_started_without_stdout_runs(tmp_path: Path) -> None:
    result = subprocess.run(
        f"{CLI} tasks >&-", shell=True, cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0 and result.stderr == "", result.stderr


def test_an_ascii_terminal_a_zero_width_and_no_stderr_keep_the_trials(tmp_path: Path) -> None:
    """What the streams cannot show is printed as ?; nothing of the study is lost.

    An ASCII-only stdout failed every trial that trained (UnicodeEncodeError at its
    line), COLUMNS=0 printed nothing at all, and a closed stderr made a command that did
    its work exit 1.
    """
    words = [CLI, "run", "task=image", "study=étude", "check=false", "ensemble=none", *TINY_RUN]
    result = subprocess.run(
        f"{' '.join(words)} 2>&-",
        shell=True,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        encoding="ascii",
        errors="strict",
        timeout=300,
        env={**os.environ, "PYTHONIOENCODING": "ascii", "PYTHONUTF8": "0", "COLUMNS": "0"},
    )
    assert result.returncode == 0
    assert result.stdout.startswith("study '?tude'"), result.stdout[:200]
    assert "trials: 2 complete" in result.stdout
    states = [t.state.name for t in load_study(tmp_path, "étude").trials]
    assert states == ["COMPLETE", "COMPLETE"]
