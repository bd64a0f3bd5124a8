"""Optuna storages shared by many workers: SQL databases, Redis and journal files.

Every storage built here can carry heartbeats: a worker records one every ``heartbeat``
seconds while its trial runs, and a RUNNING trial whose worker has been silent for
``grace_factor`` heartbeats is marked FAIL and retried once (by any worker, or by the
next start). RDBStorage has this built in; the journal storages get it from
:class:`HeartbeatJournalStorage`.
"""

import random
import time
import warnings
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy.exc
from optuna.exceptions import ExperimentalWarning
from optuna.storages import (
    BaseStorage,
    JournalStorage,
    RDBStorage,
    RetryHeartbeatStaleTrialCallback,
)
from optuna.storages._heartbeat import BaseHeartbeat
from optuna.storages.journal import (
    JournalFileBackend,
    JournalFileSymlinkLock,
    JournalRedisBackend,
)
from optuna.trial import FrozenTrial, TrialState

from ldnn_tune.errors import UsageError
from ldnn_tune.names import HEARTBEAT_ATTR
from ldnn_tune.sqlite import use_fast_sqlite
from ldnn_tune.urls import redact

GRACE_FACTOR = 3  # heartbeats a worker may miss before its trial counts as dead
SQLITE_BUSY_SECONDS = 60  # how long a SQLite writer waits for the lock before "locked"
REDIS_SCHEMES = ("redis://", "rediss://", "unix://")


def make_storage(url: str, heartbeat: int | None = None) -> BaseStorage:
    """Return the Optuna storage for ``url``; with ``heartbeat`` (seconds), stale trials retry.

    ``url`` is an SQLAlchemy URL (``sqlite:///FILE``, ``postgresql://HOST/DB``), a Redis URL
    (``redis://HOST:PORT/DB``, a journal on Redis) or ``journal:PATH`` (a journal file).
    Connecting may raise the driver's own errors; :func:`describe_error` makes them one line.
    """
    use_fast_sqlite()
    with warnings.catch_warnings():  # heartbeats and the Redis journal are "experimental"
        warnings.simplefilter("ignore", ExperimentalWarning)
        return _make_storage(url, heartbeat)


def _make_storage(url: str, heartbeat: int | None) -> BaseStorage:
    if url.startswith("journal:"):
        path = url.removeprefix("journal:")
        if not path:
            raise UsageError("storage journal: needs a file path, e.g. storage=journal:study.log")
        return HeartbeatJournalStorage(JournalFileBackend(path), heartbeat)
    if url.startswith(REDIS_SCHEMES):
        return HeartbeatJournalStorage(JournalRedisBackend(url), heartbeat)
    if "://" not in url:
        raise UsageError(
            f"invalid storage {url!r}; expected sqlite:///FILE, postgresql://HOST/DB, "
            "redis://HOST:PORT or journal:PATH"
        )
    return _rdb_storage(url, heartbeat)


def _rdb_storage(url: str, heartbeat: int | None, tries: int = 5) -> RDBStorage:
    """Open an RDBStorage; workers creating a new database's tables at once collide, so retry."""
    kwargs = _heartbeat_kwargs(heartbeat)
    for attempt in range(tries):
        try:
            return RDBStorage(url, engine_kwargs=_engine_kwargs(url), **kwargs)
        except sqlalchemy.exc.DBAPIError as error:
            if attempt == tries - 1 or not _creation_race(error):
                raise
            time.sleep(0.5 + random.random())
    raise AssertionError("unreachable")


def _creation_race(error: sqlalchemy.exc.DBAPIError) -> bool:
    """Return whether ``error`` came from another worker creating the same tables."""
    if isinstance(error, sqlalchemy.exc.IntegrityError | sqlalchemy.exc.ProgrammingError):
        return True
    return "already exists" in str(error)  # SQLite: "table studies already exists"


def _engine_kwargs(url: str) -> dict[str, Any]:
    if url.startswith("sqlite"):
        # Several local workers write the same file: wait for the lock instead of failing.
        return {"connect_args": {"timeout": SQLITE_BUSY_SECONDS}}
    return {"pool_pre_ping": True}


