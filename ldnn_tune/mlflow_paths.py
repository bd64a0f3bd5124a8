"""Where MLflow finds a local store and its runs' files, wherever the folder now is.

A local store (``sqlite:///mlflow.db``) names its runs' files by absolute paths, in
``mlruns/`` beside the folder it was made in. A study folder copied or moved elsewhere
would still read, and write, the original folder's ``mlruns/`` (or fail where it is
gone). :func:`client_uri` points such a store at the ``mlruns/`` beside it.
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
    """Point a copied or moved local store at the ``mlruns/`` beside it; return a note.

    Only a store whose runs' folders are in that ``mlruns/`` too (their run ids are
    there: a copy, not another folder's files) is changed.
    """
    path = sqlite_file(uri)
    if path is None or not path.is_file():
        return None
    here = path.resolve().parent / ARTIFACT_FOLDER
    if not here.is_dir():
        return None
    try:
        with contextlib.closing(sqlite3.connect(path)) as db:
            old = _stale_root(db, here)
            if old is None or _same_folder(old, here):  # one folder, mounted at two paths
                return None
            with db:
                _rebase(db, old, str(here))
    except sqlite3.Error:  # not an MLflow store, or locked: leave it to MLflow
        return None
    return f"note: {path} was made beside {old}; its runs' files are now read and written in {here}"


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
