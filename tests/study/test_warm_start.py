"""``warm_start=STUDY``: a new study first trains the best knob sets of a finished one."""

from pathlib import Path

import optuna
import pytest
from helpers import BoringPlugin, run_study_here
from optuna.trial import TrialState

from ldnn_tune.errors import UsageError
from ldnn_tune.names import IDENTITY_ATTR
from ldnn_tune.space.load import load_space, space_file
from ldnn_tune.study.queries import best_trials
from ldnn_tune.study.warm_start import fit_to_space, load_warm_start
from ldnn_tune.testing.cli import assert_usage_error, run_main


def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *words: str) -> optuna.Study:
    monkeypatch.chdir(tmp_path)
    words = ("task=boring", "check=false", "reseeds=0", "ensemble=none", "pruner=none", *words)
    return run_study_here(tmp_path, BoringPlugin(), *words)


def test_a_new_study_first_trains_the_best_knobs_of_the_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    source = run(tmp_path, monkeypatch, "study=first", "trials=4", "sampler=random")
    ranked = best_trials(source, 4)
    assert len({tuple(sorted(t.params.items())) for t in ranked[:2]}) == 2

    warm = run(tmp_path, monkeypatch, "study=second", "trials=2", "warm_start=first")
    assert [t.params for t in warm.trials[:2]] == [t.params for t in ranked[:2]]
    # trained again on this study's own seeds: nothing is copied from the source
    assert all("mlflow_run_id" in t.user_attrs for t in warm.trials[:2])

    again = run(tmp_path, monkeypatch, "study=second", "trials=3", "warm_start=first")
    # the queued knob sets went on in order, nothing was queued twice; the defaults wait
    assert again.trials[2].params == ranked[2].params
    states = [t.state for t in again.trials]
    assert states == [TrialState.COMPLETE] * 3 + [TrialState.WAITING]


def test_warm_start_on_an_existing_study_only_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ldnn_tune.config.resolve import resolve_run
    from ldnn_tune.plugin.manager import Host, get_plugin_manager
    from ldnn_tune.study.session import warm_start

    run(tmp_path, monkeypatch, "study=first", "trials=1")
    run(tmp_path, monkeypatch, "study=second", "trials=1")
    host = Host(get_plugin_manager(extra_plugins=(BoringPlugin(),)))
    for source in ("first", "nope"):  # not even read: a study that exists keeps its history
        words = ["task=boring", "study=second", f"warm_start={source}"]
        resolved = resolve_run([*words, f"storage=sqlite:///{tmp_path}/ldnn_tune.db"], host)
        plan = warm_start(resolved)
        assert plan.note == f"note: warm_start={source} ignored: study 'second' exists already"
        assert not plan.first


def test_warm_start_refuses_an_unknown_study_another_task_and_itself(tmp_path: Path) -> None:
    storage = f"sqlite:///{tmp_path / 'ldnn_tune.db'}"
    space = load_space([space_file("recipe.yaml")])
    other = optuna.create_study(study_name="speech", storage=storage)
    other.set_user_attr(IDENTITY_ATTR, {"task": "speech"})
    with pytest.raises(
        UsageError, match=r"^invalid warm_start=nope: unknown study 'nope' in .*; studies: speech"
    ):
        load_warm_start("nope", storage, "boring", space)
    with pytest.raises(UsageError, match=r"unknown study 'Speech' \(did you mean 'speech'\?\)"):
        load_warm_start("Speech", storage, "boring", space)
    optuna.create_study(study_name="by-hand", storage=storage)
    with pytest.raises(UsageError, match="warm_start=by-hand: it was not made by ldnn-tune"):
        load_warm_start("by-hand", storage, "boring", space)
    with pytest.raises(UsageError, match="a study of task 'speech', not 'boring'"):
        load_warm_start("speech", storage, "boring", space)
    other.set_user_attr(IDENTITY_ATTR, {"task": "boring", "kind": "regression"})
    with pytest.raises(UsageError, match="has no complete trial yet"):
        load_warm_start("speech", storage, "boring", space)
    with pytest.raises(UsageError, match="outputs are of kind 'regression', not 'classi"):
        load_warm_start("speech", storage, "boring", space, kind="classification")

    from ldnn_tune.config.settings import RunConfig

    with pytest.raises(UsageError, match="invalid warm_start=boring: it is this study"):
        RunConfig(task="boring", warm_start="boring")
    with pytest.raises(UsageError, match="invalid warm_start=: give the name of a finished study"):
        RunConfig(task="boring", warm_start="")


def test_only_values_the_new_space_allows_are_kept() -> None:
    space = load_space([space_file("recipe.yaml")]).fix({"batch_size": "64"})
    params = {
        "lr": 3.0,  # outside the space now: sampled
        "momentum": 0.5,
        "batch_size": 128,  # pinned on the command line to 64
        "init": "lazy",
        "init_scale": 0.5,  # inactive under init=lazy
        "gone": 1,  # a knob this space lacks
    }
    assert fit_to_space(params, space) == {"momentum": 0.5, "init": "lazy"}


def test_a_bad_warm_start_is_refused_before_the_pre_flight(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    source = optuna.create_study(study_name="sounds", storage="sqlite:///ldnn_tune.db")
    source.set_user_attr(IDENTITY_ATTR, {"task": "speech"})
    result = run_main(["run", "task=image", "study=new", "warm_start=sounds"], capsys)
    assert_usage_error(result, "a study of task 'speech', not 'image'")
    assert "pre-flight" not in result.stdout
    assert not (tmp_path / "mlflow.db").exists()


def test_warm_start_on_an_existing_study_is_only_noted_by_the_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import ldnn_tune.commands.run
    from ldnn_tune.plugin.manager import get_plugin_manager

    run(tmp_path, monkeypatch, "study=second", "trials=1")
    monkeypatch.setattr(
        ldnn_tune.commands.run,
        "get_plugin_manager",
        lambda: get_plugin_manager(extra_plugins=(BoringPlugin(),)),
    )
    words = ["run", "task=boring", "study=second", "trials=1", "check=false", "warm_start=nope"]
    result = run_main(words, capsys)  # trials=1 reached: nothing to run, the note alone
    assert result.returncode == 0, result.stderr
    assert "note: warm_start=nope ignored: study 'second' exists already" in result.stdout
