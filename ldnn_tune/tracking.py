"""MLflow records: one experiment and parent run per study, one child run per trial."""

import json
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import optuna
from mlflow.entities import Metric, Param, RunTag
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from ldnn_tune.errors import UsageError, disk_full
from ldnn_tune.mlflow_paths import client_uri
from ldnn_tune.mlflow_store import (
    is_new_store,
    keep_empty_store,
    remove_half_made_store,
    seed_new_store,
)
from ldnn_tune.names import (
    PARENT_RUN_ATTR,
    PARENT_RUN_TAG,
    REASON_TAG,
    ROLE_TAG,
    RUN_NAME_TAG,
    STATE_TAG,
    TRIAL_NUMBER_TAG,
    TRIAL_ROLE,
)
from ldnn_tune.sqlite import use_fast_sqlite
from ldnn_tune.urls import redact

# MLflow run statuses for Optuna trial states; the state itself is also a tag. A pruned
# trial ended as the search meant it to, so FINISHED, as Optuna's MLflowCallback has it:
# KILLED is left to runs the user stopped (Ctrl-C, SIGTERM).
RUN_STATUS = {"COMPLETE": "FINISHED", "PRUNED": "FINISHED", "FAIL": "FAILED"}
_MAX_PARAM_LENGTH = 6000
MAX_BATCH_METRICS = 1000  # MLflow's limit of metrics in one log_batch
FLUSH_SECONDS = 5.0  # a trial's buffered metrics reach the store at least this often


def require_parent_run(uri: str, study: optuna.Study) -> None:
    """Refuse an MLflow store that lacks ``study``'s parent run (a new or another store).

    Its trials' runs, and the predictions the ensembles read, are in the store the
    study was run with; a new ``mlflow.db`` would start empty and every later step fail.
    Nothing is created: a store file that does not exist is not made.
    """
    parent = study.user_attrs.get(PARENT_RUN_ATTR)
    if not parent:
        return
    try:
        found = not is_new_store(uri) and mlflow_client(uri).get_run(parent)
    except MlflowException:
        found = False
    if not found:
        raise UsageError(
            f"study {study.study_name!r} was logged to an MLflow store that holds its run "
            f"{parent}, and mlflow={redact(uri)} does not; give that store, or another study= name"
        )


def restored_note(study: str, why: str = "as the study goes on") -> str:
    """Return the note that study ``study``'s deleted MLflow experiment was restored."""
    return (
        f"note: the study's MLflow experiment {study!r} had been deleted; restored it, "
        f"with its runs, {why} (to start over, delete the study too: README, "
        "Delete one study)"
    )


def mlflow_client(uri: str) -> MlflowClient:
    """Return a client of the MLflow store at ``uri`` (a local one followed to where it is).

    Its SQLite connections take the stores' settings and are closed when the command
    ends (:mod:`ldnn_tune.sqlite`): none leaves ``-wal`` and ``-shm`` files behind.
    """
    use_fast_sqlite()
    return MlflowClient(tracking_uri=client_uri(uri))


