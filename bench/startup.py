"""Benchmark: how fast each command answers, and what a run spends outside its trials.

1. ``ldnn-tune --help``, ``ldnn-tune tasks`` and a usage error, timed as whole commands
   (median of ``--repeats``), against the baseline of a bare ``python -c pass``.
2. For each built-in task, a short study (``trials=6 epochs=2``): the phases the command
   logged on the study's MLflow parent run (``time_startup_s``, ``time_preflight_s``,
   ``time_open_s``, ``time_trials_s``, ``time_ensemble_s``, ``time_total_s``), read back
   from the store, and the command's own wall time.

    python bench/startup.py [--repeats 5] [--tasks image,speech,sequence]
"""

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from mlflow.tracking import MlflowClient

CLI = str(Path(sys.executable).with_name("ldnn-tune"))
QUICK_COMMANDS = {
    "ldnn-tune --help": [CLI, "--help"],
    "ldnn-tune tasks": [CLI, "tasks"],
    "a usage error (trials=many)": [CLI, "run", "task=image", "trials=many"],
    "baseline: python -c pass": [sys.executable, "-c", "pass"],
}
PHASES = ("startup", "preflight", "open", "trials", "ensemble", "total")


def wall(command: list[str], cwd: str) -> float:
    """Return the wall seconds of running ``command``."""
    started = time.monotonic()
    subprocess.run(command, cwd=cwd, capture_output=True)
    return time.monotonic() - started


def phases(cwd: Path, study: str) -> dict[str, float]:
    """Return the ``time_<phase>_s`` metrics of ``study``'s parent run in ``cwd``."""
    client = MlflowClient(f"sqlite:///{cwd / 'mlflow.db'}")
    experiment = client.get_experiment_by_name(study)
    assert experiment is not None
    runs = client.search_runs(
        [experiment.experiment_id], filter_string="tags.`ldnn_tune.role` = 'study'"
    )
    metrics = runs[0].data.metrics
    return {p: metrics.get(f"time_{p}_s", 0.0) for p in PHASES}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--tasks", default="image,speech,sequence")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for label, command in QUICK_COMMANDS.items():
            seconds = statistics.median(wall(command, tmp) for _ in range(args.repeats))
            print(f"{label}: {seconds:.2f} s (median of {args.repeats})")
    for task in args.tasks.split(","):
        with tempfile.TemporaryDirectory() as tmp:
            words = [f"task={task}", "trials=6", "epochs=2", "timeout=10m"]
            seconds = wall([CLI, "run", *words], tmp)
            found = phases(Path(tmp), task)
            shown = ", ".join(f"{p} {found[p]:.2f} s" for p in PHASES)
            print(f"ldnn-tune run {' '.join(words)}: {seconds:.1f} s wall; {shown}")


if __name__ == "__main__":
    main()
