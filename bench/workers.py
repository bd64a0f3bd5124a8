"""Trials per hour with 1 vs 2 local workers (n_jobs) on the same budget.

Each run is the real command on a fresh SQLite study: ldnn-tune run task=image trials=T
epochs=E n_jobs=N. Two rates: the whole command (start-up and summary included) and the
study's own span (first trial start to last trial end), which is what more workers speed
up. Usage: python bench/workers.py [--trials 8] [--epochs 3]
"""

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import optuna

CLI = str(Path(sys.executable).with_name("ldnn-tune"))


def run(n_jobs: int, trials: int, epochs: int) -> tuple[float, float, int]:
    """Return (command seconds, study-span seconds, finished trials) of one run."""
    with tempfile.TemporaryDirectory() as tmp:
        words = [f"trials={trials}", f"epochs={epochs}", f"n_jobs={n_jobs}", "timeout=none"]
        started = time.monotonic()
        subprocess.run(
            [CLI, "run", "task=image", "check=false", "ensemble=none", "pruner=none", *words],
            cwd=tmp,
            check=True,
            capture_output=True,
        )
        seconds = time.monotonic() - started
        study = optuna.load_study(study_name="image", storage=f"sqlite:///{tmp}/ldnn_tune.db")
        done = [t for t in study.trials if t.datetime_complete and t.datetime_start]
        ends = [t.datetime_complete for t in done if t.datetime_complete is not None]
        starts = [t.datetime_start for t in done if t.datetime_start is not None]
        span = max(ends) - min(starts)
        return seconds, span.total_seconds(), len(done)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=8)
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args()
    rates = {}
    print("| n_jobs | trials | command s | trials/h (command) | study span s | trials/h (span) |")
    print("| --- | --- | --- | --- | --- | --- |")
    for n_jobs in (1, 2):
        seconds, span, done = run(n_jobs, args.trials, args.epochs)
        rates[n_jobs] = (3600 * done / seconds, 3600 * done / span)
        print(
            f"| {n_jobs} | {done} | {seconds:.0f} | {rates[n_jobs][0]:.0f} | "
            f"{span:.0f} | {rates[n_jobs][1]:.0f} |"
        )
    print(
        f"\nspeed-up 2 vs 1 workers: {rates[2][0] / rates[1][0]:.2f}x (command), "
        f"{rates[2][1] / rates[1][1]:.2f}x (study span)"
    )


if __name__ == "__main__":
    main()
