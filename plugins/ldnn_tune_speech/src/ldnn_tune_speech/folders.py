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
from ldnn_tune_speech.audio import SILENCE, read_wav, to_clip
from ldnn_tune_speech.clips import UNKNOWN, ClipSet

FSDD_NAME = re.compile(r"^(?P<label>[^_]+)_(?P<speaker>.+)_(?P<index>\d+)$")
FSDD_PATTERN = "{label}_{speaker}_{index}.wav"
LAYOUTS = f"class sub-folders of .wav files, or files named {FSDD_PATTERN}"


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
    if recordings:
        _check_class_layout(root, folders, recordings)
    else:
        recordings = [_fsdd_recording(p) for p in _wavs(root)]
    if not recordings:
        raise UsageError(f"data_dir {str(root)!r} holds no WAV files; expected {LAYOUTS}")
    labels = {r.label for r in recordings}
    if len(labels) < 2:
        label = labels.pop()
        named = all(FSDD_NAME.match(r.path.stem) for r in recordings) and folders
        inside = f"; its files are named {FSDD_PATTERN}: give data_dir={root / label}"
        raise UsageError(
            f"data_dir {str(root)!r} holds one class ({label!r}); "
            f"expected WAV files of at least 2 classes{inside if named else ''}"
        )
    return recordings


def _check_class_layout(root: Path, folders: list[Path], recordings: list[Recording]) -> None:
    """Refuse class sub-folders that would drop recordings or a class without a word.

    ``recordings`` are those the class folders hold: a folder none is from holds no WAVs.
    """
    loose = _wavs(root)
    if loose:
        raise UsageError(
            f"data_dir {str(root)!r} has class sub-folders and {len(loose)} WAV file(s) beside "
            f"them ({loose[0].name}, ...), which no class would hold; move them into their "
            "class folders, or keep only files named {label}_{speaker}_{index}.wav"
        )
    labels = {r.label for r in recordings}
    for folder in folders:
        if folder.name not in labels:
            raise UsageError(f"class folder {str(folder)!r} {_why_no_wavs(folder)}")


def _why_no_wavs(folder: Path) -> str:
    """Return why class ``folder`` gave no recording: empty, other files, or deeper ones."""
    visible = [p for p in folder.iterdir() if not p.name.startswith(".")]
    files = [p for p in visible if p.is_file()]
    leave_out = "or name the folder with a leading _ to leave it out"
    if files:
        kinds = ", ".join(sorted({p.suffix.lower() or "(no suffix)" for p in files}))
        return (
            f"holds no WAV files, only {len(files)} file(s) of other kinds ({kinds}); "
            f"convert them to WAV (PCM or float), {leave_out}"
        )
    if visible:
        return (
            "holds no WAV files of its own (sub-folders are not read); put its recordings "
            f"directly in it, {leave_out}"
        )
    return f"is empty; put its recordings in it, {leave_out}"


def skipped_files(root: Path, recordings: list[Recording]) -> list[Path]:
    """Return the visible files under ``root`` that are not among ``recordings``, sorted."""
    read = {r.path for r in recordings}
    return sorted(
        path
        for path in root.rglob("*")
        if path.is_file()
        and path not in read
        and not any(part.startswith((".", "_")) for part in path.relative_to(root).parts)
    )


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
    cut_short: list[Path] = []
    longer: list[Path] = []
    silent: list[Path] = []
    waves = []
    unreadable: list[str] = []
    for recording in recordings:
        try:
            samples, samples_rate = read_wav(recording.path, cut_short)
        except UsageError as error:
            unreadable.append(str(error))
            continue
        if len(samples) * rate > length * samples_rate:
            longer.append(recording.path)
        if float(np.abs(samples).max()) < SILENCE:
            silent.append(recording.path)
        waves.append(to_clip(samples, samples_rate, rate, length))
    if unreadable:
        raise UsageError(_unreadable(unreadable, len(recordings)))
    seconds = f"{length / rate:g} s"
    notes = [
        f"{len(paths)} file(s) {what}: {_some(root, paths)}"
        for paths, what in [
            (skipped_files(root, recordings), "skipped, not recordings"),
            (cut_short, "end before their WAV header says, read as far as they go"),
            (longer, f"longer than clip_seconds, only their loudest {seconds} kept"),
            (silent, "silent (no sample above -80 dBFS), trained on as they are"),
        ]
        if paths
    ]
    return ClipSet(
        np.stack(waves),
        np.asarray([classes.index(r.label) for r in recordings], dtype=np.int64),
        classes,
        np.asarray([r.speaker for r in recordings]),
        np.asarray([r.index for r in recordings], dtype=np.int64),
        str(root),
        "; ".join(notes),
    )


def _unreadable(errors: list[str], total: int, shown: int = 3) -> str:
    """Return one line naming why the first ``shown`` recordings cannot be read, and how many."""
    if len(errors) == 1:
        return errors[0]
    more = "; ..." if len(errors) > shown else ""
    return f"{len(errors)} of {total} recordings cannot be read: {'; '.join(errors[:shown])}{more}"


def _some(root: Path, paths: list[Path], shown: int = 3) -> str:
    """Return the first ``shown`` of ``paths`` relative to ``root``, then "..." if more."""
    names = [p.relative_to(root).as_posix() for p in paths[:shown]]
    return ", ".join(names) + (", ..." if len(paths) > shown else "")
