"""The tables ldnn-tune prints: tasks, a space, pre-flight checks, best trials, ensembles."""

from __future__ import annotations

import dataclasses
import shlex
import typing
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import optuna
from rich.console import Console
from rich.table import Table

from ldnn_tune.config import defaults
from ldnn_tune.config.words import type_name
from ldnn_tune.ensembles.combine import NAMED, SEEDS, SINGLE, EnsembleComparison
from ldnn_tune.errors import choice_text
from ldnn_tune.names import EPOCHS_RUN_ATTR, REASON_ATTR
from ldnn_tune.plugin.manager import BLOCK_ENV, TaskEntry
from ldnn_tune.report.trials import (
    number_text,
    shown_metrics,
    state_counts_text,
    trial_and_knobs,
)
from ldnn_tune.space.knobs import SearchSpace
from ldnn_tune.study.queries import best_trials, health_pruned
from ldnn_tune.urls import store_words

if TYPE_CHECKING:  # torch loads with the checks, not with the tables
    from ldnn_tune.health.checks import CheckResult

SHOWN_ATTRS = ("val_acc", "test_acc", "val_mse", "test_mse")


def _table(title: str, columns: Iterable[str], overflow: Any = "fold") -> Table:
    table = Table(title=title)
    for column in columns:
        table.add_column(column, overflow=overflow)
    return table


def tasks_table(tasks: dict[str, TaskEntry]) -> Table:
    """Return the installed tasks: name, entry point, package, description."""
    columns = ("task", "entry point", "package", "description")
    table = _table("installed tasks", columns, overflow="ellipsis")
    table.caption = f"switch a plugin off: {BLOCK_ENV}=ENTRY_POINT or PACKAGE (comma-separated)"
    for name, entry in sorted(tasks.items()):
        table.add_row(name, entry.entry_point, entry.package, entry.task.description)
    return table


def options_table(task_name: str, options: Any) -> Table:
    """Return a task's options (a dataclass): name, value in use, default, type and help.

    The help is the field's ``metadata["help"]``
    (``bits: int = field(default=25, metadata={"help": "parity: N bits"})``).
    """
    table = _table(
        f"options of task {task_name!r}: key=value words, kept by a study",
        ("option", "value", "default", "type", "help"),
    )
    hints = typing.get_type_hints(type(options))
    for field in dataclasses.fields(options):
        default = "" if field.default is dataclasses.MISSING else choice_text(field.default)
        default = "none (the task sizes it)" if field.default is None else default
        value = choice_text(getattr(options, field.name))
        help_text = str(field.metadata.get("help", ""))
        table.add_row(field.name, value, default, type_name(hints[field.name]), help_text)
    return table


def space_table(task_name: str, space: SearchSpace) -> Table:
    """Return a space's knobs: distribution, first-trial value, condition, help."""
    table = _table(
        f"search space of task {task_name!r}",
        ("knob", "distribution", "first trial", "when", "help"),
    )
    for knob in space.knobs:
        when = " and ".join(_condition(k, v) for k, v in knob.when.items())
        table.add_row(knob.name, knob.describe(), str(knob.default), when, knob.help)
    return table


def _condition(knob: str, values: Sequence[object]) -> str:
    """Return a ``when`` condition as the command line writes it: ``init=scaled``."""
    if len(values) == 1:
        return f"{knob}={choice_text(values[0])}"
    return f"{knob} one of {', '.join(choice_text(v) for v in values)}"


def check_table(results: Sequence[CheckResult], title: str) -> Table:
    """Return the checks as a table: check, verdict, detail."""
    table = _table(title, ("check", "result", "detail"))
    for result in results:
        verdict = "[red]FAIL[/]" if not result.passed else "[green]pass[/]"
        if result.warning:
            verdict = "[yellow]warn[/]"
        table.add_row(result.name, verdict, result.detail)
    return table


def summary_table(study: optuna.Study, top: int) -> Table:
    """Return a table of the best trials: number, val loss, accuracies, epochs, params."""
    trials = best_trials(study, top)
    attrs = shown_metrics(trials, SHOWN_ATTRS)
    table = _table(
        f"best trials of study {study.study_name!r}",
        ("trial", "val_loss", *attrs, "epochs", "params"),
    )
    for trial in trials:
        number, knobs = trial_and_knobs(trial)
        table.add_row(
            number,
            f"{trial.value:.4f}",
            *(number_text(trial.user_attrs.get(a)) for a in attrs),
            str(trial.user_attrs.get(EPOCHS_RUN_ATTR, "")),
            knobs,
        )
    return table


def counts_text(study: optuna.Study) -> str:
    """Return e.g. ``"12 complete (4 of them retrains), 7 pruned, 1 failed"``."""
    return state_counts_text(study.get_trials(deepcopy=False))  # one read of the storage


def print_summary(console: Console, study: optuna.Study, top: int, browse: str) -> None:
    """Print the table, the trial counts and ``browse``: how to open the MLflow UI on them."""
    if best_trials(study, 1):
        console.print(summary_table(study, top))
    else:
        console.print(f"study {study.study_name!r} has no complete trial yet")
    console.print(f"trials: {counts_text(study)}")
    for trial in health_pruned(study)[:top]:
        console.print(
            f"  trial {trial.number} pruned: {trial.user_attrs[REASON_ATTR]}", markup=False
        )
    console.print(f"browse every trial in the MLflow UI: {browse}", markup=False, soft_wrap=True)


