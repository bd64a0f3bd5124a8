"""One trial: sample the knobs, train with the host's callbacks, record everything."""

import contextlib
import dataclasses
import io
import json
import time
import traceback
from dataclasses import dataclass, field
from typing import Any, NoReturn

import numpy as np
import optuna

from ldnn_tune.config.settings import RunConfig
from ldnn_tune.console.progress import StudyProgress
from ldnn_tune.errors import Interrupted, first_line
from ldnn_tune.health.monitor import HealthBand, HealthMonitor
from ldnn_tune.interrupts import ignore_further, raise_pending, stops_in_place
from ldnn_tune.names import (
    AVERAGED_EPOCHS_ATTR,
    BEST_EPOCH_ATTR,
    DEADLINE_CUT,
    EPOCHS_RUN_ATTR,
    FIRST_EPOCH_ATTR,
    HOST_ERROR_ATTR,
    HPARAMS_ARTIFACT,
    INTERRUPTED,
    PREDICTIONS_ARTIFACT,
    REASON_ATTR,
    RESEED_OF_ATTR,
    SEED_ATTR,
    SETTING_PARAM_PREFIX,
    STOP_REASON_ATTR,
    TASK_TAG,
    TRACEBACK_ARTIFACT,
    TRIAL_RUN_ATTR,
    WEIGHTS_ARTIFACT,
    WORKER_ATTR,
)
from ldnn_tune.plugin.manager import Host
from ldnn_tune.plugin.task import Task
from ldnn_tune.recipe.hparams import HParams
from ldnn_tune.space.knobs import SearchSpace
from ldnn_tune.study.recovery import TAKEN_OVER, TrialTakenOver, taken_over, this_worker
from ldnn_tune.tracking import MetricBuffer, StudyTracker
from ldnn_tune.trial.blame import raised_by_host
from ldnn_tune.trial.callbacks import CutBeforeFirstEpoch, EpochEndHook
from ldnn_tune.trial.pruning import EpochPruning
from ldnn_tune.trial.seeds import trial_seed
from ldnn_tune.trial.training import TrialOutcome, train_trial

FIRST_EPOCH_MEMORY = 5  # recent trials whose first-epoch time the estimate looks at


# what a command may change between invocations of one study, and a trial trains under;
# the parent run keeps the first command's (MLflow params never change)
TRIAL_SETTINGS = (
    "epochs",
    "min_lr",
    "average_epochs",
    "sampler",
    "pruner",
    "health",
    "ratio_low",
    "ratio_high",
)


