"""What a study remembers of its ``data_dir``: its files' names and sizes, and their contents.

A study continued on a folder whose files changed would mix trials trained and scored on
different data (and its ensembles would stack predictions of different lengths), so the
fingerprint is part of the study's identity.
"""

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path

# files operating systems leave in folders by themselves (Windows Explorer's thumbnails):
# no task reads them, and one appearing must not make a trained ensemble refuse its folder
SYSTEM_FILES = frozenset({"thumbs.db", "desktop.ini"})
# data up to this size is read whole for its digest (FSDD's 3,000 WAVs, 21 MB: 0.3 s)
CONTENT_BYTES = 64 * 2**20


def data_fingerprint(path: Path, suffixes: Sequence[str] = ()) -> str:
    """Return ``"N files, B bytes, DIGEST"`` for file or folder ``path``.

    The digest covers every file's path under ``path`` and its size; hidden files and
    folders (``.DS_Store``, ``.ipynb_checkpoints``) and :data:`SYSTEM_FILES` are left out,
    as no task reads them, and so are files whose suffix is not one of the task's
    ``suffixes`` (lower case; ``()`` counts every file). A file ``path`` always counts.
    """
    files = _data_files(path, suffixes)
    digest = hashlib.sha256()
    total = 0
    for file in files:
        size = file.stat().st_size
        total += size
        digest.update(f"{_name(path, file)}\0{size}\n".encode(errors="surrogateescape"))
    return f"{len(files):,} files, {total:,} bytes, {digest.hexdigest()[:12]}"


def data_contents(path: Path, suffixes: Sequence[str] = ()) -> str:
    """Return a digest of what the task reads under ``path``: names, and contents or sizes.

    Names and sizes (:func:`data_fingerprint`, kept as it was for the studies that have it)
    miss a text edited in place (a letter replaced), and the files in a symlinked folder,
    which the tasks read: a study would mix trials trained on other data. This digest
    covers both: every file, through symlinked folders too, with its contents while the
    data is at most :data:`CONTENT_BYTES`, with its size above that.
    """
    files = [path] if path.is_file() else _linked_files(path, suffixes)
    by_contents = sum(file.stat().st_size for file in files) <= CONTENT_BYTES
    digest = hashlib.sha256(b"contents" if by_contents else b"sizes")
    for file in files:
        digest.update(f"{_name(path, file)}\0".encode(errors="surrogateescape"))
        if not by_contents:
            digest.update(f"{file.stat().st_size}\n".encode())
            continue
        with file.open("rb") as handle:
            digest.update(hashlib.file_digest(handle, "sha256").digest())
    return digest.hexdigest()[:16]


def _linked_files(folder: Path, suffixes: Sequence[str]) -> list[Path]:
    """Return the visible files under ``folder`` of ``suffixes``, through symlinked folders.

    Sorted, and the same wherever the folder is. A link back to a folder above it (a loop)
    is not entered; two links to one folder are read twice, as a task reads two classes.
    """
    found = []
    for root, folders, files in os.walk(folder, followlinks=True):
        here = Path(root)
        folders[:] = sorted(
            name for name in folders if not name.startswith(".") and not _loops(here / name, folder)
        )
        found += [here / name for name in files if _counts(name, suffixes)]
    return sorted(found)


def _loops(child: Path, top: Path) -> bool:
    """Return whether folder ``child`` is ``top`` or one of the folders on its way down."""
    real = child.resolve()
    return any(
        real == step.resolve()
        for step in [child.parent, *child.parent.parents]
        if step.is_relative_to(top)
    )


def _counts(name: str, suffixes: Sequence[str]) -> bool:
    """Return whether a file ``name`` counts: visible, no system file, of the task's kinds."""
    return (
        not name.startswith(".")
        and name.lower() not in SYSTEM_FILES
        and (not suffixes or Path(name).suffix.lower() in suffixes)
    )


def _data_files(path: Path, suffixes: Sequence[str]) -> list[Path]:
    """Return the files that count: ``path`` itself, or the visible ones under it, sorted."""
    return [path] if path.is_file() else sorted(_visible_files(path, suffixes))


def _name(root: Path, file: Path) -> str:
    """Return ``file``'s name under ``root`` (its own name when it is ``root``)."""
    return file.relative_to(root).as_posix() if file != root else file.name


def _visible_files(folder: Path, suffixes: Sequence[str]) -> list[Path]:
    """Return the files under ``folder`` of ``suffixes`` whose path has no dot-started part."""
    return [
        path
        for path in folder.rglob("*")
        if path.is_file()
        and _counts(path.name, suffixes)
        and not any(part.startswith(".") for part in path.relative_to(folder).parts)
    ]
