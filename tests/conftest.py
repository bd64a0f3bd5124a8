"""Fixtures the host's tests share; helpers are plain functions in helpers.py."""

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import PG_HOST, REDIS_HOST, Cli, unavailable

from ldnn_tune.console.quiet import quiet_frameworks
from ldnn_tune.testing import BoringOptions, BoringTask
from ldnn_tune.testing.cli import run_cli


@pytest.fixture(scope="session")
def empty_mlflow_stores(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return the folder every test's cache shares for MLflow's empty store (made once)."""
    return tmp_path_factory.mktemp("mlflow-empty")


@pytest.fixture(autouse=True)
def private_cache(
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
    empty_mlflow_stores: Path,
) -> None:
    """Keep each test's caches (the pre-flight's verdicts) out of the user's home.

    Only the empty MLflow store is shared (see ldnn_tune/mlflow_store.py): making one
    takes seconds, and it is the same for every test.
    """
    cache = tmp_path_factory.mktemp("cache")  # beside the test's folder: that stays empty
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    (cache / "ldnn_tune").mkdir()
    (cache / "ldnn_tune" / "mlflow").symlink_to(empty_mlflow_stores)


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    """Return a runner of the real CLI with ``tmp_path`` as working directory."""
    return lambda *words, **kw: run_cli(tmp_path, *words, **kw)


@pytest.fixture
def task() -> BoringTask:
    """Return the prepared boring test task (study seed 0)."""
    quiet_frameworks()
    task = BoringTask(BoringOptions(), None, seed=0)
    task.prepare()
    return task


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """Yield the URL of a new, empty PostgreSQL database; drop it afterwards."""
    import sqlalchemy

    name = f"ldnn_test_{uuid.uuid4().hex[:12]}"
    try:
        admin = sqlalchemy.create_engine(f"{PG_HOST}/postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(sqlalchemy.text(f'CREATE DATABASE "{name}"'))
    except Exception as error:
        unavailable("PostgreSQL", error)
    yield f"{PG_HOST}/{name}"
    with admin.connect() as connection:
        connection.execute(sqlalchemy.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def redis_url() -> Iterator[str]:
    """Yield the URL of an empty Redis database (of 1-15); empty it afterwards."""
    import redis

    try:
        for db in range(15, 0, -1):
            client = redis.Redis.from_url(f"{REDIS_HOST}/{db}")
            if client.dbsize() == 0:
                break
        else:
            raise RuntimeError("no empty Redis database among 1-15")
    except Exception as error:
        unavailable("Redis", error)
    yield f"{REDIS_HOST}/{db}"
    client.flushdb()
