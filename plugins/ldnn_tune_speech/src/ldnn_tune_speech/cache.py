"""An on-disk cache of synthesised clip sets, keyed by the generation parameters."""

import contextlib
import hashlib
import json
import os
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from ldnn_tune import UsageError, cache_root
from ldnn_tune_speech.clips import ClipSet

CACHE_VERSION = 2
INT16_SCALE = 32767.0


def default_cache_dir() -> Path:
    """Return ``$XDG_CACHE_HOME/ldnn_tune/speech`` (``~/.cache/ldnn_tune/speech``)."""
    return cache_root() / "speech"


def cache_path(folder: Path, params: dict[str, Any]) -> Path:
    """Return the cache file for generation ``params`` (a JSON-able dict) in ``folder``."""
    text = json.dumps({"version": CACHE_VERSION, **params}, sort_keys=True)
    return folder / f"keywords-{hashlib.sha256(text.encode()).hexdigest()[:16]}.npz"


def cached(path: Path, build: Callable[[], ClipSet]) -> ClipSet:
    """Return the clip set stored at ``path``, or ``build()`` it and store it there.

    A stored file that cannot be read (cut short by a full disk, damaged) is built again.
    """
    if path.is_file():
        try:
            return _load(path)
        except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError):
            pass
    with _cache_errors(path.parent):  # before building: synthesis takes a while
        path.parent.mkdir(parents=True, exist_ok=True)
    clips = build()
    partial = path.with_suffix(f".{os.getpid()}.tmp.npz")
    with _cache_errors(path.parent):
        np.savez_compressed(
            partial,
            waves=np.round(clips.waves * INT16_SCALE).astype(np.int16),
            labels=clips.labels,
            classes=np.asarray(clips.classes),
            speakers=clips.speakers,
            indices=clips.indices,
            source=np.asarray(clips.source),
        )
        partial.replace(path)
    return _load(path)


@contextlib.contextmanager
def _cache_errors(folder: Path) -> Iterator[None]:
    """Turn an OSError on the cache ``folder`` into a UsageError saying which folder."""
    try:
        yield
    except OSError as error:
        raise UsageError(
            f"cannot keep synthesised speech in {str(folder)!r}: {error.strerror}; "
            "give cache_dir= a folder ldnn-tune can write"
        ) from None


def _load(path: Path) -> ClipSet:
    with np.load(path) as data:
        return ClipSet(
            data["waves"].astype(np.float32) / INT16_SCALE,
            data["labels"].astype(np.int64),
            [str(c) for c in data["classes"]],
            data["speakers"].astype(str),
            data["indices"].astype(np.int64),
            str(data["source"]),
        )
