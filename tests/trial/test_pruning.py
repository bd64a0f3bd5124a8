"""The per-epoch pruning callback: it reports every epoch and asks the pruner when it pays."""

import math
import time

import optuna
import pytest

from ldnn_tune.recipe.hparams import HParams
from ldnn_tune.testing import BoringTask
from ldnn_tune.trial.pruning import EpochPruning
from ldnn_tune.trial.training import train_trial


def test_pruning_callback_raises_trial_pruned(task: BoringTask) -> None:
    study = optuna.create_study(pruner=optuna.pruners.ThresholdPruner(upper=0.0))
    trial = study.ask()
    with pytest.raises(optuna.TrialPruned):
        train_trial(
            task,
            HParams.for_task(task),
            seed=0,
            max_epochs=3,
            min_lr=1e-9,
            callbacks=[EpochPruning(trial, monitor="val_loss")],
        )
    assert math.isfinite(trial.storage.get_trial(trial._trial_id).intermediate_values[0])


class CountingPruner(optuna.pruners.BasePruner):
    """Never prunes; each question takes ``seconds``."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.asked = 0

    def prune(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> bool:
        self.asked += 1
        time.sleep(self.seconds)
        return False


@pytest.mark.parametrize(("seconds", "share", "asked"), [(0.0, 1.0, 6), (0.5, 0.05, 1)])
def test_every_epoch_is_reported_and_costly_checks_are_spaced(
    task: BoringTask, seconds: float, share: float, asked: int
) -> None:
    pruner = CountingPruner(seconds)
    study = optuna.create_study(pruner=pruner)
    trial = study.ask()
    train_trial(
        task,
        HParams.for_task(task),
        seed=0,
        max_epochs=6,
        min_lr=1e-9,
        callbacks=[EpochPruning(trial, monitor="val_loss", share=share)],
    )
    reported = study._storage.get_trial(trial._trial_id).intermediate_values
    assert sorted(reported) == list(range(6))
    # a check that costs next to nothing runs after every epoch (an epoch takes longer);
    # one that costs 0.5 s at a 5% share waits for 10 s of training, more than 6 epochs
    assert pruner.asked == asked
