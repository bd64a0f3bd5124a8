"""One trial through Objective, with a real SQLite study and a real MLflow store."""

from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import numpy as np
import optuna
import pytest
from mlflow.tracking import MlflowClient
from optuna.trial import TrialState
from rich.console import Console

import ldnn_tune.trial.objective
from ldnn_tune import hookimpl
from ldnn_tune.config.settings import RunConfig
from ldnn_tune.console.progress import StudyProgress
from ldnn_tune.console.quiet import quiet_frameworks
from ldnn_tune.names import RESEED_OF_ATTR, TRIAL_RUN_ATTR
from ldnn_tune.plugin.manager import Host, get_plugin_manager
from ldnn_tune.space.load import load_space, space_file
from ldnn_tune.study.loop import carrying_stops, optimize_one
from ldnn_tune.testing import BoringOptions, BoringTask
from ldnn_tune.tracking import StudyTracker
from ldnn_tune.trial.objective import Objective


def make_objective(tmp_path: Path, space_text: str = "") -> tuple[Objective, StudyTracker]:
    quiet_frameworks()
    task = BoringTask(BoringOptions(), None, seed=0)
    task.prepare()
    sources = [space_file("recipe.yaml"), task.search_space()]
    overrides = []  # the user's space file
    if space_text:
        (tmp_path / "extra.yaml").write_text(space_text)
        overrides.append(tmp_path / "extra.yaml")
    tracker = StudyTracker(f"sqlite:///{tmp_path / 'mlflow.db'}", "objective-test")
    parent = tracker.open_parent_run(None, "objective-test", {})
    config = RunConfig(task="boring", epochs=3)
    progress = StudyProgress(Console(quiet=True), total_trials=1, already_done=0)
    objective = Objective(
        config,
        task,
        load_space(sources, overrides=overrides),
        Host(get_plugin_manager()),
        tracker,
        parent,
        progress,
    )
    return objective, tracker


def run_state(tracker: StudyTracker, trial: optuna.trial.FrozenTrial) -> tuple[str, dict]:  # type: ignore[type-arg]
    run = MlflowClient(tracker.uri).get_run(trial.user_attrs[TRIAL_RUN_ATTR])
    return run.info.status, run.data.tags


def test_pruned_trial_is_recorded_as_pruned_in_optuna_and_mlflow(tmp_path: Path) -> None:
    objective, tracker = make_objective(tmp_path)
    study = optuna.create_study(
        storage=f"sqlite:///{tmp_path / 'study.db'}",
        pruner=optuna.pruners.ThresholdPruner(upper=0.0),
    )
    study.optimize(objective, n_trials=1)
    trial = study.trials[0]
    assert trial.state == optuna.trial.TrialState.PRUNED
    assert trial.user_attrs["reason"].startswith("pruned after 1 epoch: val_loss ")
    status, tags = run_state(tracker, trial)
    assert status == "FINISHED"  # KILLED means the user stopped it
    assert tags["optuna.state"] == "PRUNED"
    # the epoch it was pruned after is in MLflow too, as each epoch of a complete trial
    assert logged_epochs(tracker, trial, "val_loss") == trial.intermediate_values
    assert logged_epochs(tracker, trial, "train_loss").keys() == {0}


def logged_epochs(
    tracker: StudyTracker, trial: optuna.trial.FrozenTrial, metric: str
) -> dict[int, float]:
    """Return ``metric``'s value at each epoch of ``trial``'s MLflow run."""
    history = MlflowClient(tracker.uri).get_metric_history(trial.user_attrs[TRIAL_RUN_ATTR], metric)
    return {m.step: m.value for m in history}


def test_a_trial_stopped_as_unhealthy_says_which_epoch_and_logs_it(tmp_path: Path) -> None:
    frozen = "lr: {type: float, low: 1.0e-12, high: 1.0e-11, log: true, default: 1.0e-12}\n"
    objective, tracker = make_objective(tmp_path, frozen)
    study = optuna.create_study(storage=f"sqlite:///{tmp_path / 'study.db'}")
    study.optimize(objective, n_trials=1)
    trial = study.trials[0]
    assert trial.state == optuna.trial.TrialState.PRUNED
    assert trial.user_attrs["reason"].endswith("for all of epoch 1")  # as the epochs column
    assert logged_epochs(tracker, trial, "val_loss").keys() == {0}
    assert logged_epochs(tracker, trial, "update_ratio_median").keys() == {0}
    # a retrain of those knobs is an ensemble member: it trains on to the end
    study.enqueue_trial(trial.params, user_attrs={RESEED_OF_ATTR: trial.number})
    study.optimize(objective, n_trials=1)
    retrain = study.trials[1]
    assert retrain.state == optuna.trial.TrialState.COMPLETE  # (its LR under min_lr: 1 epoch)
    assert "update/weight" not in str(retrain.user_attrs.get("reason"))


