"""Ensemble a study: load its best trials' predictions, combine them, log the ensemble run."""

import contextlib
import dataclasses
import itertools
import json
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import optuna
import torch
from optuna.trial import FrozenTrial

from ldnn_tune.ensembles.bundle import write_bundle
from ldnn_tune.ensembles.combine import (
    METHODS,
    NAMED,
    SEEDS,
    SINGLE,
    EnsembleComparison,
    EnsembleResult,
    Member,
    build_ensemble,
)
from ldnn_tune.ensembles.own_scores import study_own_scores
from ldnn_tune.errors import USER_STOPS, UsageError, number_ranges
from ldnn_tune.names import (
    BUNDLE_ARTIFACT,
    ENSEMBLE_ARTIFACT,
    ENSEMBLE_ROLE,
    HPARAMS_ARTIFACT,
    IDENTITY_ATTR,
    INPUTS_TAG,
    PARENT_RUN_ATTR,
    PREDICTIONS_ARTIFACT,
    ROLE_TAG,
    TRIAL_RUN_ATTR,
    WEIGHTS_ARTIFACT,
    WORKER_TAG,
)
from ldnn_tune.plugin.manager import Host, get_plugin_manager
from ldnn_tune.plugin.task import TaskKind
from ldnn_tune.recipe.data import Standardizer
from ldnn_tune.recipe.metrics import like_targets
from ldnn_tune.study.queries import best_trials, is_reseed, reseeds_of
from ldnn_tune.study.recovery import end_abandoned_ensembles, ensemble_runs, this_worker
from ldnn_tune.tracking import StudyTracker

MEMBER_FILES = (PREDICTIONS_ARTIFACT, WEIGHTS_ARTIFACT, HPARAMS_ARTIFACT)  # a trial run's


class RunsPresent:
    """Whether a trial's MLflow run is still in the store, with the files it saved.

    Its predictions and weights are the run's artifacts: a trial whose run a user deleted
    (in the UI, or ``mlflow gc``), or whose files are gone from the artifact store (a
    folder removed by hand), cannot be a member. Each run is asked about once, and only
    the runs of the trials an ensemble might take.
    """

    def __init__(self, tracker: StudyTracker) -> None:
        """Ask ``tracker``'s store."""
        self.client = tracker.client
        self.gone: list[int] = []  # the trials asked about whose runs are gone, in order
        self.files_gone: list[int] = []  # ... whose runs are there without their files
        self._present: dict[str, bool] = {}

    def __call__(self, trial: FrozenTrial) -> bool:
        """Return whether ``trial``'s run is present, with its files."""
        run_id = trial.user_attrs[TRIAL_RUN_ATTR]
        if run_id not in self._present:
            run_there = self._ask(run_id)
            files_there = run_there and self._files_there(run_id)
            self._present[run_id] = files_there
            if not run_there:
                self.gone.append(trial.number)
            elif not files_there:
                self.files_gone.append(trial.number)
        return self._present[run_id]

    def why_not(self, trial: FrozenTrial) -> str:
        """Return why ``trial`` is not present, after it was asked about."""
        run_id = trial.user_attrs[TRIAL_RUN_ATTR]
        if trial.number in self.files_gone:
            return f"MLflow run {run_id} has lost the files it saved ({', '.join(MEMBER_FILES)})"
        return f"MLflow run {run_id} was deleted"

    def _ask(self, run_id: str) -> bool:
        from mlflow.exceptions import MlflowException

        try:
            return str(self.client.get_run(run_id).info.lifecycle_stage) == "active"
        except MlflowException as error:
            if error.error_code == "RESOURCE_DOES_NOT_EXIST":
                return False
            raise

    def _files_there(self, run_id: str) -> bool:
        from mlflow.exceptions import MlflowException

        try:
            names = {info.path for info in self.client.list_artifacts(run_id)}
        except (MlflowException, OSError):  # the run's artifact folder itself is gone
            return False
        return set(MEMBER_FILES) <= names


