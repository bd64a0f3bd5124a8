"""After a worker died: fail its trials and end their MLflow runs as FAILED.

A worker on another machine is known dead when its heartbeats stop (three missed). A
worker on this machine is known dead at once: each trial records the host, process id
and process start time of the worker that runs it, and a RUNNING trial whose process is
gone is failed (and retried once, as a stale trial is) on the next look at the study.
"""

import contextlib
import functools
import os
import socket
import warnings
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import optuna
from optuna.exceptions import UpdateFinishedTrialError
from optuna.storages._heartbeat import BaseHeartbeat, is_heartbeat_enabled
from optuna.trial import FrozenTrial, TrialState

from ldnn_tune.names import (
    ENSEMBLE_ROLE,
    PARENT_RUN_TAG,
    REASON_ATTR,
    REASON_TAG,
    ROLE_TAG,
    TRIAL_RUN_ATTR,
    WORKER_ATTR,
    WORKER_TAG,
)
from ldnn_tune.tracking import StudyTracker

if TYPE_CHECKING:
    from mlflow.entities import Run

DEAD_WORKER = "its worker stopped sending heartbeats (killed or crashed); retried once"
DEAD_PROCESS = "its worker process on this machine ended mid-trial (killed or crashed)"
ORPHANED = "left RUNNING by code other than ldnn-tune (no ldnn-tune worker ran it)"
# a trial without a worker attr this long after it started was not asked by ldnn-tune,
# which names the worker at once: another program's (a hand-written study.ask()) or dead
ORPHAN_SECONDS = 300
# trials seen without a worker by an earlier look of this process: only a trial seen so
# twice is judged by its start time, which another machine may have written in its own
# time zone while its worker was still naming itself
_seen_orphans: set[int] = set()
ABANDONED_ENSEMBLE = "the command making it was killed before it ended"
TAKEN_OVER = (
    "taken over: its worker was paused past the heartbeat check, and another worker "
    "failed and retried it; this result is discarded"
)


class TrialTakenOver(Exception):
    """Raised when another worker failed this one's trial meanwhile (:data:`TAKEN_OVER`)."""


def taken_over(study: optuna.Study, trial_id: int) -> bool:
    """Return whether the trial this worker runs was finished by another worker meanwhile.

    A worker paused (Ctrl-Z, a laptop asleep) past three missed heartbeats looks dead:
    another worker fails its trial and retries it, and Optuna refuses the result it
    comes back with.
    """
    return study._storage.get_trial(trial_id).state != TrialState.RUNNING


def fail_stale_trials(study: optuna.Study) -> None:
    """Mark RUNNING trials whose worker stopped sending heartbeats FAIL (and queue a retry).

    Each gets its reason first: a finished trial's attributes cannot be written.
    """
    storage = study._storage
    if isinstance(storage, BaseHeartbeat) and is_heartbeat_enabled(storage):
        for trial_id in storage._get_stale_trial_ids(study._study_id):
            with contextlib.suppress(UpdateFinishedTrialError):  # another worker failed it
                storage.set_trial_user_attr(trial_id, REASON_ATTR, DEAD_WORKER)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        optuna.storages.fail_stale_trials(study)


def this_worker() -> str:
    """Return ``host:pid:start:machine`` naming this process.

    ``start`` is its start time in clock ticks; ``machine`` tells apart the machines and
    containers that share a host name (cloned VMs, ``docker run --network host``), whose
    process ids are not this machine's: the boot's id and the PID namespace.
    """
    return f"{socket.gethostname()}:{os.getpid()}:{_started(os.getpid())}:{_machine()}"


def fail_dead_trials(study: optuna.Study, trials: Iterable[FrozenTrial]) -> int:
    """Fail the running ``trials`` whose worker process here is gone; return how many.

    Each is retried once where the storage retries stale trials (heartbeats on). A
    trial no ldnn-tune worker ran, RUNNING for :data:`ORPHAN_SECONDS`, is failed too, not
    retried: it held the study's last place, and the study waited for it for ever.
    """
    failed = 0
    seen = list(trials)
    by_number = {trial.number: trial for trial in seen}
    for trial in seen:
        if trial.state != TrialState.RUNNING:
            continue
        worker = _own_worker(trial, by_number)
        if not worker:
            failed += _fail(study, trial, ORPHANED, retry=False) if _orphaned(trial) else 0
        elif dead_here(str(worker)):
            failed += _fail(study, trial, DEAD_PROCESS, retry=True)
    return failed


def _own_worker(trial: FrozenTrial, by_number: dict[int, FrozenTrial]) -> str:
    """Return the worker that named itself on ``trial`` ("" while none has yet).

    Optuna's retry of a failed trial copies its user attributes, the dead worker's name
    among them: until the worker that took the retry names itself, the name is the dead
    one's, and the retry, alive, must not be failed for it.
    """
    worker = str(trial.user_attrs.get(WORKER_ATTR) or "")
    history = trial.system_attrs.get("retry_history") or []
    retried = by_number.get(history[-1]) if history else None
    if retried is not None and retried.user_attrs.get(WORKER_ATTR) == worker:
        return ""
    return worker


