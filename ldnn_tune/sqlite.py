"""SQLite settings for both stores (Optuna's ``ldnn_tune.db`` and MLflow's ``mlflow.db``).

By default SQLite syncs the disk on every commit, and a trial commits dozens of times
(params, intermediate values, metrics, tags). Write-ahead logging with ``synchronous=NORMAL``
syncs at checkpoints instead: a crash of ldnn-tune loses nothing committed, a power cut
may lose the last moments, and the file is never corrupted. Readers and one writer work at
once, which the local worker processes of ``n_jobs`` need.
"""

import sqlite3
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

PRAGMAS = ("PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL")


def _on_connect(connection: Any, record: Any) -> None:
    if isinstance(connection, sqlite3.Connection):
        cursor = connection.cursor()
        for pragma in PRAGMAS:
            cursor.execute(pragma)
        cursor.close()


def use_fast_sqlite() -> None:
    """Give every SQLite connection this process opens from now on the settings above."""
    if not event.contains(Engine, "connect", _on_connect):
        event.listen(Engine, "connect", _on_connect)
