import math
import time

import lightning.pytorch as pl
import numpy as np
import pytest
import torch

from ldnn_tune import RecipeModule
from ldnn_tune.recipe.hparams import HParams
from ldnn_tune.testing import BoringTask
from ldnn_tune.trial.callbacks import CutBeforeFirstEpoch
from ldnn_tune.trial.seeds import trial_seed
from ldnn_tune.trial.training import train_trial


def test_training_learns_and_keeps_the_best_epoch(task: BoringTask) -> None:
    hp = HParams.for_task(task, init="scaled", init_scale=1.0, lr=0.1, width=16)
    out = train_trial(task, hp, seed=1, max_epochs=8, min_lr=1e-9)
    assert out.val_scores["acc"] > 0.9
    assert out.best_val_loss == pytest.approx(out.val_scores["loss"], abs=1e-4)
    assert 0 <= out.best_epoch < 8


def test_same_trial_seed_reproduces_the_validation_loss(task: BoringTask) -> None:
    hp = HParams.for_task(task, dropout=0.3, init="scaled", width=16)
    first = train_trial(task, hp, seed=trial_seed(0, 5), max_epochs=3, min_lr=1e-9)
    second = train_trial(task, hp, seed=trial_seed(0, 5), max_epochs=3, min_lr=1e-9)
    assert first.best_val_loss == second.best_val_loss
    np.testing.assert_array_equal(
        first.predictions["val_predictions"], second.predictions["val_predictions"]
    )


def test_lr_is_divided_on_plateau_and_no_epoch_trains_under_the_floor(task: BoringTask) -> None:
    lrs: list[float] = []

    class RecordLr(pl.Callback):
        def on_train_epoch_start(self, trainer: pl.Trainer, module: pl.LightningModule) -> None:
            lrs.append(trainer.optimizers[0].param_groups[0]["lr"])

    # lr so small that validation loss cannot improve: every epoch is a plateau
    hp = HParams.for_task(task, lr=1e-7, lr_factor=5, lr_patience=1, width=8)
    out = train_trial(task, hp, seed=0, max_epochs=30, min_lr=1e-8, callbacks=[RecordLr()])
    assert lrs[0] == pytest.approx(1e-7)
    assert min(lrs) == pytest.approx(1e-7 / 5)  # the next division, to 4e-9, ends training
    assert len(lrs) == out.epochs_run
    assert out.stop_reason == f"lr below min_lr after {out.epochs_run} epochs"  # a count
    assert out.epochs_run < 30


def test_gradient_clipping_fires_and_is_measured(task: BoringTask) -> None:
    metrics: dict[str, float] = {}

    class Grab(pl.Callback):
        def on_train_epoch_end(self, trainer: pl.Trainer, module: pl.LightningModule) -> None:
            metrics.update({k: float(v) for k, v in trainer.callback_metrics.items()})

    hp = HParams.for_task(task, clip_norm=1e-4, init="scaled", width=8)
    train_trial(task, hp, seed=0, max_epochs=1, min_lr=1e-9, callbacks=[Grab()])
    assert metrics["clip_fraction"] == 1.0
    assert metrics["grad_norm"] > 1e-4


def test_a_deadline_mid_training_keeps_the_best_epoch_so_far(task: BoringTask) -> None:
    hp = HParams.for_task(task)
    first = train_trial(task, hp, seed=0, max_epochs=1, min_lr=1e-9)  # what an epoch costs
    assert first.epochs_run == 1
    deadline = time.time() + 3.0
    out = train_trial(task, hp, seed=0, max_epochs=100_000, min_lr=1e-12, deadline=deadline)
    assert out.stop_reason == f"timeout during epoch {out.epochs_run + 1}"  # counted from 1
    assert 0 <= out.best_epoch < out.epochs_run + 1
    assert math.isfinite(out.best_val_loss)


def test_a_deadline_before_the_first_epoch_ends_is_a_cut_not_a_verdict(task: BoringTask) -> None:
    with pytest.raises(CutBeforeFirstEpoch, match="timeout during epoch 1, before its first"):
        train_trial(task, HParams.for_task(task), 0, 5, 1e-9, deadline=time.time() - 1)


def test_own_scores_of_one_number_each_are_recorded_as_floats(
    task: BoringTask, monkeypatch: pytest.MonkeyPatch
) -> None:
    scores = {"top": torch.tensor(0.25), "n": np.int64(3)}
    monkeypatch.setattr(task, "own_scores", lambda predictions, targets: scores)
    out = train_trial(task, HParams.for_task(task), seed=0, max_epochs=1, min_lr=1e-6)
    assert out.val_scores["top"] == 0.25 and type(out.val_scores["n"]) is float
    assert out.val_scores["loss"] != 0.25


def test_own_scores_may_not_overwrite_the_loss(
    task: BoringTask, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(task, "own_scores", lambda predictions, targets: {"loss": 0.5})
    with pytest.raises(TypeError, match="own_scores\\(\\) returns 'loss', a score ldnn-tune"):
        train_trial(task, HParams.for_task(task), seed=0, max_epochs=1, min_lr=1e-6)


class NoValLoss(RecipeModule):
    """A plugin author's subclass that forgot super().on_validation_epoch_end()."""

    def on_validation_epoch_end(self) -> None:
        pass


def test_a_model_that_logs_no_val_loss_says_so_in_the_trial_s_terms(
    task: BoringTask, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = task.model
    monkeypatch.setattr(
        task, "model", lambda hp: NoValLoss(real(hp).net, hp.recipe, kind=task.kind)
    )
    with pytest.raises(ValueError, match=r"^the model logged no val_loss, which decides"):
        train_trial(task, HParams.for_task(task), seed=0, max_epochs=1, min_lr=1e-6)
