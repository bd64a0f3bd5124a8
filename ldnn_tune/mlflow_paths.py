"""Where MLflow finds a local store and its runs' files, wherever the folder now is.

A local store (``sqlite:///mlflow.db``) names its runs' files by absolute paths, in
``mlruns/`` beside the folder it was made in. A study folder copied or moved elsewhere
would still read, and write, the original folder's ``mlruns/`` (or fail where it is
gone). :func:`client_uri` points such a store at the ``mlruns/`` beside it (or in the
working folder, where MLflow makes it), and notes a store copied without it.
"""

import contextlib
import os
import sqlite3
from pathlib import Path

ARTIFACT_FOLDER = "mlruns"  # where MLflow keeps a local store's runs' files: ./mlruns


def client_uri(uri: str) -> str:
    """Return the URI to hand MLflow for ``uri``, a local store followed to where it is."""
    resolved = absolute_uri(uri)
    note = follow_moved_store(resolved)
    if note is not None:
        print(note)
    return resolved


def absolute_uri(uri: str) -> str:
    """Return ``uri`` with an SQLite file given relative to here made absolute.

    MLflow keeps one store per URI for the life of the process, so a program that runs
    commands in several folders would otherwise write every folder's runs into the first
    folder's ``mlflow.db``.
    """
    path = sqlite_file(uri)
    if path is None or path.is_absolute():
        return uri
    return f"sqlite:///{path.absolute()}"


def sqlite_file(uri: str) -> Path | None:
    """Return the file of an ``sqlite:///FILE`` URI, or None for any other store."""
    if not uri.startswith("sqlite:///"):
        return None
    path = uri.removeprefix("sqlite:///")
    if not path or path == ":memory:" or path.startswith("?") or "?" in path:
        return None
    return Path(path)


def follow_moved_store(uri: str) -> str | None:
    """Point a copied or moved local store at its ``mlruns/``; return a note.

    Its ``mlruns/`` is the one beside it, or the one in the working folder (MLflow puts
    it there; a store kept in a sub-folder, ``mlflow=sqlite:///stores/mlflow.db``, has
    it there too). Only a store whose runs' folders are in that ``mlruns/`` (their run
    ids are there: a copy, not another folder's files) is changed. A store copied
    without its ``mlruns/`` is left as it is, with a note: its runs' files are still in
    the folder of the store it copies (which holds its runs), where new runs would write too.
    """
    path = sqlite_file(uri)
    if path is None or not path.is_file():
        return None
    try:
        with contextlib.closing(sqlite3.connect(path)) as db:
            folders = _artifact_folders(path)
            for here in folders:
                old = _stale_root(db, here)
                # its own folder is still one of these (or is, at another path): the original
                if old is None or any(_same_folder(old, folder) for folder in folders):
                    continue
                with db:
                    _rebase(db, old, str(here))
                return (
                    f"note: {path} was made beside {old}; "
                    f"its runs' files are now read and written in {here}"
                )
            return _copied_without_files(db, path)
    except sqlite3.Error:  # not an MLflow store, or locked: leave it to MLflow
        return None


def _artifact_folders(path: Path) -> list[Path]:
    """Return the ``mlruns/`` folders a store at ``path`` may keep its files in, that exist.

    The working folder's only holds the files of a store inside that folder.
    """
    candidates = [path.resolve().parent / ARTIFACT_FOLDER]
    here = Path.cwd().resolve()
    if path.resolve().is_relative_to(here):
        candidates.append(here / ARTIFACT_FOLDER)
    return [folder for folder in dict.fromkeys(candidates) if folder.is_dir()]


def _copied_without_files(db: sqlite3.Connection, path: Path) -> str | None:
    """Return a note when the store at ``path`` keeps its files beside another store.

    That is a copy of the other store's file made without its ``mlruns/`` (the other
    holds its runs): the runs' files it reads are the other's, and the runs it makes
    would write there too.
    """
    runs = [str(run) for (run,) in db.execute("SELECT run_uuid FROM runs LIMIT 100")]
    for (location,) in db.execute("SELECT artifact_location FROM experiments"):
        root = Path(str(location)).parent
        other = root.parent / path.name
        if root.name != ARTIFACT_FOLDER or not root.is_absolute() or not other.is_file():
            continue
        if not _same_folder(str(other), path) and _holds_runs(other, runs):
            return (
                f"note: {path} keeps its runs' files in {root}, beside another store "
                f"({other}); new runs write there too. To keep them with this store, "
                f"copy that folder here: cp -r {root} {path.resolve().parent}"
            )
    return None


def _holds_runs(store: Path, runs: list[str]) -> bool:
    """Return whether the MLflow store ``store`` holds any of ``runs``: ours is its copy."""
    if not runs:
        return False
    marks = ",".join("?" * len(runs))
    try:
        with contextlib.closing(sqlite3.connect(f"{store.as_uri()}?mode=ro", uri=True)) as db:
            query = f"SELECT 1 FROM runs WHERE run_uuid IN ({marks}) LIMIT 1"
            return db.execute(query, runs).fetchone() is not None
    except sqlite3.Error:  # not an MLflow store
        return False


def _stale_root(db: sqlite3.Connection, here: Path) -> str | None:
    """Return the ``mlruns`` folder the store names, when it is not ``here`` but copied there."""
    for (location,) in db.execute("SELECT artifact_location FROM experiments"):
        root = Path(str(location)).parent
        if root.name != ARTIFACT_FOLDER or root == here or not root.is_absolute():
            continue
        runs = db.execute(
            "SELECT experiment_id, run_uuid FROM runs WHERE artifact_uri LIKE ? || '%'",
            (f"{root}/",),
        )
        if any((here / str(experiment) / str(run)).is_dir() for experiment, run in runs):
            return str(root)
    return None


def _same_folder(old: str, here: Path) -> bool:
    """Return whether ``old`` is ``here`` under another path (a bind mount, a symlink).

    Workers sharing one folder at two paths would otherwise move each other's runs'
    files back and forth, each writing where the other does not look.
    """
    try:
        return os.path.samefile(old, here)
    except OSError:  # gone: a copy or a move
        return False


def _rebase(db: sqlite3.Connection, old: str, new: str) -> None:
    """Replace the leading ``old`` folder of every experiment's and run's files with ``new``."""
    for table, column in (("experiments", "artifact_location"), ("runs", "artifact_uri")):
        db.execute(
            f"UPDATE {table} SET {column} = ? || substr({column}, ?) "
            f"WHERE substr({column}, 1, ?) = ?",
            (new, len(old) + 1, len(old) + 1, f"{old}/"),
        )