def candidate_pools(
    study: optuna.Study,
    top_k: int,
    named: Sequence[int] = (),
    present: Callable[[FrozenTrial], bool] = lambda trial: True,
) -> dict[str, list[FrozenTrial]]:
    """Return the trials each method may combine, best first.

    ``seeds``: the search's best trial and its complete retrains, best first, so the
    member every seeds ensemble holds is the best of them (a retrain may beat the trial
    it retrains); the others: the ``top_k`` complete trials with the lowest validation
    loss, retrains included; and when ``named`` holds trial numbers, :data:`NAMED`:
    those trials. Only trials whose MLflow run is ``present`` are taken.
    """
    logged = [t for t in best_trials(study) if TRIAL_RUN_ATTR in t.user_attrs]
    top = list(itertools.islice(filter(present, logged), min(top_k, sys.maxsize)))
    if not top:
        gone = " whose MLflow run is still there" if logged else ""
        raise UsageError(f"study {study.study_name!r} has no complete trial{gone} to ensemble")
    # the search's best
    anchor = next((t for t in logged if not is_reseed(t) and present(t)), top[0])
    complete = {t.number for t in logged}
    retrains = [t for t in reseeds_of(study, anchor.number) if t.number in complete and present(t)]
    pools = {name: top for name in METHODS}
    pools[SEEDS] = sorted([anchor, *retrains], key=lambda t: (t.value, t.number))
    if named:
        pools[NAMED] = named_trials(study.study_name, logged, named, present)
    return pools


def named_trials(
    study_name: str,
    logged: list[FrozenTrial],
    numbers: Sequence[int],
    present: Callable[[FrozenTrial], bool] = lambda trial: True,
) -> list[FrozenTrial]:
    """Return the trials ``numbers`` names, each once, from the complete ``logged`` ones.

    A number that is not a complete trial's is a UsageError listing the complete ones:
    only they saved the predictions and weights an ensemble is made of; so is one whose
    MLflow run is not ``present`` (a :class:`RunsPresent` says why).
    """
    by_number = {t.number: t for t in logged}
    for number in numbers:
        if number not in by_number:
            raise UsageError(
                f"invalid trials={number}: trial {number} of study {study_name!r} is not "
                f"complete; its complete trials are {number_ranges(by_number)}"
            )
        trial = by_number[number]
        if not present(trial):
            why = (
                present.why_not(trial)
                if isinstance(present, RunsPresent)
                else f"MLflow run {trial.user_attrs[TRIAL_RUN_ATTR]} was deleted"
            )
            raise UsageError(
                f"invalid trials={number}: trial {number}'s {why}, with the "
                "predictions and weights an ensemble is made of"
            )
    return [by_number[n] for n in dict.fromkeys(numbers)]


@dataclass(frozen=True)
class SavedTargets:
    """The validation and test targets trials saved, and how to map them to units."""

    val: np.ndarray
    test: np.ndarray
    transform: Standardizer | None  # a regression task's target_transform(), or None


def load_members(
    study: optuna.Study, tracker: StudyTracker, trials: list[FrozenTrial]
) -> tuple[list[Member], SavedTargets]:
    """Return ``trials``' saved predictions and the targets they predict."""
    members: list[Member] = []
    with tempfile.TemporaryDirectory() as tmp:
        for trial in trials:
            run_id = trial.user_attrs[TRIAL_RUN_ATTR]
            path = tracker.client.download_artifacts(run_id, PREDICTIONS_ARTIFACT, tmp)
            with np.load(path) as saved:
                # in the targets' shape: a trial saved before they were kept so is like the rest
                val = like_targets(saved["val_predictions"], saved["val_targets"])
                test = like_targets(saved["test_predictions"], saved["test_targets"])
                members.append(Member(trial.number, run_id, val, test))
                targets = SavedTargets(
                    saved["val_targets"], saved["test_targets"], _saved_transform(saved)
                )
    _check_members(members)
    return members, targets


