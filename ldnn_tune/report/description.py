"""The study's description in markdown: the parent run's note in MLflow, the report's head."""

import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import optuna
from optuna.trial import FrozenTrial, TrialState

from ldnn_tune.names import (
    COMMANDS_ATTR,
    EPOCHS_RUN_ATTR,
    PLOTS_ARTIFACT,
    RESEED_OF_ATTR,
    TRIALS_ARTIFACT,
)
from ldnn_tune.report.importance import Importances
from ldnn_tune.report.runs import EnsembleSummary
from ldnn_tune.report.trials import (
    METRIC_ATTRS,
    number_text,
    shown_metrics,
    state_counts_text,
)
from ldnn_tune.urls import redact

RUN_KEYS = ("seed", "sampler", "pruner", "epochs")  # parent params that the command repeats
SHOWN_KNOBS = 5  # knobs named in the importance line


@dataclass(frozen=True)
class StudyStory:
    """Everything the description tells: the study, its setup, ensemble, knobs, command."""

    study: optuna.Study
    params: Mapping[str, str]  # the parent run's params (task, sampler, pruner, option.*)
    importances: Importances
    ensemble: EnsembleSummary | None
    command: str


def reproduce_command(
    study_name: str, params: Mapping[str, str], trials: int, extra: Mapping[str, str]
) -> str:
    """Return an ``ldnn-tune run`` command that runs the study again from its parent params.

    ``extra`` adds words (e.g. ``storage``, ``mlflow``, fixed knobs) after the setup.
    """
    words = {"task": params.get("task", study_name), "study": study_name, "trials": str(trials)}
    words |= {k: params[k] for k in RUN_KEYS if k in params}
    words |= {k.removeprefix("option."): v for k, v in params.items() if k.startswith("option.")}
    words |= extra
    return "ldnn-tune run " + " ".join(shlex.quote(f"{k}={v}") for k, v in words.items())


def setup_line(study_name: str, params: Mapping[str, str]) -> str:
    """Return what the study is: task, options, data and seed; sampler, pruner, epochs at first.

    The parent run's params are those of the study's first command (MLflow's params
    cannot change); a continuation may change the last three, and the description's
    command line shows the last command's.
    """
    options = [f"{k.removeprefix('option.')}={v}" for k, v in params.items() if "option." in k]
    parts = [
        f"task `{params.get('task', '?')}`",
        f"options {', '.join(options)}" if options else "",
        f"data `{params['data_dir']}`" if params.get("data_dir") else "",
        f"seed {params.get('seed', '?')}",
        f"begun with sampler `{params.get('sampler', '?')}`, pruner "
        f"`{params.get('pruner', '?')}` and at most {params.get('epochs', '?')} epochs a trial",
    ]
    return f"**Study `{study_name}`**: " + "; ".join(p for p in parts if p) + "."


def counts_line(trials: Sequence[FrozenTrial]) -> str:
    """Return e.g. ``Trials: 12 complete (4 of them retrains), 7 pruned, 1 failed.``.

    Running trials and queued ones (a stopped trial's knobs, run first by the next
    command) are counted after them.
    """
    running = sum(t.state == TrialState.RUNNING for t in trials)
    queued = sum(t.state == TrialState.WAITING for t in trials)
    more = [f"{running} running" if running else "", f"{queued} queued" if queued else ""]
    return f"Trials: {', '.join([state_counts_text(trials), *filter(None, more)])}."


def best_line(trial: FrozenTrial | None) -> str:
    """Return the best trial with its key metrics and knobs."""
    if trial is None:
        return "No complete trial yet."
    metrics = [f"val_loss {number_text(trial.value)}"] + [
        f"{a} {number_text(trial.user_attrs[a])}" for a in shown_metrics([trial], METRIC_ATTRS)
    ]
    epochs = trial.user_attrs.get(EPOCHS_RUN_ATTR)
    knobs = ", ".join(f"{k}={number_text(v)}" for k, v in trial.params.items())
    trained = f" after {epochs} epochs" if epochs else ""
    anchor = trial.user_attrs.get(RESEED_OF_ATTR)
    whose = f" (a retrain of trial {anchor}'s knobs)" if anchor is not None else ""
    return f"**Best trial: {trial.number}**{whose}: {', '.join(metrics)}{trained}. Knobs: {knobs}."


