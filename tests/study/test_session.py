"""Opening a study: its command recorded, a changed space recorded or refused."""

import json
import shlex
import warnings
from pathlib import Path

import optuna
import pytest
from helpers import BoringPlugin, mlflow_client, run_study_here

from ldnn_tune.config.resolve import resolve_run
from ldnn_tune.errors import UsageError
from ldnn_tune.names import COMMAND_TAG, PARENT_RUN_ATTR, RESEED_OF_ATTR, SPACES_ATTR
from ldnn_tune.plugin.manager import Host, get_plugin_manager
from ldnn_tune.space.load import task_space
from ldnn_tune.study.session import open_session, portable_words, record_space, study_params
from ldnn_tune.testing import BoringOptions, BoringTask
from ldnn_tune.testing.cli import assert_usage_error, run_main

QUICK = ("run", "task=image", "epochs=1", "ensemble=none", "check=false")


@pytest.mark.slow
def test_a_changed_space_is_a_new_version_and_an_incompatible_one_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    stores = (f"storage=sqlite:///{tmp_path}/s.db", f"mlflow=sqlite:///{tmp_path}/m.db")
    assert run_main([*QUICK, *stores, "trials=1"], capsys).returncode == 0
    pinned = run_main([*QUICK, *stores, "trials=2", "lr=0.2"], capsys)
    assert pinned.returncode == 0, pinned.stderr
    assert "recorded as space version 2" in pinned.stdout.replace("\n", " ")
    study = optuna.load_study(study_name="image", storage=stores[0].removeprefix("storage="))
    assert [t.state.name for t in study.trials] == ["COMPLETE", "COMPLETE"]
    assert study.trials[1].params["lr"] == 0.2
    assert len(study.user_attrs["ldnn_tune_spaces"]) == 2
    refused = run_main([*QUICK, *stores, "trials=3", "width=16"], capsys)
    assert_usage_error(
        refused,
        "study 'image' searched width as one of 16, 32, 64; Optuna cannot continue it with fixed "
        "16 (other choices; Optuna keeps a categorical knob's choices for good)",
    )
    assert len(optuna.load_study(study_name="image", storage=stores[0][8:]).trials) == 2


def test_the_parent_run_names_its_command_as_soon_as_the_study_opens(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # a command killed before its first report still has it
    host = Host(get_plugin_manager(extra_plugins=(BoringPlugin(),)))
    stores = [f"storage=sqlite:///{tmp_path}/s.db", f"mlflow=sqlite:///{tmp_path}/m.db"]
    words = ["task=boring", "trials=4", "epochs=2", *stores]
    session = open_session(resolve_run(words, host))
    tags = session.tracker.client.get_run(session.parent).data.tags
    assert tags[COMMAND_TAG] == "ldnn-tune run " + shlex.join(words)


def test_a_continuation_with_other_run_settings_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # trials of 4 epochs beside trials of 2, with nothing said: the report's head and the
    # study's run name the first command's settings
    monkeypatch.chdir(tmp_path)
    host = Host(get_plugin_manager(extra_plugins=(BoringPlugin(),)))
    stores = [f"storage=sqlite:///{tmp_path}/s.db", f"mlflow=sqlite:///{tmp_path}/m.db"]
    first = open_session(resolve_run(["task=boring", "epochs=2", *stores], host))
    assert first.settings_change is None  # a new study
    same = open_session(resolve_run(["task=boring", "epochs=2", *stores], host))
    assert same.settings_change is None
    words = ["task=boring", "epochs=4", "sampler=random", *stores]
    assert open_session(resolve_run(words, host)).settings_change == (
        "this command's trials run with epochs=4, sampler=random; the study began with "
        "epochs=2, sampler=tpe (each trial's MLflow run records its own, as run.epochs and "
        "the like)"
    )
    assert open_session(resolve_run(words, host), worker=1).settings_change is None


def test_the_data_folder_is_recorded_absolute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "images").mkdir()
    words = ["task=image", "data_dir=images", "seed=3"]
    run = resolve_run(words, Host(get_plugin_manager()), prepare=False)
    # the command the report shows is run again from other folders too
    assert portable_words(run) == ["task=image", f"data_dir={tmp_path / 'images'}", "seed=3"]
    assert study_params(run)["data_dir"] == str(tmp_path / "images")


