"""Which trials each ensemble method may combine, read from a real study."""

import io
import time
from pathlib import Path

import numpy as np
import optuna
import pytest
from optuna.distributions import FloatDistribution

from ldnn_tune.ensembles.combine import SEEDS
from ldnn_tune.ensembles.from_study import (
    MEMBER_FILES,
    RunsPresent,
    candidate_pools,
    keep_first_logged,
    load_members,
    logged_before,
)
from ldnn_tune.errors import UsageError
from ldnn_tune.names import (
    BUNDLE_ARTIFACT,
    ENSEMBLE_ROLE,
    INPUTS_TAG,
    PREDICTIONS_ARTIFACT,
    RESEED_OF_ATTR,
    ROLE_TAG,
    TRIAL_RUN_ATTR,
)
from ldnn_tune.tracking import StudyTracker


def study_of(values: dict[int, tuple[float, int | None]]) -> optuna.Study:
    """Return a study whose trial N has val loss ``values[N][0]`` and retrains ``values[N][1]``."""
    study = optuna.create_study()
    for number in range(max(values) + 1):
        value, reseed_of = values.get(number, (9.0, None))
        attrs: dict[str, object] = {TRIAL_RUN_ATTR: f"run{number}"}
        if reseed_of is not None:
            attrs[RESEED_OF_ATTR] = reseed_of
        study.add_trial(
            optuna.trial.create_trial(
                value=value,
                params={"lr": 0.1},
                distributions={"lr": FloatDistribution(0.01, 1.0)},
                user_attrs=attrs,
            )
        )
    return study


def test_the_seeds_pool_starts_with_the_best_of_the_trial_and_its_retrains() -> None:
    # the audit's study: the search's best (trial 0) was beaten by both its retrains
    study = study_of({0: (1.57, None), 1: (2.0, None), 2: (2.1, None), 3: (1.11, 0), 4: (0.98, 0)})
    pools = candidate_pools(study, top_k=5)
    assert [t.number for t in pools[SEEDS]] == [4, 3, 0]  # the first member is always kept


def test_a_top_k_past_any_number_of_trials_takes_them_all() -> None:
    study = study_of({0: (1.0, None), 1: (2.0, None)})
    pools = candidate_pools(study, top_k=10**30)  # itertools.islice refused it: exit 1
    assert [t.number for t in pools["average"]] == [0, 1]


def test_a_run_deleted_or_collected_is_not_present(tmp_path: Path) -> None:
    tracker = StudyTracker(f"sqlite:///{tmp_path / 'mlflow.db'}", "s")
    parent = tracker.open_parent_run(None, "s", {})
    kept, deleted, emptied = (tracker.start_child_run(parent, name, {}) for name in "abc")
    for run in (kept, deleted):
        tracker.log_artifact_files(run, {name: b"saved" for name in MEMBER_FILES})
    tracker.log_artifact_files(emptied, {PREDICTIONS_ARTIFACT: b"saved"})  # the rest removed
    tracker.client.delete_run(deleted)
    present = RunsPresent(tracker)
    trials = [
        optuna.trial.create_trial(value=1.0, user_attrs={TRIAL_RUN_ATTR: run})
        for run in (kept, deleted, "0" * 32, emptied)  # "0"*32: gone, as after `mlflow gc`
    ]
    for number, trial in enumerate(trials):
        trial.number = number
    assert [present(t) for t in trials] == [True, False, False, False]
    assert (present.gone, present.files_gone) == ([1, 2], [3])
    assert present.why_not(trials[3]).endswith(
        "has lost the files it saved (predictions.npz, model.pt, hparams.json)"
    )
    study = study_of({0: (1.0, None), 1: (2.0, None)})
    pools = candidate_pools(study, top_k=5, present=lambda t: t.number != 0)
    assert [t.number for t in pools[SEEDS]] == [1]  # the best one left is the anchor


def test_members_of_other_shapes_are_refused_naming_the_trials(tmp_path: Path) -> None:
    # a study whose text gained a character: its later trials output one more class
    tracker = StudyTracker(f"sqlite:///{tmp_path / 'mlflow.db'}", "s")
    parent = tracker.open_parent_run(None, "s", {})
    trials = []
    for number, classes in enumerate((58, 58, 59)):
        run = tracker.start_child_run(parent, f"trial-{number}", {})
        buffer = io.BytesIO()
        predictions = np.full((3, 4, classes), 1 / classes)
        targets = np.zeros((3, 4), dtype=np.int64)
        np.savez(
            buffer,
            val_predictions=predictions,
            test_predictions=predictions,
            val_targets=targets,
            test_targets=targets,
        )
        tracker.log_artifact_files(run, {PREDICTIONS_ARTIFACT: buffer.getvalue()})
        trials.append(optuna.trial.create_trial(value=1.0, user_attrs={TRIAL_RUN_ATTR: run}))
        trials[-1].number = number
    assert len(load_members(optuna.create_study(), tracker, trials[:2])[0]) == 2
    with pytest.raises(
        UsageError,
        match=r"trials 0 and 2 predict arrays of other shapes "
        r"\(\(3, 4, 58\) and \(3, 4, 59\)\): the study's data changed",
    ):
        load_members(optuna.create_study(), tracker, trials)


