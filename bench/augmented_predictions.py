"""Benchmark: test-time augmentation on digits, averaging each net's predictions over views.

A lever for issue 12's ensembles that costs no training: average a net's predicted
probabilities over shifted and rotated copies of each input, the transformations its
training augmentation draws from. For each split seed, the image task's first-trial knobs
are trained from ``--retrains`` seeds by bench/checkpoint_members.py's ``train_nets`` (20
epochs, the best epoch kept, as a trial does);
then each net and the average of a split's nets are scored on the test split with

- ``none``: the input alone (what trials and ensembles use);
- ``shift``: the input and its four one-pixel shifts (up, down, left, right);
- ``rotate``: the input and its rotations by -8 and +8 degrees;
- ``both``: the seven views above.

Borders are filled by replicating edge pixels, as the training augmentation does.

    python bench/augmented_predictions.py [--splits 0 1 2] [--retrains 5]
"""

import argparse
from collections.abc import Callable

import numpy as np
import torch
from checkpoint_members import scores, train_nets
from kornia.geometry.transform import rotate, translate

from ldnn_tune import quiet_frameworks

View = Callable[[torch.Tensor], torch.Tensor]
SHIFTS = ((1.0, 0.0), (-1.0, 0.0), (0.0, 1.0), (0.0, -1.0))
DEGREES = (-8.0, 8.0)


def shifted(dx: float, dy: float) -> View:
    """Return the view that moves images by (dx, dy) pixels."""
    return lambda x: translate(x, torch.tensor([[dx, dy]] * len(x)), padding_mode="border")


def rotated(degrees: float) -> View:
    """Return the view that rotates images by ``degrees``."""
    return lambda x: rotate(x, torch.full((len(x),), degrees), padding_mode="border")


VIEWS: dict[str, list[View]] = {
    "none": [],
    "shift": [shifted(dx, dy) for dx, dy in SHIFTS],
    "rotate": [rotated(d) for d in DEGREES],
    "both": [*(shifted(dx, dy) for dx, dy in SHIFTS), *(rotated(d) for d in DEGREES)],
}


@torch.no_grad()
def predict(net: torch.nn.Module, x: torch.Tensor, views: list[View]) -> np.ndarray:
    """Return the class probabilities averaged over ``x`` and its ``views``."""
    net.eval()
    outputs = [torch.softmax(net(view(x)), dim=-1) for view in [lambda t: t, *views]]
    return torch.stack(outputs).mean(dim=0).numpy()


def split_scores(split: int, retrains: int) -> tuple[dict[str, list[tuple[float, float]]], ...]:
    """Train a split's nets; return each view set's (acc, NLL): per net, and averaged."""
    nets_trained = train_nets(split, retrains, fsdd=None)
    x_test, targets = nets_trained[0].data.split.x_test, nets_trained[0].test_targets
    per_view = {
        name: [predict(net.module, x_test, views) for net in nets_trained]
        for name, views in VIEWS.items()
    }
    nets = {name: [scores(p, targets) for p in ps] for name, ps in per_view.items()}
    averaged = {name: [scores(np.mean(ps, axis=0), targets)] for name, ps in per_view.items()}
    return nets, averaged


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--splits", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--retrains", type=int, default=5)
    args = parser.parse_args()
    quiet_frameworks()
    nets: dict[str, list[tuple[float, float]]] = {name: [] for name in VIEWS}
    averaged: dict[str, list[tuple[float, float]]] = {name: [] for name in VIEWS}
    for split in args.splits:
        split_nets, split_average = split_scores(split, args.retrains)
        for name in VIEWS:
            nets[name] += split_nets[name]
            averaged[name] += split_average[name]
        print(
            f"split {split}: "
            + ", ".join(f"{n} {a:.4f}/{e:.4f}" for n, [(a, e)] in split_average.items())
        )
    print("views   one net (acc / NLL)   the nets of a split averaged (acc / NLL)")
    for name in VIEWS:
        one, avg = np.mean(nets[name], axis=0), np.mean(averaged[name], axis=0)
        print(f"{name:7s} {one[0]:.4f} / {one[1]:.4f}      {avg[0]:.4f} / {avg[1]:.4f}")


if __name__ == "__main__":
    main()
