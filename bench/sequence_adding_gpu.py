"""The adding problem at T=100 with forget-gate bias 0 vs 1 vs 5, long enough to matter.

On the CPU a T=100 LSTM gets ~2 steps/s here, too few for any bias to leave the
mean-prediction baseline (results/sequence.md); this runs the same comparison where a GPU
gives thousands of steps. Run from the repository root::

    PYTHONPATH=bench python bench/sequence_adding_gpu.py [--seconds 40] [--seeds 0 1 2]

Writes results/sequence_adding_gpu.md. Baseline: always predicting the mean (MSE ~0.167).
"""

import argparse
import statistics

import torch
from ldnn_tune_sequence import SequenceOptions
from sequence_common import ADDING_RECIPE as RECIPE
from sequence_common import RESULTS, run, solved

OUT = RESULTS.with_name("sequence_adding_gpu.md")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=40.0)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = parser.parse_args()
    device = torch.cuda.get_device_name() if torch.cuda.is_available() else "CPU"
    lines = [
        "# Adding problem, T=100: forget-gate bias 0 vs 1 vs 5",
        "",
        f"Device: {device}; {args.seconds:g} s of training per run; LSTM {RECIPE['hidden']}, "
        f"batch {RECIPE['batch_size']}, SGD momentum 0.9, lr 0.5, scaled init, clip 10; "
        "20,000 training sequences, 1,000 test. Solved: |error| < 0.04. "
        "Mean-prediction baseline: MSE 0.167.",
        "",
        "| forget bias | seed | steps | test MSE | solved |",
        "| --- | --- | --- | --- | --- |",
    ]
    summary = []
    for bias in (0.0, 1.0, 5.0):
        solved_fractions = []
        for seed in args.seeds:
            options = SequenceOptions(length=100, train_size=20_000, eval_size=1_000)
            result = run(options, {**RECIPE, "forget_bias": bias}, args.seconds, seed=seed)
            fraction = solved(result)
            solved_fractions.append(fraction)
            mse = result.outcome.test_scores["mse"]
            lines.append(f"| {bias:g} | {seed} | {result.steps} | {mse:.4f} | {fraction:.3f} |")
            print(lines[-1], flush=True)
        summary.append(f"| {bias:g} | {statistics.mean(solved_fractions):.3f} |")
    lines += ["", "| forget bias | mean solved fraction |", "| --- | --- |", *summary]
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
