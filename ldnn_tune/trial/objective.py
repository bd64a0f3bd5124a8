"""One trial: sample the knobs, train with the host's callbacks, record everything."""

import io
import json
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import optuna
from optuna_integration import PyTorchLightningPruningCallback

from ldnn_tune.config.settings import RunConfig
from ldnn_tune.console.progress import StudyProgress
from ldnn_tune.health.monitor import HealthBand, HealthMonitor
from ldnn_tune.names import (
    BEST_EPOCH_ATTR,
    EPOCHS_RUN_ATTR,
    HPARAMS_ARTIFACT,
    PREDICTIONS_ARTIFACT,
    REASON_ATTR,
    SEED_ATTR,
    STOP_REASON_ATTR,
    TASK_TAG,
    TRIAL_RUN_ATTR,
    WEIGHTS_ARTIFACT,
)
from ldnn_tune.plugin.manager import Host
from ldnn_tune.plugin.task import Task
from ldnn_tune.recipe.hparams import HParams
from ldnn_tune.space.knobs import SearchSpace
from ldnn_tune.tracking import StudyTracker
from ldnn_tune.trial.callbacks import EpochEndHook
from ldnn_tune.trial.seeds import trial_seed
from ldnn_tune.trial.training import TrialOutcome, train_trial


@dataclass
class Objective:
    """The callable ``study.optimize`` runs; returns the best validation loss of a trial."""

    config: RunConfig
    task: Task[Any]
    space: SearchSpace
    host: Host
    tracker: StudyTracker
    parent_run_id: str
    progress: StudyProgress

    def __call__(self, trial: optuna.Trial) -> float:
        """Train trial ``trial`` and return its best validation loss; prune on divergence."""
        params = self.space.sample(trial)
        knobs = self.space.complete(params)
        hp = HParams.from_params(knobs)
        seed = trial_seed(self.config.seed, trial.number)
        run_id = self.tracker.start_trial_run(
            self.parent_run_id, trial.number, {TASK_TAG: self.task.name}
        )
        trial.set_user_attr(TRIAL_RUN_ATTR, run_id)
        trial.set_user_attr(SEED_ATTR, seed)
        self.tracker.log_params(run_id, {**params, "seed": seed})
        self.progress.start_trial(trial.number, self.config.epochs)
        try:
            outcome = self._train(trial, hp, seed, run_id)
        except optuna.TrialPruned as pruned:
            self._end(trial, run_id, "PRUNED", str(pruned))
            raise
        except BaseException as error:  # KeyboardInterrupt too: the run must not stay RUNNING
            self._end(trial, run_id, "FAIL", f"{type(error).__name__}: {error}")
            raise
        if not math.isfinite(outcome.best_val_loss):
            reason = "diverged: validation loss is not finite"
            self._end(trial, run_id, "PRUNED", reason)
            raise optuna.TrialPruned(reason)
        self._record(trial, run_id, knobs, outcome)
        self._end(trial, run_id, "COMPLETE")
        return outcome.best_val_loss

    def _train(self, trial: optuna.Trial, hp: HParams, seed: int, run_id: str) -> TrialOutcome:
        def on_epoch(epoch: int, metrics: dict[str, float]) -> None:
            self.tracker.log_metrics(run_id, metrics, step=epoch)
            self.progress.epoch_done(epoch + 1, metrics.get("val_loss"))

        def on_health(epoch: int, metrics: dict[str, float]) -> None:
            self.tracker.log_metrics(run_id, metrics, step=epoch)

        band = HealthBand(self.config.ratio_low, self.config.ratio_high)
        callbacks = [
            HealthMonitor(band, prune=self.config.health, on_epoch=on_health),
            EpochEndHook(on_epoch),
            PyTorchLightningPruningCallback(trial, monitor="val_loss"),
            *self.host.trial_callbacks(self.task, hp),
        ]
        return train_trial(self.task, hp, seed, self.config.epochs, self.config.min_lr, callbacks)

    def _record(
        self, trial: optuna.Trial, run_id: str, knobs: dict[str, Any], out: TrialOutcome
    ) -> None:
        summary: dict[str, Any] = {
            BEST_EPOCH_ATTR: out.best_epoch,
            EPOCHS_RUN_ATTR: out.epochs_run,
            **{f"val_{k}": v for k, v in out.val_scores.items()},
            **{f"test_{k}": v for k, v in out.test_scores.items()},
        }
        for key, value in summary.items():
            trial.set_user_attr(key, value)
        trial.set_user_attr(STOP_REASON_ATTR, out.stop_reason)
        # "best_" keeps the best epoch's values apart from the per-epoch val_* curves
        final = {f"best_{k}" if k.startswith("val_") else k: v for k, v in summary.items()}
        self.tracker.log_metrics(run_id, final, step=out.epochs_run)
        buffer = io.BytesIO()
        np.savez_compressed(buffer, **out.predictions)  # type: ignore[arg-type]
        self.tracker.log_artifact_files(
            run_id,
            {
                PREDICTIONS_ARTIFACT: buffer.getvalue(),
                WEIGHTS_ARTIFACT: out.state_dict,
                HPARAMS_ARTIFACT: json.dumps(
                    {
                        "task": self.task.name,
                        "params": trial.params,
                        "knobs": knobs,
                        "seed": trial.user_attrs[SEED_ATTR],
                    },
                    indent=2,
                    default=str,
                ),
            },
        )

    def _end(self, trial: optuna.Trial, run_id: str, state: str, reason: str = "") -> None:
        if reason:
            trial.set_user_attr(REASON_ATTR, reason)
        self.tracker.end_trial_run(run_id, state, reason)
