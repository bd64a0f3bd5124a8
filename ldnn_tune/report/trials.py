"""The study's trials as rows: ``trials.csv`` (every trial) and the best trials in markdown."""

import csv
import io
from collections.abc import Sequence

import optuna
from optuna.trial import FrozenTrial, TrialState

from ldnn_tune.names import (
    EPOCHS_RUN_ATTR,
    RESEED_OF_ATTR,
    STOP_REASON_ATTR,
    TRIAL_RUN_ATTR,
)
from ldnn_tune.plugin.scores import HOST_SCORES
from ldnn_tune.study.queries import given_up, is_reseed, reason

METRIC_ATTRS = ("val_acc", "test_acc", "test_loss", "val_mse", "test_mse")
EXTRA_METRIC_ATTRS = ("val_mae", "test_mae")  # a regression's, in the target's units
FIXED_COLUMNS = ("number", "state", "reason", "val_loss")
# stop_reason: why a complete trial stopped training; reseed_of: retrains only
TAIL_COLUMNS = ("epochs", "stop_reason", "duration_s", "reseed_of", "run_id")
STATE_WORDS = {
    TrialState.COMPLETE: "complete",
    TrialState.PRUNED: "pruned",
    TrialState.FAIL: "failed",
}


def trial_columns(trials: Sequence[FrozenTrial]) -> list[str]:
    """Return the CSV header: fixed columns, scores, ``param_<knob>`` columns, the tail.

    The scores are those some trials have: accuracy for a classifier, MSE and MAE for a
    regression (not the other kind's, always empty), a task's own.
    """
    knobs: dict[str, None] = {}
    for trial in trials:
        knobs.update(dict.fromkeys(trial.params))
    scores = shown_metrics(trials, (*METRIC_ATTRS, *EXTRA_METRIC_ATTRS))
    return [*FIXED_COLUMNS, *scores, *(f"param_{k}" for k in knobs), *TAIL_COLUMNS]


def trial_row(trial: FrozenTrial) -> dict[str, object]:
    """Return one trial as a row: state, reason, validation and test metrics, knobs, time."""
    attrs = trial.user_attrs
    seconds = trial.duration.total_seconds() if trial.duration is not None else None
    return {
        "number": trial.number,
        "state": trial.state.name,
        "reason": reason(trial),
        "val_loss": trial.value,
        **{name: attrs.get(name) for name in METRIC_ATTRS},
        **{f"param_{k}": v for k, v in trial.params.items()},
        "epochs": epochs_trained(trial),
        "stop_reason": attrs.get(STOP_REASON_ATTR, ""),
        "duration_s": round(seconds, 3) if seconds is not None else None,
        "reseed_of": attrs.get(RESEED_OF_ATTR),
        "run_id": attrs.get(TRIAL_RUN_ATTR, ""),
    }


def trials_csv(study: optuna.Study) -> str:
    """Return ``trials.csv``: one row per trial of ``study``, in trial order."""
    trials = study.get_trials(deepcopy=False)
    out = io.StringIO()
    columns = trial_columns(trials)
    writer = csv.DictWriter(out, columns, lineterminator="\n")
    writer.writeheader()
    for trial in trials:
        row = {**{c: trial.user_attrs.get(c) for c in columns}, **trial_row(trial)}
        writer.writerow({k: "" if v is None else v for k, v in row.items() if k in columns})
    return out.getvalue()


def number_text(value: object) -> str:
    """Return ``value`` for a table: floats to 4 significant digits, None as empty."""
    if isinstance(value, float):
        return f"{value:.4g}"
    return "" if value is None else str(value)


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """Return a markdown table (``|`` in cells escaped)."""

    def line(cells: Sequence[object]) -> str:
        return "| " + " | ".join(number_text(c).replace("|", "\\|") for c in cells) + " |"

    return "\n".join([line(header), line(["---"] * len(header)), *(line(r) for r in rows)])


def trial_and_knobs(trial: FrozenTrial) -> tuple[str, str]:
    """Return a best-trials row's first and last cells: the trial and its knobs.

    A retrain is marked, and its knobs named as those of the trial it retrains: the
    same values with another seed.
    """
    if RESEED_OF_ATTR in trial.user_attrs:
        anchor = trial.user_attrs[RESEED_OF_ATTR]
        return f"{trial.number} (retrain)", f"trial {anchor}'s, another seed"
    return str(trial.number), " ".join(f"{k}={number_text(v)}" for k, v in trial.params.items())


def shown_metrics(trials: Sequence[FrozenTrial], base: Sequence[str]) -> list[str]:
    """Return the metric attributes of ``trials`` to show, in order.

    Those of ``base`` they have, then each task's own scores (``Task.own_scores``:
    ``val_solved``, ``test_solved``).
    """
    present = {a for t in trials for a in t.user_attrs}
    own = sorted(
        a.removeprefix("test_")
        for a in present
        if a.startswith("test_") and a.removeprefix("test_") not in HOST_SCORES
    )
    extra = [a for name in own for a in (f"val_{name}", f"test_{name}") if a in present]
    return [a for a in base if a in present] + extra


def best_table(trials: Sequence[FrozenTrial]) -> str:
    """Return the best ``trials`` as markdown: number, val loss, accuracies, epochs, knobs."""
    attrs = shown_metrics(trials, METRIC_ATTRS)
    rows = []
    for trial in trials:
        number, knobs = trial_and_knobs(trial)
        metrics = [trial.user_attrs.get(a) for a in attrs]
        rows.append([number, trial.value, *metrics, trial.user_attrs.get(EPOCHS_RUN_ATTR), knobs])
    return markdown_table(["trial", "val_loss", *attrs, "epochs", "knobs"], rows)


def epochs_trained(trial: FrozenTrial) -> int | None:
    """Return the epochs ``trial`` trained: as recorded, else as many as it reported."""
    return trial.user_attrs.get(EPOCHS_RUN_ATTR, len(trial.intermediate_values) or None)


def ended_early_table(trials: Sequence[FrozenTrial], limit: int) -> str:
    """Return the newest ``limit`` pruned or failed trials as markdown: why each ended.

    The rest, and every complete trial, are rows of ``trials.csv``; with no such trial,
    return "".
    """
    ended = [t for t in trials if t.state in (TrialState.PRUNED, TrialState.FAIL)]
    if not ended:
        return ""
    rows = [
        [
            t.number,
            t.state.name,
            reason(t),
            epochs_trained(t),
        ]
        for t in sorted(ended, key=lambda t: -t.number)[:limit]
    ]
    table = markdown_table(("trial", "state", "reason", "epochs"), rows)
    more = len(ended) - len(rows)
    return table + (f"\n\n{more} more in `trials.csv`." if more > 0 else "")


def state_counts_text(trials: Sequence[FrozenTrial]) -> str:
    """Return e.g. ``"12 complete (4 of them retrains), 7 pruned, 1 failed"``.

    A trial given up unstarted, as another worker had filled the study (FAIL in Optuna),
    is counted apart from the failures: nothing went wrong with it.
    """
    unstarted = sum(given_up(t) for t in trials if t.state == TrialState.FAIL)
    counts = {state: sum(t.state == state for t in trials) for state in STATE_WORDS}
    counts[TrialState.FAIL] -= unstarted
    texts = [f"{counts[state]} {word}" for state, word in STATE_WORDS.items()]
    retrains = sum(is_reseed(t) for t in trials if t.state == TrialState.COMPLETE)
    if retrains:
        texts[0] += f" ({retrains} of them retrains)"
    if unstarted:
        texts.append(f"{unstarted} given up unstarted (another worker filled the study)")
    return ", ".join(texts)
