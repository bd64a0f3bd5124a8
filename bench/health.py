"""Benchmark: the update/weight ratio across a digits study, and what health pruning saves.

Two studies with the same seed and a random sampler (so both draw the same knobs, trial for
trial) over a wide LR range that includes frozen and exploding settings: one with health
pruning, one without (`health=false`), both with Optuna's pruner off to isolate the rule.
The baseline is the study without health pruning, measured in the same run. Both use
`min_lr=1e-9`, so the LR floor does not end the frozen trials first.

    python bench/health.py [--trials 24] [--epochs 10]
"""

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import optuna
from mlflow.tracking import MlflowClient
from scipy.stats import spearmanr

CLI = str(Path(sys.executable).with_name("ldnn-tune"))
WIDE_LR = "lr: {type: float, low: 1.0e-7, high: 30.0, log: true, default: 0.1}\n"


def run_study(tmp: Path, health: bool, trials: int, epochs: int) -> tuple[float, Path]:
    """Run one study in ``tmp``; return its wall time and folder."""
    folder = tmp / ("health" if health else "baseline")
    folder.mkdir()
    (folder / "wide.yaml").write_text(WIDE_LR)
    command = [
        CLI,
        "run",
        "task=image",
        f"trials={trials}",
        f"epochs={epochs}",
        "seed=0",
        "sampler=random",
        "pruner=none",
        "ensemble=none",
        "timeout=none",
        "space=wide.yaml",
        "min_lr=1e-9",
        f"health={'true' if health else 'false'}",
    ]
    started = time.monotonic()
    result = subprocess.run(command, cwd=folder, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(result.stderr)
    return time.monotonic() - started, folder


def trials_of(folder: Path) -> list[optuna.trial.FrozenTrial]:
    study = optuna.load_study(study_name="image", storage=f"sqlite:///{folder}/ldnn_tune.db")
    return study.trials


def epochs_trained(trial: optuna.trial.FrozenTrial) -> int:
    """Epochs a trial trained: a ratio verdict comes after the epoch's validation; a
    divergence cuts the epoch it happened in short (counted whole here)."""
    if "epochs_run" in trial.user_attrs:
        return int(trial.user_attrs["epochs_run"])
    diverged = str(trial.user_attrs.get("reason", "")).startswith("diverged")
    return len(trial.intermediate_values) + int(diverged)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=24)
    parser.add_argument("--epochs", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base_time, base = run_study(Path(tmp), False, args.trials, args.epochs)
        health_time, watched = run_study(Path(tmp), True, args.trials, args.epochs)
        report(trials_of(base), trials_of(watched), base, base_time, health_time)


def report(
    base: list[optuna.trial.FrozenTrial],
    watched: list[optuna.trial.FrozenTrial],
    base_dir: Path,
    base_time: float,
    health_time: float,
) -> None:
    client = MlflowClient(f"sqlite:///{base_dir}/mlflow.db")
    rows = []
    for trial in base:
        history = client.get_metric_history(
            trial.user_attrs["mlflow_run_id"], "update_ratio_median"
        )
        if history and trial.value is not None:
            rows.append((trial.params["lr"], history[0].value, history[-1].value, trial.value))
    print("## update/weight ratio (median over layers) in the study without health pruning")
    print("| lr | ratio, epoch 0 | ratio, last epoch | best val loss |")
    print("| --- | --- | --- | --- |")
    for lr, first, last, loss in sorted(rows):
        print(f"| {lr:.2e} | {first:.2e} | {last:.2e} | {loss:.4f} |")
    rho = spearmanr([r[1] for r in rows], [r[3] for r in rows])
    ratios = [r[1] for r in rows]
    print(
        f"\nepoch-0 ratio: median {statistics.median(ratios):.2e}, min {min(ratios):.2e}, "
        f"max {max(ratios):.2e}; Spearman(ratio, val loss) = {rho.statistic:.2f}"
    )
    pruned = [t for t in watched if t.state == optuna.trial.TrialState.PRUNED]
    base_epochs = sum(epochs_trained(t) for t in base)
    watched_epochs = sum(epochs_trained(t) for t in watched)
    best_base = min(t.value for t in base if t.value is not None)
    best_watched = min(t.value for t in watched if t.value is not None)
    print("\n## health pruning vs none (same seed, same knobs trial for trial)")
    print("| study | wall s | epochs trained | trials pruned | best val loss |")
    print("| --- | --- | --- | --- | --- |")
    print(f"| no health pruning | {base_time:.0f} | {base_epochs} | 0 | {best_base:.4f} |")
    print(
        f"| health pruning | {health_time:.0f} | {watched_epochs} | {len(pruned)} | "
        f"{best_watched:.4f} |"
    )
    print(
        f"\nepochs saved: {1 - watched_epochs / base_epochs:.0%}; wall time ratio "
        f"{health_time / base_time:.2f}; best result kept: {best_watched <= best_base + 1e-9}"
    )
    for trial in pruned:
        print(f"- trial {trial.number} (lr {trial.params['lr']:.1e}): {trial.user_attrs['reason']}")


if __name__ == "__main__":
    main()