class StudyTracker:
    """Writes one study's runs to the MLflow tracking store at ``uri``."""

    def __init__(self, uri: str, experiment: str, new_study: bool = False) -> None:
        """Use (or create) the MLflow experiment named ``experiment`` at ``uri``.

        An experiment the user deleted is restored for its study, but a ``new_study`` of
        that name gets a fresh one: the deleted experiment, with its runs, is renamed
        ``NAME (deleted ID)`` and stays deleted.
        """
        self.uri = uri
        use_fast_sqlite()  # before the store is made, seeded or opened
        made_here = is_new_store(uri) and not seed_new_store(uri)
        try:  # MLflow makes the store
            self.client = mlflow_client(uri)
            found = self.client.get_experiment_by_name(experiment)
        except Exception as error:
            if made_here and disk_full(error) is not None:
                remove_half_made_store(uri)  # read later as a store of an older MLflow
            raise
        if made_here:
            keep_empty_store(uri)
        # a continued study's experiment deleted in the UI: restored, for its runs live there
        self.restored = False
        if found is not None and found.lifecycle_stage == "deleted":
            self.client.restore_experiment(found.experiment_id)
            if new_study:
                self._set_aside(found.experiment_id, experiment)
                found = None
            else:
                self.restored = True
        self.experiment_id = (
            found.experiment_id if found is not None else self.client.create_experiment(experiment)
        )
        self._trial_numbers: dict[str, int] = {}  # run id -> trial number, of runs started here

    def _set_aside(self, experiment_id: str, name: str) -> None:
        """Rename experiment ``experiment_id`` out of ``name``'s way and delete it again."""
        self.client.rename_experiment(experiment_id, f"{name} (deleted {experiment_id})")
        self.client.delete_experiment(experiment_id)

    def open_parent_run(self, run_id: str | None, name: str, params: Mapping[str, Any]) -> str:
        """Reopen the study's parent run ``run_id``, or create it; return its id."""
        if run_id is not None:
            self.client.update_run(run_id, status="RUNNING")
            return run_id
        run = self.client.create_run(self.experiment_id, run_name=name, tags={ROLE_TAG: "study"})
        self.log_params(run.info.run_id, params)
        return str(run.info.run_id)

    def close_parent_run(
        self, run_id: str, summary: Mapping[str, float], status: str = "FINISHED"
    ) -> None:
        """Log the study's summary metrics and end the parent run with ``status``."""
        self.log_metrics(run_id, summary, step=0)
        self.client.set_terminated(run_id, status)

    def start_child_run(self, parent_id: str, name: str, tags: Mapping[str, str]) -> str:
        """Create a run called ``name`` under ``parent_id``; return its id."""
        run = self.client.create_run(
            self.experiment_id, run_name=name, tags={PARENT_RUN_TAG: parent_id, **tags}
        )
        return str(run.info.run_id)

    def start_trial_run(self, parent_id: str, number: int, tags: Mapping[str, str]) -> str:
        """Create the child run of trial ``number`` under ``parent_id``; return its id."""
        run_id = self.start_child_run(
            parent_id,
            trial_run_name(number),
            {ROLE_TAG: TRIAL_ROLE, TRIAL_NUMBER_TAG: str(number), **tags},
        )
        self._trial_numbers[run_id] = number
        return run_id

    def end_trial_run(
        self,
        run_id: str,
        state: str,
        reason: str = "",
        metrics: Sequence[Metric] = (),
        status: str | None = None,
    ) -> None:
        """Record the trial's final Optuna ``state`` (COMPLETE, PRUNED, FAIL) on its run.

        ``metrics`` still waiting to be logged go in the same write as the state; the run
        ends with ``status`` (default: the state's, e.g. FAILED for FAIL; KILLED when
        the user stopped it). A trial run started here is renamed e.g. ``trial-7 (PRUNED)``.
        """
        tags = [RunTag(STATE_TAG, state)]
        number = self._trial_numbers.pop(run_id, None)
        if number is not None:
            tags.append(RunTag(RUN_NAME_TAG, trial_run_name(number, state)))
        if reason:
            tags.append(RunTag(REASON_TAG, reason[:5000]))
        self.log_batch(run_id, metrics, tags)
        self.client.set_terminated(run_id, status or RUN_STATUS[state])

    def log_batch(
        self, run_id: str, metrics: Sequence[Metric], tags: Sequence[RunTag] = ()
    ) -> None:
        """Log ``metrics`` and ``tags`` in as few writes as MLflow's batch limit allows."""
        chunks = [
            metrics[i : i + MAX_BATCH_METRICS] for i in range(0, len(metrics), MAX_BATCH_METRICS)
        ]
        for index, chunk in enumerate(chunks or [[]]):
            self.client.log_batch(run_id, metrics=chunk, tags=list(tags) if index == 0 else [])

    def log_params(self, run_id: str, params: Mapping[str, Any]) -> None:
        """Log ``params`` (values rendered as text, long ones cut) on ``run_id``."""
        batch = [Param(str(k), str(v)[:_MAX_PARAM_LENGTH]) for k, v in params.items()]
        self.client.log_batch(run_id, params=batch)

    def log_metrics(self, run_id: str, metrics: Mapping[str, float], step: int) -> None:
        """Log ``metrics`` at ``step`` (the epoch) on ``run_id``."""
        self.log_batch(run_id, as_metrics(metrics, step))

    def log_artifact_files(self, run_id: str, files: Mapping[str, bytes | str]) -> None:
        """Write each named content to a file and log it as an artifact of ``run_id``."""
        with tempfile.TemporaryDirectory() as tmp:
            for name, content in files.items():
                path = Path(tmp) / name
                if isinstance(content, bytes):
                    path.write_bytes(content)
                else:
                    path.write_text(content, encoding="utf-8")
            self.client.log_artifacts(run_id, tmp)

    def log_json(self, run_id: str, name: str, data: Any) -> None:
        """Log ``data`` as a JSON artifact called ``name``."""
        self.log_artifact_files(run_id, {name: json.dumps(data, indent=2, default=str)})

    def set_tags(self, run_id: str, tags: Mapping[str, str]) -> None:
        """Set ``tags`` on ``run_id`` in one write (``mlflow.runName`` renames the run)."""
        self.log_batch(run_id, [], [RunTag(k, v) for k, v in tags.items()])

    def set_experiment_tags(self, tags: Mapping[str, str]) -> None:
        """Set ``tags`` on the study's experiment."""
        for key, value in tags.items():
            self.client.set_experiment_tag(self.experiment_id, key, value)


def trial_run_name(number: int, state: str | None = None) -> str:
    """Return the name of trial ``number``'s run: ``trial-7``, or ``trial-7 (PRUNED)``."""
    return f"trial-{number}" if state is None else f"trial-{number} ({state})"


def _now_ms() -> int:
    return int(time.time() * 1000)


def as_metrics(values: Mapping[str, float], step: int) -> list[Metric]:
    """Return ``values`` as MLflow metrics at ``step``, stamped now."""
    now = _now_ms()
    return [Metric(k, float(v), now, step) for k, v in values.items()]


class MetricBuffer:
    """A trial's per-epoch metrics, written to MLflow in one batch every few seconds.

    Logging each epoch on its own costs a database commit per call; a short epoch (digits
    trains one in well under a second) would spend more time logging than training.
    :meth:`drain` hands what is left to the trial's final write.
    """

    def __init__(self, tracker: StudyTracker, run_id: str, seconds: float = FLUSH_SECONDS) -> None:
        """Buffer metrics of ``run_id``; write them when ``seconds`` have passed."""
        self.tracker = tracker
        self.run_id = run_id
        self.seconds = seconds
        self.pending: list[Metric] = []
        self.last_write = time.monotonic()

    def add(self, values: Mapping[str, float], step: int) -> None:
        """Add ``values`` at ``step``; write everything pending if it is time."""
        self.pending += as_metrics(values, step)
        if time.monotonic() - self.last_write >= self.seconds:
            self.tracker.log_batch(self.run_id, self.drain())

    def drain(self) -> list[Metric]:
        """Return the pending metrics and forget them."""
        pending, self.pending = self.pending, []
        self.last_write = time.monotonic()
        return pending
