"""Store URLs are checked before anything is created; read-only commands create nothing."""

import contextlib
import os
import re
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ldnn_tune.config.stores import check_mlflow, check_storage
from ldnn_tune.errors import UsageError
from ldnn_tune.testing.cli import assert_usage_error, run_main


@pytest.mark.parametrize(
    ("url", "read_only", "message"),
    [
        ("sqlite:///", False, "is not a file (an in-memory database would be lost"),
        ("sqlite://", False, "is not a file"),
        ("sqlite:///:memory:", False, "is not a file"),
        ("sqlite:///no/such/folder/x.db", False, "folder 'no/such/folder' does not exist"),
        ("sqlite:///study.db", True, "'study.db' does not exist; run a study first"),
        ("journal:no/folder/x.log", False, "folder 'no/folder' does not exist"),
        ("journal:x.log", True, "'x.log' does not exist"),
        ("journal:", False, "needs a file path"),
        ("bogus://x", False, "invalid storage 'bogus://x'; expected sqlite:///FILE"),
        ("mysql:/x", False, "invalid storage 'mysql:/x'"),
        (
            "mysql://root@127.0.0.1/x",
            False,
            "its database driver 'MySQLdb' is not installed; pip install it (e.g. mysqlclient",
        ),
        ("redis://127.0.0.1:1/0", False, "cannot open storage 'redis://127.0.0.1:1/0'"),
        ("postgresql://me:secret@127.0.0.1:1/x", False, "'postgresql://me:***@127.0.0.1:1/x'"),
    ],
)
def test_bad_storage_urls(
    url: str, read_only: bool, message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UsageError) as error:
        check_storage(url, read_only=read_only)
    assert message in str(error.value)
    assert "secret" not in str(error.value)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("uri", "read_only", "message"),
    [
        ("bogus://x", False, "invalid mlflow 'bogus://x'; expected sqlite:///FILE"),
        ("file:///tmp/mlruns", False, "is a plain file store, which MLflow 3 refuses"),
        ("./mlruns", False, "is a plain file store"),
        ("http://127.0.0.1:1", False, "cannot reach the MLflow server http://127.0.0.1:1"),
        ("sqlite:///", False, "is not a file"),
        ("sqlite:///mlflow.db", True, "'mlflow.db' does not exist"),
    ],
)
def test_bad_mlflow_uris(
    uri: str, read_only: bool, message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UsageError) as error:
        check_mlflow(uri, read_only=read_only)
    assert message in str(error.value)
    assert list(tmp_path.iterdir()) == []


