"""Benchmark: the share of a study's wall time spent in its stores, once it has 1,000 trials.

A real study of the image task is made with the command, then filled to ``--filler``
finished trials (complete and pruned, with knobs from the same space and a value per
epoch, as 1,000 earlier trials would have left); then ``ldnn-tune run`` adds ``--trials``
more under py-spy. Of the samples taken while the command ran trials, the report gives
the share in Optuna's storage (SQLite), in MLflow's tracking store (SQLite) and in the
sampler, against the same shares when the study was new (its first trials). The
baseline is that young study, measured in the same run. ``--storage journal`` runs the
same study on Optuna's journal file instead of SQLite (MLflow stays on SQLite).

    python bench/storage_share.py [--filler 1000] [--trials 10] [--storage sqlite|journal]
"""

import argparse
import collections
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import optuna

from ldnn_tune.study.storages import make_storage

CLI = str(Path(sys.executable).with_name("ldnn-tune"))
WORDS = ("task=image", "ensemble=none", "check=false")  # the default 20 epochs a trial

# a sample inside the trial loop goes to the first label one of whose strings appears in
# its stack (MLflow's store also works through SQLAlchemy, so MLflow is looked for first)
LABELS = [
    ("MLflow tracking", ("mlflow/",)),
    ("Optuna storage", ("optuna/storages/", "sqlalchemy/")),
    ("Optuna sampler", ("optuna/samplers/",)),
]


STORES = {  # --storage: the study's storage, in the study's folder
    "sqlite": "sqlite:///{folder}/ldnn_tune.db",
    "journal": "journal:{folder}/ldnn_tune.log",
}


def storage_url(cwd: Path, kind: str) -> str:
    """Return the ``storage=`` of a study of kind ``kind`` kept in folder ``cwd``."""
    return STORES[kind].format(folder=cwd)


def run_profiled(cwd: Path, trials: int, profile: Path, kind: str) -> float:
    """Run the command up to ``trials`` finished trials under py-spy; return its wall time."""
    started = time.monotonic()
    command = ["py-spy", "record", "-r", "100", "--format", "raw", "-o", str(profile), "--"]
    result = subprocess.run(
        [*command, CLI, "run", *WORDS, f"storage={storage_url(cwd, kind)}", f"trials={trials}"],
        cwd=cwd,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        sys.exit(result.stderr)
    return time.monotonic() - started


def shares(profile: Path) -> dict[str, float]:
    """Return each label's share of the samples taken inside the trial loop."""
    counts: collections.Counter[str] = collections.Counter()
    for line in profile.read_text().splitlines():
        stack, _, number = line.rpartition(" ")
        if "work (ldnn_tune/study/loop.py" not in stack:
            continue
        label = next((name for name, keys in LABELS if any(k in stack for k in keys)), "rest")
        counts[label] += int(number)
    total = sum(counts.values()) or 1
    return {name: counts[name] / total for name, _ in [*LABELS, ("rest", ())]}


def by_caller(profile: Path, top: int = 12) -> list[tuple[str, float]]:
    """Return the largest store-bound shares of the trial loop by their last three callers.

    A caller is a frame of ldnn-tune, of Optuna's study and trial, or of Lightning's loops:
    this tells which of their calls reach the stores.
    """
    callers = ("ldnn_tune/", "optuna/study/", "optuna/trial/", "lightning/pytorch/loops/")
    counts: collections.Counter[str] = collections.Counter()
    total = 0
    for line in profile.read_text().splitlines():
        stack, _, number = line.rpartition(" ")
        if "work (ldnn_tune/study/loop.py" not in stack:
            continue
        total += int(number)
        label = next((name for name, keys in LABELS if any(k in stack for k in keys)), None)
        if label is None:
            continue
        frames = [f.split(" (")[0] for f in stack.split(";") if any(c in f for c in callers)]
        counts[f"{label} <- {' < '.join(frames[-3:])}"] += int(number)
    return [(key, count / (total or 1)) for key, count in counts.most_common(top)]


def fill(cwd: Path, count: int, kind: str) -> None:
    """Add ``count`` finished trials like the study's first one (knobs, values per epoch)."""
    warnings.simplefilter("ignore")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.load_study(study_name="image", storage=make_storage(storage_url(cwd, kind)))
    first = study.trials[0]
    rng = np.random.default_rng(0)
    sampler = optuna.samplers.RandomSampler(seed=0)
    for index in range(count):
        params = {
            name: sampler.sample_independent(study, first, name, dist)
            for name, dist in first.distributions.items()
        }
        epochs = 20 if index % 2 else int(rng.integers(2, 20))
        curve = {step: float(0.05 + rng.random() / (step + 1)) for step in range(epochs)}
        state = optuna.trial.TrialState.COMPLETE if epochs == 20 else optuna.trial.TrialState.PRUNED
        study.add_trial(
            optuna.trial.create_trial(
                params=params,
                distributions=first.distributions,
                value=min(curve.values()) if state == optuna.trial.TrialState.COMPLETE else None,
                intermediate_values=curve,
                state=state,
                user_attrs={"seed": index},
            )
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--filler", type=int, default=1000)
    parser.add_argument("--trials", type=int, default=10)
    parser.add_argument("--storage", choices=sorted(STORES), default="sqlite")
    args = parser.parse_args()
    if shutil.which("py-spy") is None:
        sys.exit("needs py-spy on the PATH (pip install py-spy)")
    with tempfile.TemporaryDirectory() as tmp:
        cwd = Path(tmp)
        young = cwd / "young.txt"
        wall = run_profiled(cwd, args.trials, young, args.storage)
        print(f"a new study, trials 0-{args.trials - 1}: {wall:.0f} s")
        for name, share in shares(young).items():
            print(f"  {name:18s} {share:6.1%} of the trial loop")
        fill(cwd, args.filler, args.storage)
        old = cwd / "old.txt"
        total = args.trials + args.filler + args.trials
        wall = run_profiled(cwd, total, old, args.storage)
        print(f"the same study after {args.filler} more trials, {args.trials} more: {wall:.0f} s")
        for name, share in shares(old).items():
            print(f"  {name:18s} {share:6.1%} of the trial loop")
        print("where the stores' time goes, by the calls that reach them:")
        for key, share in by_caller(old):
            print(f"  {share:6.1%} {key}")


if __name__ == "__main__":
    main()
