"""Benchmark: best single trial vs top-5 average vs greedy ensemble, over study seeds.

Each seed runs a real study through the CLI in a temporary directory and reads the
ensemble run's metrics back from MLflow (all scored on the test split, which selection
never sees). The baseline is the study's own best single trial, measured in the same run.

    python bench/ensembles.py image --seeds 0 1 2 -- trials=15 epochs=15
    python bench/ensembles.py speech --seeds 0 1 -- data_dir=FSDD/recordings split=fsdd
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
MODELS = ("single", "average", "greedy")


def run_seed(task: str, seed: int, words: list[str]) -> dict[str, float]:
    """Run one study and return the ensemble run's test metrics."""
    with tempfile.TemporaryDirectory() as tmp:
        command = [CLI, "run", f"task={task}", f"seed={seed}", "ensemble=greedy", "top_k=5", *words]
        result = subprocess.run(command, cwd=tmp, capture_output=True, text=True)
        if result.returncode != 0:
            sys.exit(result.stderr)
        client = MlflowClient(f"sqlite:///{tmp}/mlflow.db")
        experiment = client.get_experiment_by_name(task)
        assert experiment is not None
        run = client.search_runs(
            [experiment.experiment_id], filter_string="tags.`ldnn_tune.role` = 'ensemble'"
        )[0]
        return dict(run.data.metrics)


def main() -> None:
    argv = sys.argv[1:]
    split = argv.index("--") if "--" in argv else len(argv)
    parser = argparse.ArgumentParser()
    parser.add_argument("task")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = parser.parse_args(argv[:split])
    args.words = argv[split + 1 :]
    started = time.monotonic()
    rows = []
    for seed in args.seeds:
        metrics = run_seed(args.task, seed, args.words)
        rows.append(metrics)
        print(
            f"seed {seed}: "
            + "  ".join(
                f"{m} acc {metrics[f'{m}_test_acc']:.4f} nll {metrics[f'{m}_test_loss']:.4f}"
                for m in MODELS
            ),
            flush=True,
        )
    print(
        f"\ntask {args.task}, {' '.join(args.words)}; {len(rows)} seeds; "
        f"wall {time.monotonic() - started:.0f} s"
    )
    print("| model | mean test acc | acc gain (points) | mean test NLL | NLL change |")
    print("| --- | --- | --- | --- | --- |")
    for model in MODELS:
        acc = statistics.mean(r[f"{model}_test_acc"] for r in rows)
        nll = statistics.mean(r[f"{model}_test_loss"] for r in rows)
        gain = statistics.mean(r[f"{model}_test_acc"] - r["single_test_acc"] for r in rows)
        change = statistics.mean(r[f"{model}_test_loss"] / r["single_test_loss"] - 1 for r in rows)
        print(f"| {model} | {acc:.4f} | {100 * gain:+.2f} | {nll:.4f} | {change:+.1%} |")


if __name__ == "__main__":
    main()