def trial_settings(config: RunConfig) -> dict[str, object]:
    """Return the settings of ``config`` a trial's MLflow run records, as ``run.NAME``."""
    return {f"{SETTING_PARAM_PREFIX}{name}": getattr(config, name) for name in TRIAL_SETTINGS}


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
    deadline: float | None = None  # time.time() at which a running trial stops
    worker: str = field(default_factory=this_worker)  # host:pid:start of this process
    # seconds from a trial's start to its first validation, of recent trials
    first_epochs: list[float] = field(default_factory=list)
    _started: float = field(default=0.0, init=False)  # the running trial's start
    _first_epoch: float | None = field(default=None, init=False)  # ... and its first epoch
    _inherited_reason: bool = field(default=False, init=False)  # a retry's stale "reason"
    _params: dict[str, Any] = field(default_factory=dict, init=False)  # the running trial's

    def first_epoch_seconds(self) -> float:
        """Return the expected seconds to a new trial's first validation (0: not known yet).

        The largest of the last few measured; :meth:`learn_first_epochs` seeds them from
        the study, so a continued study knows them before its first trial here.
        """
        return max(self.first_epochs[-FIRST_EPOCH_MEMORY:], default=0.0)

    def learn_first_epochs(self, study: optuna.Study) -> None:
        """Take the study's recent trials' first-epoch times as the estimate."""
        self.first_epochs = [
            float(t.user_attrs[FIRST_EPOCH_ATTR])
            for t in study.get_trials(deepcopy=False)
            if FIRST_EPOCH_ATTR in t.user_attrs
        ][-FIRST_EPOCH_MEMORY:]

    def __call__(self, trial: optuna.Trial) -> float:
        """Train trial ``trial`` and return its best validation loss; prune on divergence."""
        try:
            knobs, hp, seed, metrics = self._start(trial)
        except Exception as error:  # the sampler's or the tracking store's: say so
            trial.set_user_attr(REASON_ATTR, f"not started: {first_line(error)}")
            raise
        self._started, self._first_epoch = time.monotonic(), None
        # a retried trial starts with its predecessor's attributes: its reason must go
        self._inherited_reason = REASON_ATTR in trial.user_attrs
        try:
            with stops_in_place():  # only while it trains: its bookkeeping waits for a stop
                outcome = self._train(trial, hp, seed, metrics)
            if taken_over(trial.study, trial._trial_id):
                self._discard(trial, metrics)
            diverged = outcome.divergence()
            if not diverged:  # its artifacts may fail to be written
                self._record(trial, metrics, knobs, outcome)
        except optuna.TrialPruned as pruned:
            self._end(trial, metrics, "PRUNED", str(pruned))
            raise
        except CutBeforeFirstEpoch as cut:  # the study queues its knobs again (work())
            reason = f"{DEADLINE_CUT} {cut}; it runs first next time"
            self._end(trial, metrics, "FAIL", reason, status="KILLED")
            raise
        except Interrupted as stop:  # Ctrl-C or SIGTERM: end the runs, then let it through
            ignore_further()
            stop.trial = trial.number
            self._end(trial, metrics, "FAIL", f"{INTERRUPTED} ({stop})", status="KILLED")
            raise
        except TrialTakenOver:  # ended by _discard: the trial is another worker's now
            raise
        except BaseException as error:  # the run must not stay RUNNING, whatever it was
            try:
                if raised_by_host(error, type(self.task).__module__):
                    trial.set_user_attr(HOST_ERROR_ATTR, True)
            finally:  # the study deleted meanwhile: the attribute fails, the run still ends
                self._end(trial, metrics, "FAIL", first_line(error), error=error)
            raise
        if diverged:
            self._end(trial, metrics, "PRUNED", diverged)
            raise optuna.TrialPruned(diverged)
        stopped = outcome.stop_reason  # the run's reason tag: why it stopped training
        self._end(trial, metrics, "COMPLETE", value=outcome.best_val_loss, run_reason=stopped)
        return outcome.best_val_loss

    def _discard(self, trial: optuna.Trial, metrics: MetricBuffer) -> NoReturn:
        """End a trial another worker took over: its run FAILED saying so; nothing recorded."""
        self.tracker.end_trial_run(metrics.run_id, "FAIL", TAKEN_OVER, metrics.drain())
        seconds = time.monotonic() - self._started
        self.progress.trial_done(trial.number, "FAIL", TAKEN_OVER, seconds, self._params)
        raise TrialTakenOver(trial.number)

    def _start(self, trial: optuna.Trial) -> tuple[dict[str, Any], HParams, int, MetricBuffer]:
        """Sample ``trial``'s knobs and open its MLflow run; return all knobs, hp, seed, buffer."""
        kept = retrained_knobs(trial)
        params = self.space.sample(trial, kept)
        # a retrain trains with its trial's value of a knob a space file has removed since
        removed = {k: v for k, v in kept.items() if k in self.space.fixed and k not in params}
        knobs = self.space.complete({**removed, **params})
        hp = HParams.from_params(knobs)
        seed = trial_seed(self.config.seed, trial.number)
        run_id = self.tracker.start_trial_run(
            self.parent_run_id, trial.number, {TASK_TAG: self.task.name}
        )
        # a knob the user's space file removed trains at its default: the run records it
        recorded = {**params, **{k: knobs[k] for k in self.space.user_removed}}
        try:
            self._open(trial, run_id, seed, recorded)
        except BaseException as error:  # e.g. the study deleted: the run must not stay RUNNING
            with contextlib.suppress(Exception):
                self.tracker.end_trial_run(run_id, "FAIL", f"not started: {first_line(error)}")
            raise
        self.progress.start_trial(trial.number, self.config.epochs, params)
        self._params = params
        return knobs, hp, seed, MetricBuffer(self.tracker, run_id)

    def _open(self, trial: optuna.Trial, run_id: str, seed: int, params: dict[str, Any]) -> None:
        """Record ``trial``'s run, seed and worker, and log its knobs and settings to the run."""
        trial.set_user_attr(TRIAL_RUN_ATTR, run_id)
        trial.set_user_attr(SEED_ATTR, seed)
        trial.set_user_attr(WORKER_ATTR, self.worker)
        reseed = {k: v for k, v in trial.user_attrs.items() if k == RESEED_OF_ATTR}
        settings = trial_settings(self.config)
        self.tracker.log_params(run_id, {**params, "seed": seed, **reseed, **settings})

    def _train(
        self, trial: optuna.Trial, hp: HParams, seed: int, metrics: MetricBuffer
    ) -> TrialOutcome:
        def on_epoch(epoch: int, values: dict[str, float]) -> None:
            raise_pending()
            if epoch == 0:
                seconds = time.monotonic() - self._started
                self._first_epoch = seconds
                self.first_epochs.append(seconds)
            metrics.add(values, step=epoch)
            self.progress.epoch_done(epoch + 1, values.get("val_loss"))

        def on_health(epoch: int, values: dict[str, float]) -> None:
            metrics.add(values, step=epoch)

        band = HealthBand(self.config.ratio_low, self.config.ratio_high)
        # a retrain of the best knobs is an ensemble member: it trains to the end unless
        # it diverges (its search trial's ratios passed; another seed's may stray an epoch)
        search = RESEED_OF_ATTR not in trial.user_attrs
        callbacks = [  # the epoch's metrics are recorded before a health or pruner stop
            EpochEndHook(on_epoch),
            HealthMonitor(band, self.config.health, on_health, judge_band=search),
            EpochPruning(trial, monitor="val_loss", prune=search),
            *self.host.trial_callbacks(self.task, hp),
        ]
        return train_trial(
            self.task,
            hp,
            seed,
            self.config.epochs,
            self.config.min_lr,
            callbacks,
            deadline=self.deadline,
            average_epochs=self.config.average_epochs,
        )

    def _record(
        self, trial: optuna.Trial, metrics: MetricBuffer, knobs: dict[str, Any], out: TrialOutcome
    ) -> None:
        summary: dict[str, Any] = {
            BEST_EPOCH_ATTR: out.best_epoch,
            AVERAGED_EPOCHS_ATTR: out.averaged_epochs,
            EPOCHS_RUN_ATTR: out.epochs_run,
            **{f"val_{k}": v for k, v in out.val_scores.items()},
            # the trial's value, as training measured it: scored again from the saved
            # predictions (float64, probabilities floored) it differs in the 7th digit
            "val_loss": out.best_val_loss,
            **{f"test_{k}": v for k, v in out.test_scores.items()},
        }
        for key, value in summary.items():
            trial.set_user_attr(key, value)
        trial.set_user_attr(STOP_REASON_ATTR, out.stop_reason)
        # "best_" keeps the best epoch's values apart from the per-epoch val_* curves
        final = {f"best_{k}" if k.startswith("val_") else k: v for k, v in summary.items()}
        metrics.add(final, step=out.epochs_run)
        buffer = io.BytesIO()
        np.savez_compressed(buffer, **out.predictions)  # type: ignore[arg-type]
        self.tracker.log_artifact_files(
            metrics.run_id,
            {
                PREDICTIONS_ARTIFACT: buffer.getvalue(),
                WEIGHTS_ARTIFACT: out.state_dict,
                HPARAMS_ARTIFACT: json.dumps(
                    self._trained_with(trial, knobs), indent=2, default=str
                ),
            },
        )

    def _trained_with(self, trial: optuna.Trial, knobs: dict[str, Any]) -> dict[str, Any]:
        """Return ``hparams.json``: the knobs, and what rebuilds the task the net trained on.

        The study's seed fixes the split and the input scaling; the options the shapes.
        ``seed`` is the trial's training seed.
        """
        data_dir = self.config.data_dir
        return {
            "task": self.task.name,
            "params": trial.params,
            "knobs": knobs,
            "seed": trial.user_attrs[SEED_ATTR],
            "study_seed": self.config.seed,
            "options": dataclasses.asdict(self.task.options),
            "data_dir": str(data_dir.resolve()) if data_dir is not None else None,
        }

    def _end(
        self,
        trial: optuna.Trial,
        metrics: MetricBuffer,
        state: str,
        reason: str = "",
        status: str | None = None,
        error: BaseException | None = None,
        value: float | None = None,
        run_reason: str = "",
    ) -> None:
        """Record how the trial ended: its reason, first-epoch time and MLflow run state.

        A trial that raised also gets its traceback as the run's ``traceback.txt``; the
        terminal gets one line saying how it ended (``value``: a complete trial's loss).
        ``run_reason`` is the MLflow run's reason where the trial has none (a complete
        trial's: why it stopped training, e.g. a timeout).
        """
        try:  # a study deleted meanwhile refuses these: its MLflow run ends all the same
            if reason or self._inherited_reason:
                trial.set_user_attr(REASON_ATTR, reason or None)
            if self._first_epoch is not None:
                trial.set_user_attr(FIRST_EPOCH_ATTR, round(self._first_epoch, 3))
        finally:
            if error is not None:
                text = "".join(traceback.format_exception(error))
                self.tracker.log_artifact_files(metrics.run_id, {TRACEBACK_ARTIFACT: text})
            self.tracker.end_trial_run(
                metrics.run_id, state, reason or run_reason, metrics.drain(), status
            )
        outcome = reason if value is None else f"val_loss {value:.4f}"
        seconds = time.monotonic() - self._started
        self.progress.trial_done(trial.number, state, outcome, seconds, self._params)


def retrained_knobs(trial: optuna.Trial) -> dict[str, Any]:
    """Return the knobs of the trial ``trial`` retrains (none for a search trial)."""
    anchor = trial.user_attrs.get(RESEED_OF_ATTR)
    if anchor is None:
        return {}
    trials = trial.study.get_trials(deepcopy=False)
    return next((dict(t.params) for t in trials if t.number == anchor), {})
