"""Check the ``storage=`` and ``mlflow=`` URLs before anything is created.

A command opens its stores only after these checks pass, so a typo, an unreachable server
or a missing folder is one line and leaves no half-made study behind. Commands that only
read (``ensemble``, ``predict``, ``ui``) also refuse a store that does not exist yet,
instead of creating an empty one.
"""

import contextlib
import http.client
import os
import sqlite3
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from ldnn_tune.errors import UsageError
from ldnn_tune.mlflow_paths import ARTIFACT_FOLDER, sqlite_file
from ldnn_tune.urls import redact

CONNECT_SECONDS = 5  # how long a server may take to answer the check
REDIS_SCHEMES = ("redis://", "rediss://", "unix://")
JOURNAL_PREFIX = "journal:"
DATABASES = ("postgresql", "mysql", "mariadb", "mssql", "oracle")
STORAGE_FORMS = "sqlite:///FILE, postgresql://HOST/DB, redis://HOST:PORT or journal:PATH"
# the query options of an sqlite URL that SQLAlchemy's pysqlite dialect reads, but uri
# (with it, SQLite reads the path as a URI: another file than the one checked here)
SQLITE_OPTIONS = frozenset(
    {"timeout", "isolation_level", "detect_types", "check_same_thread", "cached_statements"}
)
MLFLOW_FORMS = "sqlite:///FILE, postgresql://HOST/DB or an MLflow server http://HOST:PORT"


def check_model_source(model: str, mlflow_uri: str) -> None:
    """Refuse ``model=`` when it is no folder here and ``mlflow_uri`` holds no runs to name."""
    if Path(model).exists():  # an ensemble folder: its bundle is checked as it loads
        return
    try:
        check_mlflow(mlflow_uri, read_only=True)
    except UsageError as error:
        raise UsageError(
            f"model {model!r} is no ensemble folder, nor a run of a store here: {error}"
        ) from None


def check_storage(url: str, read_only: bool = False) -> None:
    """Refuse an Optuna storage URL that cannot work (or, ``read_only``, holds nothing)."""
    if url.startswith("journal:"):
        path = url.removeprefix("journal:")
        if not path:
            raise UsageError("storage journal: needs a file path, e.g. storage=journal:study.log")
        _check_file(Path(path), read_only, f"storage={url}", "journal")
    elif url.startswith(REDIS_SCHEMES):
        _check_redis(url)
    elif url.startswith("sqlite:"):
        _check_file(_sqlite_path(url, "storage"), read_only, f"storage={url}", "optuna")
    elif _scheme(url) in DATABASES:
        _check_database(url, "storage")
    else:
        raise UsageError(f"invalid storage {url!r}; expected {STORAGE_FORMS}")


def check_mlflow(uri: str, read_only: bool = False) -> None:
    """Refuse an MLflow tracking URI that cannot work (or, ``read_only``, holds nothing)."""
    scheme = _scheme(uri)
    if uri.startswith("sqlite:"):
        _check_file(_sqlite_path(uri, "mlflow"), read_only, f"mlflow={redact(uri)}", "mlflow")
        if not read_only:
            _check_artifact_folder(uri)
    elif scheme in ("http", "https"):
        _check_server(uri)
    elif scheme in DATABASES:
        _check_database(uri, "mlflow")
    elif scheme == "file" or (scheme == "" and _names_a_folder(uri)):
        raise UsageError(
            f"mlflow {uri!r} is a plain file store, which MLflow 3 refuses; "
            "use mlflow=sqlite:///mlflow.db or a server, mlflow=http://HOST:5000"
        )
    else:
        raise UsageError(f"invalid mlflow {uri!r}; expected {MLFLOW_FORMS}")


def _names_a_folder(uri: str) -> bool:
    """Return whether a tracking URI without a scheme is a folder's path (a file store)."""
    return bool(uri) and ("/" in uri or Path(uri).is_dir() or Path(uri).name == ARTIFACT_FOLDER)


def check_stores_apart(storage: str, mlflow: str) -> None:
    """Refuse one file for both stores: Optuna's and MLflow's schemas cannot share it."""
    study, runs = _store_file(storage), _store_file(mlflow)
    if study is not None and runs is not None and _same_file(study, runs):
        raise UsageError(
            f"storage={redact(storage)} and mlflow={redact(mlflow)} name the same file, which "
            "cannot hold both Optuna's study and MLflow's runs; give each its own, e.g. "
            "storage=sqlite:///ldnn_tune.db mlflow=sqlite:///mlflow.db"
        )


