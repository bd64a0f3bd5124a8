"""What a study remembers of its ``data_dir``: its files' names and sizes, in a few words.

A study continued on a folder whose files changed would mix trials trained and scored on
different data (and its ensembles would stack predictions of different lengths), so the
fingerprint is part of the study's identity.
"""

import hashlib
from collections.abc import Sequence
from pathlib import Path

# files operating systems leave in folders by themselves (Windows Explorer's thumbnails):
# no task reads them, and one appearing must not make a trained ensemble refuse its folder
SYSTEM_FILES = frozenset({"thumbs.db", "desktop.ini"})


def data_fingerprint(path: Path, suffixes: Sequence[str] = ()) -> str:
    """Return ``"N files, B bytes, DIGEST"`` for file or folder ``path``.

    The digest covers every file's path under ``path`` and its size; hidden files and
    folders (``.DS_Store``, ``.ipynb_checkpoints``) and :data:`SYSTEM_FILES` are left out,
    as no task reads them, and so are files whose suffix is not one of the task's
    ``suffixes`` (lower case; ``()`` counts every file). A file ``path`` always counts.
    """
    files = [path] if path.is_file() else sorted(_visible_files(path, suffixes))
    digest = hashlib.sha256()
    total = 0
    for file in files:
        size = file.stat().st_size
        total += size
        name = file.relative_to(path).as_posix() if file != path else file.name
        digest.update(f"{name}\0{size}\n".encode())
    return f"{len(files):,} files, {total:,} bytes, {digest.hexdigest()[:12]}"


def _visible_files(folder: Path, suffixes: Sequence[str]) -> list[Path]:
    """Return the files under ``folder`` of ``suffixes`` whose path has no dot-started part."""
    return [
        path
        for path in folder.rglob("*")
        if path.is_file()
        and path.name.lower() not in SYSTEM_FILES
        and (not suffixes or path.suffix.lower() in suffixes)
        and not any(part.startswith(".") for part in path.relative_to(folder).parts)
    ]
