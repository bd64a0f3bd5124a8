"""Benchmark: does a seeded study make the same decisions on a busy machine as on an idle one?

Runs the real command ``ldnn-tune run task=image seed=S WORDS`` twice in new folders: once
on the idle machine, once while ``--hogs`` busy processes compete for its cores (a slower
machine, as far as the study can tell). Reads both studies back from their stores and
compares every trial: its state (complete or pruned), the epoch it stopped at, its value.
Also printed: each run's wall time, and its ensemble's test accuracy and NLL.

    python bench/reproducible.py [--seed 1] [--hogs 2] [--cli "python -m ldnn_tune"] [words]

``--cli`` runs another checkout's code (with ``PYTHONPATH`` set to it) for a before/after.
"""

import argparse
import multiprocessing
import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import optuna
from image_digits import ensemble_run

CLI = str(Path(sys.executable).with_name("ldnn-tune"))
Outcome = tuple[str, int | None, float | None]  # state, last epoch, value


def spin() -> None:
    """Keep one core busy until killed."""
    while True:
        pass


def run(cli: list[str], words: list[str], folder: str) -> float:
    """Run the command in ``folder``; return its wall time (exit on failure)."""
    started = time.monotonic()
    done = subprocess.run(
        [*cli, "run", "task=image", *words], cwd=folder, capture_output=True, text=True
    )
    if done.returncode != 0:
        sys.exit(done.stdout + done.stderr)
    return time.monotonic() - started


def trials(folder: str) -> list[Outcome]:
    """Return each trial's state, last reported epoch and value, in trial order."""
    study = optuna.load_study(study_name="image", storage=f"sqlite:///{folder}/ldnn_tune.db")
    return [(t.state.name, t.last_step, t.value) for t in study.trials]


def ensemble_scores(folder: str) -> str:
    """Return the ensemble run's method, test accuracy and NLL."""
    run = ensemble_run(folder)
    if run is None:
        return "no ensemble"
    metrics, method = run.data.metrics, run.data.params["method"]
    acc, nll = metrics[f"{method}_test_acc"], metrics[f"{method}_test_loss"]
    return f"{method} acc {acc:.4f} NLL {nll:.4f}"


def main() -> None:
    """Run the command idle and busy; print where the two studies differ."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--hogs", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--cli", default=CLI, help="the command that runs ldnn-tune")
    parser.add_argument("words", nargs="*")
    args = parser.parse_args()
    cli, words = shlex.split(args.cli), [f"seed={args.seed}", *args.words]
    outcomes: dict[str, list[Outcome]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for label in ("idle", "busy"):
            folder = Path(tmp, label)
            folder.mkdir()
            hogs = [multiprocessing.Process(target=spin) for _ in range(args.hogs)]
            for hog in hogs if label == "busy" else []:
                hog.start()
            try:
                wall = run(cli, words, str(folder))
            finally:
                for hog in hogs:
                    if hog.pid is not None:
                        hog.kill()
            outcomes[label] = trials(str(folder))
            states = [state for state, _, _ in outcomes[label]]
            print(
                f"{label}: {wall:.0f} s, {states.count('COMPLETE')} complete, "
                f"{states.count('PRUNED')} pruned; {ensemble_scores(str(folder))}"
            )
    idle, busy = outcomes["idle"], outcomes["busy"]
    differ = [n for n, (a, b) in enumerate(zip(idle, busy, strict=False)) if a != b]
    print(f"trials that differ: {len(differ)} of {max(len(idle), len(busy))}")
    for n in differ:
        print(f"  trial {n}: idle {idle[n]}, busy {busy[n]}")


if __name__ == "__main__":
    main()