def _check_members(members: Sequence[Member]) -> None:
    """Refuse members an average cannot take: predictions of NaN, or of other shapes.

    A trial completed before such nets were pruned may have saved NaN predictions; a
    study whose text gained a character (edited before studies recorded their data's
    contents) has trials of two output widths. Either would make every ensemble NaN or fail.
    """
    for member in members:
        finite = (
            np.isfinite(member.val_predictions).all() and np.isfinite(member.test_predictions).all()
        )
        if not finite:
            raise UsageError(
                f"trial {member.trial_number}'s saved predictions hold NaN or infinity (its "
                "net diverged after its best epoch): ensemble the others with trials=N,N"
            )
    for first, member in ((members[0], m) for m in members[1:]):
        if member.val_predictions.shape != first.val_predictions.shape:
            raise UsageError(
                f"trials {first.trial_number} and {member.trial_number} predict arrays of "
                f"other shapes ({first.val_predictions.shape} and "
                f"{member.val_predictions.shape}): the study's data changed between them; "
                "ensemble trials of one shape with trials=N,N"
            )


def _saved_transform(saved: Mapping[str, np.ndarray]) -> Standardizer | None:
    """Return the target transform a trial saved with its predictions, or None."""
    if "target_mean" not in saved:
        return None
    log1p = bool(saved["target_log1p"]) if "target_log1p" in saved else False
    return Standardizer(
        torch.from_numpy(saved["target_mean"]), torch.from_numpy(saved["target_std"]), log1p
    )


def load_pools(
    study: optuna.Study,
    tracker: StudyTracker,
    top_k: int,
    named: Sequence[int] = (),
    present: RunsPresent | None = None,
) -> tuple[dict[str, list[Member]], list[Member], SavedTargets]:
    """Return each model's members, every member once (best first), and their targets.

    The models are :data:`SINGLE` (the best trial alone) and the methods' pools
    (:func:`candidate_pools`) of trials whose runs are ``present`` (asked of ``tracker``
    by default); each trial's predictions are loaded once.
    """
    present = present or RunsPresent(tracker)
    pools = candidate_pools(study, top_k, named, present)
    every = {t.number: t for pool in pools.values() for t in pool}
    ordered = sorted(every.values(), key=lambda t: (t.value, t.number))
    members, targets = load_members(study, tracker, ordered)
    by_number = {m.trial_number: m for m in members}
    chosen = {
        name: [by_number[t.number] for t in pool]
        for name, pool in {SINGLE: ordered[:1], **pools}.items()
    }
    return chosen, members, targets


def method_of(model: str) -> str:
    """Return the method that builds ``model``.

    The best single trial is an average of one; the trials a user names are averaged.
    """
    return "average" if model in (SINGLE, NAMED) else model


def ensemble_study(
    study: optuna.Study,
    tracker: StudyTracker,
    top_k: int,
    method: str,
    named: Sequence[int] = (),
) -> EnsembleComparison:
    """Ensemble the study's trials by each method and log ``method``'s as an MLflow run.

    Each method combines its pool (:func:`candidate_pools`); with trial numbers in
    ``named``, ``method`` is :data:`NAMED`, their average. The run sits under the
    study's parent run, with the members and integer weights of ``method`` as params,
    the scores of the best single trial and of every method's ensemble as metrics, and
    the bundle of ``method``'s ensemble as an artifact.
    """
    present = RunsPresent(tracker)
    pools, members, targets = load_pools(study, tracker, top_k, named, present)
    identity = study.user_attrs.get(IDENTITY_ATTR, {})
    kind = TaskKind(identity.get("kind", "classification"))
    entry = Host(get_plugin_manager()).tasks().get(str(identity.get("task")))  # once
    own_scores = study_own_scores(study, entry)
    results = {}
    for name, chosen in pools.items():
        results[name] = build_ensemble(
            method_of(name),
            chosen,
            targets.val,
            targets.test,
            kind,
            targets.transform,
            calibrate=name != SINGLE,  # the baseline is the best trial as it trained
            own_scores=own_scores,
        )
    own_names = (
        tuple(own_scores(members[0].val_predictions, targets.val))
        if own_scores is not None and members
        else ()
    )
    comparison = EnsembleComparison(
        members,
        results,
        left_out=tuple(present.gone),
        files_gone=tuple(present.files_gone),
        own_names=own_names,
    )
    inputs = ensemble_inputs(method, top_k, members, named)
    parent = study.user_attrs[PARENT_RUN_ATTR]
    package = entry.package if entry is not None else ""
    logged = (comparison, method, inputs, top_k, targets.transform, package)
    run_id = logged_before(tracker, parent, inputs)
    reused = run_id is not None
    if run_id is None:
        ours = _log(study, tracker, *logged)
        # another command may have logged the same ensemble meanwhile: one run is kept
        run_id = keep_first_logged(tracker, parent, inputs, ours)
        reused = run_id != ours
    return dataclasses.replace(comparison, run_id=run_id, logged_before=reused)