def test_a_new_study_named_as_a_deleted_one_gets_a_fresh_experiment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    host = Host(get_plugin_manager(extra_plugins=(BoringPlugin(),)))
    stores = [f"storage=sqlite:///{tmp_path}/s.db", f"mlflow=sqlite:///{tmp_path}/m.db"]
    words = ["task=boring", "trials=4", "epochs=2", *stores]
    first = open_session(resolve_run(words, host))
    client = first.tracker.client
    old = first.tracker.experiment_id
    client.delete_experiment(old)  # the README's way: the experiment's menu, delete
    kept = open_session(resolve_run(words, host))  # the study still exists: restored for it
    assert kept.tracker.experiment_id == old
    assert client.get_experiment(old).lifecycle_stage == "active"
    assert kept.tracker.restored and not first.tracker.restored  # run says so
    client.delete_experiment(old)
    optuna.delete_study(study_name="boring", storage=stores[0].removeprefix("storage="))
    again = open_session(resolve_run(words, host))
    assert again.tracker.experiment_id != old and not again.tracker.restored
    assert [r.info.run_id for r in client.search_runs([again.tracker.experiment_id])] == [
        again.parent
    ]
    aside = client.get_experiment(old)
    assert (aside.name, aside.lifecycle_stage) == (f"boring (deleted {old})", "deleted")


def test_a_refused_log_scale_says_which_way_it_changed(tmp_path: Path) -> None:
    from optuna.distributions import FloatDistribution

    from ldnn_tune.space.knobs import Knob, SearchSpace
    from ldnn_tune.study.session import check_compatible

    study = optuna.create_study()
    study.add_trial(
        optuna.trial.create_trial(
            params={"lr": 0.1},
            distributions={"lr": FloatDistribution(0.01, 1.0, log=True)},
            value=1.0,
        )
    )
    flat = SearchSpace((Knob("lr", FloatDistribution(0.1, 0.1), 0.1, {}),), {})
    with pytest.raises(UsageError, match=r"continue it with fixed 0\.1 \(its log scale dropped\)"):
        check_compatible(study, flat)


def test_a_copied_study_gets_a_parent_run_of_its_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    host = Host(get_plugin_manager(extra_plugins=(BoringPlugin(),)))
    storage = f"sqlite:///{tmp_path}/s.db"
    stores = [f"storage={storage}", f"mlflow=sqlite:///{tmp_path}/m.db"]
    original = open_session(resolve_run(["task=boring", "trials=4", *stores], host))
    optuna.copy_study(
        from_study_name="boring", from_storage=storage, to_storage=storage, to_study_name="copy"
    )
    words = ["task=boring", "study=copy", "trials=4", *stores]
    copy = open_session(resolve_run(words, host))
    assert copy.parent != original.parent
    assert copy.study.user_attrs[PARENT_RUN_ATTR] == copy.parent
    run = copy.tracker.client.get_run(copy.parent)
    assert (run.info.experiment_id, run.info.run_name) == (copy.tracker.experiment_id, "copy")
    again = open_session(resolve_run(words, host))
    assert again.parent == copy.parent  # its own from now on


def test_a_store_password_is_hidden_in_the_command_the_study_records(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, postgres_url: str
) -> None:
    monkeypatch.chdir(tmp_path)
    host = Host(get_plugin_manager(extra_plugins=(BoringPlugin(),)))
    secret = postgres_url.replace("://postgres@", "://postgres:S3cretPW@")  # trust auth
    words = ["task=boring", "trials=4", f"storage={secret}", f"mlflow=sqlite:///{tmp_path}/m.db"]
    session = open_session(resolve_run(words, host))
    tags = session.tracker.client.get_run(session.parent).data.tags
    shown = postgres_url.replace("://postgres@", "://postgres:***@")
    assert tags[COMMAND_TAG] == "ldnn-tune run " + shlex.join(
        [*words[:2], f"storage={shown}", words[3]]
    )
    history = session.study.user_attrs["ldnn_tune_commands"]
    assert "S3cretPW" not in str(history) and "S3cretPW" not in str(tags)


def test_a_space_come_back_to_is_compared_with_the_one_in_use() -> None:
    study = optuna.create_study()
    space = task_space(BoringTask(BoringOptions(), None, 0))
    assert record_space(study, space) is None
    pinned = record_space(study, space.fix({"lr": "0.05"}))
    assert pinned is not None and pinned.endswith("recorded as space version 2")
    back = record_space(study, space)  # compared with version 2, the one in use
    assert back is not None and "lr: fixed 0.05" in back
    assert back.endswith("space version 1 again")
    assert record_space(study, space) is None
    assert len(study.user_attrs[SPACES_ATTR]) == 2