def ensemble_line(
    ensemble: EnsembleSummary | None, best: FrozenTrial | None = None, study: str = ""
) -> str:
    """Return the ensemble's test scores against the best single trial's, or ''.

    Says so when the study's ``best`` trial finished after the ensemble was made: the
    ensemble is older than the study's result (``ldnn-tune ensemble study=STUDY`` makes a
    new one).
    """
    if ensemble is None:
        return ""
    scores = []
    for name in ("test_acc", "test_loss", "test_mse"):
        ours, single = ensemble.score(ensemble.method, name), ensemble.score("single", name)
        if ours is not None and single is not None:
            scores.append(f"{name} {number_text(ours)} (best single {number_text(single)})")
    members = ensemble.weights.replace(",", ", ") or "?"
    return (
        f"**Ensemble ({ensemble.method})** of trials {members} (trial:weight): "
        + ("; ".join(scores) or "no test scores logged")
        + f". Run `{ensemble.run_id}`."
        + _stale_note(ensemble, best, study)
    )


def _stale_note(ensemble: EnsembleSummary, best: FrozenTrial | None, study: str) -> str:
    """Return a note when ``best`` finished after the ensemble was made, or ''."""
    done = best.datetime_complete if best is not None else None
    if best is None or done is None or not ensemble.started_ms:
        return ""
    if done.timestamp() * 1000 <= ensemble.started_ms:
        return ""
    return (
        f" It predates the study's best trial, {best.number}, which finished after it: "
        f"`ldnn-tune ensemble {shlex.quote(f'study={study}')}` makes one from the trials "
        "as they are now."
    )


def importance_line(importances: Importances) -> str:
    """Return the most important knobs, or why there are none."""
    if not importances.values:
        return f"Knob importances: {importances.note or 'none'}."
    top = list(importances.values.items())[:SHOWN_KNOBS]
    text = ", ".join(f"{k} {v:.2f}" for k, v in top)
    return f"Most important knobs (fANOVA): {text}" + (
        f" ({importances.note})." if importances.note else "."
    )


HISTORY_SHOWN = 10  # the newest recorded commands the description lists


def history_line(study: optuna.Study) -> str:
    """Return the study's recorded commands, newest first, when it has more than one.

    Recorded since ldnn-tune kept them (a study made before lists its later ones only),
    once per command on each machine; the newest :data:`HISTORY_SHOWN` are listed.
    """
    history = study.user_attrs.get(COMMANDS_ATTR, [])
    if len(history) < 2:
        return ""
    shown = history[::-1][:HISTORY_SHOWN]
    commands = "\n".join(f"{when}  {redact(command)}" for when, command in shown)
    return (
        f"Its recorded commands, newest first ({len(shown)} of {len(history)}):"
        f"\n\n```\n{commands}\n```"  # a block of its own: HTML renders it as code
    )


def describe(story: StudyStory) -> str:
    """Return the study's description in markdown."""
    trials = story.study.get_trials(deepcopy=False)
    complete = [t for t in trials if t.state == TrialState.COMPLETE and t.value is not None]
    best = min(complete, key=lambda t: float(t.value or 0.0), default=None)
    lines = [
        setup_line(story.study.study_name, story.params),
        counts_line(trials),
        best_line(best),
        ensemble_line(story.ensemble, best, story.study.study_name),
        importance_line(story.importances),
        f"Plots: the parent run's `{PLOTS_ARTIFACT}/` artifacts (PNG, and interactive HTML) "
        f"and `ldnn-tune report`'s file; every trial in its `{TRIALS_ARTIFACT}` artifact.",
        "Last run with (here it continues the study; in an empty folder it starts one with "
        "these settings, which an earlier command may have set otherwise):",
        f"```\n{story.command}\n```",
        history_line(story.study),
    ]
    return "\n\n".join(line for line in lines if line)
