import json

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