def _orphaned(trial: FrozenTrial) -> bool:
    """Return whether ``trial`` has been RUNNING too long to be a worker's just asked.

    A worker names itself on its trial at once; one seen without a name on two looks,
    started :data:`ORPHAN_SECONDS` ago, is no ldnn-tune worker's.
    """
    seen_before = trial._trial_id in _seen_orphans
    _seen_orphans.add(trial._trial_id)
    started = trial.datetime_start
    old = started is not None and (datetime.now() - started).total_seconds() > ORPHAN_SECONDS
    return seen_before and old


def _fail(study: optuna.Study, trial: FrozenTrial, reason: str, retry: bool) -> int:
    """Fail ``trial`` saying ``reason``, queued again when ``retry``; return 1 (0: raced)."""
    storage = study._storage
    storage.set_trial_user_attr(trial._trial_id, REASON_ATTR, reason)
    if not storage.set_trial_state_values(trial._trial_id, TrialState.FAIL):
        return 0  # another worker failed it first
    again = getattr(storage, "get_heartbeat_stale_trial_callback", lambda: None)()
    if retry and again is not None:
        again(study, storage.get_trial(trial._trial_id))
    return 1


def dead_here(worker: str) -> bool:
    """Return whether ``worker`` (:func:`this_worker`) ran here and its process is gone.

    A name without ``machine`` (an older ldnn-tune's) is judged by its host name alone.
    """
    host, pid_text, start, machine = [*worker.split(":"), "", "", ""][:4]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    if machine and machine != _machine():  # same host name, other process ids
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, another user's
        return False
    return _started(pid) != start  # the number now belongs to another process


@functools.cache
def _machine() -> str:
    """Return ``BOOT.PIDNS``: this boot's id and this PID namespace ("" where unknown)."""
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()[:8]
        namespace = os.stat("/proc/self/ns/pid").st_ino
    except OSError:
        return ""
    return f"{boot}.{namespace}"


def _started(pid: int) -> str:
    """Return the start time of process ``pid`` in clock ticks since boot ("" if unknown)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    return stat.rsplit(")", 1)[1].split()[19]  # field 22, counting from after the name


class OrphanRunSweeper:
    """Ends the MLflow runs that failed trials left RUNNING (their worker was killed)."""

    def __init__(self, tracker: StudyTracker) -> None:
        """Sweep runs in ``tracker``'s store; each failed trial is looked at once."""
        self.tracker = tracker
        self.seen: set[int] = set()

    def sweep(self, failed: Iterable[FrozenTrial]) -> int:
        """End the RUNNING MLflow runs of the ``failed`` trials; return how many."""
        ended = 0
        for trial in failed:
            if trial.number in self.seen:
                continue
            self.seen.add(trial.number)
            run_id = trial.user_attrs.get(TRIAL_RUN_ATTR)
            if run_id and self._is_running(run_id):  # the run says why, as its trial does
                why = trial.user_attrs.get(REASON_ATTR) or DEAD_WORKER
                self.tracker.end_trial_run(run_id, "FAIL", why)
                ended += 1
        return ended

    def _is_running(self, run_id: str) -> bool:
        try:
            return str(self.tracker.client.get_run(run_id).info.status) == "RUNNING"
        except Exception:  # a run deleted by hand, or another tracking store
            return False


def end_abandoned_ensembles(tracker: StudyTracker, parent: str) -> int:
    """End as FAILED the ensemble runs under ``parent`` a killed command left RUNNING.

    Only runs made by a process of this machine that is gone are ended; return how many.
    """
    ended = 0
    for run in ensemble_runs(tracker, parent, "RUNNING"):
        worker = run.data.tags.get(WORKER_TAG, "")
        if worker and dead_here(worker):
            tracker.set_tags(run.info.run_id, {REASON_TAG: ABANDONED_ENSEMBLE})
            tracker.client.set_terminated(run.info.run_id, "FAILED")
            ended += 1
    return ended


def ensemble_runs(tracker: StudyTracker, parent: str, status: str) -> list["Run"]:
    """Return the ensemble runs under ``parent`` of MLflow ``status``, newest first."""
    query = (
        f"tags.`{PARENT_RUN_TAG}` = '{parent}' and tags.`{ROLE_TAG}` = '{ENSEMBLE_ROLE}' "
        f"and attributes.status = '{status}'"
    )
    runs = tracker.client.search_runs(
        [tracker.experiment_id], query, order_by=["attributes.start_time DESC"]
    )
    return list(runs)
