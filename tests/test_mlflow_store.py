"""A new MLflow SQLite store is a copy of the empty one kept in the cache, not a migration."""

import os
import sqlite3
import subprocess
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from ldnn_tune.mlflow_store import keep_empty_store, seed_new_store
from ldnn_tune.tracking import StudyTracker


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Return this test's own empty-store folder (not the one the other tests share)."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "own"))
    return tmp_path / "own" / "ldnn_tune" / "mlflow"


def experiments(path: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(path) as db:
        return db.execute("SELECT name, artifact_location FROM experiments").fetchall()


def test_the_first_store_is_kept_empty_and_later_ones_start_as_its_copy(
    tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    monkeypatch.chdir(first)
    StudyTracker(f"sqlite:///{first / 'mlflow.db'}", "image")
    (template,) = cache.iterdir()
    assert experiments(template) == []  # MLflow's Default names a folder: left out

    monkeypatch.chdir(second)
    uri = f"sqlite:///{second / 'mlflow.db'}"
    assert seed_new_store(uri)
    assert not seed_new_store(uri)  # never over a store that exists
    mode = (second / "mlflow.db").stat().st_mode & 0o777
    umask = os.umask(0)
    os.umask(umask)
    assert mode == 0o666 & ~umask
    tracker = StudyTracker(uri, "speech")
    run = tracker.open_parent_run(None, "speech", {"task": "speech"})
    # MLflow added its Default experiment for this directory when it opened the copy
    assert dict(experiments(second / "mlflow.db")) == {
        "Default": str(second / "mlruns" / "0"),
        "speech": str(second / "mlruns" / "1"),
    }
    assert MlflowClient(uri).get_run(run).data.params["task"] == "speech"
    assert [p.name for p in second.iterdir() if p.name.startswith(".")] == []


def test_a_store_with_anything_in_it_is_not_kept(tmp_path: Path, cache: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    MlflowClient(uri).create_experiment("image", artifact_location=str(tmp_path / "a"))
    keep_empty_store(uri)
    assert not cache.exists() or list(cache.iterdir()) == []


@pytest.mark.parametrize(
    "uri", ["sqlite:///:memory:", "postgresql://x/db", "http://127.0.0.1:5000", "sqlite:///"]
)
def test_other_stores_are_left_to_mlflow(uri: str, cache: Path) -> None:
    assert not seed_new_store(uri)
    keep_empty_store(uri)
    assert not cache.exists()


@pytest.mark.parametrize("damage", ["truncated", "text"])
def test_a_damaged_empty_store_is_dropped_and_kept_anew(
    tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch, damage: str
) -> None:
    for name in ("first", "second"):
        (tmp_path / name).mkdir()
    monkeypatch.chdir(tmp_path / "first")
    StudyTracker(f"sqlite:///{tmp_path / 'first' / 'mlflow.db'}", "image")
    (template,) = cache.iterdir()
    whole = template.read_bytes()
    template.write_bytes(whole[: len(whole) // 2] if damage == "truncated" else b"x" * 8192)

    monkeypatch.chdir(tmp_path / "second")
    uri = f"sqlite:///{tmp_path / 'second' / 'mlflow.db'}"
    assert not seed_new_store(uri)
    assert not template.exists() and not (tmp_path / "second" / "mlflow.db").exists()
    tracker = StudyTracker(uri, "speech")  # MLflow builds the store, which is kept again
    run = tracker.open_parent_run(None, "speech", {"task": "speech"})
    assert MlflowClient(uri).get_run(run).data.params["task"] == "speech"
    assert template.read_bytes() != b"x" * 8192 and experiments(template) == []


def test_a_relative_store_is_the_one_in_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("first", "second"):  # one process, two folders, the same relative URI
        (tmp_path / name).mkdir()
        monkeypatch.chdir(tmp_path / name)
        tracker = StudyTracker("sqlite:///mlflow.db", name)
        tracker.open_parent_run(None, name, {"task": name})
    for name in ("first", "second"):
        with sqlite3.connect(tmp_path / name / "mlflow.db") as db:
            assert db.execute("SELECT name FROM runs").fetchall() == [(name,)]


def test_a_store_the_disk_filled_up_while_mlflow_built_it_is_removed(
    tmp_path: Path, cache: Path
) -> None:
    """Kept, a half-built store read as one of an older MLflow ('mlflow db upgrade')."""
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(disk)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {mounted.stderr.decode().strip()}")
    try:  # no empty store in the cache: MLflow runs its migrations, about 1 MB of them
        with pytest.raises(Exception, match=r"(?i)full"):
            StudyTracker(f"sqlite:///{disk / 'mlflow.db'}", "image")
        assert list(disk.iterdir()) == []
    finally:
        subprocess.run(["umount", "-l", str(disk)], capture_output=True)
