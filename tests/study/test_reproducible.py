"""A seeded study makes the same decisions on any machine: its pruning follows its values."""

from pathlib import Path

import pytest
from helpers import BoringPlugin, run_study_here


def history(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[tuple[object, ...]]:
    """Run a seeded study of the boring task in ``tmp_path``; return each trial's outcome."""
    tmp_path.mkdir()
    monkeypatch.chdir(tmp_path)
    # 3 epochs: the pruner may act after the second (not after the first, its warm-up, nor
    # after the last, when the net is trained)
    words = ("task=boring", "check=false", "trials=8", "epochs=3", "reseeds=0", "ensemble=none")
    study = run_study_here(tmp_path, BoringPlugin(), *words)
    return [(t.state, t.value, t.intermediate_values, t.params) for t in study.trials]


def test_the_same_seed_gives_the_same_trials_pruned_at_the_same_epochs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = history(tmp_path / "first", monkeypatch)
    second = history(tmp_path / "second", monkeypatch)
    assert first == second
    assert any(state.name == "PRUNED" for state, *_ in first)