def test_good_urls_pass(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    check_storage("sqlite:///ldnn_tune.db")
    check_storage("journal:study.log")
    check_mlflow("sqlite:///mlflow.db")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("words", "needle"),
    [
        (("run", "task=image", "mlflow=bogus://x"), "invalid mlflow 'bogus://x'"),
        (("run", "task=image", "mlflow=http://127.0.0.1:1"), "cannot reach the MLflow server"),
        (("run", "task=image", "storage=journal:foo.log", "mlflow=file:///x"), "plain file"),
        (("run", "task=image", "storage=sqlite:///"), "is not a file"),
        (("ensemble", "study=nonexistent"), "storage=sqlite:///ldnn_tune.db: 'ldnn_tune.db'"),
        (("predict", "model=nonexistent", "input=."), "mlflow=sqlite:///mlflow.db: 'mlflow.db'"),
        (("ui", "mlflow=bogus://x"), "invalid mlflow 'bogus://x'"),
        (("ui",), "'mlflow.db' does not exist"),
    ],
)
def test_commands_refuse_bad_stores_and_create_nothing(
    words: tuple[str, ...],
    needle: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    assert_usage_error(run_main(words, capsys), needle)
    assert list(tmp_path.iterdir()) == []


def sqlite_file(path: Path, table: str) -> Path:
    with contextlib.closing(sqlite3.connect(path)) as connection:
        connection.execute(f"create table {table}(x)")
        connection.commit()
    return path


def test_a_file_of_another_kind_is_refused_and_left_as_it_was(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes\n", encoding="utf-8")
    garbage = tmp_path / "bad.db"
    garbage.write_text("not a database\n", encoding="utf-8")
    mlflow_like = sqlite_file(tmp_path / "mlflow.db", "experiments")
    optuna_like = sqlite_file(tmp_path / "ldnn_tune.db", "version_info")
    cases = [
        (check_storage, f"journal:{notes}", "is not an Optuna journal"),
        (check_storage, f"sqlite:///{mlflow_like}", "database of another kind, not an Optuna"),
        (check_storage, f"sqlite:///{garbage}", "is not a usable SQLite database"),
        (check_mlflow, f"sqlite:///{optuna_like}", "database of another kind, not an MLflow"),
        (check_mlflow, f"sqlite:///{garbage}", "file is not a database"),
    ]
    for check, url, message in cases:
        files = {p: p.read_bytes() for p in tmp_path.iterdir()}
        with pytest.raises(UsageError, match=message):
            check(url)
        assert {p: p.read_bytes() for p in tmp_path.iterdir()} == files
    check_storage(f"sqlite:///{optuna_like}")  # each store of its own kind passes
    check_mlflow(f"sqlite:///{mlflow_like}")
    empty = tmp_path / "empty.db"
    empty.touch()
    check_storage(f"sqlite:///{empty}")


def test_a_working_folder_where_mlruns_cannot_be_made_is_refused_before_anything(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir("/proc")  # a folder not even root can write in, as chattr +i makes one
    words = ["run", "task=image", f"storage=journal:{tmp_path}/j.log"]
    result = run_main([*words, f"mlflow=sqlite:///{tmp_path}/m.db"], capsys)
    assert_usage_error(result, "cannot make 'mlruns' here, where MLflow keeps the runs' files")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["cw?q", "c%41b", "50%20", os.fsdecode(b"g\xe9orge")])
def test_a_working_folder_a_store_url_would_misread_is_refused_before_anything(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    # MLflow's store, made absolute, went to the file 'cw' beside the folder: two studies
    # mixed their runs in one experiment there, or 'cwAb' could not be opened
    (tmp_path / name).mkdir()
    monkeypatch.chdir(tmp_path / name)
    result = run_main(["run", "task=image"], capsys)
    assert_usage_error(result, f"the folder {str(tmp_path / name)!r} holds a '?', a '%XX' or")
    elsewhere = f"mlflow=sqlite:///{tmp_path / 'm.db'}"  # the runs' files still go here
    assert_usage_error(run_main(["run", "task=image", elsewhere], capsys), "runs' files")
    assert list(tmp_path.rglob("*")) == [tmp_path / name]


def test_a_percent_sign_no_url_decodes_is_a_folder_like_any_other(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "runs-100%").mkdir()
    monkeypatch.chdir(tmp_path / "runs-100%")
    check_storage("sqlite:///ldnn_tune.db")
    check_mlflow("sqlite:///mlflow.db")


@pytest.mark.parametrize("url", ["sqlite:///q?x/o.db", "sqlite:///50%20/o.db"])
def test_a_store_path_a_url_would_misread_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    monkeypatch.chdir(tmp_path)
    for check in (check_storage, check_mlflow):
        with pytest.raises(
            UsageError, match=r"a '\?', a '%XX' or bytes that are not UTF-8 in a store's path"
        ):
            check(url)
    check_storage("sqlite:///o.db?timeout=30")  # a query is still a query


def test_a_working_folder_with_both_quote_marks_is_refused_before_anything(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # MLflow writes the folder into SQL with repr(): 'q\'"x' was a syntax error
    folder = tmp_path / "q'\"x"
    folder.mkdir()
    monkeypatch.chdir(folder)
    result = run_main(["run", "task=image"], capsys)
    assert_usage_error(result, "holds both ' and \", which MLflow cannot record")
    assert list(folder.iterdir()) == []


@pytest.fixture
def read_only_folder(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    """Yield a folder holding a WAL-mode database and that folder seen read-only.

    Root writes in any folder whatever its mode, so as root the read-only view is a
    read-only bind mount, as a share mounted ``ro`` is.
    """
    folder = tmp_path / "study"
    folder.mkdir()
    with contextlib.closing(sqlite3.connect(folder / "ldnn_tune.db")) as db:
        db.execute("pragma journal_mode=wal")
        db.execute("create table version_info (x int)")
        db.commit()
    if os.geteuid() != 0:
        folder.chmod(0o555)
        yield folder, folder
        folder.chmod(0o755)
        return
    view = tmp_path / "view"
    view.mkdir()
    mounted = subprocess.run(["mount", "--bind", "-o", "ro", folder, view], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot make a read-only folder here: {mounted.stderr.decode().strip()}")
    try:
        yield folder, view
    finally:
        subprocess.run(["umount", view], check=True)


def test_a_database_in_a_read_only_folder_says_so(read_only_folder: tuple[Path, Path]) -> None:
    folder, view = read_only_folder
    with pytest.raises(UsageError, match="lies in a read-only folder, and SQLite writes beside"):
        check_storage(f"sqlite:///{view}/ldnn_tune.db", read_only=True)
    assert sorted(p.name for p in folder.iterdir()) == ["ldnn_tune.db"]


@pytest.mark.parametrize(
    ("check", "url", "name"),
    [
        (check_mlflow, "sqlite:///mlflow.db", "mlflow.db"),
        (check_storage, "sqlite:///ldnn_tune.db", "ldnn_tune.db"),
        (check_storage, "journal:study.log", "study.log"),
    ],
)
def test_a_read_only_command_leaves_an_empty_file_empty(
    check, url: str, name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / name).touch()
    with pytest.raises(UsageError, match=f"'{name}' is empty; run a study first"):
        check(url, read_only=True)
    check(url, read_only=False)  # a run may make its store in an empty file
    assert (tmp_path / name).stat().st_size == 0


def test_a_data_dir_that_would_hold_the_stores_is_refused_and_left_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for label in ("zero", "one"):
        (tmp_path / label).mkdir()
        (tmp_path / label / "a.png").write_bytes(b"x")
    monkeypatch.chdir(tmp_path)
    here = run_main(["run", "task=image", "data_dir=."], capsys)
    assert_usage_error(
        here,
        "data_dir '.' holds what this command writes (ldnn_tune.db, mlflow.db, mlruns/): it "
        "would be read as data; keep the data in a folder of its own (data_dir=data), or give "
        "storage= and mlflow= files elsewhere",
    )
    outside = run_main(["run", "task=image", "data_dir=..", "storage=journal:j.log"], capsys)
    assert_usage_error(outside, "holds what this command writes (j.log, mlflow.db, mlruns/)")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["one", "zero"]


@pytest.mark.parametrize(
    ("revision", "needle"),
    [
        ("ffffffffffff", "was written by a newer MLflow (schema ffffffffffff, which MLflow 3."),
        ("451aebb31d03", "was written by an older MLflow (schema 451aebb31d03; MLflow 3."),
    ],
)
def test_an_mlflow_store_of_another_mlflow_version_is_refused_untouched(
    tmp_path: Path, revision: str, needle: str
) -> None:
    from ldnn_tune.tracking import StudyTracker

    store = tmp_path / "mlflow.db"
    StudyTracker(f"sqlite:///{store}", "image")
    with contextlib.closing(sqlite3.connect(store)) as connection:
        connection.execute("update alembic_version set version_num = ?", (revision,))
        connection.commit()
    before = store.read_bytes()
    for read_only in (False, True):
        with pytest.raises(UsageError, match=re.escape(needle)):
            check_mlflow(f"sqlite:///{store}", read_only=read_only)
    assert store.read_bytes() == before


def test_a_server_that_is_not_mlflow_is_named_so(tmp_path: Path) -> None:
    from helpers import free_port

    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                check_mlflow(f"http://127.0.0.1:{port}")
            except UsageError as error:
                if "cannot reach" in str(error) and time.monotonic() < deadline:
                    time.sleep(0.2)  # not listening yet
                    continue
                assert str(error) == (
                    f"http://127.0.0.1:{port} answers, but is not an MLflow server: its "
                    "/health gave HTTP 404 (File not found); give the URL of an MLflow server, "
                    "e.g. http://HOST:5000"
                )
                break
            pytest.fail("a plain web server passed as an MLflow server")
    finally:
        server.terminate()
        server.wait()
