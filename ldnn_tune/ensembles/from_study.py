"""Ensemble a finished study: load its best trials' predictions, combine, log, report."""

import dataclasses
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import optuna
from rich.console import Console
from rich.table import Table

from ldnn_tune.ensembles.bundle import write_bundle
from ldnn_tune.ensembles.combine import EnsembleResult, Member, build_ensemble
from ldnn_tune.errors import UsageError
from ldnn_tune.plugin.task import TaskKind
from ldnn_tune.study.open import IDENTITY_ATTR
from ldnn_tune.study.queries import best_trials
from ldnn_tune.tracking import PARENT_RUN_ATTR, TRIAL_RUN_ATTR, StudyTracker
from ldnn_tune.trial.objective import PREDICTIONS_ARTIFACT, WEIGHTS_ARTIFACT

BUNDLE_ARTIFACT = "ensemble"


@dataclass(frozen=True)
class EnsembleReport:
    """The best single trial and both ensembles of the top trials, scored on val and test."""

    members: list[Member]
    single: EnsembleResult
    average: EnsembleResult
    greedy: EnsembleResult
    run_id: str = ""  # the MLflow run holding the ensemble bundle

    def chosen(self, method: str) -> EnsembleResult:
        """Return the ensemble built by ``method``."""
        return self.average if method == "average" else self.greedy


def load_members(
    study: optuna.Study, tracker: StudyTracker, top_k: int
) -> tuple[list[Member], np.ndarray, np.ndarray]:
    """Return the ``top_k`` complete trials' predictions and the val/test targets."""
    trials = [t for t in best_trials(study, top_k) if TRIAL_RUN_ATTR in t.user_attrs]
    if not trials:
        raise UsageError(f"study {study.study_name!r} has no complete trial to ensemble")
    members: list[Member] = []
    with tempfile.TemporaryDirectory() as tmp:
        for trial in trials:
            run_id = trial.user_attrs[TRIAL_RUN_ATTR]
            path = tracker.client.download_artifacts(run_id, PREDICTIONS_ARTIFACT, tmp)
            with np.load(path) as saved:
                members.append(
                    Member(
                        trial.number, run_id, saved["val_predictions"], saved["test_predictions"]
                    )
                )
                targets = saved["val_targets"], saved["test_targets"]
    return members, targets[0], targets[1]


def ensemble_study(
    study: optuna.Study, tracker: StudyTracker, top_k: int, method: str
) -> EnsembleReport:
    """Ensemble the study's ``top_k`` best trials and log it as an MLflow run.

    The run sits under the study's parent run, with the members and integer weights of
    ``method`` as params and the scores of the best single trial, the average and the
    greedy ensemble as metrics.
    """
    kind = TaskKind(study.user_attrs.get(IDENTITY_ATTR, {}).get("kind", "classification"))
    members, val_targets, test_targets = load_members(study, tracker, top_k)
    report = EnsembleReport(
        members=members,
        single=build_ensemble("average", members[:1], val_targets, test_targets, kind),
        average=build_ensemble("average", members, val_targets, test_targets, kind),
        greedy=build_ensemble("greedy", members, val_targets, test_targets, kind),
    )
    run_id = _log(study, tracker, report, method, top_k)
    return dataclasses.replace(report, run_id=run_id)


def _log(
    study: optuna.Study, tracker: StudyTracker, report: EnsembleReport, method: str, top_k: int
) -> str:
    parent = study.user_attrs[PARENT_RUN_ATTR]
    run_id = tracker.start_child_run(parent, f"ensemble-{method}", {"ldnn_tune.role": "ensemble"})
    chosen = report.chosen(method)
    tracker.log_params(
        run_id,
        {
            "method": method,
            "top_k": top_k,
            "members_available": len(report.members),
            "members": ",".join(str(n) for n in chosen.weights),
            "weights": ",".join(f"{n}:{w}" for n, w in chosen.weights.items()),
        },
    )
    metrics = {}
    for name, result in (
        ("single", report.single),
        ("average", report.average),
        ("greedy", report.greedy),
    ):
        for split, scores in (("val", result.val_scores), ("test", result.test_scores)):
            metrics.update({f"{name}_{split}_{k}": v for k, v in scores.items()})
    tracker.log_metrics(run_id, metrics, step=0)
    tracker.log_json(
        run_id,
        "ensemble.json",
        {
            "method": method,
            "members": [
                {
                    "trial": m.trial_number,
                    "run_id": m.run_id,
                    "weight": chosen.weights.get(m.trial_number, 0),
                }
                for m in report.members
            ],
        },
    )
    _log_bundle(study, tracker, run_id, chosen)
    tracker.client.set_terminated(run_id, "FINISHED")
    return run_id


def _log_bundle(
    study: optuna.Study, tracker: StudyTracker, run_id: str, chosen: EnsembleResult
) -> None:
    trials = {t.number: t for t in study.get_trials(deepcopy=False)}
    with tempfile.TemporaryDirectory() as tmp:
        weights_files = {}
        for number in chosen.weights:
            member_run = trials[number].user_attrs[TRIAL_RUN_ATTR]
            weights_files[number] = Path(
                tracker.client.download_artifacts(member_run, WEIGHTS_ARTIFACT, f"{tmp}/{number}")
            )
        members = [
            {"trial": n, "weight": w, "params": trials[n].params} for n, w in chosen.weights.items()
        ]
        folder = Path(tmp) / BUNDLE_ARTIFACT
        write_bundle(folder, study.user_attrs[IDENTITY_ATTR], members, weights_files)
        tracker.client.log_artifacts(run_id, str(folder), artifact_path=BUNDLE_ARTIFACT)


def ensemble_table(report: EnsembleReport, top_k: int) -> Table:
    """Return the test-split comparison: best single trial, top-K average, greedy."""
    metric = "acc" if "acc" in report.single.test_scores else "mse"
    loss_name = "NLL" if metric == "acc" else "MSE"
    table = Table(
        title=f"ensembles of the top {len(report.members)} trials (asked {top_k}), test split"
    )
    for column in (
        "model",
        "members",
        f"test {metric}",
        f"test {loss_name}",
        f"{metric} gain",
        f"{loss_name} change",
    ):
        table.add_column(column)
    base = report.single.test_scores
    for name, result in (
        ("best single", report.single),
        ("average", report.average),
        ("greedy", report.greedy),
    ):
        scores = result.test_scores
        change = (scores["loss"] - base["loss"]) / base["loss"] if base["loss"] else 0.0
        table.add_row(
            name,
            " ".join(f"{n}x{w}" if w > 1 else str(n) for n, w in result.weights.items()),
            f"{scores[metric]:.4f}",
            f"{scores['loss']:.4f}",
            f"{scores[metric] - base[metric]:+.4f}",
            f"{change:+.1%}",
        )
    return table


def print_ensemble(console: Console, report: EnsembleReport, top_k: int) -> None:
    """Print the ensemble table, and say so when fewer trials than asked were available."""
    if len(report.members) < top_k:
        console.print(f"only {len(report.members)} complete trial(s); ensembling what there is")
    console.print(ensemble_table(report, top_k))
    console.print(
        f"ensemble saved in MLflow run {report.run_id}; predict with: "
        f"ldnn-tune predict model={report.run_id} input=FILE"
    )
