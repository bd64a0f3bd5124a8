"""A toy study with MLflow runs, made without training: knobs, curves and ratios.

Shared by the report's tests (MLflow's store takes seconds to create).
"""

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from ldnn_tune.names import EPOCHS_RUN_ATTR, PARENT_RUN_ATTR, REASON_ATTR, TRIAL_RUN_ATTR
from ldnn_tune.tracking import StudyTracker

PARENT_PARAMS = {
    "task": "toy",
    "sampler": "random",
    "pruner": "median",
    "seed": 0,
    "epochs": 3,
    "option.size": 2,
}


@dataclass
class Toy:
    study: optuna.Study
    tracker: StudyTracker
    parent: str
    storage: str
    mlflow: str


def make_toy(
    folder: Path,
    complete: int = 6,
    pruned: int = 2,
    name: str = "toy",
    mlflow_folder: Path | None = None,
) -> Toy:
    """Return study ``name`` in ``folder`` with ``complete`` then ``pruned`` trials.

    Its MLflow store is ``mlflow.db`` in ``mlflow_folder`` (default: ``folder``).
    """
    storage = f"sqlite:///{folder / 'ldnn_tune.db'}"
    mlflow = f"sqlite:///{(mlflow_folder or folder) / 'mlflow.db'}"
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    tracker = StudyTracker(mlflow, name)
    study = optuna.create_study(
        study_name=name, storage=storage, sampler=optuna.samplers.RandomSampler(0)
    )
    parent = tracker.open_parent_run(None, name, {**PARENT_PARAMS, "storage": storage})
    study.set_user_attr(PARENT_RUN_ATTR, parent)
    for index in range(complete + pruned):
        add_trial(study, tracker, parent, prune=index >= complete)
    return Toy(study, tracker, parent, storage, mlflow)


def add_trial(study: optuna.Study, tracker: StudyTracker, parent: str, prune: bool) -> None:
    """Add one trial: three knobs, a val_loss and ratio per epoch, COMPLETE or PRUNED."""
    trial = study.ask()
    lr = trial.suggest_float("lr", 1e-3, 1.0, log=True)
    width = trial.suggest_int("width", 4, 64)
    trial.suggest_categorical("init", ["lazy", "scaled"])
    run = tracker.start_trial_run(parent, trial.number, {})
    trial.set_user_attr(TRIAL_RUN_ATTR, run)
    epochs = 1 if prune else 3
    loss = 0.0
    for epoch in range(epochs):
        loss = abs(math.log10(lr) + 1) + 4 / width + 1 / (epoch + 1)
        trial.report(loss, epoch)
        tracker.log_metrics(
            run, {"val_loss": loss, "update_ratio_median": lr * 1e-2 / (epoch + 1)}, epoch
        )
    if prune:
        trial.set_user_attr(REASON_ATTR, "pruned by the median rule")
        study.tell(trial, state=TrialState.PRUNED)
        tracker.end_trial_run(run, "PRUNED", "pruned by the median rule")
        return
    trial.set_user_attr("val_acc", 1 / (1 + loss))
    trial.set_user_attr("test_acc", 0.9 / (1 + loss))
    trial.set_user_attr(EPOCHS_RUN_ATTR, epochs)
    study.tell(trial, loss)
    tracker.end_trial_run(run, "COMPLETE")


@pytest.fixture(scope="session")
def toy(tmp_path_factory: pytest.TempPathFactory) -> Toy:
    """Return a toy study of 6 complete and 2 pruned trials with its MLflow runs."""
    return make_toy(Path(tmp_path_factory.mktemp("toy")))


@pytest.fixture
def new_toy(tmp_path: Path) -> Callable[..., Toy]:
    """Return a maker of a fresh toy study in this test's folder (once per test)."""
    return lambda **kw: make_toy(tmp_path, **kw)


@pytest.fixture
def toy_in() -> Callable[..., Toy]:
    """Return the maker of a toy study in a folder of the test's choosing."""
    return make_toy
