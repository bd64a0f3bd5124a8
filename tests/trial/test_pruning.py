"""The per-epoch pruning callback: it reports every epoch and asks the pruner after each."""

import math

import optuna
import pytest

from ldnn_tune.recipe.hparams import HParams
from ldnn_tune.testing import BoringTask
from ldnn_tune.trial.pruning import EpochPruning
from ldnn_tune.trial.training import TrialOutcome, train_trial


def train_watched(task: BoringTask, trial: optuna.Trial, epochs: int) -> TrialOutcome:
    """Train ``task``'s first-trial knobs for ``epochs`` with the pruning callback on ``trial``."""
    callbacks = [EpochPruning(trial, monitor="val_loss")]
    hp = HParams.for_task(task)
    return train_trial(task, hp, seed=0, max_epochs=epochs, min_lr=1e-9, callbacks=callbacks)


def test_pruning_callback_raises_trial_pruned(task: BoringTask) -> None:
    study = optuna.create_study(pruner=optuna.pruners.ThresholdPruner(upper=0.0))
    trial = study.ask()
    with pytest.raises(optuna.TrialPruned):
        train_watched(task, trial, epochs=3)
    assert math.isfinite(trial.storage.get_trial(trial._trial_id).intermediate_values[0])


class CountingPruner(optuna.pruners.BasePruner):
    """Never prunes; counts the questions."""

    def __init__(self) -> None:
        self.asked = 0

    def prune(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> bool:
        self.asked += 1
        return False


def test_every_epoch_is_reported_and_the_pruner_asked(task: BoringTask) -> None:
    pruner = CountingPruner()
    study = optuna.create_study(pruner=pruner)
    trial = study.ask()
    train_watched(task, trial, epochs=6)
    reported = study._storage.get_trial(trial._trial_id).intermediate_values
    assert sorted(reported) == list(range(6))
    assert pruner.asked == 5  # whatever each question or epoch costs; not after the last


def test_a_trial_that_trained_to_the_end_is_not_pruned(task: BoringTask) -> None:
    study = optuna.create_study(pruner=optuna.pruners.ThresholdPruner(upper=0.0))
    outcome = train_watched(task, study.ask(), epochs=1)  # the pruner would prune it
    assert math.isfinite(outcome.best_val_loss)
