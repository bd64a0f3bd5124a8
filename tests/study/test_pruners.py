"""Every pruner ``pruner=`` names runs a study, asked after each epoch."""

from pathlib import Path

import optuna
import pytest
from helpers import BoringPlugin, run_study_here

from ldnn_tune.study.pruners import PRUNERS


@pytest.mark.parametrize("name", sorted(PRUNERS))
def test_each_pruner_runs_a_study_to_its_trial_count(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    words = ("task=boring", "check=false", "trials=6", "reseeds=0", "ensemble=none")
    study = run_study_here(tmp_path, BoringPlugin(), *words, f"pruner={name}")
    done = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
    assert [t.state in done for t in study.trials] == [True] * 6
    for trial in study.trials:  # a value for every epoch it ran, from the first
        assert sorted(trial.intermediate_values) == list(range(len(trial.intermediate_values)))
