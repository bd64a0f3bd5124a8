import csv
import io

from ldnn_tune.report.trials import best_table, markdown_table, number_text, trials_csv
from ldnn_tune.study.queries import best_trials


def test_trials_csv_has_one_row_per_trial_with_state_reason_knobs_and_metrics(toy) -> None:
    rows = list(csv.DictReader(io.StringIO(trials_csv(toy.study))))
    assert len(rows) == 8
    assert [r["state"] for r in rows].count("PRUNED") == 2
    pruned = next(r for r in rows if r["state"] == "PRUNED")
    assert pruned["reason"] == "pruned by the median rule"
    complete = rows[0]
    assert complete["state"] == "COMPLETE"
    assert float(complete["val_acc"]) > 0
    assert {"param_lr", "param_width", "param_init", "epochs", "duration_s", "run_id"} <= set(
        complete
    )
    assert complete["epochs"] == "3"


def test_best_table_is_markdown_sorted_by_validation_loss(toy) -> None:
    table = best_table(best_trials(toy.study, 3)).splitlines()
    assert table[0].startswith("| trial | val_loss | val_acc | test_acc")
    assert table[1].startswith("| --- |")
    losses = [float(line.split("|")[2]) for line in table[2:]]
    assert losses == sorted(losses) and len(losses) == 3


def test_cells_are_escaped_and_numbers_short() -> None:
    assert markdown_table(["a"], [["x|y"]]).splitlines()[2] == "| x\\|y |"
    assert number_text(0.123456789) == "0.1235"
    assert number_text(None) == ""


def test_trials_csv_has_a_regressions_mae_and_a_tasks_own_scores() -> None:
    import optuna

    study = optuna.create_study()
    attrs = {"val_mae": 0.3, "test_mae": 0.35, "val_solved": 0.5, "test_solved": 0.4}
    study.add_trial(optuna.trial.create_trial(value=0.2, user_attrs=attrs))
    study.add_trial(optuna.trial.create_trial(value=0.3))  # a trial without them: empty cells
    rows = list(csv.DictReader(io.StringIO(trials_csv(study))))
    assert (rows[0]["test_mae"], rows[0]["val_solved"], rows[0]["test_solved"]) == (
        "0.35",
        "0.5",
        "0.4",
    )
    assert rows[1]["test_solved"] == ""
    assert "val_acc" not in rows[0]  # a regression's trials have no accuracy (audit)


def test_a_classifier_s_trials_csv_has_no_regression_columns(toy) -> None:
    header = trials_csv(toy.study).splitlines()[0].split(",")
    assert {"val_acc", "test_acc"} <= set(header)
    assert not {"val_mse", "test_mse", "val_mae", "test_mae"} & set(header)