def _same_file(one: Path, other: Path) -> bool:
    """Return whether two paths name one file (both followed to where they are)."""
    return one.absolute().resolve() == other.absolute().resolve()


def _check_artifact_folder(uri: str) -> None:
    """Refuse a working folder where MLflow could not keep a local store's runs' files.

    MLflow reads the runs' folder as a URL (a ``?`` or ``%XX`` in it names another
    folder), and records a new store's ``mlruns/`` in SQL quoted by Python's ``repr``: a
    path holding both quote marks fails it.
    """
    folder = str(Path.cwd())
    if _misread(folder):  # the runs' files: url2pathname decodes %XX, a '?' ends the path
        why = "the runs' files would go to another folder"
        raise UsageError(_misread_folder(f"mlflow={redact(uri)}", folder, why))
    if "'" in folder and '"' in folder:
        raise UsageError(
            f"mlflow={redact(uri)}: the working folder {folder!r} holds both ' and \", which "
            "MLflow cannot record as the place of the runs' files; rename it, or run elsewhere"
        )
    artifacts = Path(ARTIFACT_FOLDER)
    if artifacts.exists() and not artifacts.is_dir():
        raise UsageError(
            f"mlflow={redact(uri)}: {ARTIFACT_FOLDER!r}, the folder where MLflow keeps the runs' "
            "files, is a file here; move it away, or run in another folder"
        )
    if not artifacts.exists():
        refused = creation_refused(Path("."))
        if refused:
            raise UsageError(
                f"mlflow={redact(uri)}: cannot make {ARTIFACT_FOLDER!r} here, where MLflow keeps "
                f"the runs' files ({refused}); run in a folder you can write"
            )


def _scheme(url: str) -> str:
    """Return the URL's scheme without its driver (``postgresql+psycopg`` → ``postgresql``)."""
    head, sep, _ = url.partition("://")
    return head.split("+")[0].lower() if sep else ""


def _sqlite_path(url: str, key: str) -> Path:
    """Return the file of an ``sqlite:///FILE`` URL; refuse in-memory and malformed ones.

    A ``?`` (a URL's query) or ``%XX`` (an escape) in the file's path, typed or in the
    working folder MLflow's relative store is found from, would open another file.
    """
    head, _, query = url.partition("?")
    path = sqlite_file(head)  # its query (?mode=...) does not name the file
    example = "mlflow.db" if key == "mlflow" else "ldnn_tune.db"
    if path is None:
        raise UsageError(
            f"{key}={url} is not a file (an in-memory database would be lost when the "
            f"command ends); give one, e.g. {key}=sqlite:///{example}"
        )
    if "/" in query or _misread(str(path)):  # a folder named q?x, or 50%20
        raise UsageError(
            f"{key}={url}: a '?', a '%XX' or bytes that are not UTF-8 in a store's path "
            "would open another file, or none; rename that folder"
        )
    ignored = sorted(set(urllib.parse.parse_qs(query, keep_blank_values=True)) - SQLITE_OPTIONS)
    if ignored:  # SQLAlchemy warns, then opens the file without them
        raise UsageError(
            f"{key}={url}: ldnn-tune does not take the option {ignored[0]!r} of an sqlite URL "
            "(SQLAlchemy ignores it, or with uri=true reads the path as another file); "
            f"it takes {', '.join(sorted(SQLITE_OPTIONS))}"
        )
    folder = str(path.absolute().parent)
    if key == "mlflow" and _misread(folder):  # MLflow's store is made absolute
        raise UsageError(_misread_folder(f"{key}={url}", folder, "it would open another file"))
    return path


def _misread(path: str) -> bool:
    """Return whether a store would not name ``path``.

    A ``?`` starts a URL's query, ``%41`` is A, and a name that is not UTF-8 cannot be
    written as text (SQLite's, MLflow's).
    """
    return "?" in path or urllib.parse.unquote(path) != path or not _utf8(path)


