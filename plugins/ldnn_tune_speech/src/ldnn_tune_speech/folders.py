"""Recordings from ``data_dir``: class sub-folders of WAVs, or FSDD-style file names.

- Speech Commands layout: ``data_dir/<label>/*.wav``; a file named
  ``<speaker>_nohash_<n>.wav`` tells its speaker. Folders starting with ``_`` (such as
  ``_background_noise_``) are skipped, as are hidden files and folders (macOS's ``._x.wav``).
- FSDD layout: ``data_dir/<label>_<speaker>_<index>.wav``.
"""

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ldnn_tune import UsageError
from ldnn_tune_speech.audio import read_wav, to_clip
from ldnn_tune_speech.clips import UNKNOWN, ClipSet

FSDD_NAME = re.compile(r"^(?P<label>[^_]+)_(?P<speaker>.+)_(?P<index>\d+)$")
LAYOUTS = "class sub-folders of .wav files, or files named {label}_{speaker}_{index}.wav"


@dataclass(frozen=True)
class Recording:
    """One WAV file and what its place and name say: label, speaker, take index."""

    path: Path
    label: str
    speaker: str
    index: int


def find_recordings(root: Path) -> list[Recording]:
    """Return the recordings under ``root`` in either layout; raise UsageError if none fit."""
    if not root.is_dir():
        raise UsageError(f"data_dir {str(root)!r} is not a folder; expected {LAYOUTS}")
    folders = sorted(d for d in root.iterdir() if d.is_dir() and not d.name.startswith(("_", ".")))
    recordings = [r for d in folders for r in _folder_recordings(d)]
    if not recordings:
        recordings = [_fsdd_recording(p) for p in _wavs(root)]
    if not recordings:
        raise UsageError(f"data_dir {str(root)!r} holds no WAV files; expected {LAYOUTS}")
    labels = {r.label for r in recordings}
    if len(labels) < 2:
        raise UsageError(
            f"data_dir {str(root)!r} holds one class ({labels.pop()!r}); "
            "expected WAV files of at least 2 classes"
        )
    return recordings


def _wavs(folder: Path) -> list[Path]:
    return sorted(
        p
        for p in folder.iterdir()
        if p.is_file() and p.suffix.lower() == ".wav" and not p.name.startswith(".")
    )


def _folder_recordings(folder: Path) -> list[Recording]:
    recordings = []
    for path in _wavs(folder):
        speaker, sep, _ = path.stem.partition("_nohash_")
        recordings.append(Recording(path, folder.name, speaker if sep else UNKNOWN, -1))
    return recordings


def _fsdd_recording(path: Path) -> Recording:
    match = FSDD_NAME.match(path.stem)
    if match is None:
        raise UsageError(
            f"cannot tell the label of {str(path)!r}: expected a class sub-folder "
            "or a name like {label}_{speaker}_{index}.wav"
        )
    return Recording(path, match["label"], match["speaker"], int(match["index"]))


def load_recordings(root: Path, rate: int, length: int) -> ClipSet:
    """Return the recordings under ``root`` as clips of ``length`` samples at ``rate`` Hz."""
    recordings = find_recordings(root)
    classes = sorted({r.label for r in recordings})
    waves = [to_clip(*read_wav(r.path), rate, length) for r in recordings]
    return ClipSet(
        np.stack(waves),
        np.asarray([classes.index(r.label) for r in recordings], dtype=np.int64),
        classes,
        np.asarray([r.speaker for r in recordings]),
        np.asarray([r.index for r in recordings], dtype=np.int64),
        str(root),
    )
