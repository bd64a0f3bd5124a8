"""A data folder's fingerprint: what a study and an ensemble remember of their data."""

from pathlib import Path

from ldnn_tune.config.fingerprint import data_fingerprint


def test_files_no_task_reads_leave_the_fingerprint_as_it_was(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "0.png").write_bytes(b"png")
    before = data_fingerprint(tmp_path)
    assert before.startswith("1 files, 3 bytes, ")
    (tmp_path / ".DS_Store").write_bytes(b"x")
    (tmp_path / "a" / "Thumbs.db").write_bytes(b"x")  # Windows Explorer makes it by itself
    (tmp_path / "desktop.ini").write_bytes(b"x")
    assert data_fingerprint(tmp_path) == before
    (tmp_path / "a" / "1.png").write_bytes(b"png")
    assert data_fingerprint(tmp_path).startswith("2 files, 6 bytes, ")


def test_only_the_suffixes_a_task_reads_count_when_it_names_them(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "0.PNG").write_bytes(b"png")
    before = data_fingerprint(tmp_path, (".png",))
    (tmp_path / "notes.txt").write_text("where the scans came from")
    (tmp_path / "a" / "labels.csv").write_text("0,cat")
    assert data_fingerprint(tmp_path, (".png",)) == before
    assert data_fingerprint(tmp_path).startswith("3 files, ")  # a task that names none
    single = tmp_path / "corpus.txt"
    single.write_text("text")
    assert data_fingerprint(single, (".png",)).startswith("1 files, 4 bytes, ")
