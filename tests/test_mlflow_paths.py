"""A local MLflow store copied or moved with its mlruns/ reads and writes the files beside it."""

import contextlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

import ldnn_tune
from ldnn_tune.mlflow_paths import follow_moved_store
from ldnn_tune.tracking import StudyTracker


def locations(db: Path) -> list[str]:
    with sqlite3.connect(db) as connection:
        rows = connection.execute("SELECT artifact_location FROM experiments").fetchall()
        rows += connection.execute("SELECT artifact_uri FROM runs").fetchall()
    return [str(location) for (location,) in rows]


def made_in(folder: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """Make a store in ``folder`` with a run holding a file; return the run's id."""
    folder.mkdir()
    monkeypatch.chdir(folder)
    tracker = StudyTracker("sqlite:///mlflow.db", "image")
    run = tracker.open_parent_run(None, "image", {"task": "image"})
    tracker.log_json(run, "summary.json", {"best": 1})
    return run


def test_a_moved_study_folder_uses_the_mlruns_beside_its_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    run = made_in(tmp_path / "a", monkeypatch)
    shutil.move(tmp_path / "a", tmp_path / "b")  # the original is gone
    monkeypatch.chdir(tmp_path / "b")
    tracker = StudyTracker("sqlite:///mlflow.db", "image")
    assert f"its runs' files are now read and written in {tmp_path / 'b' / 'mlruns'}" in (
        capsys.readouterr().out
    )
    assert all(
        loc.startswith(f"{tmp_path / 'b' / 'mlruns'}/") for loc in locations(Path("mlflow.db"))
    )
    path = tracker.client.download_artifacts(run, "summary.json", str(tmp_path))
    assert json.loads(Path(path).read_text()) == {"best": 1}


def test_a_store_beside_another_folders_mlruns_is_left_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made_in(tmp_path / "a", monkeypatch)
    (tmp_path / "b" / "mlruns" / "1").mkdir(parents=True)  # files of some other store
    shutil.copy(tmp_path / "a" / "mlflow.db", tmp_path / "b" / "mlflow.db")
    before = locations(tmp_path / "b" / "mlflow.db")
    assert follow_moved_store(f"sqlite:///{tmp_path / 'b' / 'mlflow.db'}") is None
    assert locations(tmp_path / "b" / "mlflow.db") == before


def test_one_folder_seen_at_two_paths_is_left_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a shared folder another worker mounts elsewhere (NFS, a container's volume): its
    # runs' files are those beside it already, and the other worker writes through "a"
    made_in(tmp_path / "a", monkeypatch)
    (tmp_path / "b").mkdir()
    before = locations(tmp_path / "a" / "mlflow.db")
    follow = (
        "from ldnn_tune.mlflow_paths import follow_moved_store; "
        f"print(follow_moved_store('sqlite:///{tmp_path / 'b' / 'mlflow.db'}'))"
    )
    mounted = f'mount --bind {tmp_path / "a"} {tmp_path / "b"} && {sys.executable} -c "{follow}"'
    here = {**os.environ, "PYTHONPATH": str(Path(ldnn_tune.__file__).parent.parent)}
    command = ["unshare", "-m", "sh", "-c", mounted]
    result = subprocess.run(command, capture_output=True, text=True, env=here)
    if "mount" in result.stderr or "unshare" in result.stderr:
        pytest.skip(f"cannot bind-mount here: {result.stderr.strip()}")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "None"
    assert locations(tmp_path / "a" / "mlflow.db") == before


def test_a_moved_store_kept_in_a_sub_folder_uses_the_mlruns_of_the_working_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # mlflow=sqlite:///stores/m.db: MLflow makes mlruns/ in the working folder, not in stores/
    (tmp_path / "a" / "stores").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "a")
    tracker = StudyTracker("sqlite:///stores/m.db", "image")
    run = tracker.open_parent_run(None, "image", {"task": "image"})
    tracker.log_json(run, "summary.json", {"best": 1})
    assert (tmp_path / "a" / "mlruns").is_dir()
    shutil.move(tmp_path / "a", tmp_path / "b")
    monkeypatch.chdir(tmp_path / "b")
    tracker = StudyTracker("sqlite:///stores/m.db", "image")
    here = tmp_path / "b" / "mlruns"
    assert f"its runs' files are now read and written in {here}" in capsys.readouterr().out
    assert all(loc.startswith(f"{here}/") for loc in locations(Path("stores/m.db")))
    path = tracker.client.download_artifacts(run, "summary.json", str(tmp_path))
    assert json.loads(Path(path).read_text()) == {"best": 1}


def test_a_store_copied_without_its_mlruns_says_where_its_files_are(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made_in(tmp_path / "a", monkeypatch)
    (tmp_path / "b").mkdir()
    with contextlib.closing(sqlite3.connect(tmp_path / "a" / "mlflow.db")) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # as a command does when it ends
    shutil.copy(tmp_path / "a" / "mlflow.db", tmp_path / "b" / "mlflow.db")
    monkeypatch.chdir(tmp_path / "b")
    before = locations(tmp_path / "b" / "mlflow.db")
    note = follow_moved_store(f"sqlite:///{tmp_path / 'b' / 'mlflow.db'}")
    assert note is not None
    assert f"keeps its runs' files in {tmp_path / 'a' / 'mlruns'}, beside another store" in note
    assert f"cp -r {tmp_path / 'a' / 'mlruns'} {tmp_path / 'b'}" in note
    assert locations(tmp_path / "b" / "mlflow.db") == before
    shutil.copytree(tmp_path / "a" / "mlruns", tmp_path / "b" / "mlruns")  # as the note says
    assert "now read and written in" in str(follow_moved_store("sqlite:///mlflow.db"))
    assert follow_moved_store(f"sqlite:///{tmp_path / 'a' / 'mlflow.db'}") is None  # the original


def test_a_sub_folder_store_in_place_is_left_alone_beside_another_store_and_a_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # review: /p/mlflow.db (the default store) and /p/stores/m.db, whose runs' files are
    # /p/mlruns too; neither moved, so no note, and a copy of mlruns/ in stores/ is no cause
    # to rewrite the sub-folder store's paths
    made_in(tmp_path / "p", monkeypatch)
    (tmp_path / "p" / "stores").mkdir()
    tracker = StudyTracker("sqlite:///stores/mlflow.db", "other")
    tracker.log_json(tracker.open_parent_run(None, "other", {}), "summary.json", {"best": 2})
    store = f"sqlite:///{tmp_path / 'p' / 'stores' / 'mlflow.db'}"
    assert follow_moved_store(store) is None
    shutil.copytree(tmp_path / "p" / "mlruns", tmp_path / "p" / "stores" / "mlruns")
    before = locations(tmp_path / "p" / "stores" / "mlflow.db")
    assert follow_moved_store(store) is None
    assert locations(tmp_path / "p" / "stores" / "mlflow.db") == before
    assert follow_moved_store(f"sqlite:///{tmp_path / 'p' / 'mlflow.db'}") is None