def saved_trials(
    tmp_path: Path, predictions: list[np.ndarray], targets: np.ndarray
) -> tuple[StudyTracker, list[optuna.trial.FrozenTrial]]:
    """Return a tracker and trials whose runs saved ``predictions`` of ``targets``, in order."""
    tracker = StudyTracker(f"sqlite:///{tmp_path / 'mlflow.db'}", "s")
    parent = tracker.open_parent_run(None, "s", {})
    trials = []
    for number, predicted in enumerate(predictions):
        run = tracker.start_child_run(parent, f"trial-{number}", {})
        buffer = io.BytesIO()
        arrays = {"val_predictions": predicted, "test_predictions": predicted}
        np.savez(buffer, **arrays, val_targets=targets, test_targets=targets)
        tracker.log_artifact_files(run, {PREDICTIONS_ARTIFACT: buffer.getvalue()})
        trials.append(optuna.trial.create_trial(value=1.0, user_attrs={TRIAL_RUN_ATTR: run}))
        trials[-1].number = number
    return tracker, trials


def test_a_member_of_nan_predictions_is_refused_naming_it(tmp_path: Path) -> None:
    # a trial completed before nets that turn to NaN were pruned
    predictions = [np.full((3, 2), value) for value in (0.5, np.nan)]
    tracker, trials = saved_trials(tmp_path, predictions, np.zeros(3, dtype=np.int64))
    with pytest.raises(UsageError, match=r"trial 1's saved predictions hold NaN or infinity"):
        load_members(optuna.create_study(), tracker, trials)


def test_regression_members_are_read_in_their_targets_shape(tmp_path: Path) -> None:
    # a trial saved before predictions were kept in the targets' shape, and one after
    predictions = [np.zeros((3, 1, 1)), np.zeros((3, 1))]
    tracker, trials = saved_trials(tmp_path, predictions, np.zeros((3, 1)))
    members, _ = load_members(optuna.create_study(), tracker, trials)
    assert [m.val_predictions.shape for m in members] == [(3, 1), (3, 1)]


def test_of_two_commands_logging_one_ensemble_the_first_to_finish_keeps_it(
    tmp_path: Path,
) -> None:
    """Two commands ensembling at once each logged a run; the later one gives its own up."""
    tracker = StudyTracker(f"sqlite:///{tmp_path / 'mlflow.db'}", "s")
    parent = tracker.open_parent_run(None, "s", {})
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    (bundle / "manifest.json").write_text("{}")

    def finished_run(with_bundle: bool) -> str:
        run = tracker.start_child_run(
            parent, "ensemble-seeds", {ROLE_TAG: ENSEMBLE_ROLE, INPUTS_TAG: "same inputs"}
        )
        if with_bundle:
            tracker.client.log_artifacts(run, str(bundle), BUNDLE_ARTIFACT)
        tracker.client.set_terminated(run, "FINISHED")
        time.sleep(0.01)  # end times are in milliseconds
        return run

    broken = finished_run(with_bundle=False)  # finished first, but its files are gone
    first, second = finished_run(True), finished_run(True)
    # a third command reading now gets the run that will be kept, not the newest
    assert logged_before(tracker, parent, "same inputs") == first
    assert keep_first_logged(tracker, parent, "same inputs", first) == first
    assert keep_first_logged(tracker, parent, "same inputs", second) == first
    stage = {run: tracker.client.get_run(run).info.lifecycle_stage for run in runs_of(tracker)}
    assert stage == {broken: "active", first: "active", second: "deleted"}


def runs_of(tracker: StudyTracker) -> list[str]:
    """Return every run id of the tracker's experiment, deleted ones included."""
    from mlflow.entities import ViewType

    runs = tracker.client.search_runs([tracker.experiment_id], run_view_type=ViewType.ALL)
    return [r.info.run_id for r in runs if r.data.tags.get(ROLE_TAG) == ENSEMBLE_ROLE]
