"""Compare speech levers on FSDD with unseen speakers: the first trial's net, knobs fixed.

Run from the repository root (about 1.5 minutes a run on 2 CPU cores)::

    . .venv/bin/activate && python bench/speech_levers.py --epochs 30 --seeds 0 1 2 \\
        --config plain= --config synth40=synth_speakers=40

Each ``--config NAME=WORDS`` (WORDS: ``key=value`` words joined by commas, or nothing) runs
``ldnn-tune run task=speech data_dir=FSDD split=speaker trials=1 epochs=E seed=S
ensemble=none check=false WORDS`` for every split seed, in a temporary folder, so the one
trial is the first trial's net (the space's defaults) with WORDS changed. It reads the trial's
test and validation accuracy back from the Optuna store and prints a Markdown table: one row a
configuration, one column a seed, and the mean. ``plain=`` is the baseline in the same run.
Each split seed holds out a different test speaker, so the columns differ more than the rows.
"""

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import optuna

FSDD = Path(__file__).resolve().parents[2] / "shared" / "data" / "fsdd" / "recordings"
LDNN_TUNE = Path(sys.executable).with_name("ldnn-tune")


def parse_config(text: str) -> tuple[str, list[str]]:
    """Return (name, words) from ``NAME=k1=v1,k2=v2`` (``NAME=`` for no change)."""
    name, _, words = text.partition("=")
    return name, [w for w in words.split(",") if w]


def run_once(words: list[str], seed: int, epochs: int) -> tuple[float, float, float]:
    """Return (test_acc, val_acc, wall seconds) of one first-trial run."""
    with tempfile.TemporaryDirectory(prefix="speech_levers_") as tmp:
        command = [
            str(LDNN_TUNE),
            "run",
            "task=speech",
            f"data_dir={FSDD}",
            "split=speaker",
            "trials=1",
            f"epochs={epochs}",
            f"seed={seed}",
            "ensemble=none",
            "check=false",
            *words,
        ]
        start = time.perf_counter()
        subprocess.run(command, cwd=tmp, check=True, stdout=subprocess.DEVNULL)
        wall = time.perf_counter() - start
        study = optuna.load_study(study_name="speech", storage=f"sqlite:///{tmp}/ldnn_tune.db")
        attrs = study.trials[0].user_attrs
        return float(attrs["test_acc"]), float(attrs["val_acc"]), wall


def main() -> None:
    """Run every configuration on every seed and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--config", action="append", default=[], help="NAME=k=v,k=v")
    args = parser.parse_args()
    configs = [parse_config(c) for c in args.config or ["plain="]]
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    header = " | ".join(f"seed {s} test (val)" for s in args.seeds)
    print(f"| config | {header} | mean test | mean wall |")
    print("|---" * (len(args.seeds) + 3) + "|")
    for name, words in configs:  # configurations in the outer loop, one row each
        results = [run_once(words, seed, args.epochs) for seed in args.seeds]
        cells = " | ".join(f"{t:.1%} ({v:.1%})" for t, v, _ in results)
        mean_test = statistics.mean(t for t, _, _ in results)
        mean_wall = statistics.mean(w for _, _, w in results)
        print(f"| {name} `{' '.join(words)}` | {cells} | {mean_test:.1%} | {mean_wall:.0f} s |")


if __name__ == "__main__":
    main()