def _heartbeat_kwargs(heartbeat: int | None) -> dict[str, Any]:
    if heartbeat is None:
        return {}
    return {
        "heartbeat_interval": heartbeat,
        "grace_period": GRACE_FACTOR * heartbeat,
        "heartbeat_stale_trial_callback": RetryHeartbeatStaleTrialCallback(max_retry=1),
    }


def mend_journal(path: Path) -> str | None:
    """Set aside a journal file's last line if a crash cut it short; return a note saying so.

    Optuna reads past such a line but appends after it, gluing its next record onto the
    fragment: from then on no command can read the journal. The fragment (a record never
    written whole) goes to ``PATH.cut``, under the lock Optuna's writers take.
    """
    if not path.is_file() or path.stat().st_size == 0:
        return None
    lock = JournalFileSymlinkLock(str(path))
    lock.acquire()
    try:
        data = path.read_bytes()  # Optuna reads it whole on opening too
        if data.endswith(b"\n"):
            return None
        cut = data.rfind(b"\n") + 1
        with open(f"{path}.cut", "ab") as aside:
            aside.write(data[cut:] + b"\n")
        with path.open("rb+") as journal:
            journal.truncate(cut)
    finally:
        lock.release()
    fragment = data[cut:]
    return (
        f"note: the last line of {str(path)!r} was cut short (a crash while writing?); "
        f"its {len(fragment):,} bytes were set aside in {str(path)!r}.cut"
    )


class HeartbeatJournalStorage(JournalStorage, BaseHeartbeat):
    """A JournalStorage whose running trials send heartbeats, like RDBStorage's.

    A heartbeat is a trial system attribute holding the sender's clock (seconds since the
    epoch), so the workers' clocks must roughly agree (NTP) when they share a journal.
    """

    def __init__(self, backend: Any, heartbeat: int | None) -> None:
        """Open the journal in ``backend``; ``heartbeat`` seconds, or None for no heartbeats."""
        super().__init__(backend)
        self.heartbeat_interval = heartbeat
        self.stale_callback = RetryHeartbeatStaleTrialCallback(max_retry=1) if heartbeat else None

    def record_heartbeat(self, trial_id: int) -> None:
        """Record that the worker running ``trial_id`` is alive."""
        self.set_trial_system_attr(trial_id, HEARTBEAT_ATTR, time.time())

    def _get_stale_trial_ids(self, study_id: int) -> list[int]:
        assert self.heartbeat_interval is not None
        limit = time.time() - GRACE_FACTOR * self.heartbeat_interval
        running = self.get_all_trials(study_id, deepcopy=False, states=(TrialState.RUNNING,))
        return [t._trial_id for t in running if _last_sign_of_life(t) < limit]

    def get_heartbeat_interval(self) -> int | None:
        """Return the heartbeat interval in seconds, or None when heartbeats are off."""
        return self.heartbeat_interval

    def get_heartbeat_stale_trial_callback(self) -> Any:
        """Return the callback that retries a trial whose worker died."""
        return self.stale_callback


def _last_sign_of_life(trial: FrozenTrial) -> float:
    start = trial.datetime_start or datetime.now()
    beat = trial.system_attrs.get(HEARTBEAT_ATTR, 0.0)
    # a retried trial inherits its predecessor's attrs: its own start counts too
    return max(float(beat), start.timestamp())


def describe_error(url: str, error: BaseException, key: str = "storage") -> str:
    """Return a one-line message for the ``key`` store at ``url`` that could not be opened.

    A database whose Python driver is not installed (SQLAlchemy imports it only now)
    says so, and what to install.
    """
    if isinstance(error, ModuleNotFoundError):
        return (
            f"cannot open {key} {redact(url)!r}: its database driver {error.name!r} is not "
            "installed; pip install it (e.g. mysqlclient for mysql://), or use another store"
        )
    text = str(error).strip()
    line = text.splitlines()[0] if text else type(error).__name__
    return f"cannot open {key} {redact(url)!r}: {redact(line)}"
