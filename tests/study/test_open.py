"""Opening a study: one left half made by a stopped command is set up again, without a wait."""

import socket
from pathlib import Path

import optuna
import pytest
from helpers import BoringPlugin, run_study_here

from ldnn_tune.errors import UsageError
from ldnn_tune.names import CREATOR_ATTR, IDENTITY_ATTR, PARENT_RUN_ATTR
from ldnn_tune.study import open as study_open
from ldnn_tune.study.open import check_identity, study_set_up, wait_for_identity

DEAD = f"{socket.gethostname()}:999999999:0"  # a process number no process has here


def half_made(tmp_path: Path, creator: str | None) -> optuna.Study:
    """Return study 'boring' as a command stopped before its identity leaves it."""
    storage = f"sqlite:///{tmp_path}/ldnn_tune.db"
    study = optuna.create_study(study_name="boring", storage=storage)
    if creator is not None:
        study.set_user_attr(CREATOR_ATTR, creator)
    return study


def test_a_dead_creator_is_not_waited_for(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    study = half_made(tmp_path, DEAD)

    def no_wait(seconds: float) -> None:
        raise AssertionError("waited for a creator that is gone")

    monkeypatch.setattr(study_open.time, "sleep", no_wait)
    assert wait_for_identity(study) is None


def test_a_study_left_half_made_is_set_up_again_by_the_next_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    half_made(tmp_path, DEAD)
    url = f"sqlite:///{tmp_path}/ldnn_tune.db"
    assert not study_set_up("boring", url)  # so `run` does its pre-flight, as for a new one
    words = ("task=boring", "trials=1", "reseeds=0", "check=false")
    study = run_study_here(tmp_path, BoringPlugin(), *words)
    assert study.user_attrs[IDENTITY_ATTR]["task"] == "boring"
    assert PARENT_RUN_ATTR in study.user_attrs
    assert [t.state for t in study.trials] == [optuna.trial.TrialState.COMPLETE]
    assert study_set_up("boring", url)


def test_a_study_ldnn_tune_did_not_make_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    url = f"sqlite:///{tmp_path}/ldnn_tune.db"
    hand = optuna.create_study(study_name="boring", storage=url)  # a hand-written objective's
    hand.optimize(lambda trial: trial.suggest_float("lr", 0.03, 0.3), n_trials=2)
    words = ("task=boring", "trials=3", "reseeds=0", "check=false")
    with pytest.raises(UsageError, match=r"study 'boring' in sqlite:///.* not made by ldnn-tune"):
        run_study_here(tmp_path, BoringPlugin(), *words)
    study = optuna.load_study(study_name="boring", storage=url)
    assert len(study.trials) == 2 and not study.user_attrs  # left as it was


@pytest.mark.parametrize(
    ("wanted", "message"),
    [
        (
            {"options": {"problem": "adding", "length": "60", "bits": "25"}},
            "study 's' was created with length=50, not 60; use another study= name",
        ),
        (
            {"kind": "classification"},
            "created with outputs of kind 'regression', not 'classification' (another problem",
        ),
        ({"seed": 1}, "study 's' was created with seed=0, not 1;"),
        (  # another problem: the option that made the kind differ is named (audit)
            {"kind": "classification", "options": {"problem": "parity", "bits": "25"}},
            "study 's' was created with problem=adding, not parity; length=50, not None;",
        ),
    ],
)
def test_a_refused_continuation_names_only_what_differs(
    wanted: dict[str, object], message: str
) -> None:
    stored = {
        "seed": 0,
        "kind": "regression",
        "options": {"problem": "adding", "length": "50", "bits": "25"},
    }
    with pytest.raises(UsageError) as error:
        check_identity("s", stored, wanted, {})
    assert message in str(error.value)


def test_a_location_option_may_change_and_the_others_still_count() -> None:
    stored = {"options": {"split": "speaker", "cache_dir": "None"}}
    moved = {"options": {"split": "speaker", "cache_dir": "/tmp/cache2"}}
    check_identity("s", stored, moved, {}, locations={"cache_dir"})
    with pytest.raises(UsageError, match="created with cache_dir=None, not /tmp/cache2"):
        check_identity("s", stored, moved, {})  # an option not marked as a location
    other = {"options": {"split": "fsdd", "cache_dir": "/tmp/cache2"}}
    with pytest.raises(UsageError, match="created with split=speaker, not fsdd;"):
        check_identity("s", stored, other, {}, locations={"cache_dir"})


def test_a_moved_location_is_recorded_for_the_study_s_ensembles(tmp_path: Path) -> None:
    from ldnn_tune.space.knobs import SearchSpace
    from ldnn_tune.study.open import open_study

    storage = f"sqlite:///{tmp_path / 's.db'}"
    pruner = optuna.pruners.NopPruner()
    first = {"task": "t", "data_dir": None, "options": {"split": "speaker", "cache_dir": "None"}}
    open_study("s", storage, pruner, first, SearchSpace(()))
    later = {**first, "options": {"split": "speaker", "cache_dir": "/tmp/c2"}}
    study = open_study("s", storage, pruner, later, SearchSpace(()), locations={"cache_dir"})
    assert study.user_attrs[IDENTITY_ATTR]["options"]["cache_dir"] == "/tmp/c2"


def test_data_edited_in_place_is_refused_where_the_study_recorded_its_contents() -> None:
    stored = {"data_files": "1 files, 11 bytes, abc", "data_contents": "d1"}
    edited = {"data_files": "1 files, 11 bytes, abc", "data_contents": "d2"}
    with pytest.raises(UsageError, match=r"the data_dir's files changed since \(edited"):
        check_identity("s", stored, edited, {})
    older = {"data_files": "1 files, 11 bytes, abc"}  # made before contents were recorded
    check_identity("s", older, edited, {})
    # moved and edited, keys in the order a run's identity has them: said as an edit
    moved = {"data_dir": "/elsewhere", **edited}
    with pytest.raises(UsageError, match=r"the data_dir's files changed since \(edited"):
        check_identity("s", {"data_dir": "/here", **stored}, moved, {})
    check_identity("s", {"data_dir": "/here", **older}, moved, {})


def test_a_study_continued_without_its_data_dir_says_that_first() -> None:
    # its options (image_size) followed from the folder: naming them sent users astray
    stored = {"options": {"image_size": "16"}, "data_dir": "/data/shapes"}
    wanted = {"options": {"image_size": "28"}, "data_dir": None}
    with pytest.raises(UsageError, match="created with data_dir='/data/shapes', not None"):
        check_identity("s", stored, wanted, {})


def test_another_task_is_named_before_its_data_dir() -> None:
    stored = {"task": "image", "data_dir": "/data/shapes"}
    wanted = {"task": "speech", "data_dir": "/data/wavs"}
    with pytest.raises(UsageError, match="created with task='image', not 'speech'"):
        check_identity("s", stored, wanted, {})
