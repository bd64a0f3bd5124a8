"""The end-of-run summary: the best trials as a table, and how to browse them all."""

import optuna
from optuna.trial import TrialState
from rich.console import Console
from rich.table import Table

SHOWN_ATTRS = ("val_acc", "test_acc", "val_mse", "test_mse")


def best_trials(study: optuna.Study, top: int) -> list[optuna.trial.FrozenTrial]:
    """Return the ``top`` complete trials with the lowest validation loss."""
    complete = [
        t
        for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
        if t.value is not None
    ]
    return sorted(complete, key=lambda t: t.value)[:top]  # type: ignore[arg-type, return-value]


def summary_table(study: optuna.Study, top: int) -> Table:
    """Return a table of the best trials: number, val loss, accuracies, epochs, params."""
    trials = best_trials(study, top)
    attrs = [a for a in SHOWN_ATTRS if any(a in t.user_attrs for t in trials)]
    table = Table(title=f"best trials of study {study.study_name!r}")
    for column in ("trial", "val_loss", *attrs, "epochs", "params"):
        table.add_column(column, overflow="fold")
    for trial in trials:
        table.add_row(
            str(trial.number),
            f"{trial.value:.4f}",
            *(_number(trial.user_attrs.get(a)) for a in attrs),
            str(trial.user_attrs.get("epochs_run", "")),
            " ".join(f"{k}={_number(v)}" for k, v in trial.params.items()),
        )
    return table


def health_pruned(study: optuna.Study) -> list[optuna.trial.FrozenTrial]:
    """Return the trials ended by the health monitor (diverged or unhealthy), newest first."""
    pruned = study.get_trials(deepcopy=False, states=(TrialState.PRUNED,))
    reasons = ("diverged", "unhealthy")
    marked = [t for t in pruned if str(t.user_attrs.get("reason", "")).startswith(reasons)]
    return sorted(marked, key=lambda t: -t.number)


def state_counts(study: optuna.Study) -> str:
    """Return e.g. ``"12 complete, 7 pruned, 1 failed"``."""
    counts = {state: 0 for state in (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)}
    for trial in study.get_trials(deepcopy=False):
        if trial.state in counts:
            counts[trial.state] += 1
    names = {
        TrialState.COMPLETE: "complete",
        TrialState.PRUNED: "pruned",
        TrialState.FAIL: "failed",
    }
    return ", ".join(f"{n} {names[s]}" for s, n in counts.items())


def print_summary(console: Console, study: optuna.Study, top: int, mlflow_uri: str) -> None:
    """Print the table, the trial counts and the command that opens the MLflow UI."""
    if best_trials(study, 1):
        console.print(summary_table(study, top))
    else:
        console.print(f"study {study.study_name!r} has no complete trial yet")
    console.print(f"trials: {state_counts(study)}")
    for trial in health_pruned(study)[:top]:
        console.print(f"  trial {trial.number} pruned: {trial.user_attrs['reason']}", markup=False)
    ui = (
        "ldnn-tune ui"
        if mlflow_uri == "sqlite:///mlflow.db"
        else f"ldnn-tune ui mlflow={mlflow_uri}"
    )
    console.print(f"browse every trial in the MLflow UI: {ui}")


def _number(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return "" if value is None else str(value)
