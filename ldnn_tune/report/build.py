"""Gather a study's report: description, best-trials summary, trials.csv and the plots."""

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import optuna

from ldnn_tune.report.description import StudyStory, describe, reproduce_command
from ldnn_tune.report.figures import Plot, StudyFacts, draw_all
from ldnn_tune.report.importance import Importances, param_importances, top_knobs
from ldnn_tune.report.ratios import ratio_traces
from ldnn_tune.report.runs import latest_ensemble, parent_params
from ldnn_tune.report.trials import best_table, ended_early_table, trials_csv
from ldnn_tune.study.queries import best_trials

if TYPE_CHECKING:
    from mlflow.tracking import MlflowClient

RATIO_TRIALS = 5  # best trials whose update/weight ratio is traced
SUMMARY_TRIALS = 10  # rows of the best-trials table
VIEW_KNOBS = 6  # knobs shown as columns of the MLflow runs table
QUICK_NOTE = "not computed when the run was stopped"


@dataclass(frozen=True)
class ReportSource:
    """Where a study's report comes from: the study, its MLflow store and parent run."""

    study: optuna.Study
    client: "MlflowClient"
    experiment_id: str
    parent: str
    command: str = ""  # the command that ran it; default: one made from the parent's params


@dataclass(frozen=True)
class StudyReport:
    """A study's report, ready to be logged or written to a file."""

    description: str  # markdown: the parent run's note
    summary: str  # markdown: the description, the best trials, what could not be drawn
    trials_csv: str
    command: str
    top_knobs: list[str]
    plots: list[Plot] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def build_report(source: ReportSource, plots: bool = True, interactive: bool = True) -> StudyReport:
    """Return ``source``'s report; ``plots=False`` leaves the (slower) plots out."""
    study = source.study
    params = parent_params(source.client, source.parent)
    importances = param_importances(study) if plots else Importances(note=QUICK_NOTE)
    command = source.command or reproduce_command(
        study.study_name, params, len(study.get_trials(deepcopy=False)), {}
    )
    ensemble = latest_ensemble(source.client, source.experiment_id, source.parent)
    description = describe(StudyStory(study, params, importances, ensemble, command))
    drawn: list[Plot] = []
    notes: list[str] = []
    if plots:
        traces = ratio_traces(source.client, best_trials(study, RATIO_TRIALS))
        drawn, notes = draw_all(StudyFacts(study, importances, traces), interactive)
    best = best_trials(study, SUMMARY_TRIALS)
    sections = [description, "## Best trials", best_table(best) if best else "none yet"]
    ended = ended_early_table(study.get_trials(deepcopy=False), SUMMARY_TRIALS)
    if ended:
        sections += ["## Pruned and failed trials", ended]
    if notes:
        sections += ["## Not drawn", "\n".join(f"- {note}" for note in notes)]
    return StudyReport(
        description,
        "\n\n".join(sections) + "\n",
        trials_csv(study),
        command,
        top_knobs(study, importances, VIEW_KNOBS),
        drawn,
        notes,
    )
