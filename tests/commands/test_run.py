"""``ldnn-tune run``'s exit code says whether the study has a net to use."""

from pathlib import Path

import pytest
from helpers import BoringPlugin

import ldnn_tune.commands.run
from ldnn_tune.plugin.manager import get_plugin_manager
from ldnn_tune.testing.cli import run_main

FROZEN_LR = "lr: {type: float, low: 1.0e-12, high: 1.0e-11, log: true, default: 1.0e-12}\n"


def test_a_search_whose_every_trial_was_pruned_exits_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    plugins = get_plugin_manager((BoringPlugin(),))
    monkeypatch.setattr(ldnn_tune.commands.run, "get_plugin_manager", lambda: plugins)
    (tmp_path / "frozen.yaml").write_text(FROZEN_LR)  # no update: health prunes every trial
    words = ["run", "task=boring", "epochs=2", "space=frozen.yaml", "min_lr=1e-13"]
    words += ["check=false", "ensemble=none"]
    cut = run_main([*words, "trials=2", "timeout=1"], capsys)  # a timeout: to be continued
    assert cut.returncode == 0, cut.stderr
    pruned = run_main([*words, "trials=2"], capsys)
    assert pruned.returncode == 1, pruned.stderr
    assert "none of the study's 2 trials completed: each was pruned" in pruned.stdout
