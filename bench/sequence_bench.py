"""Reproduce the article's sequence experiments at CPU scale; write bench/results/sequence.md.

Run from the repository root (about 19 minutes on 2 CPU cores shared with other work)::

    . .venv/bin/activate && PYTHONPATH=bench python bench/sequence_bench.py [--scale 0.5]

``--scale`` multiplies every wall-clock budget. Each row trains one model with the search
space's default recipe (SGD + momentum 0.9, lr 0.1, clip 10) unless the row says otherwise,
keeps the best-validation epoch and scores it on the separately drawn test set.
"""

import argparse
import os
import platform
import time
from collections.abc import Callable
from pathlib import Path

import torch
from ldnn_tune_sequence import SequenceOptions
from sequence_common import (
    RESULTS,
    Result,
    budget_text,
    position_accuracy,
    run,
    sequence_accuracy,
    solved,
)

SHAKESPEARE = Path("/work/shared/data/tinyshakespeare/input.txt")
Row = tuple[str, str, str, str]
rows: list[Row] = []


def record(experiment: str, setup: str, result: Result, score: str) -> None:
    rows.append((experiment, setup, budget_text(result), score))
    print(" | ".join(rows[-1]), flush=True)
    write_table()


def write_table() -> None:
    head = [
        "# Sequence task: the article's experiments at CPU scale",
        "",
        f"Machine: {os.cpu_count()} CPU cores ({platform.processor() or platform.machine()}), "
        f"torch {torch.__version__}, {torch.get_num_threads()} threads; shared with other work, "
        "so step counts are what a busy laptop-class CPU gets. Reproduce with "
        "`PYTHONPATH=bench python bench/sequence_bench.py`.",
        "Scores are on the test set, drawn separately from training and validation, with the",
        "best-validation-epoch weights. Default recipe: SGD momentum 0.9, lr 0.1, clip 10,",
        "lazy init (0.02), batch 128 unless stated.",
        "",
        "| experiment | setup | budget | test score |",
        "|---|---|---|---|",
    ]
    body = [f"| {' | '.join(row)} |" for row in rows]
    RESULTS.write_text("\n".join(head + body) + "\n", encoding="utf-8")


def sort_mlp(scale: float) -> None:
    opts = SequenceOptions(problem="sort", model="mlp", train_size=100_000, eval_size=2_000)
    result = run(opts, {"hidden": 1024}, 90 * scale)
    score = (
        f"per-position acc {position_accuracy(result):.3f}, "
        f"whole-sequence acc {sequence_accuracy(result):.3f}"
    )
    record("sort 10 6-bit numbers", "mlp 2x1024 ReLU", result, score)


def parity_mlp(scale: float) -> None:
    for bits in (10, 16, 25):
        opts = SequenceOptions(problem="parity", model="mlp", bits=bits, train_size=100_000)
        result = run(opts, {"hidden": 1024}, 40 * scale)
        score = f"acc {result.outcome.test_scores['acc']:.3f} (chance 0.5)"
        record(f"parity {bits} bits", "mlp 2x1024 ReLU", result, score)


def adding(scale: float) -> None:
    opts = SequenceOptions(length=100, train_size=2_000, eval_size=1_000)
    for forget_bias in (0.0, 1.0, 5.0):
        for seed in (0, 1):
            params = {"hidden": 64, "forget_bias": forget_bias, "batch_size": 64}
            result = run(opts, params, 50 * scale, seed=seed)
            score = (
                f"solved {solved(result):.3f}, MSE {result.outcome.test_scores['mse']:.4f} "
                "(mean baseline 0.167)"
            )
            setup = f"lstm 64, forget_bias {forget_bias:g}, seed {seed}, batch 64"
            record("adding T=100", setup, result, score)


def text(scale: float) -> None:
    text_run(scale, {}, 180, "")


def text_scaled(scale: float) -> None:
    text_run(scale, {"init": "scaled", "init_scale": 1.0, "lr": 0.5}, 100, ", scaled init, lr 0.5")


def text_run(scale: float, extra: dict[str, object], seconds: float, label: str) -> None:
    opts = SequenceOptions(problem="text", length=64, text_chars=400_000)
    params = {"hidden": 256, "batch_size": 64, **extra}
    result = run(opts, params, seconds * scale, data_dir=SHAKESPEARE)
    loss = result.outcome.test_scores["loss"]
    score = (
        f"val {result.outcome.best_val_loss:.3f} nats/char, test {loss:.3f} "
        "(nanoGPT tiny char transformer, few CPU minutes: ~1.88 val)"
    )
    setup = f"lstm 256, window 64, batch 64, first 400k chars{label}"
    record("tinyshakespeare char LM", setup, result, score)


EXPERIMENTS: dict[str, Callable[[float], None]] = {
    "sort": sort_mlp,
    "parity": parity_mlp,
    "adding": adding,
    "text": text,
    "text_scaled": text_scaled,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every time budget")
    parser.add_argument("--only", choices=sorted(EXPERIMENTS), action="append")
    args = parser.parse_args()
    start = time.monotonic()
    for name in args.only or list(EXPERIMENTS):
        EXPERIMENTS[name](args.scale)
    print(f"total {time.monotonic() - start:.0f} s")


if __name__ == "__main__":
    main()
