"""After a worker died: fail its stale trials and end their MLflow runs as FAILED."""

import warnings
from collections.abc import Iterable

import optuna
from optuna.trial import FrozenTrial

from ldnn_tune.names import TRIAL_RUN_ATTR
from ldnn_tune.tracking import StudyTracker

DEAD_WORKER = "its worker stopped sending heartbeats (killed or crashed); retried once"


def fail_stale_trials(study: optuna.Study) -> None:
    """Mark RUNNING trials whose worker stopped sending heartbeats FAIL (and queue a retry)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        optuna.storages.fail_stale_trials(study)


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
            if run_id and self._is_running(run_id):
                self.tracker.end_trial_run(run_id, "FAIL", DEAD_WORKER)
                ended += 1
        return ended

    def _is_running(self, run_id: str) -> bool:
        try:
            return str(self.tracker.client.get_run(run_id).info.status) == "RUNNING"
        except Exception:  # a run deleted by hand, or another tracking store
            return False