def test_diverging_trial_is_pruned_with_its_reason_and_the_study_goes_on(tmp_path: Path) -> None:
    huge_lr = "lr: {type: float, low: 1.0e+20, high: 1.0e+30, log: true, default: 1.0e+25}\n"
    huge_lr += "clip_norm: {type: float, low: 1.0e+30, high: 1.0e+31, default: 1.0e+30}\n"
    objective, tracker = make_objective(tmp_path, huge_lr)
    study = optuna.create_study(storage=f"sqlite:///{tmp_path / 'study.db'}")
    study.optimize(objective, n_trials=2)
    assert [t.state for t in study.trials] == [optuna.trial.TrialState.PRUNED] * 2
    assert study.trials[0].user_attrs["reason"].startswith("diverged")
    _, tags = run_state(tracker, study.trials[0])
    assert tags["ldnn_tune.reason"].startswith("diverged")


def test_failed_trial_ends_its_mlflow_run_as_failed(tmp_path: Path) -> None:
    objective, tracker = make_objective(tmp_path)

    def broken(*args: object) -> None:
        raise RuntimeError("boom")

    objective.task.datamodule = broken  # type: ignore[method-assign,assignment]
    study = optuna.create_study(storage=f"sqlite:///{tmp_path / 'study.db'}")
    with pytest.raises(RuntimeError, match="boom"):
        study.optimize(objective, n_trials=1)
    status, tags = run_state(tracker, study.trials[0])
    assert status == "FAILED" and tags["optuna.state"] == "FAIL"
    assert "boom" in tags["ldnn_tune.reason"]


class FailTheTrialMeanwhile(pl.Callback):
    """What another worker does to a paused one's trial: fail it in the storage."""

    def __init__(self, study: optuna.Study) -> None:
        self.study = study

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        running = self.study.get_trials(states=(optuna.trial.TrialState.RUNNING,))
        self.study._storage.set_trial_state_values(running[0]._trial_id, TrialState.FAIL)


def test_a_trial_another_worker_took_over_is_discarded_and_the_study_goes_on(
    tmp_path: Path,
) -> None:
    objective, tracker = make_objective(tmp_path)
    study = optuna.create_study(storage=f"sqlite:///{tmp_path / 'study.db'}")

    class Meanwhile:
        @hookimpl
        def ldnn_tune_trial_callbacks(self, task: object, hp: object) -> list[pl.Callback]:
            return [FailTheTrialMeanwhile(study)]

    objective.host = Host(get_plugin_manager((Meanwhile(),)))
    optimize_one(study, carrying_stops(objective))  # no "Cannot tell a FAIL trial"
    trial = study.trials[0]
    assert trial.state == TrialState.FAIL and "val_acc" not in trial.user_attrs
    status, tags = run_state(tracker, trial)
    assert status == "FAILED" and tags["ldnn_tune.reason"].startswith("taken over")


def test_a_trial_whose_kept_net_predicts_nan_is_pruned_not_complete(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a net that turns to NaN after its best epoch: its val_loss is finite, its
    # predictions are not, and an ensemble of it would fail
    real = ldnn_tune.trial.objective.train_trial

    def nan_predictions(*args: Any, **kwargs: Any) -> Any:
        outcome = real(*args, **kwargs)
        outcome.predictions["test_predictions"] = outcome.predictions["test_predictions"] * np.nan
        return outcome

    monkeypatch.setattr(ldnn_tune.trial.objective, "train_trial", nan_predictions)
    objective, tracker = make_objective(tmp_path)
    study = optuna.create_study(storage=f"sqlite:///{tmp_path / 'study.db'}")
    study.optimize(objective, n_trials=1)
    trial = study.trials[0]
    assert trial.state == TrialState.PRUNED
    assert trial.user_attrs["reason"] == "diverged: its kept net predicts NaN or infinity"
    assert run_state(tracker, trial)[1]["ldnn_tune.reason"] == trial.user_attrs["reason"]


def test_a_study_deleted_as_its_trial_opens_its_run_leaves_no_run_running(
    tmp_path: Path,
) -> None:
    """The study is deleted between the trial's MLflow run and its first user attribute."""
    objective, tracker = make_objective(tmp_path)
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    study = optuna.create_study(study_name="gone", storage=storage)
    start_run = tracker.start_trial_run
    started: list[str] = []

    def start_then_delete(*args: Any, **kwargs: Any) -> str:
        started.append(start_run(*args, **kwargs))
        optuna.delete_study(study_name="gone", storage=storage)
        return started[-1]

    tracker.start_trial_run = start_then_delete  # type: ignore[method-assign]
    trial = study.ask()
    with pytest.raises(Exception):  # noqa: B017 (Optuna's "does not exist" error)
        objective(trial)
    run = MlflowClient(tracker.uri).get_run(started[0])
    assert run.info.status == "FAILED"
    assert run.data.tags["ldnn_tune.reason"].startswith("not started: ")


def test_a_knob_a_space_file_removed_is_recorded_at_the_value_it_trained_with(
    tmp_path: Path,
) -> None:
    objective, tracker = make_objective(tmp_path, "momentum: null\n")
    study = optuna.create_study(pruner=optuna.pruners.ThresholdPruner(upper=0.0))
    study.optimize(objective, n_trials=1)  # pruned: no hparams.json, the params alone tell
    trial = study.trials[0]
    assert "momentum" not in trial.params  # not searched
    params = MlflowClient(tracker.uri).get_run(trial.user_attrs[TRIAL_RUN_ATTR]).data.params
    assert params["momentum"] == "0.9"  # the recipe's default, as it trained