def ensemble_table(
    comparison: EnsembleComparison, top_k: int, methods: Sequence[str] | None = None
) -> Table:
    """Return the test-split comparison: best single trial, then each method's ensemble.

    ``methods`` limits the rows to those methods (default: every method).
    """
    base = comparison.results[SINGLE].test_scores
    classify = "acc" in base
    # classification: accuracy and NLL (the loss); regression: MSE (the loss) and MAE
    metric, loss, names = (
        ("acc", "loss", ("acc", "NLL")) if classify else ("mae", "mse", ("MAE", "MSE"))
    )
    table = _table(
        "ensembles against the best single trial, test split",
        (
            "model",
            "members",
            f"test {names[0]}",
            f"test {names[1]}",
            "acc gain (points)" if classify else "MAE change",
            f"{names[1]} change",
            *(f"test {name}" for name in comparison.own_names),  # the task's, e.g. solved
        ),
    )  # folded, not cut, in a narrow terminal: a number or member list is read whole
    shown = [SINGLE, *(methods if methods is not None else comparison.results)]
    table.caption = _ensemble_caption(comparison, top_k, [m for m in shown if m != SINGLE])
    table.caption += f" A negative {names[1]} change is better."
    if classify:
        temperatures = ", ".join(f"{m}_temperature" for m in dict.fromkeys(shown) if m != SINGLE)
        table.caption += (
            " Ensembles are temperature-scaled where a temperature fitted on validation "
            f"carries across its halves (MLflow: {temperatures}; 1 where it did not)."
        )
    for name in dict.fromkeys(shown):
        scores = comparison.results[name].test_scores
        table.add_row(
            "best single" if name == SINGLE else name,
            " ".join(
                f"{n}x{w}" if w > 1 else str(n) for n, w in comparison.results[name].weights.items()
            ),
            f"{scores[metric]:.4f}",
            f"{scores[loss]:.4f}",
            f"{(scores[metric] - base[metric]) * 100:+.2f}"
            if classify
            else _change(scores, base, metric),
            _change(scores, base, loss),
            *(f"{scores[name]:.4f}" for name in comparison.own_names),
        )
    return table


def _ensemble_caption(comparison: EnsembleComparison, top_k: int, methods: list[str]) -> str:
    """Return what the members column means for the ``methods`` shown."""
    average = comparison.results.get("average")
    pool = len(average.weights) if average is not None else min(top_k, len(comparison.members))
    parts = ["members: trial numbers, NxW = trial N counted W times"]
    if SEEDS in methods:
        parts.append("seeds: of the best search trial and its retrains, those helping on val")
    if NAMED in methods:
        parts.append("trials: the trials named by trials=")
    others = [m for m in dict.fromkeys(methods) if m not in (SEEDS, NAMED)]
    if others:
        parts.append(f"{', '.join(others)}: of the top {pool}")
    return "; ".join(parts) + "."


CHANGE_SHOWN = 10.0  # relative changes shown in full below this (1000%)


def _change(scores: dict[str, float], base: dict[str, float], key: str) -> str:
    """Return the relative change of ``scores[key]`` against ``base[key]``, e.g. ``-29.5%``.

    Beyond ten times (a baseline near 0) it says ``>+999%`` rather than a long number.
    """
    if not base[key]:
        return "+0.0%"
    ratio = (scores[key] - base[key]) / base[key]
    return f"{ratio:+.1%}" if abs(ratio) < CHANGE_SHOWN else (">+999%" if ratio > 0 else "<-999%")


def print_ensemble(
    console: Console,
    comparison: EnsembleComparison,
    top_k: int,
    methods: Sequence[str] | None = None,
    use: str = "predict",
    mlflow_uri: str = defaults.MLFLOW,
) -> None:
    """Print the ensemble table (of ``methods``, default all) and where it is saved.

    Says so first when the study has fewer complete trials than the ``top_k`` a method
    shown ranks; then the command that runs the ensemble, kept in the MLflow store at
    ``mlflow_uri``: ``use`` is ``predict`` (input files), ``generate`` (text) or "" (none).
    """
    ranked = [m for m in methods or comparison.results if m not in (SINGLE, SEEDS, NAMED)]
    for gone, one, several in (
        (comparison.left_out, "its MLflow run was deleted", "their MLflow runs were deleted"),
        (
            comparison.files_gone,
            "its MLflow run has lost the files it saved",
            "their MLflow runs have lost the files they saved",
        ),
    ):
        if gone:
            numbers = ", ".join(str(n) for n in gone)
            why = one if len(gone) == 1 else several
            console.print(f"note: left out trial{'s' * (len(gone) > 1)} {numbers}: {why}")
    if ranked and len(comparison.members) < top_k:
        console.print(f"only {len(comparison.members)} complete trial(s); ensembling what there is")
    console.print(ensemble_table(comparison, top_k, methods))
    saved = f"ensemble saved in MLflow run {comparison.run_id}"
    if comparison.logged_before:  # nothing was saved now
        saved = f"ensemble in MLflow run {comparison.run_id} (logged before, from the same runs)"
    if use:
        words = [f"model={comparison.run_id}", *store_words(mlflow=mlflow_uri)]
        if use == "predict":
            saved += f"; predict with: ldnn-tune predict {shlex.join([*words, 'input=FILE'])}"
        else:
            saved += f"; generate text with: ldnn-tune {use} {shlex.join(words)}"
    console.print(saved, markup=False, soft_wrap=True)


def predictions_table(title: str, header: Sequence[str], rows: Sequence[Sequence[str]]) -> Table:
    """Return one row per input: where it comes from, the prediction, its score or spread."""
    table = _table(title, header)
    for row in rows:
        table.add_row(*row)
    return table
