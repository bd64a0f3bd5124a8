import pytest

from ldnn_tune.report.importance import (
    KnownImportances,
    fanova_trees,
    param_importances,
    top_knobs,
)


def test_importances_rank_the_knobs(toy) -> None:
    found = param_importances(toy.study)
    assert set(found.values) == {"lr", "width", "init"}
    assert list(found.values.values()) == sorted(found.values.values(), reverse=True)
    assert found.note == ""
    assert top_knobs(toy.study, found, 2) == list(found.values)[:2]


@pytest.mark.parametrize(("complete", "pruned"), [(0, 0), (0, 2), (1, 1)])
def test_a_tiny_study_gets_a_note_not_a_crash(new_toy, complete: int, pruned: int) -> None:
    toy = new_toy(complete=complete, pruned=pruned)
    found = param_importances(toy.study)
    assert found.values == {}
    assert f"the study has {complete}" in found.note
    expected = [] if complete + pruned == 0 else ["lr", "width"]
    assert top_knobs(toy.study, found, 2) == expected  # in the order trials sampled them


def test_few_complete_trials_are_a_rough_guide(new_toy) -> None:
    found = param_importances(new_toy(complete=3, pruned=0).study)
    assert found.values
    assert "only 3 complete trials" in found.note


def test_known_importances_answer_optunas_plots(toy) -> None:
    found = param_importances(toy.study)
    assert KnownImportances(found).evaluate(toy.study, ["lr"]) == {"lr": found.values["lr"]}


def test_fanova_fits_fewer_trees_the_more_trials_it_fits() -> None:
    assert fanova_trees(1) == fanova_trees(100) == 64  # Optuna's default for small studies
    assert fanova_trees(200) == 32
    assert fanova_trees(500) == fanova_trees(5000) == 16


def test_a_trial_enqueued_outside_its_distribution_gets_a_note_not_a_crash() -> None:
    import warnings

    import optuna

    study = optuna.create_study()
    study.enqueue_trial({"lr": 0.2})  # by hand, where the space pins lr to 0.1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(3):
            trial = study.ask()
            lr = trial.suggest_float("lr", 0.1, 0.1)
            study.tell(trial, lr + trial.suggest_float("x", 0, 1))
    result = param_importances(study)
    assert result.values == {} and "could not be computed" in result.note
