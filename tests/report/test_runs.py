"""What the report reads back from a real MLflow store."""

import time
from pathlib import Path

from ldnn_tune.names import ENSEMBLE_ROLE, ROLE_TAG
from ldnn_tune.report.runs import latest_ensemble
from ldnn_tune.tracking import StudyTracker


def test_the_study_ensemble_is_not_one_of_trials_a_user_named(tmp_path: Path) -> None:
    tracker = StudyTracker(f"sqlite:///{tmp_path / 'mlflow.db'}", "s")
    parent = tracker.open_parent_run(None, "s", {})

    def ensemble(method: str) -> str:
        time.sleep(0.01)  # runs are ordered by start time, in milliseconds
        run = tracker.start_child_run(parent, f"ensemble-{method}", {ROLE_TAG: ENSEMBLE_ROLE})
        tracker.log_params(run, {"method": method, "weights": "1:1"})
        tracker.client.set_terminated(run, "FINISHED")
        return run

    assert latest_ensemble(tracker.client, tracker.experiment_id, parent) is None
    alone = ensemble("trials")  # a one-off: `ensemble trials=1`, to predict with one net
    shown = latest_ensemble(tracker.client, tracker.experiment_id, parent)
    assert shown is not None and shown.run_id == alone  # the only one there is
    study = ensemble("seeds")
    ensemble("trials")
    shown = latest_ensemble(tracker.client, tracker.experiment_id, parent)
    assert shown is not None and (shown.run_id, shown.method) == (study, "seeds")