def ensemble_inputs(
    method: str, top_k: int, members: list[Member], named: Sequence[int] = ()
) -> str:
    """Return what an ensemble is built from: method, ``top_k``, runs, trials named.

    The same inputs give the same ensemble, whichever command builds it, as long as the
    code does: ldnn-tune's version is part of it.
    """
    from importlib.metadata import version

    runs = ",".join(sorted(m.run_id for m in members))
    inputs = f"ldnn-tune {version('ldnn-tune')}; {method}; top_k={top_k}; runs={runs}"
    if named:
        inputs += f"; trials={','.join(str(n) for n in dict.fromkeys(named))}"
    return inputs


def logged_before(tracker: StudyTracker, parent: str, inputs: str) -> str | None:
    """Return the first finished ensemble run under ``parent`` built from ``inputs``, or None.

    Running a finished study's command again, or ``ldnn-tune ensemble`` twice, finds it
    and logs no identical run beside it. A run whose bundle's files are gone is passed
    over: the ensemble is logged again. "First" is the earliest to finish, which
    :func:`keep_first_logged` keeps when commands log the same ensemble at once.
    """
    runs = ensemble_runs(tracker, parent, "FINISHED")
    same = sorted(
        (r for r in runs if r.data.tags.get(INPUTS_TAG) == inputs),
        key=lambda r: (r.info.end_time or 0, r.info.run_id),
    )
    return next((str(r.info.run_id) for r in same if _bundle_there(tracker, r.info.run_id)), None)


def keep_first_logged(tracker: StudyTracker, parent: str, inputs: str, run_id: str) -> str:
    """Return the ensemble run of ``inputs`` that finished first; delete ``run_id`` if not it.

    Commands ensembling one study at once (a cron job's ``ensemble`` beside ``run``'s own)
    each found none logged before and logged their own. Each looks again once its run has
    finished: the first to finish is kept, being the earliest that all of them see, and
    the others delete theirs and name it, so the study keeps one run per ensemble.
    """
    first = logged_before(tracker, parent, inputs)
    if first is None or first == run_id:
        return run_id
    tracker.client.delete_run(run_id)
    return first


def _bundle_there(tracker: StudyTracker, run_id: str) -> bool:
    from mlflow.exceptions import MlflowException

    try:
        return any(info.path == BUNDLE_ARTIFACT for info in tracker.client.list_artifacts(run_id))
    except (MlflowException, OSError):
        return False


def _log(
    study: optuna.Study,
    tracker: StudyTracker,
    comparison: EnsembleComparison,
    method: str,
    inputs: str,
    top_k: int,
    target_transform: Standardizer | None,
    package: str,
) -> str:
    parent = study.user_attrs[PARENT_RUN_ATTR]
    end_abandoned_ensembles(tracker, parent)
    tags = {ROLE_TAG: ENSEMBLE_ROLE, WORKER_TAG: this_worker(), INPUTS_TAG: inputs}
    run_id = tracker.start_child_run(parent, f"ensemble-{method}", tags)
    try:
        _log_run(study, tracker, run_id, comparison, method, top_k, target_transform, package)
    except BaseException as error:  # stopped or failed: the run must not stay RUNNING
        with contextlib.suppress(Exception):
            stopped = isinstance(error, USER_STOPS)
            tracker.client.set_terminated(run_id, "KILLED" if stopped else "FAILED")
        raise
    tracker.client.set_terminated(run_id, "FINISHED")
    return run_id


