"""A disk that fills up during a study: one line, exit 1, and a study that goes on after."""

import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import optuna
import pytest
from helpers import load_study, running_trial

from ldnn_tune.testing.cli import CLI, run_cli


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """Yield a 128 MB tmpfs folder (needs root, as CI has); skip where it cannot be made.

    The study's report alone takes about 30 MB (each plot's page embeds plotly.js), so a
    smaller disk could be full again when the study continues.
    """
    folder = tmp_path / f"disk-{uuid.uuid4().hex[:6]}"
    folder.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=128m", "tmpfs", str(folder)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True)


@pytest.mark.slow
def test_a_full_disk_is_one_line_and_the_study_continues_after(
    small_disk: Path, tmp_path: Path
) -> None:
    with (tmp_path / "out.txt").open("w") as out, (tmp_path / "err.txt").open("w") as err:
        process = subprocess.Popen(
            [CLI, "run", "task=image", "trials=20", "epochs=40", "min_lr=1e-12"],
            cwd=small_disk,
            stdout=out,
            stderr=err,
        )
        deadline = time.monotonic() + 120
        while not running_trial(small_disk):
            assert process.poll() is None and time.monotonic() < deadline
            time.sleep(0.2)
        filler = small_disk / "filler"
        with filler.open("wb") as handle:
            try:
                while True:
                    handle.write(b"\0" * 1_000_000)
            except OSError:
                pass
        code = process.wait(timeout=120)
    lines = (tmp_path / "err.txt").read_text().strip().splitlines()
    errors = [line for line in lines if not line.startswith("warning: ")]  # e.g. the report's
    assert code == 1
    assert len(errors) == 1 and errors[0].startswith("error: disk full writing "), lines
    assert "free some space and run the same command again" in errors[0]
    filler.unlink()
    again = run_cli(
        small_disk, "run", "task=image", "trials=3", "epochs=2", "reseeds=0", "heartbeat=5"
    )
    assert again.returncode == 0, again.stderr
    finished = load_study(small_disk).get_trials(
        states=(optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
    )
    assert len(finished) >= 3


def test_a_disk_full_before_the_study_is_made_leaves_no_store(small_disk: Path) -> None:
    """The study's new database could not be begun: disk full, exit 1, no empty file left."""
    with (small_disk / "filler").open("wb") as handle:
        try:
            while True:
                handle.write(b"\0" * 1_000_000)
        except OSError:
            pass
    result = run_cli(small_disk, "run", "task=image", "trials=1", "epochs=1")
    assert result.returncode == 1, result.stderr
    assert result.stderr.startswith("error: disk full writing "), result.stderr
    assert sorted(p.name for p in small_disk.iterdir()) == ["filler"]
