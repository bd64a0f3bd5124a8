"""Benchmark: checkpoints from several epochs as ensemble members, on digits or FSDD.

Issue 12 lists "checkpoints from several epochs" among the levers for ensembles. For each
split seed, the task's first-trial knobs are trained from ``--retrains`` seeds, 20 epochs
each, and every epoch's weights and test predictions are kept: the image task (digits), or
with ``--fsdd DIR`` the speech task on FSDD with unseen speakers (``split=speaker
synth_speakers=120``, as bench/results/speech_speakers_cpu.md's studies). Compared on the
test split, with the same nets in the same run:

- one net at its best epoch (the lowest validation loss: what a trial kept before
  ``average_epochs``), against the average of the predictions of its ``k`` best epochs by
  validation loss, and of its last five; and against one net whose weights are the average
  of the ``k`` best epochs' weights: always, and only when that lowers the validation loss
  (what a trial does with ``average_epochs=k``);
- the average of all the nets at their best epochs (what ``ensemble=seeds`` averages, before
  its admission check and temperature), against the average of each net's ``k`` best epochs.

    python bench/checkpoint_members.py [--splits 0 1 2] [--retrains 5] [--fsdd DIR]
"""

import argparse
import copy
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import numpy as np
import torch
from ldnn_tune_image import ImageOptions, ImageTask
from ldnn_tune_speech import SpeechOptions, SpeechTask
from torch.optim.swa_utils import update_bn

from ldnn_tune import HParams, Task, TaskKind, quiet_frameworks
from ldnn_tune.recipe.metrics import score
from ldnn_tune.trial.averaging import average_states, keep_average_if_better
from ldnn_tune.trial.predictions import predict_loader
from ldnn_tune.trial.training import train_trial

TOPS = (1, 2, 3, 5)


class EveryEpoch(pl.Callback):
    """Keeps each epoch's validation loss, weights and test predictions."""

    def __init__(self) -> None:
        self.losses: list[float] = []
        self.test: list[np.ndarray] = []
        self.states: list[dict[str, torch.Tensor]] = []
        self.test_targets = np.zeros(0)
        self.module: Any = None
        self.data: Any = None

    def on_validation_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.module, self.data = pl_module, trainer.datamodule  # type: ignore[attr-defined]
        predictions, self.test_targets = predict_loader(pl_module, self.data.test_dataloader())
        self.test.append(predictions)
        self.states.append(copy.deepcopy(pl_module.state_dict()))
        self.losses.append(float(trainer.callback_metrics["val_loss"]))

    def averaged_weights(self, k: int, guarded: bool) -> np.ndarray:
        """Return the test predictions of the ``k`` best epochs' weights averaged.

        ``guarded``: only when the average lowers the validation loss, as a trial does.
        """
        order = np.argsort(self.losses)[:k]
        states = [self.states[i] for i in order]
        if guarded:
            self.module.load_state_dict(states[0])
            val, train = self.data.val_dataloader(), self.data.train_dataloader()
            keep_average_if_better(self.module, states, self.losses[order[0]], val, train)
        else:  # as keep_average_if_better does it, kept whatever the validation loss
            self.module.load_state_dict(average_states(states))
            update_bn(self.data.train_dataloader(), self.module, device=self.module.device)
        return predict_loader(self.module, self.data.test_dataloader())[0]

    def best(self, k: int) -> np.ndarray:
        """Return the average test prediction of the ``k`` epochs with the lowest val loss."""
        order = np.argsort(self.losses)[:k]
        return np.asarray(np.mean([self.test[i] for i in order], axis=0))

    def last(self, k: int) -> np.ndarray:
        """Return the average test prediction of the last ``k`` epochs."""
        return np.asarray(np.mean(self.test[-k:], axis=0))


def scores(probabilities: np.ndarray, targets: np.ndarray) -> tuple[float, float]:
    """Return (accuracy, negative log-likelihood) of class ``probabilities``, as trials do."""
    scored = score(TaskKind.CLASSIFICATION, probabilities, targets)
    return scored["acc"], scored["loss"]


def make_task(split: int, fsdd: Path | None) -> Task[Any]:
    """Return the prepared image task, or the speech task on FSDD when ``fsdd`` is given."""
    task: Task[Any] = ImageTask(ImageOptions(), None, split)
    if fsdd is not None:
        options = SpeechOptions(split="speaker", synth_speakers=120)
        task = SpeechTask(options, fsdd, split)
    task.prepare()
    return task


def train_nets(split: int, retrains: int, fsdd: Path | None) -> list[EveryEpoch]:
    """Train the first-trial knobs of split ``split`` from ``retrains`` seeds."""
    task = make_task(split, fsdd)
    hp = HParams.for_task(task)
    nets = []
    for seed in range(retrains):
        kept = EveryEpoch()
        train_trial(
            task, hp, seed=1000 * split + seed, max_epochs=20, min_lr=1e-4, callbacks=[kept]
        )
        nets.append(kept)
    return nets


def mean_row(rows: list[dict[str, tuple[float, float]]], key: str) -> str:
    """Return '<acc> / <nll>' of ``key`` averaged over ``rows``."""
    acc = np.mean([row[key][0] for row in rows])
    nll = np.mean([row[key][1] for row in rows])
    return f"{acc:.4f} / {nll:.4f}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--splits", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--retrains", type=int, default=5)
    parser.add_argument("--fsdd", type=Path, help="FSDD's recordings: the speech task")
    args = parser.parse_args()
    quiet_frameworks()
    singles: list[dict[str, tuple[float, float]]] = []
    ensembles: list[dict[str, tuple[float, float]]] = []
    for split in args.splits:
        nets = train_nets(split, args.retrains, args.fsdd)
        targets = nets[0].test_targets
        for net in nets:
            predictions = {f"best {k} epochs": net.best(k) for k in TOPS}
            predictions["last 5 epochs"] = net.last(5)
            for k in TOPS[1:]:
                predictions[f"weights of best {k}"] = net.averaged_weights(k, guarded=False)
                predictions[f"weights of best {k}, if val"] = net.averaged_weights(k, guarded=True)
            singles.append({name: scores(p, targets) for name, p in predictions.items()})
        row = {
            f"{len(nets)} nets x best {k} epochs": scores(
                np.mean([net.best(k) for net in nets], axis=0), targets
            )
            for k in TOPS
        }
        ensembles.append(row)
        print(f"split {split}: " + ", ".join(f"{k} {a:.4f}/{n:.4f}" for k, (a, n) in row.items()))
    print(f"one net (mean of {len(singles)}), test acc / NLL:")
    for key in singles[0]:
        print(f"  {key:28s} {mean_row(singles, key)}")
    print(f"the nets of a split averaged (mean of {len(ensembles)} splits), test acc / NLL:")
    for key in ensembles[0]:
        print(f"  {key:28s} {mean_row(ensembles, key)}")


if __name__ == "__main__":
    main()
