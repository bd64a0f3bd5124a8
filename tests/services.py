"""The real PostgreSQL and Redis servers the storage tests use, each test on a fresh store.

Absent servers skip their tests, unless LDNN_TUNE_REQUIRE_SERVICES=1 (as in CI): then
they fail.
"""

import os
import uuid
from collections.abc import Iterator

import pytest

PG_HOST = os.environ.get("LDNN_TUNE_PG", "postgresql://postgres@127.0.0.1:5432")
REDIS_HOST = os.environ.get("LDNN_TUNE_REDIS", "redis://127.0.0.1:6379")


def unavailable(service: str, error: BaseException) -> None:
    """Skip the test, or fail it when services are required."""
    first = (str(error).strip().splitlines() or [""])[0]
    reason = f"{service} is not reachable ({type(error).__name__}: {first}); start it"
    if os.environ.get("LDNN_TUNE_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{reason} (LDNN_TUNE_REQUIRE_SERVICES=1)")
    pytest.skip(reason)


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
