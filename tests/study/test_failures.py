"""A trial that raises ends FAIL with its reason; the study goes on, until too many in a row."""

from pathlib import Path
from typing import Any

import optuna
import pytest
from helpers import mlflow_client, run_study_here

from ldnn_tune import HParams, hookimpl, tracking
from ldnn_tune.errors import PluginError
from ldnn_tune.study.loop import FailingTrials
from ldnn_tune.study.samplers import SAMPLERS
from ldnn_tune.testing import BoringTask

BROKEN_WIDTHS: set[int] = set()


class Fragile(BoringTask):
    """BoringTask whose model breaks for the widths in BROKEN_WIDTHS."""

    name = "fragile"
    description = "a task whose model raises for some widths"

    def model(self, hp: HParams) -> Any:
        if hp.get_int("width") in BROKEN_WIDTHS:
            raise ValueError(f"no net of width {hp.get_int('width')}")
        return super().model(hp)


class Plugin:
    @hookimpl
    def ldnn_tune_tasks(self) -> list[type[BoringTask]]:
        return [Fragile]


def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *words: str) -> optuna.Study:
    monkeypatch.chdir(tmp_path)
    return run_study_here(tmp_path, Plugin(), "task=fragile", "ensemble=none", *words)


def test_a_failing_knob_fails_its_trials_and_the_study_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    BROKEN_WIDTHS.clear()
    BROKEN_WIDTHS.add(8)
    space = tmp_path / "widths.yaml"
    space.write_text("width: {type: categorical, choices: [8, 16], default: 8}\n")
    study = run(tmp_path, monkeypatch, "trials=4", f"space={space}", "sampler=random")
    failed = [t for t in study.trials if t.state == optuna.trial.TrialState.FAIL]
    assert failed and all(t.params["width"] == 8 for t in failed)
    assert failed[0].user_attrs["reason"] == "ValueError: no net of width 8"
    done = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
    finished = [t for t in study.trials if t.state in done]
    assert len(finished) == 4 and all(t.params["width"] == 16 for t in finished)
    client = mlflow_client(tmp_path)
    run_id = failed[0].user_attrs["mlflow_run_id"]
    assert client.get_run(run_id).info.status == "FAILED"
    traceback = client.download_artifacts(run_id, "traceback.txt", str(tmp_path))
    assert "no net of width 8" in Path(traceback).read_text()


def test_three_failures_in_a_row_stop_the_run_naming_the_task_and_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    BROKEN_WIDTHS.clear()
    BROKEN_WIDTHS.update({8, 16, 32})
    with pytest.raises(PluginError) as error:
        run(tmp_path, monkeypatch, "trials=10")
    assert str(error.value).startswith(
        "task 'fragile' ((local)) failed 3 trials in a row; the last, trial 2: ValueError: "
    )
    study = optuna.load_study(study_name="fragile", storage="sqlite:///ldnn_tune.db")
    assert [t.state.name for t in study.trials] == ["FAIL"] * 3
    client = mlflow_client(tmp_path)
    experiment = client.get_experiment_by_name("fragile")
    assert experiment is not None
    parent = client.search_runs(
        [experiment.experiment_id], filter_string="tags.`ldnn_tune.role` = 'study'"
    )[0]
    assert parent.info.status == "FAILED"


class UninstalledSampler(optuna.samplers.RandomSampler):
    """A sampler whose package is missing, as CmaEsSampler's is without ``cmaes``."""

    def sample_independent(self, *args: Any) -> Any:
        raise ModuleNotFoundError("No module named 'cmaes'")


def test_a_failing_sampler_is_the_reason_its_trials_give(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    BROKEN_WIDTHS.clear()
    monkeypatch.setitem(SAMPLERS, "random", UninstalledSampler)
    with pytest.raises(PluginError) as error:
        run(tmp_path, monkeypatch, "trials=10", "sampler=random")
    assert str(error.value).endswith(
        "the last, trial 3: not started: ModuleNotFoundError: No module named 'cmaes'"
    )


def as_host_code(source: str, name: str) -> Any:
    """Return function ``name`` of ``source``, running as if written in ldnn-tune's tracking.py."""
    namespace: dict[str, Any] = {}
    exec(compile(source, tracking.__file__, "exec"), namespace)
    return namespace[name]


def test_failures_in_ldnn_tune_s_own_code_are_not_blamed_on_the_task(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    BROKEN_WIDTHS.clear()
    full = as_host_code(
        "def full(*args, **kwargs):\n    raise OSError(28, 'No space left on device')\n", "full"
    )
    monkeypatch.setattr(tracking.StudyTracker, "log_artifact_files", full)
    with pytest.raises(FailingTrials) as error:
        run(tmp_path, monkeypatch, "trials=10")
    assert str(error.value) == (
        "its own code, not the task's, failed 3 trials in a row; the last, trial 2: "
        "OSError: [Errno 28] No space left on device"
    )
    study = optuna.load_study(study_name="fragile", storage="sqlite:///ldnn_tune.db")
    assert all(t.user_attrs["host_error"] for t in study.trials)
