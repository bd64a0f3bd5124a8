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
