"""Train/validation/test splits that keep speakers apart, or FSDD's official split."""

import numpy as np

from ldnn_tune import UsageError, split_indices
from ldnn_tune_speech.clips import UNKNOWN, ClipSet

Indices = tuple[np.ndarray, np.ndarray, np.ndarray]
FSDD_TEST_BELOW = 5  # takes 0-4 of each speaker and digit: FSDD's official test set
FSDD_VAL_BELOW = 10  # takes 5-9: validation (our choice)
MIN_SPEAKERS = 3


def split_clips(clips: ClipSet, how: str, seed: int) -> tuple[Indices, str]:
    """Return train/val/test indices of ``clips`` by ``how`` and a few words on the split."""
    parts, note = (fsdd_split(clips), "FSDD split") if how == "fsdd" else speaker_split(clips, seed)
    if min(len(p) for p in parts) == 0:
        raise UsageError(
            f"data_dir {clips.source!r} has too few recordings to split into train, "
            "validation and test; give each class at least 5"
        )
    return parts, note


def speaker_split(clips: ClipSet, seed: int) -> tuple[Indices, str]:
    """Split by speaker (about 60/20/20 of them) where every speaker is known.

    Otherwise (unknown or fewer than 3 speakers) split recordings at random, by class.
    """
    speakers = np.unique(clips.speakers)
    if UNKNOWN in speakers:
        return split_indices(clips.labels, seed), "random split (speakers unknown)"
    if len(speakers) < MIN_SPEAKERS:
        count = f"{len(speakers)} speaker{'' if len(speakers) == 1 else 's'}"
        note = f"random split ({count}; keeping speakers apart needs {MIN_SPEAKERS})"
        return split_indices(clips.labels, seed), note
    order = np.random.default_rng(seed).permutation(speakers)
    n_held = max(1, round(0.2 * len(speakers)))
    test, val = set(order[:n_held]), set(order[n_held : 2 * n_held])
    in_test = np.isin(clips.speakers, list(test))
    in_val = np.isin(clips.speakers, list(val))
    parts = (
        np.flatnonzero(~in_test & ~in_val),
        np.flatnonzero(in_val),
        np.flatnonzero(in_test),
    )
    counts = f"{len(speakers) - 2 * n_held}/{n_held}/{n_held}"
    return parts, f"speakers kept apart ({counts} train/val/test speakers)"


def fsdd_split(clips: ClipSet) -> Indices:
    """Return FSDD's split: takes 0-4 test, 5-9 validation, the rest training."""
    if (clips.indices < 0).any():
        raise UsageError(
            f"split=fsdd needs data_dir {clips.source!r} of files named "
            "{label}_{speaker}_{index}.wav; use split=speaker for other layouts"
        )
    idx = clips.indices
    if not (idx >= FSDD_VAL_BELOW).any():
        raise UsageError(
            f"split=fsdd trains on takes {FSDD_VAL_BELOW} and up, and data_dir "
            f"{clips.source!r} has takes {idx.min()}-{idx.max()} only (test 0-4, validation "
            "5-9); use split=speaker for a smaller set"
        )
    return (
        np.flatnonzero(idx >= FSDD_VAL_BELOW),
        np.flatnonzero((idx >= FSDD_TEST_BELOW) & (idx < FSDD_VAL_BELOW)),
        np.flatnonzero(idx < FSDD_TEST_BELOW),
    )
