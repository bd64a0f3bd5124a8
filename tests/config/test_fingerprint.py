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


def test_data_too_big_to_read_is_digested_by_names_and_sizes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "a.wav").write_bytes(b"x" * 10)
    monkeypatch.setattr(fingerprint, "CONTENT_BYTES", 9)
    by_size = data_contents(tmp_path)
    (tmp_path / "a.wav").write_bytes(b"y" * 10)  # an edit of the same size: not read
    assert data_contents(tmp_path) == by_size
    (tmp_path / "a.wav").write_bytes(b"y" * 11)
    assert data_contents(tmp_path) != by_size


def linked_classes(tmp_path: Path) -> tuple[Path, Path]:
    """Return ``data`` (class ``circle``, class ``square`` a link to ``real``) and ``real``."""
    real = tmp_path / "square_real"
    real.mkdir()
    (real / "0.png").write_bytes(b"png")
    data = tmp_path / "data"
    (data / "circle").mkdir(parents=True)
    (data / "circle" / "0.png").write_bytes(b"png")
    (data / "square").symlink_to(real, target_is_directory=True)
    return data, real


def test_files_in_a_symlinked_class_folder_count_as_the_tasks_read_them(tmp_path: Path) -> None:
    data, real = linked_classes(tmp_path)
    before = data_contents(data)
    (real / "1.png").write_bytes(b"png")  # added behind the link
    assert data_contents(data) != before
    (real / "1.png").unlink()
    assert data_contents(data) == before
    (data / "kitten").symlink_to(real, target_is_directory=True)  # a second class, linked
    assert data_contents(data) != before


def test_a_loop_or_a_hidden_link_hides_no_folder(tmp_path: Path) -> None:
    data, _ = linked_classes(tmp_path)
    before = data_contents(data)
    (data / "circle" / "up").symlink_to(data, target_is_directory=True)  # a loop: not entered
    (data / ".cache").symlink_to(data / "circle", target_is_directory=True)  # hidden: not read
    assert data_contents(data) == before
    (data / "circle" / "0.png").write_bytes(b"PNG")  # still seen through its own path
    assert data_contents(data) != before
    assert data_fingerprint(data).startswith("1 files, 3 bytes, ")  # names and sizes: as before


def test_a_file_name_that_is_not_utf8_is_digested_by_its_bytes(tmp_path: Path) -> None:
    # a latin-1 name (g\xe9orge): encoding it as UTF-8 failed the run, naming no file
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    for folder, name in ((tmp_path / "a", b"g\xe9orge.wav"), (tmp_path / "b", b"g\xe8orge.wav")):
        with open(bytes(folder) + b"/" + name, "wb") as handle:
            handle.write(b"RIFF")
    assert data_fingerprint(tmp_path / "a") != data_fingerprint(tmp_path / "b")
    assert data_contents(tmp_path / "a") != data_contents(tmp_path / "b")
