"""Benchmark: what each built-in task's default ``ldnn-tune run task=X`` finishes in its budget.

Runs the command with no other word (the default budget: 20 trials or 10 minutes) for
each task and reads the study back: finished trials (complete, pruned), the command's
wall time against its ``timeout`` (the baseline it must stay within, plus 5 s), and the
best trial's validation figures.

    python bench/defaults.py [--tasks image,speech,sequence]
"""

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import optuna

from ldnn_tune.names import RESEED_OF_ATTR

CLI = str(Path(sys.executable).with_name("ldnn-tune"))
TIMEOUT_SECONDS = 600  # the default timeout=10m


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", default="image,speech,sequence")
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    for task in args.tasks.split(","):
        with tempfile.TemporaryDirectory() as tmp:
            started = time.monotonic()
            result = subprocess.run(
                [CLI, "run", f"task={task}"], cwd=tmp, capture_output=True, text=True
            )
            wall = time.monotonic() - started
            if result.returncode != 0:
                sys.exit(result.stderr)
            data = next(
                (line for line in result.stdout.splitlines() if "data:" in line), ""
            ).strip()
            study = optuna.load_study(study_name=task, storage=f"sqlite:///{tmp}/ldnn_tune.db")
        search = [t for t in study.trials if RESEED_OF_ATTR not in t.user_attrs]
        retrains = len(study.trials) - len(search)
        states = [t.state for t in search]
        complete = states.count(optuna.trial.TrialState.COMPLETE)
        pruned = states.count(optuna.trial.TrialState.PRUNED)
        best = study.best_trial
        figures = {k: v for k, v in best.user_attrs.items() if k.startswith("val_")}
        print(
            f"ldnn-tune run task={task}: {complete + pruned} search trials finished "
            f"({complete} complete, {pruned} pruned) and {retrains} retrains in {wall:.0f} s "
            f"(limit {TIMEOUT_SECONDS} + 5 s); best trial {best.number}: "
            + ", ".join(f"{k} {v:.4g}" for k, v in figures.items())
        )
        if data:
            print(f"  {data}")


if __name__ == "__main__":
    main()
