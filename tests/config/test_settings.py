"""Command settings."""

import contextlib
import sqlite3
from pathlib import Path

import pytest

from ldnn_tune.config.settings import (
    EnsembleConfig,
    PredictConfig,
    ReportConfig,
    RunConfig,
    check_writable,
)
from ldnn_tune.config.words import build_typed
from ldnn_tune.errors import UsageError


def test_timeout_none_means_no_limit() -> None:
    assert build_typed(RunConfig, {"task": "t", "timeout": "none"}).timeout_seconds is None
    assert build_typed(RunConfig, {"task": "t"}).timeout_seconds == 600


def test_an_output_may_replace_text_but_never_a_store_a_journal_or_an_input(
    tmp_path: Path,
) -> None:
    report = tmp_path / "old-report.html"
    report.write_text("a" + "é" * 3000, encoding="utf-8")  # an é cut at the 4 KiB boundary
    check_writable(report, "output")
    database = tmp_path / "ldnn_tune.db"
    with contextlib.closing(sqlite3.connect(database)) as connection:
        connection.execute("create table t(x)")
    journal = tmp_path / "study.log"
    journal.write_text('{"op_code": 0, "worker_id": "w"}\n', encoding="utf-8")
    for path in (database, journal):
        before = path.read_bytes()
        with pytest.raises(UsageError, match="holds data this command does not write"):
            check_writable(path, "output")
        assert path.read_bytes() == before
    rows = tmp_path / "rows.csv"
    rows.write_text("a,b\n1,2\n", encoding="utf-8")
    words = {"model": "run", "input": str(rows), "output": str(rows)}
    with pytest.raises(UsageError, match=f"invalid output={rows}: it is an input"):
        build_typed(PredictConfig, words)


def test_a_reports_default_name_is_a_file_name_whatever_the_study(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert ReportConfig(study="x/y z").path == Path("x_y_z-report.html")
    assert ReportConfig(study="s" * 300).path.name == "s" * 100 + "-report.html"
    assert ReportConfig(study="..").path == Path("study-report.html")
    wide = ReportConfig(study="日本" * 50).path  # 300 bytes as UTF-8: refused as output=
    assert wide.name == "日本" * 16 + "日-report.html"  # 99 bytes, no character cut in two
    (tmp_path / wide).write_text("a report")


def test_a_markdown_reports_plots_folder_must_be_a_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "r_plots").write_text("notes", encoding="utf-8")
    with pytest.raises(UsageError, match="its plots go in folder 'r_plots', which is a file"):
        ReportConfig(study="toy", output=Path("r.md"))
    assert ReportConfig(study="toy", output=Path("r.html")).plots_folder == Path("r_plots")


def test_an_output_where_no_file_can_be_made_is_refused_before_the_work() -> None:
    # os.access says yes to root in /proc: the report was drawn, then could not be written
    with pytest.raises(UsageError, match=r"invalid output=/proc/r\.html: '/proc' is not writable"):
        check_writable(Path("/proc/r.html"), "output")


@pytest.mark.parametrize("trials", ["²", "3,٣", "3;7", "-1"])
def test_trial_numbers_are_ascii_digits(trials: str) -> None:
    # '²'.isdigit() is true, and int('²') raised a ValueError the user could not read
    with pytest.raises(UsageError, match="give trial numbers separated by commas"):
        EnsembleConfig(study="s", trials=trials)
