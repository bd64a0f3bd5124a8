"""Benchmark: `ldnn-tune run task=image` against a hand-written Optuna objective, same budget.

For each split seed, and interleaved so both sides see the same machine, this runs:

- ``ldnn-tune run task=image seed=S timeout=B`` (the whole command, its ensemble included),
  and again with ``timeout=B/3``;
- a hand-written Optuna study, the kind a user writes in 60 lines without ldnn-tune: a
  two-convolution CNN (32 and 64 channels, a 128-unit hidden layer) trained with Adam,
  searching learning rate, dropout and batch size, reporting validation loss every epoch
  to a median pruner; once with TPE and once with random search.

Every side is a subprocess timed from start to exit, pinned to the same cores, on the
same standardised train/validation/test split (the image task's, by seed). Scores are
test accuracy and test NLL: ldnn-tune's ensemble (and its best single trial); the
baseline's best trial by validation loss.

    python bench/search_efficiency.py [--budget 120] [--seeds 0 1 2] [--cores 0,1]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

CLI = str(Path(sys.executable).with_name("ldnn-tune"))
EPOCHS = 20
STARTUP_MARGIN_S = 2.0  # the baseline stops starting trials this long before its budget


def run_ldnn_tune(seed: int, budget: float, cores: str) -> dict[str, float]:
    """Run the default image study with ``timeout=budget``; return its test scores."""
    from mlflow.tracking import MlflowClient

    with tempfile.TemporaryDirectory() as tmp:
        command = ["taskset", "-c", cores, CLI, "run", "task=image", f"seed={seed}"]
        command.append(f"timeout={int(budget)}")
        started = time.monotonic()
        result = subprocess.run(command, cwd=tmp, capture_output=True, text=True)
        wall = time.monotonic() - started
        if result.returncode != 0:
            sys.exit(result.stderr)
        client = MlflowClient(f"sqlite:///{tmp}/mlflow.db")
        experiment = client.get_experiment_by_name("image")
        assert experiment is not None
        run = client.search_runs(
            [experiment.experiment_id], filter_string="tags.`ldnn_tune.role` = 'ensemble'"
        )[0]
        metrics = run.data.metrics
        method = run.data.params["method"]
        return {
            "wall": wall,
            "acc": metrics[f"{method}_test_acc"],
            "nll": metrics[f"{method}_test_loss"],
            "single_acc": metrics["single_test_acc"],
            "single_nll": metrics["single_test_loss"],
        }


def run_baseline(sampler: str, seed: int, budget: float, cores: str) -> dict[str, float]:
    """Run the hand-written study in a subprocess; return its best trial's test scores."""
    command = ["taskset", "-c", cores, sys.executable, __file__, "--baseline", sampler]
    command += ["--seed", str(seed), "--budget", str(budget)]
    started = time.monotonic()
    result = subprocess.run(command, capture_output=True, text=True)
    wall = time.monotonic() - started
    if result.returncode != 0:
        sys.exit(result.stderr)
    scores: dict[str, float] = json.loads(result.stdout.strip().splitlines()[-1])
    return {"wall": wall, **scores}


