"""``ldnn-tune run``'s exit code says whether the study has a net to use."""

import dataclasses
import time
from pathlib import Path

import optuna
import pytest
from helpers import BoringPlugin
from optuna.trial import TrialState

import ldnn_tune.commands.run
from ldnn_tune import hookimpl
from ldnn_tune.errors import CommandFailed
from ldnn_tune.plugin.manager import get_plugin_manager
from ldnn_tune.testing import BoringTask
from ldnn_tune.testing.cli import run_main


def run_here_with(plugin: object, folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make ``folder`` the working directory and ``plugin``'s tasks those ``run`` finds."""
    monkeypatch.chdir(folder)
    plugins = get_plugin_manager((plugin,))
    monkeypatch.setattr(ldnn_tune.commands.run, "get_plugin_manager", lambda: plugins)


FROZEN_LR = "lr: {type: float, low: 1.0e-12, high: 1.0e-11, log: true, default: 1.0e-12}\n"


def test_a_search_whose_every_trial_was_pruned_exits_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    run_here_with(BoringPlugin(), tmp_path, monkeypatch)
    (tmp_path / "frozen.yaml").write_text(FROZEN_LR)  # no update: health prunes every trial
    words = ["run", "task=boring", "epochs=2", "space=frozen.yaml", "min_lr=1e-13"]
    words += ["check=false", "ensemble=none"]
    cut = run_main([*words, "trials=2", "timeout=1"], capsys)  # no trial can finish in time
    assert cut.returncode == 1, cut.stderr
    assert (
        cut.stderr.strip()
        .splitlines()[-1]
        .startswith("error: timeout 1 ran out before a trial finished")
    ), cut.stderr
    assert "timeout 1 reached before a trial finished" in cut.stdout
    pruned = run_main([*words, "trials=2"], capsys)
    assert pruned.returncode == 1, pruned.stderr
    line = "error: none of the study's 2 trials completed: each was pruned"
    assert pruned.stderr.strip().splitlines()[-1].startswith(line), pruned.stderr
    assert "none of the study" not in pruned.stdout


class Unscaled(BoringTask):
    """The boring task with its inputs left far from zero mean and unit variance."""

    name = "unscaled"

    def prepare(self) -> None:
        super().prepare()
        split = self.split
        self.split = dataclasses.replace(
            split, **{k: getattr(split, k) * 10 + 50 for k in ("x_train", "x_val", "x_test")}
        )


class UnscaledPlugin:
    @hookimpl
    def ldnn_tune_tasks(self) -> list[type[BoringTask]]:
        return [Unscaled]


def test_a_failed_pre_flight_says_why_on_stderr_and_exits_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    run_here_with(UnscaledPlugin(), tmp_path, monkeypatch)
    result = run_main(["run", "task=unscaled", "trials=1", "epochs=1"], capsys)
    assert result.returncode == 1, result.stderr
    assert "failed: data" in result.stdout
    assert result.stderr.strip().splitlines()[-1].startswith("error: not starting the study")
    assert not (tmp_path / "ldnn_tune.db").exists()


@pytest.mark.parametrize(
    ("before", "during", "running", "code"),
    [
        ([], [], 0, 1),  # timed out before a first trial: the same command would again
        ([], [], 1, 0),  # another worker's trial may yet finish
        ([], [TrialState.PRUNED], 0, 0),  # timed out after one: the same command goes on
        ([TrialState.COMPLETE], [], 0, 1),  # a net, but the command added nothing: stalled
        ([TrialState.PRUNED], [TrialState.PRUNED], 0, 1),  # all ran, each pruned
        ([TrialState.PRUNED], [TrialState.COMPLETE], 0, 0),
        ([TrialState.COMPLETE, TrialState.PRUNED], [], 0, 0),  # nothing left to run
    ],
)
def test_run_exits_1_without_a_net_or_without_progress(
    before: list[TrialState],
    during: list[TrialState],
    running: int,
    code: int,
) -> None:
    study = optuna.create_study()

    def add(states: list[TrialState]) -> None:
        for state in states:
            value = 1.0 if state == TrialState.COMPLETE else None
            study.add_trial(optuna.trial.create_trial(state=state, value=value))

    add(before)
    time.sleep(0.01)
    started = time.time()
    add(during)
    for _ in range(running):
        study.ask()
    check = ldnn_tune.commands.run.check_outcome
    if code == 1:  # the CLI prints it as the error line, exit 1 (the tests above)
        with pytest.raises(CommandFailed):
            check(study, 2, "1m", started)
    else:
        check(study, 2, "1m", started)
