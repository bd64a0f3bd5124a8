"""The article's sequence experiments with a GPU's budget: adding T=200, parity, sort, text.

Each call trains one model for about ``--seconds`` of wall time with the task's recipe and
the setup below, keeps the best-validation epoch and scores it on the separately drawn test
set; it writes one JSON file to ``--out``. Run several calls side by side on one GPU (the
device script bench/device_run.sh does), then ``--table DIR`` prints the markdown table
that results/article_gpu.md holds::

    PYTHONPATH=bench python bench/article_gpu.py adding --length 200 --seed 0 --out runs
    PYTHONPATH=bench python bench/article_gpu.py --table runs

Baselines: the adding problem's mean prediction (MSE 0.167, about 7% "solved"), chance
for parity (0.5) and sort (1/64 a position), nanoGPT's 1.88 nats/char for text.
"""

import argparse
import json
from pathlib import Path
from typing import Any

import torch
from ldnn_tune_sequence import SequenceOptions
from sequence_common import (
    ADDING_RECIPE,
    Result,
    position_accuracy,
    run,
    sequence_accuracy,
    solved,
)

ADDING = {**ADDING_RECIPE, "forget_bias": 1.0}
BIG = 1_000_000  # generated training examples of the feed-forward problems


def adding(args: argparse.Namespace) -> tuple[str, Result, dict[str, float]]:
    """Adding problem at T=``--length``: LSTM 128, scaled init, lr 0.5, forget bias 1."""
    options = SequenceOptions(length=args.length, train_size=20_000, eval_size=1_000)
    result = run(options, ADDING, args.seconds, seed=args.seed)
    scores = {"solved": solved(result), "mse": result.outcome.test_scores["mse"]}
    return f"adding T={args.length}, seed {args.seed}, lstm 128", result, scores


def parity(args: argparse.Namespace) -> tuple[str, Result, dict[str, float]]:
    """Parity of ``--bits`` bits with the article's two-hidden-layer net."""
    options = SequenceOptions(
        problem="parity", model="mlp", bits=args.bits, train_size=args.train, eval_size=10_000
    )
    result = run(options, {"hidden": args.hidden}, args.seconds, seed=args.seed)
    scores = {"acc": result.outcome.test_scores["acc"]}
    return f"parity {args.bits} bits, mlp 2x{args.hidden}", result, scores


def sort(args: argparse.Namespace) -> tuple[str, Result, dict[str, float]]:
    """Sorting 10 six-bit numbers with the article's two-hidden-layer net."""
    options = SequenceOptions(problem="sort", model="mlp", train_size=args.train, eval_size=10_000)
    result = run(options, {"hidden": args.hidden}, args.seconds, seed=args.seed)
    scores = {"position_acc": position_accuracy(result), "sequence_acc": sequence_accuracy(result)}
    return f"sort 10 6-bit numbers, mlp 2x{args.hidden}", result, scores


def text(args: argparse.Namespace) -> tuple[str, Result, dict[str, float]]:
    """Character LM on ``--data``: LSTM ``--layers`` x ``--hidden``, window ``--length``."""
    options = SequenceOptions(problem="text", length=args.length)
    params: dict[str, Any] = {
        "hidden": args.hidden,
        "layers": args.layers,
        "batch_size": 128,
        "init": "scaled",
        "init_scale": 1.0,
        "lr": args.lr,
        "clip_norm": 5.0,
        "forget_bias": 1.0,
    }
    result = run(options, params, args.seconds, seed=args.seed, data_dir=args.data)
    outcome = result.outcome
    scores = {"val_nats": outcome.best_val_loss, "test_nats": outcome.test_scores["loss"]}
    setup = f"text, lstm {args.layers}x{args.hidden}, window {args.length}, lr {args.lr:g}"
    return setup, result, scores


EXPERIMENTS = {"adding": adding, "parity": parity, "sort": sort, "text": text}


def table(folder: Path) -> str:
    """Return the markdown table of every JSON result in ``folder``."""
    rows = [json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))]
    lines = [
        "| setup | device | wall | steps | epochs | test scores |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        scores = ", ".join(f"{k} {v:.4f}" for k, v in r["scores"].items())
        lines.append(
            f"| {r['setup']} | {r['device']} | {r['seconds']:.0f} s | {r['steps']} | "
            f"{r['epochs']} | {scores} |"
        )
    return "\n".join(lines)


def main() -> None:
    """Run one experiment and write its JSON, or write the table of a folder of them."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("experiment", nargs="?", choices=sorted(EXPERIMENTS))
    parser.add_argument("--seconds", type=float, default=300.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--length", type=int, default=200)
    parser.add_argument("--bits", type=int, default=25)
    parser.add_argument("--hidden", type=int, default=1024)
    parser.add_argument("--train", type=int, default=BIG, help="training examples (mlp problems)")
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--lr", type=float, default=0.5)
    parser.add_argument("--data", type=Path)
    parser.add_argument("--out", type=Path, default=Path("article_runs"))
    parser.add_argument("--table", type=Path, help="write results/article_gpu.md from DIR")
    args = parser.parse_args()
    if args.table:
        print(table(args.table))
        return
    if args.experiment is None:
        parser.error("give an experiment or --table DIR")
    setup, result, scores = EXPERIMENTS[args.experiment](args)
    device = torch.cuda.get_device_name() if torch.cuda.is_available() else "CPU"
    record = {
        "setup": setup,
        "device": device,
        "seconds": result.seconds,
        "steps": result.steps,
        "epochs": result.epochs,
        "scores": scores,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    size = f"{args.layers}x{args.hidden}"
    name = f"{args.experiment}-{args.length}-{args.bits}-{size}-{args.lr:g}-{args.seed}"
    (args.out / f"{name}.json").write_text(json.dumps(record), encoding="utf-8")
    print(json.dumps(record), flush=True)


if __name__ == "__main__":
    main()