def hand_written_study(sampler_name: str, seed: int, budget: float) -> dict[str, float]:
    """What a user writes with Optuna alone: returns the best trial's test acc and NLL."""
    started = time.monotonic()
    import optuna
    import torch
    from ldnn_tune_image import ImageOptions, ImageTask
    from torch import nn

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    task = ImageTask(ImageOptions(), None, seed)
    task.prepare()
    split = task.split
    classes = len(task.class_names())

    def make_net(dropout: float) -> nn.Module:
        return nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.Conv2d(32, 64, 3, padding=1),
            nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Dropout(dropout),
            nn.Linear(64 * 4 * 4, 128), nn.ReLU(), nn.Dropout(dropout), nn.Linear(128, classes),
        )  # fmt: skip

    def evaluate(net: nn.Module, x: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
        net.eval()
        with torch.no_grad():
            logits = net(x)
        net.train()
        nll = nn.functional.cross_entropy(logits, y).item()
        return nll, (logits.argmax(1) == y).float().mean().item()

    def objective(trial: optuna.Trial) -> float:
        lr = trial.suggest_float("lr", 1e-4, 1e-2, log=True)
        dropout = trial.suggest_float("dropout", 0.0, 0.5)
        batch = trial.suggest_categorical("batch_size", [32, 64, 128])
        torch.manual_seed(seed * 1000 + trial.number)
        net = make_net(dropout)
        optimizer = torch.optim.Adam(net.parameters(), lr=lr)
        best_val = float("inf")
        for epoch in range(EPOCHS):
            order = torch.randperm(len(split.y_train))
            for start in range(0, len(order), batch):
                idx = order[start : start + batch]
                loss = nn.functional.cross_entropy(net(split.x_train[idx]), split.y_train[idx])
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
            val_nll, _ = evaluate(net, split.x_val, split.y_val)
            if val_nll < best_val:
                best_val = val_nll
                test_nll, test_acc = evaluate(net, split.x_test, split.y_test)
                trial.set_user_attr("test_nll", test_nll)
                trial.set_user_attr("test_acc", test_acc)
            trial.report(val_nll, epoch)
            if trial.should_prune():
                raise optuna.TrialPruned()
            if time.monotonic() - started > budget - STARTUP_MARGIN_S:
                break
        return best_val

    sampler = (
        optuna.samplers.TPESampler(seed=seed)
        if sampler_name == "tpe"
        else optuna.samplers.RandomSampler(seed=seed)
    )
    study = optuna.create_study(sampler=sampler, pruner=optuna.pruners.MedianPruner())
    remaining = budget - (time.monotonic() - started) - STARTUP_MARGIN_S
    study.optimize(objective, timeout=max(remaining, 1.0))
    best = study.best_trial
    return {
        "acc": best.user_attrs["test_acc"],
        "nll": best.user_attrs["test_nll"],
        "trials": len(study.trials),
    }


def summarise(rows: dict[str, list[dict[str, float]]]) -> None:
    """Print one table row per side: mean test acc and NLL over seeds, mean wall time."""
    print("| side | mean test acc | mean test NLL | per seed (acc/NLL) | mean wall s |")
    print("| --- | --- | --- | --- | --- |")
    for side, results in rows.items():
        acc = statistics.mean(r["acc"] for r in results)
        nll = statistics.mean(r["nll"] for r in results)
        seeds = " ".join(f"{r['acc']:.4f}/{r['nll']:.3f}" for r in results)
        wall = statistics.mean(r["wall"] for r in results)
        print(f"| {side} | {acc:.4f} | {nll:.4f} | {seeds} | {wall:.0f} |")


def main() -> None:
    """Run every side for every seed, interleaved, and print the comparison."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--budget", type=float, default=120.0)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--cores", default=",".join(map(str, sorted(os.sched_getaffinity(0)))))
    parser.add_argument("--baseline", choices=["tpe", "random"])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if args.baseline:
        print(json.dumps(hand_written_study(args.baseline, args.seed, args.budget)))
        return
    budget, cores = args.budget, args.cores
    rows: dict[str, list[dict[str, Any]]] = {
        f"ldnn-tune ensemble, {budget:.0f} s": [],
        f"ldnn-tune best single, {budget:.0f} s": [],
        f"ldnn-tune ensemble, {budget / 3:.0f} s": [],
        f"hand-written Optuna TPE + median, {budget:.0f} s": [],
        f"hand-written Optuna random + median, {budget:.0f} s": [],
    }
    sides = list(rows)
    for seed in args.seeds:
        full = run_ldnn_tune(seed, budget, cores)
        rows[sides[0]].append(full)
        rows[sides[1]].append(
            {"acc": full["single_acc"], "nll": full["single_nll"], "wall": full["wall"]}
        )
        rows[sides[2]].append(run_ldnn_tune(seed, budget / 3, cores))
        rows[sides[3]].append(run_baseline("tpe", seed, budget, cores))
        rows[sides[4]].append(run_baseline("random", seed, budget, cores))
        print(f"seed {seed}: " + "; ".join(f"{s}: {rows[s][-1]}" for s in sides), flush=True)
    print(f"\nbudget {budget:.0f} s per command, seeds {args.seeds}, cores {cores}\n")
    summarise(rows)


if __name__ == "__main__":
    main()
