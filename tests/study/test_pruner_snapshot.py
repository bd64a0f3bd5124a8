"""The median pruner reads the complete trials once per trial and answers as Optuna's does."""

from pathlib import Path

import optuna
import pytest
from optuna.distributions import FloatDistribution
from optuna.trial import TrialState, create_trial

from ldnn_tune.names import RESEED_OF_ATTR
from ldnn_tune.study.pruner_snapshot import CompleteTrialsSnapshot


def add_complete(study: optuna.Study, losses: list[float], retrain_of: int | None = None) -> None:
    """Add a complete trial that reported ``losses`` at epochs 0, 1, ... (or a retrain)."""
    study.add_trial(
        create_trial(
            params={"x": 0.5},
            distributions={"x": FloatDistribution(0, 1)},
            value=min(losses),
            intermediate_values=dict(enumerate(losses)),
            state=TrialState.COMPLETE,
            user_attrs={} if retrain_of is None else {RESEED_OF_ATTR: retrain_of},
        )
    )


def median() -> optuna.pruners.MedianPruner:
    return optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=1)


@pytest.mark.parametrize("loss", [0.1, 0.45, 0.55, 0.9, float("nan")])
def test_answers_as_the_median_pruner_it_wraps(tmp_path: Path, loss: float) -> None:
    study = optuna.create_study(storage=f"sqlite:///{tmp_path}/s.db")
    for level in (0.2, 0.5, 0.8):
        add_complete(study, [level + 0.3, level])
    trial = study.ask()
    trial.report(1.0, 0)
    trial.report(loss, 1)
    frozen = study._storage.get_trial(trial._trial_id)
    assert CompleteTrialsSnapshot(median()).prune(study, frozen) == median().prune(study, frozen)


def test_a_trial_compares_with_the_trials_complete_when_it_first_asked(tmp_path: Path) -> None:
    pruner = CompleteTrialsSnapshot(median())
    study = optuna.create_study(storage=f"sqlite:///{tmp_path}/s.db", pruner=pruner)
    for _ in range(2):  # one short of the median pruner's 3 start-up trials
        add_complete(study, [0.5, 0.5, 0.5])
    trial = study.ask()
    trial.report(9.0, 0)
    trial.report(9.0, 1)
    assert not trial.should_prune()
    add_complete(study, [0.5, 0.5, 0.5])  # finished meanwhile, e.g. by another worker
    trial.report(9.0, 2)
    assert not trial.should_prune()  # still the two it read first
    later = study.ask()
    later.report(9.0, 0)
    later.report(9.0, 1)
    assert later.should_prune()  # a new trial reads all three


def test_retrains_are_not_among_the_trials_compared_with(tmp_path: Path) -> None:
    study = optuna.create_study(storage=f"sqlite:///{tmp_path}/s.db")
    for _ in range(2):  # one search trial short of the median pruner's 3 start-up trials
        add_complete(study, [0.5, 0.5])
    for _ in range(4):  # the best trial's retrains
        add_complete(study, [0.1, 0.1], retrain_of=0)
    trial = study.ask()
    trial.report(9.0, 0)
    trial.report(9.0, 1)
    frozen = study._storage.get_trial(trial._trial_id)
    assert median().prune(study, frozen)  # Optuna's own counts the retrains
    assert not CompleteTrialsSnapshot(median()).prune(study, frozen)