def _log_run(
    study: optuna.Study,
    tracker: StudyTracker,
    run_id: str,
    comparison: EnsembleComparison,
    method: str,
    top_k: int,
    target_transform: Standardizer | None,
    package: str,
) -> None:
    """Log ``method``'s members, every method's scores and the bundle on ``run_id``.

    ``package`` is the task's, as the bundle records it (e.g. ``ldnn-tune-image 0.1.0``).
    """
    chosen = comparison.results[method]
    tracker.log_params(
        run_id,
        {
            "method": method,
            "top_k": top_k,
            "members_available": len(comparison.members),
            "members": ",".join(str(n) for n in chosen.weights),
            "weights": ",".join(f"{n}:{w}" for n, w in chosen.weights.items()),
        },
    )
    metrics = {}
    for name, result in comparison.results.items():
        for split, scores in (("val", result.val_scores), ("test", result.test_scores)):
            metrics.update({f"{name}_{split}_{k}": v for k, v in scores.items()})
        if "acc" in result.val_scores:  # a regression's values are not temperature-scaled
            metrics[f"{name}_temperature"] = result.temperature
    # under the names a trial's run has too, so the runs table's columns show the ensemble
    metrics.update({f"best_val_{k}": v for k, v in chosen.val_scores.items()})
    metrics.update({f"test_{k}": v for k, v in chosen.test_scores.items()})
    tracker.log_metrics(run_id, metrics, step=0)
    tracker.log_json(run_id, ENSEMBLE_ARTIFACT, _manifest(method, chosen.weights, comparison))
    _log_bundle(study, tracker, run_id, chosen, target_transform, package)


def _manifest(
    method: str, weights: Mapping[int, int], comparison: EnsembleComparison
) -> dict[str, Any]:
    """Return ``ensemble.json``: ``method``'s members, their weights and runs.

    The trials the comparison weighed for the other methods are listed as ``not_taken``.
    """
    runs = {m.trial_number: m.run_id for m in comparison.members}
    members = [{"trial": n, "run_id": runs[n], "weight": w} for n, w in weights.items()]
    others = [{"trial": n, "run_id": r} for n, r in runs.items() if n not in weights]
    return {"method": method, "members": members, "not_taken": others}


def _log_bundle(
    study: optuna.Study,
    tracker: StudyTracker,
    run_id: str,
    chosen: EnsembleResult,
    target_transform: Standardizer | None,
    package: str,
) -> None:
    trials = {t.number: t for t in study.get_trials(deepcopy=False)}
    with tempfile.TemporaryDirectory() as tmp:
        weights_files = {}
        members = []
        for number, weight in chosen.weights.items():
            folder = f"{tmp}/{number}"
            member_run = trials[number].user_attrs[TRIAL_RUN_ATTR]
            weights_files[number] = Path(
                tracker.client.download_artifacts(member_run, WEIGHTS_ARTIFACT, folder)
            )
            knobs = _trained_knobs(tracker, trials[number], folder)
            members.append({"trial": number, "weight": weight, "knobs": knobs})
        bundle = Path(tmp) / BUNDLE_ARTIFACT
        identity = study.user_attrs[IDENTITY_ATTR]
        temperature = chosen.temperature
        write_bundle(
            bundle, identity, members, weights_files, target_transform, temperature, package
        )
        tracker.client.log_artifacts(run_id, str(bundle), artifact_path=BUNDLE_ARTIFACT)


def _trained_knobs(tracker: StudyTracker, trial: FrozenTrial, folder: str) -> dict[str, Any]:
    """Return every knob value ``trial`` trained with, sampled or default (its hparams.json)."""
    run_id = trial.user_attrs[TRIAL_RUN_ATTR]
    path = tracker.client.download_artifacts(run_id, HPARAMS_ARTIFACT, folder)
    knobs: dict[str, Any] = json.loads(Path(path).read_text(encoding="utf-8"))["knobs"]
    return knobs
