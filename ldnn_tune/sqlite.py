"""SQLite settings for both stores (Optuna's ``ldnn_tune.db`` and MLflow's ``mlflow.db``).

By default SQLite syncs the disk on every commit, and a trial commits dozens of times
(params, intermediate values, metrics, tags). Write-ahead logging with ``synchronous=NORMAL``
syncs at checkpoints instead: a crash of ldnn-tune loses nothing committed, a power cut
may lose the last moments, and the file is never corrupted. Readers and one writer work at
once, which the local worker processes of ``n_jobs`` need. Committed data sits in the
``-wal`` file until a checkpoint folds it into the database: :func:`checkpoint_all` does
that at the end of a command, so the ``.db`` file alone holds the study, and the
``-wal`` and ``-shm`` files go away with the command's last connection.
"""

import contextlib
import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

PRAGMAS = ("PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL")
_opened: set[str] = set()  # the database files this process connected to
_connections: list[sqlite3.Connection] = []  # the connections the stores' engines opened


def _on_connect(connection: Any, record: Any) -> None:
    if isinstance(connection, sqlite3.Connection):
        cursor = connection.cursor()
        for pragma in PRAGMAS:
            cursor.execute(pragma)
        _opened.update(row[2] for row in cursor.execute("PRAGMA database_list") if row[2])
        cursor.close()
        _connections.append(connection)


def checkpoint_all() -> None:
    """Close this process's connections and fold each database's write-ahead log into it.

    A process that ends without closing its connections (``ldnn-tune`` skips the
    interpreter's teardown) would otherwise leave every commit in the ``-wal`` file,
    and a copy of the ``.db`` file alone would hold none of them. Closing the last
    connection to a database removes its ``-wal`` and ``-shm`` files; a database another
    process is reading at that moment keeps them, which is safe. Only for a process
    about to end: the stores' engines cannot be used afterwards.
    """
    while _connections:
        with contextlib.suppress(sqlite3.Error):
            _connections.pop().close()
    for path in sorted(_opened):
        try:
            with contextlib.closing(sqlite3.connect(path, timeout=5)) as connection:
                connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except sqlite3.Error:
            continue


def use_fast_sqlite() -> None:
    """Give every SQLite connection this process opens from now on the settings above."""
    if not event.contains(Engine, "connect", _on_connect):
        event.listen(Engine, "connect", _on_connect)


def remove_database_files(path: Path) -> None:
    """Remove the SQLite database ``path`` with its write-ahead log and shared memory, if any."""
    for part in (path, path.with_name(f"{path.name}-wal"), path.with_name(f"{path.name}-shm")):
        with contextlib.suppress(OSError):
            part.unlink()