def test_a_queued_trial_takes_a_pin_given_since_and_a_retrain_keeps_its_knobs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    words = ("task=boring", "epochs=1", "ensemble=none", "check=false")
    study = run_study_here(tmp_path, BoringPlugin(), *words, "trials=1", "momentum=0.5")
    first = study.trials[0]
    study.enqueue_trial(first.params)  # a stopped trial's retry, queued by that command
    study.enqueue_trial(first.params, user_attrs={RESEED_OF_ATTR: 0})  # a retrain
    # a command that runs nothing leaves the queue as it was
    run_study_here(tmp_path, BoringPlugin(), *words, "trials=1", "lr=0.05")
    queued = [t.system_attrs["fixed_params"] for t in study.get_trials(deepcopy=False)[1:]]
    assert queued == [first.params, first.params]
    (tmp_path / "s.yaml").write_text("momentum: null\n")  # removed since the trial it retrains
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # Optuna's "out of range" warning among them
        study = run_study_here(
            tmp_path, BoringPlugin(), *words, "trials=3", "lr=0.05", "space=s.yaml"
        )
    retry, retrain = study.trials[1], study.trials[2]
    assert retry.params["lr"] == 0.05
    assert retrain.user_attrs[RESEED_OF_ATTR] == 0 and retrain.params["lr"] == first.params["lr"]
    for trial in (retry, retrain):  # what each stores lies inside its own distribution
        trial._validate()
    client = mlflow_client(tmp_path)
    hparams = client.download_artifacts(retrain.user_attrs["mlflow_run_id"], "hparams.json")
    assert json.loads(Path(hparams).read_text())["knobs"]["momentum"] == 0.5


def test_a_refused_space_names_every_knob_and_its_likely_cause() -> None:
    from optuna.distributions import CategoricalDistribution

    from ldnn_tune.names import COMMANDS_ATTR
    from ldnn_tune.space.knobs import Knob, SearchSpace
    from ldnn_tune.study.session import check_compatible

    study = optuna.create_study(study_name="s1")
    searched = {
        "width": CategoricalDistribution([8, 16]),
        "hidden": CategoricalDistribution([0, 32]),
    }
    study.add_trial(
        optuna.trial.create_trial(
            params={"width": 8, "hidden": 0}, distributions=searched, value=1.0
        )
    )
    study.set_user_attr(
        COMMANDS_ATTR, [["2026-11-30", "ldnn-tune run task=image space=narrow.yaml"]]
    )
    wide = SearchSpace(
        (
            Knob("width", CategoricalDistribution([8, 16, 32]), 8, {}),
            Knob("hidden", CategoricalDistribution([0, 64]), 0, {}),
        ),
        {},
    )
    with pytest.raises(UsageError) as forgotten:
        check_compatible(study, wide)
    assert str(forgotten.value).endswith(
        "(other choices; Optuna keeps a categorical knob's choices for good); nor hidden; the "
        "study's last command had space=narrow.yaml: give it again, or use another study= name"
    )
    with pytest.raises(UsageError, match=r"had space=narrow\.yaml too: the file changed since\?"):
        check_compatible(study, wide, (), Path("narrow.yaml"))
    study.set_user_attr(COMMANDS_ATTR, [["2026-11-30", "ldnn-tune run task=image"]])
    with pytest.raises(UsageError, match="last command had no space=: drop it, or use another"):
        check_compatible(study, wide, (), Path("mine.yaml"))
    pinned = SearchSpace((Knob("width", CategoricalDistribution([16]), 16, {}),), {})
    with pytest.raises(UsageError, match="; width= pins it so: drop width=, or use another"):
        check_compatible(study, pinned, {"width"}, Path("narrow.yaml"))


def test_the_study_records_only_the_options_its_task_reads() -> None:
    words = ["task=sequence", "problem=adding", "scale=cpu"]
    params = study_params(resolve_run(words, Host(get_plugin_manager()), prepare=False))
    options = {k.removeprefix("option.") for k in params if k.startswith("option.")}
    assert {"problem", "length", "train_size"} <= options
    assert not options & {"bits", "copy_len", "sort_bits", "text_chars"}  # other problems'


def test_the_study_records_a_removed_knob_as_fixed_at_its_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "no-momentum.yaml").write_text("momentum: null\n")
    words = ["task=image", "space=no-momentum.yaml"]
    space = study_params(resolve_run(words, Host(get_plugin_manager()), prepare=False))["space"]
    assert space["momentum"] == "fixed 0.9 (removed)"  # type: ignore[index]


def test_the_knobs_a_task_removes_for_its_options_are_not_recorded() -> None:
    words = ["task=sequence", "problem=parity", "model=mlp", "scale=cpu"]
    space = study_params(resolve_run(words, Host(get_plugin_manager()), prepare=False))["space"]
    assert "layers" not in space and "forget_bias" not in space  # type: ignore[operator]
