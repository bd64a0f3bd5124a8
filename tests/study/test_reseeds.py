"""After the search, the best trial is retrained with new seeds for the default ensemble."""

from pathlib import Path

import optuna
import pytest
from helpers import BoringPlugin, mlflow_client, run_study_here
from optuna.trial import TrialState

from ldnn_tune.names import RESEED_OF_ATTR
from ldnn_tune.study.loop import Budget
from ldnn_tune.study.queries import best_search_trial, reseed_count
from ldnn_tune.study.reseeds import RESEED_SHARE, ReseedReserve, retrain


def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *words: str) -> optuna.Study:
    monkeypatch.chdir(tmp_path)
    return run_study_here(tmp_path, BoringPlugin(), "task=boring", "check=false", *words)


def retrains(study: optuna.Study) -> list[optuna.trial.FrozenTrial]:
    return [t for t in study.trials if RESEED_OF_ATTR in t.user_attrs]


def test_the_best_trial_is_retrained_with_new_seeds_and_they_form_the_ensemble(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    study = run(tmp_path, monkeypatch, "trials=3", "reseeds=2", "pruner=median")
    anchor = best_search_trial(study)
    assert anchor is not None and anchor.number < 3
    again = retrains(study)
    assert [t.number for t in again] == [3, 4]
    for one in again:
        assert one.state == TrialState.COMPLETE  # never pruned
        assert one.user_attrs[RESEED_OF_ATTR] == anchor.number
        assert one.params == anchor.params
        assert one.user_attrs["seed"] != anchor.user_attrs["seed"]
    assert reseed_count(study) == 2

    client = mlflow_client(tmp_path)
    experiment = client.get_experiment_by_name("boring")
    assert experiment is not None
    (ensemble,) = client.search_runs(
        [experiment.experiment_id], "tags.`ldnn_tune.role` = 'ensemble'"
    )
    assert ensemble.data.params["method"] == "seeds"
    members = {int(n) for n in ensemble.data.params["members"].split(",")}
    best = min([anchor, *again], key=lambda t: (t.value, t.number))  # always admitted
    assert best.number in members and members <= {anchor.number, 3, 4}
    assert "seeds_test_acc" in ensemble.data.metrics
    retrain_run = client.get_run(again[0].user_attrs["mlflow_run_id"])
    assert retrain_run.data.params["reseed_of"] == str(anchor.number)
    parent = client.get_run(study.user_attrs["mlflow_parent_run_id"]).data.metrics
    assert (parent["finished_trials"], parent["retrains"]) == (3, 2)  # as trials= counts

    same = run(tmp_path, monkeypatch, "trials=3", "reseeds=2")
    assert len(same.trials) == 5  # the search's total is met and the retrains exist


@pytest.mark.parametrize("words", [("reseeds=0",), ("ensemble=none",), ("ensemble=greedy",)])
def test_no_retrains_without_the_seeds_ensemble_or_with_reseeds_0(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, words: tuple[str, ...]
) -> None:
    study = run(tmp_path, monkeypatch, "trials=2", *words)
    assert len(study.trials) == 2 and not retrains(study)


def test_the_reserve_is_the_retrains_time_capped_at_a_share_of_the_trial_phase() -> None:
    reserve = ReseedReserve(count=4, deadline=1000.0, start=0.0, seconds_per_trial=10.0)
    assert reserve.seconds() == 40.0
    reserve.seconds_per_trial = 100.0
    assert reserve.seconds() == pytest.approx(RESEED_SHARE * 1000.0)
    assert ReseedReserve(count=4, deadline=None, seconds_per_trial=10.0).seconds() == 0.0
    assert ReseedReserve(count=0, deadline=1000.0, start=0.0, seconds_per_trial=10.0).seconds() == 0


def queue_a_stopped_retrain(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run a 2-trial study; queue what a Ctrl-C in its retrain leaves (its knobs and role)."""
    study = run(tmp_path, monkeypatch, "trials=2", "reseeds=0")
    anchor = best_search_trial(study)
    assert anchor is not None
    study.enqueue_trial(anchor.params, user_attrs={RESEED_OF_ATTR: anchor.number})


@pytest.mark.parametrize("trials", [2, 4])  # the same total, or two more search trials
def test_a_retrain_queued_again_after_a_stop_runs_at_the_next_command_in_no_trials_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, trials: int
) -> None:
    queue_a_stopped_retrain(tmp_path, monkeypatch)
    again = run(tmp_path, monkeypatch, f"trials={trials}", "reseeds=1")
    assert [t.state for t in retrains(again)] == [TrialState.COMPLETE]
    assert TrialState.WAITING not in [t.state for t in again.trials]
    search = [t for t in again.trials if RESEED_OF_ATTR not in t.user_attrs]
    assert len(search) == trials  # the queued retrain took no search trial's place
    assert all(t.state in (TrialState.COMPLETE, TrialState.PRUNED) for t in search)


def test_two_commands_retraining_at_once_make_the_count_and_no_search_trial(
    tmp_path: Path,
) -> None:
    study = optuna.create_study(storage=f"sqlite:///{tmp_path / 'study.db'}")
    study.optimize(lambda trial: trial.suggest_float("x", 0, 1), n_trials=2)
    anchor = study.best_trial

    def other_command(study: optuna.Study, _: optuna.trial.FrozenTrial) -> None:
        """After each of this command's retrains, another command starts one of its own."""
        study.enqueue_trial(anchor.params, user_attrs={RESEED_OF_ATTR: anchor.number})
        study.ask()  # it runs on: RUNNING

    ran = retrain(study, lambda trial: 0.5, anchor, 4, Budget(total=99), [other_command])
    assert ran == 2  # the other command's two running retrains count
    assert len(retrains(study)) == 4
    assert [t.number for t in study.trials if RESEED_OF_ATTR not in t.user_attrs] == [0, 1]
