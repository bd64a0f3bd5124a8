import csv
from pathlib import Path

import pytest

from ldnn_tune.names import BEST_TAG, COMMAND_TAG, NOTE_TAG, TOP_KNOBS_TAG, TRIAL_RUN_ATTR
from ldnn_tune.report.publish import PeriodicRefresh, refresh


def artifact_paths(client, run_id: str, folder: str | None = None) -> set[str]:
    return {a.path for a in client.list_artifacts(run_id, folder)}


def test_refresh_logs_plots_tables_and_description_on_the_parent_run_only(new_toy) -> None:
    toy = new_toy(complete=5, pruned=1)
    seconds = refresh(toy.tracker, toy.study, toy.parent, "ldnn-tune run task=toy")
    client = toy.tracker.client
    assert 0 < seconds < 60
    assert {"plots", "trials.csv", "summary.md"} <= artifact_paths(client, toy.parent)
    plots = artifact_paths(client, toy.parent, "plots")
    assert "plots/parallel_coordinate.png" in plots
    assert "plots/parallel_coordinate.html" in plots
    tags = client.get_run(toy.parent).data.tags
    assert tags[NOTE_TAG].startswith("**Study `toy`**")
    assert tags[COMMAND_TAG] == "ldnn-tune run task=toy"
    assert set(tags[TOP_KNOBS_TAG].split(",")) == {"lr", "width", "init"}
    runs = client.search_runs([toy.tracker.experiment_id])
    for run in runs:
        if run.info.run_id != toy.parent:
            assert not client.list_artifacts(run.info.run_id)  # trials get no plots


def test_refresh_writes_a_readable_trials_csv(new_toy, tmp_path) -> None:
    toy = new_toy(complete=2, pruned=1)
    refresh(toy.tracker, toy.study, toy.parent, "cmd", plots=False)
    path = toy.tracker.client.download_artifacts(toy.parent, "trials.csv", str(tmp_path))
    with open(path, encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    assert [r["state"] for r in rows] == ["COMPLETE", "COMPLETE", "PRUNED"]
    assert "plots" in artifact_paths(toy.tracker.client, toy.parent)  # the folder, empty


def test_trial_runs_are_named_after_their_state(toy) -> None:
    runs = toy.tracker.client.search_runs([toy.tracker.experiment_id])
    names = {r.info.run_name for r in runs}
    assert "trial-0 (COMPLETE)" in names
    assert "trial-7 (PRUNED)" in names


def test_the_best_trials_run_is_tagged_and_the_tag_moves_with_a_better_one(new_toy) -> None:
    toy = new_toy(complete=3, pruned=0)
    client = toy.tracker.client

    def tagged() -> list[str]:
        found = client.search_runs([toy.tracker.experiment_id], f"tags.`{BEST_TAG}` = 'true'")
        return [r.info.run_id for r in found]

    refresh(toy.tracker, toy.study, toy.parent, "cmd", plots=False)
    assert tagged() == [toy.study.best_trial.user_attrs[TRIAL_RUN_ATTR]]
    trial = toy.study.ask()  # a better one
    run = toy.tracker.start_trial_run(toy.parent, trial.number, {})
    trial.set_user_attr(TRIAL_RUN_ATTR, run)
    toy.study.tell(trial, toy.study.best_value / 2)
    refresh(toy.tracker, toy.study, toy.parent, "cmd", plots=False)
    assert tagged() == [run]


@pytest.mark.parametrize(
    ("finished", "total", "calls"),
    [
        ([1, 2, 9, 10, 11], 20, 1),  # the tenth
        ([9, 11, 19, 20], 20, 1),  # passing ten by two; twenty is left to the end
        ([10, 20, 30], 30, 2),
        ([3, 4], 20, 0),
    ],
)
def test_the_periodic_refresh_runs_every_ten_finished_trials(
    finished: list[int], total: int, calls: int
) -> None:
    done: list[int] = []

    def refresh() -> float:
        done.append(1)
        return 0.0

    periodic = PeriodicRefresh(refresh, total, guess=0.0)
    for count in finished:
        periodic(count)
    assert len(done) == calls


def test_the_periodic_refresh_waits_twenty_times_what_the_last_took() -> None:
    done: list[int] = []

    def refresh() -> float:
        done.append(1)
        return 3600.0

    periodic = PeriodicRefresh(refresh, 100, every=1, guess=0.0)
    for count in (1, 2, 3):
        periodic(count)
    assert len(done) == 1  # the next may come 20 hours later


def test_a_study_started_again_under_its_name_holds_the_only_best_tag(new_toy) -> None:
    """The old study's best run is untagged when a new study of that name reports there."""
    old = new_toy(complete=2, pruned=0)
    refresh(old.tracker, old.study, old.parent, "cmd", plots=False)
    Path(old.storage.removeprefix("sqlite:///")).unlink()  # the user deletes ldnn_tune.db
    new = new_toy(complete=2, pruned=0)
    assert new.tracker.experiment_id == old.tracker.experiment_id
    refresh(new.tracker, new.study, new.parent, "cmd", plots=False)
    assert best_tagged(new) == [new.study.best_trial.user_attrs[TRIAL_RUN_ATTR]]


def test_a_study_of_the_same_name_in_another_storage_keeps_its_best_tag(toy_in, tmp_path) -> None:
    """Two live studies of one name (two storages, one MLflow store) each keep their tag."""
    first = toy_in(tmp_path, complete=2, pruned=0)
    refresh(first.tracker, first.study, first.parent, "cmd", plots=False)
    other = tmp_path / "other"
    other.mkdir()
    second = toy_in(other, complete=2, pruned=0, mlflow_folder=tmp_path)
    refresh(second.tracker, second.study, second.parent, "cmd", plots=False)
    expected = {t.study.best_trial.user_attrs[TRIAL_RUN_ATTR] for t in (first, second)}
    assert set(best_tagged(second)) == expected


def best_tagged(toy) -> list[str]:
    """Return the runs of ``toy``'s experiment tagged as a study's best."""
    found = toy.tracker.client.search_runs(
        [toy.tracker.experiment_id], f"tags.`{BEST_TAG}` = 'true'"
    )
    return [r.info.run_id for r in found]
