"""A data folder's fingerprint: what a study and an ensemble remember of their data."""

from pathlib import Path

import pytest

from ldnn_tune.config import fingerprint
from ldnn_tune.config.fingerprint import data_contents, data_fingerprint


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


def test_contents_tell_a_text_edited_in_place_that_names_and_sizes_miss(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("the cat sat")
    names_and_sizes, contents = data_fingerprint(corpus), data_contents(corpus)
    corpus.write_text("the cat s~t")  # one letter replaced: a new character, the same size
    assert data_fingerprint(corpus) == names_and_sizes
    assert data_contents(corpus) != contents
    corpus.write_text("the cat sat")
    assert data_contents(corpus) == contents


def test_data_too_big_to_read_has_no_contents_digest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "a.wav").write_bytes(b"x" * 10)
    monkeypatch.setattr(fingerprint, "CONTENT_BYTES", 9)
    assert data_contents(tmp_path) is None
