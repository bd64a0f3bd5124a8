"""A new MLflow SQLite store starts as a copy of an empty one instead of MLflow's migrations.

MLflow builds a new SQLite store by running its whole migration history: about 4.5 s of
a 2-core machine, paid by every new project directory, every test and every fresh CI
run. For one MLflow version the result is always the same empty schema, so the first
store made is kept in ``~/.cache/ldnn_tune/mlflow/`` (less its ``Default`` experiment, the
one row that names a folder) and later new stores are copies of it. MLflow adds
``Default`` with this directory's artifact folder when it opens the copy, as it would.
Anything unexpected (no cache folder, a read-only home) leaves the store to MLflow.
"""

import contextlib
import os
import secrets
import sqlite3
import tempfile
from pathlib import Path

from ldnn_tune.cache import cache_root
from ldnn_tune.mlflow_paths import sqlite_file
from ldnn_tune.sqlite import remove_database_files


def seed_new_store(uri: str) -> bool:
    """Put a copy of the empty store at ``uri``'s file when it does not exist; return if done.

    Workers creating the same store at once are safe: the copy is linked into place, so
    exactly one wins and the others use its file.
    """
    path = sqlite_file(uri)
    template = _template()
    if path is None or path.exists() or not template.exists() or not path.parent.is_dir():
        return False
    if not _intact(template):  # damaged in the cache: MLflow builds the store, kept anew
        with contextlib.suppress(OSError):
            template.unlink()
        return False
    staged = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    try:
        # created as MLflow would create it: mode 0o666 less the umask
        fd = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(template.read_bytes())
            os.link(staged, path)  # fails when another process put its store there first
        finally:
            os.unlink(staged)
    except OSError:
        return False
    return True


def keep_empty_store(uri: str) -> None:
    """Keep the store MLflow just made at ``uri`` as the empty one, unless there is one.

    Call it right after MLflow opened a store it created: the copy is taken only while
    the store holds nothing but MLflow's ``Default`` experiment, which it leaves out.
    """
    path = sqlite_file(uri)
    template = _template()
    if path is None or template.exists() or not path.exists():
        return
    try:
        template.parent.mkdir(parents=True, exist_ok=True)
        fd, staged = tempfile.mkstemp(prefix=".empty.", dir=template.parent)
        os.close(fd)
        try:
            with (
                contextlib.closing(sqlite3.connect(path)) as source,
                contextlib.closing(sqlite3.connect(staged)) as copy,
            ):
                source.backup(copy)  # a consistent snapshot, whatever else has it open
                if copy.execute("SELECT COUNT(*) FROM experiments").fetchone() != (1,):
                    return  # something was logged already: not an empty store
                with copy:
                    copy.execute("DELETE FROM experiments WHERE experiment_id = 0")
                copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
            os.replace(staged, template)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(staged)
    except (OSError, sqlite3.Error):
        return


def remove_half_made_store(uri: str) -> None:
    """Remove the store at ``uri`` that MLflow's migrations left part-built (a full disk).

    Kept, it would read as a store of an older MLflow, and ask to be upgraded.
    """
    path = sqlite_file(uri)
    if path is not None:
        remove_database_files(path)


def _intact(template: Path) -> bool:
    """Return whether ``template`` is a whole SQLite database holding MLflow's schema."""
    try:
        with contextlib.closing(sqlite3.connect(f"{template.as_uri()}?mode=ro", uri=True)) as db:
            if db.execute("PRAGMA quick_check").fetchone() != ("ok",):
                return False
            versions = db.execute("SELECT COUNT(*) FROM alembic_version").fetchone()
            return bool(versions == (1,))
    except sqlite3.Error:
        return False


def is_new_store(uri: str) -> bool:
    """Return whether ``uri`` is an SQLite store whose file does not exist yet."""
    path = sqlite_file(uri)
    return path is not None and not path.exists()


def _template() -> Path:
    """Return where this MLflow version's empty store is kept."""
    from mlflow.version import VERSION

    return cache_root() / "mlflow" / f"empty-{VERSION}.db"