def _utf8(text: str) -> bool:
    """Return whether ``text`` (a path as Python reads it) is valid UTF-8."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # bytes that are not UTF-8 read as lone surrogates
        return False
    return True


def _misread_folder(word: str, folder: str, misread: str) -> str:
    """Return the refusal of a ``folder`` that URLs misread (``misread``: what would go wrong)."""
    return (
        f"{word}: the folder {folder!r} holds a '?', a '%XX' or bytes that are not UTF-8, "
        f"which MLflow cannot read back as that folder ({misread}); rename it, or run in "
        "another folder"
    )


def _check_file(path: Path, read_only: bool, word: str, kind: str) -> None:
    """Refuse a store file that a read-only command would create, or that cannot be made.

    An existing file must be a store of ``kind`` ("optuna", "mlflow" or "journal"), or
    empty: opening another program's file would write tables or a journal into it.
    """
    if path.is_dir():
        raise UsageError(f"{word}: {str(path)!r} is a folder, not a file")
    if path.exists() and not path.is_file():  # /dev/null, a pipe: SQLite cannot keep a store
        raise UsageError(f"{word}: {str(path)!r} is not a regular file; give a file's path")
    if path.is_file() and path.stat().st_size > 0:
        _check_contents(path, word, kind)
    if read_only:
        if not path.is_file():
            raise UsageError(
                f"{word}: {str(path)!r} does not exist; run a study first, or give the "
                "store it wrote to"
            )
        if path.stat().st_size == 0:  # opening it would make it a store, with nothing in it
            raise UsageError(
                f"{word}: {str(path)!r} is empty; run a study first, or give the store it wrote to"
            )
        return
    folder = path.parent
    if not folder.is_dir():
        raise UsageError(f"{word}: folder {str(folder)!r} does not exist")
    if not path.exists() and creation_refused(folder):
        raise UsageError(f"{word}: cannot create a file in {str(folder)!r} (not writable)")
    if path.exists() and not os.access(path, os.W_OK):
        raise UsageError(f"{word}: {str(path)!r} is not writable")


def creation_refused(folder: Path) -> str:
    """Return why no file can be made in ``folder`` ("" when one can).

    A probe that leaves nothing behind: ``os.access`` says yes to root everywhere, /proc
    included.
    """
    try:
        with tempfile.TemporaryFile(dir=folder):
            return ""
    except OSError as error:
        return error.strerror or str(error)


def is_journal(head: bytes) -> bool:
    """Return whether ``head``, a file's first bytes, begins an Optuna journal (JSON lines)."""
    return head.startswith(b'{"op_code"')


# a table each store's schema has, which other programs' databases lack
STORE_TABLES = {"optuna": "version_info", "mlflow": "experiments"}


def _check_contents(path: Path, word: str, kind: str) -> None:
    """Refuse a non-empty ``path`` that is not an Optuna journal or a database of ``kind``."""
    if kind == "journal":
        with path.open("rb") as handle:
            first = handle.readline(4096)
        if not is_journal(first):
            raise UsageError(f"{word}: {str(path)!r} is not an Optuna journal; give a new file")
        return
    try:
        # read-write where it may (never creating the file): the last connection's close
        # removes a WAL database's -wal and -shm files, which a read-only one leaves behind
        mode = "rw" if os.access(path, os.W_OK) else "ro"
        uri = f"file:{urllib.request.pathname2url(str(path.resolve()))}?mode={mode}"
        with contextlib.closing(sqlite3.connect(uri, uri=True)) as connection:
            rows = connection.execute("select name from sqlite_master where type = 'table'")
            tables = {name for (name,) in rows}
            schema = _schema_version(connection) if "alembic_version" in tables else None
    except sqlite3.DatabaseError as error:
        if not os.access(path.parent, os.W_OK):
            raise UsageError(
                f"{word}: {str(path)!r} lies in a read-only folder, and SQLite writes beside "
                "a database even to read it; copy the study's folder to a writable place"
            ) from None
        raise UsageError(
            f"{word}: {str(path)!r} is not a usable SQLite database ({error})"
        ) from None
    if tables and STORE_TABLES[kind] not in tables:
        store = "an Optuna storage" if kind == "optuna" else "an MLflow store"
        raise UsageError(f"{word}: {str(path)!r} is a database of another kind, not {store}")
    if kind == "mlflow" and schema is not None:
        _check_mlflow_schema(path, word, schema)


def _schema_version(connection: sqlite3.Connection) -> str | None:
    """Return the database's Alembic schema revision (None when it records none)."""
    row = connection.execute("select version_num from alembic_version").fetchone()
    return str(row[0]) if row else None


