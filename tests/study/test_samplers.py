"""The sampler's seed: a new study's as given, a continued study's or a worker's drawn apart."""

import warnings
from pathlib import Path

import optuna
import pytest
from optuna.trial import FrozenTrial, TrialState

from ldnn_tune.study.samplers import SAMPLERS, make_sampler, sampler_seed


def trial(state: TrialState) -> FrozenTrial:
    return optuna.trial.create_trial(state=state, value=1.0 if state.is_finished() else None)


def test_a_new_studys_first_process_uses_the_seed_as_given() -> None:
    assert sampler_seed(7, [], 0, "h:1:1") == 7
    assert sampler_seed(7, [trial(TrialState.WAITING)], 0, "h:1:1") == 7  # trial 0 queued


def test_a_command_started_beside_the_one_that_made_the_study_draws_apart() -> None:
    queued = [trial(TrialState.WAITING)]
    assert sampler_seed(7, queued, 0, "h:1:1", creator="h:1:1") == 7  # it made the study
    beside = {sampler_seed(7, queued, 0, f"h:{pid}:1", creator="h:1:1") for pid in (2, 3)}
    assert 7 not in beside and len(beside) == 2


def test_a_continuation_draws_apart_and_the_same_on_every_run() -> None:
    done = [trial(TrialState.COMPLETE), trial(TrialState.PRUNED)]
    continued = sampler_seed(7, done, 0, "h:1:1")
    assert continued != 7
    assert sampler_seed(7, done, 0, "other:2:2") == continued  # alone: no process in it
    assert sampler_seed(7, [*done, trial(TrialState.COMPLETE)], 0, "h:1:1") != continued


def test_workers_draw_apart_from_each_other() -> None:
    queued = [trial(TrialState.WAITING)]
    seeds = {sampler_seed(7, queued, worker, "h:1:1") for worker in range(4)}
    assert len(seeds) == 4
    running = [trial(TrialState.COMPLETE), trial(TrialState.RUNNING)]
    assert sampler_seed(7, running, 0, "h:1:1") != sampler_seed(7, running, 0, "h:2:1")


def test_a_continued_sqlite_study_samples_knob_sets_it_has_not_tried(tmp_path: Path) -> None:
    storage = f"sqlite:///{tmp_path}/s.db"

    def invocation(trials: int) -> None:
        study = optuna.create_study(study_name="s", storage=storage, load_if_exists=True)
        seed = sampler_seed(0, study.get_trials(deepcopy=False), 0, "h:1:1")
        study.sampler = make_sampler("tpe", seed)
        study.optimize(lambda t: t.suggest_float("x", 0, 1) + t.suggest_int("n", 0, 9), trials)

    invocation(3)
    invocation(3)
    drawn = [
        tuple(t.params.values()) for t in optuna.load_study(study_name="s", storage=storage).trials
    ]
    assert len(drawn) == 6 and len(set(drawn)) == 6


def knobs(trial: optuna.Trial) -> float:
    lr = trial.suggest_float("lr", 1e-3, 1, log=True)
    width = trial.suggest_int("width", 8, 64, log=True)
    act = trial.suggest_categorical("act", ["relu", "tanh"])
    return (lr - 0.1) ** 2 + abs(width - 32) / 32 + (act == "tanh")


@pytest.mark.parametrize("name", sorted(SAMPLERS))
def test_every_sampler_runs_a_study_without_a_warning_or_a_failed_trial(
    tmp_path: Path, name: str
) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        study = optuna.create_study(storage=f"sqlite:///{tmp_path}/s.db")
        study.sampler = make_sampler(name, 0)
        study.optimize(knobs, n_trials=12)
    assert [t.state for t in study.trials] == [TrialState.COMPLETE] * 12


def test_cmaes_learns_the_categorical_knobs_it_cannot_model() -> None:
    """CMA-ES leaves categorical knobs to another sampler: TPE, not Optuna's random default."""

    def objective(trial: optuna.Trial) -> float:
        x, y = trial.suggest_float("x", -1, 1), trial.suggest_float("y", -1, 1)
        best = trial.suggest_categorical("c", ["a", "b", "c", "d"]) == "c"
        return x * x + y * y + (0.0 if best else 1.0)

    study = optuna.create_study(sampler=make_sampler("cmaes", 0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        study.optimize(objective, 40)
    after_startup = [t.params["c"] for t in study.trials[10:]]
    assert after_startup.count("c") / len(after_startup) > 0.5  # random draws give 0.25


def test_qmc_draws_apart_for_another_seed() -> None:
    def draws(seed: int) -> list[float]:
        study = optuna.create_study(sampler=make_sampler("qmc", seed))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            study.optimize(lambda t: t.suggest_float("x", 0, 1), 5)
        return [t.params["x"] for t in study.trials[1:]]  # the first is Optuna's random draw

    assert draws(0) == draws(0) and draws(0) != draws(1)
