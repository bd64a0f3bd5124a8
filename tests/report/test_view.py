import json
from pathlib import Path

import pytest

from ldnn_tune.report.view import runs_url, view_columns, view_state


def test_the_view_shows_state_metrics_lr_and_the_top_knobs() -> None:
    columns = view_columns(["batch_size", "lr", "dropout"])
    assert columns[0] == "tags.`optuna.state`"
    assert "metrics.`val_loss`" in columns and "metrics.`test_acc`" in columns
    # the kept weights' accuracy beside their loss, not the last epoch's
    assert "metrics.`best_val_acc`" in columns and "metrics.`val_acc`" not in columns
    assert "params.`reseed_of`" in columns  # a retrain says whose
    assert columns[-3:] == ["params.`lr`", "params.`batch_size`", "params.`dropout`"]
    state = json.loads(view_state(["width"]))
    assert state["selectedColumns"] == state["columnOrder"] == view_columns(["width"])


def test_a_regression_studys_view_shows_its_errors_not_accuracy() -> None:
    columns = view_columns(["lr"], regression=True)
    assert "metrics.`test_mse`" in columns and "metrics.`best_val_mae`" in columns
    assert not [c for c in columns if "acc" in c]
    assert "metrics.`test_mse`" not in view_columns(["lr"])


def test_the_url_opens_the_runs_table_in_the_training_view_with_the_shared_view() -> None:
    assert runs_url("http://127.0.0.1:5000/", "3") == (
        "http://127.0.0.1:5000/#/experiments/3/runs?workflowType=machine_learning"
        "&viewStateShareKey=ldnn-tune"
    )


@pytest.mark.parametrize(("scores", "shown"), [("test_mse", "test_mse"), ("val_acc", "test_acc")])
def test_the_kind_of_study_is_told_by_its_trials_not_the_last_one_alone(
    tmp_path: Path, scores: str, shown: str
) -> None:
    from ldnn_tune.names import SHARED_VIEW_TAG
    from ldnn_tune.report.view import VIEW_KEY, prepare_view
    from ldnn_tune.tracking import StudyTracker

    tracker = StudyTracker(f"sqlite:///{tmp_path / 'mlflow.db'}", "s")
    parent = tracker.open_parent_run(None, "s", {})
    done = tracker.start_trial_run(parent, 0, {})
    tracker.log_metrics(done, {"val_loss": 0.5, scores: 0.4}, step=0)
    failed = tracker.start_trial_run(parent, 1, {})  # failed before its first validation
    tracker.log_metrics(failed, {"train_loss": 0.9}, step=0)
    prepare_view(tracker.client, tracker.experiment_id)
    tags = tracker.client.get_experiment(tracker.experiment_id).tags
    columns = json.loads(tags[f"{SHARED_VIEW_TAG}{VIEW_KEY}"])["selectedColumns"]
    assert f"metrics.`{shown}`" in columns


def test_the_chart_view_opens_on_the_model_metrics_with_the_curves_first() -> None:
    state = json.loads(view_state(["width"]))
    sections = [s["name"] for s in state["compareRunSections"]]
    assert sections[0] == "Model metrics" and state["isAccordionReordered"]
    first = state["compareRunSections"][0]["uuid"]
    charts = state["compareRunCharts"]
    assert [c["metricKey"] for c in charts] == ["val_loss", "train_loss", "val_acc", "lr"]
    assert all(c["metricSectionId"] == first and c["type"] == "LINE" for c in charts)
    regression = json.loads(view_state(["width"], regression=True))["compareRunCharts"]
    assert "val_acc" not in [c["metricKey"] for c in regression]