def _check_mlflow_schema(path: Path, word: str, schema: str) -> None:
    """Refuse an MLflow store written by another MLflow version, before anything writes to it.

    MLflow itself refuses it later, after the first look at a moved store has already
    written to it, and as an error the user cannot act on from ldnn-tune's line.
    """
    try:
        from alembic.script import ScriptDirectory
        from alembic.util import CommandError
        from mlflow.store.db.utils import _get_alembic_config
        from mlflow.version import VERSION
    except ImportError:  # an MLflow that keeps its migrations elsewhere: MLflow will tell
        return
    script = ScriptDirectory.from_config(_get_alembic_config(""))
    head = script.get_current_head()
    if schema == head:
        return
    try:
        script.get_revision(schema)
    except CommandError:
        raise UsageError(
            f"{word}: {str(path)!r} was written by a newer MLflow (schema {schema}, which "
            f"MLflow {VERSION} does not know); open it with that MLflow version"
        ) from None
    raise UsageError(
        f"{word}: {str(path)!r} was written by an older MLflow (schema {schema}; MLflow "
        f"{VERSION} reads {head}); back it up, then: mlflow db upgrade sqlite:///{path}"
    )


def _check_server(uri: str) -> None:
    """Refuse an MLflow server that does not answer its health check in time."""
    health = uri.rstrip("/") + "/health"
    try:
        with urllib.request.urlopen(health, timeout=CONNECT_SECONDS) as answer:
            if answer.status != 200:
                raise UsageError(f"the MLflow server {uri} answered {answer.status} to /health")
    except urllib.error.HTTPError as error:  # something answers there, not MLflow's way
        raise UsageError(
            f"{uri} answers, but is not an MLflow server: its /health gave HTTP {error.code} "
            f"({error.reason}); give the URL of an MLflow server, e.g. http://HOST:5000"
        ) from None
    except (urllib.error.URLError, OSError, ValueError, http.client.InvalidURL) as error:
        reason = getattr(error, "reason", error)
        raise UsageError(f"cannot reach the MLflow server {uri}: {reason}") from None


def _check_database(url: str, key: str) -> None:
    """Refuse a database server that cannot be connected to in time."""
    import sqlalchemy

    from ldnn_tune.study.storages import describe_error

    timeout = {"connect_timeout": CONNECT_SECONDS} if _scheme(url) == "postgresql" else {}
    try:
        engine = sqlalchemy.create_engine(url, connect_args=timeout)
        with engine.connect():
            pass
        engine.dispose()
    except Exception as error:
        raise UsageError(describe_error(url, error, key)) from None


def _check_redis(url: str) -> None:
    """Refuse a Redis server that does not answer in time."""
    import redis

    from ldnn_tune.study.storages import describe_error

    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=CONNECT_SECONDS)
        client.ping()
    except Exception as error:
        raise UsageError(describe_error(url, error)) from None


def check_data_apart(data_dir: Path | None, storage: str, mlflow: str) -> None:
    """Refuse a ``data_dir`` folder that holds the files this command writes.

    Run in a dataset's own folder (``data_dir=.``), the stores and MLflow's ``mlruns/``
    would land among the data: the next run would read them as a class folder, or as a
    change of the data that refuses to continue the study.
    """
    if data_dir is None or not data_dir.is_dir():
        return
    written = [path for path in _local_files(storage, mlflow) if _inside(path, data_dir)]
    if written:
        names = ", ".join(
            f"{path.name}/" if path.name == ARTIFACT_FOLDER else path.name for path in written
        )
        raise UsageError(
            f"data_dir {str(data_dir)!r} holds what this command writes ({names}): it would "
            "be read as data; keep the data in a folder of its own (data_dir=data), or give "
            "storage= and mlflow= files elsewhere"
        )


def _local_files(storage: str, mlflow: str) -> list[Path]:
    """Return the files and folders a run writes on this machine for these stores."""
    files = [path for path in (_store_file(storage), _store_file(mlflow)) if path is not None]
    if mlflow.startswith("sqlite:"):
        files.append(Path(ARTIFACT_FOLDER))
    return files


def _store_file(url: str) -> Path | None:
    """Return the local file a store URL keeps its data in (None for a server's store)."""
    if url.startswith(JOURNAL_PREFIX):
        return Path(url.removeprefix(JOURNAL_PREFIX))
    return sqlite_file(url.split("?")[0])


def _inside(path: Path, folder: Path) -> bool:
    """Return whether ``path`` lies in ``folder`` (both followed to where they are)."""
    return path.absolute().resolve().is_relative_to(folder.absolute().resolve())
