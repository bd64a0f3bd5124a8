"""Waveform helpers: read WAV files, resample, normalise loudness, pad or cut to a length."""

import struct
import warnings
from math import gcd
from pathlib import Path

import numpy as np
from scipy.io import wavfile  # type: ignore[import-untyped]
from scipy.signal import resample_poly  # type: ignore[import-untyped]

from ldnn_tune import UsageError

PEAK = 0.9
SILENCE = 1e-4  # -80 dBFS: a recording whose every sample is below it holds nothing


MIN_RATE = 1_000  # Hz: below telephone speech, a WAV of sound would not be this low
MAX_RATE = 768_000  # Hz: the highest rate audio interfaces record at


def read_wav(path: Path, cut_short: list[Path] | None = None) -> tuple[np.ndarray, int]:
    """Return the mono float32 samples in [-1, 1] of WAV file ``path`` and its sample rate.

    Raises UsageError naming the file when it cannot be read as PCM or float WAV. A file
    that ends before its header says (a recorder stopped mid-write) is read as far as it
    goes, and added to ``cut_short`` when one is given.
    """
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", wavfile.WavFileWarning)
            rate, data = wavfile.read(path)
    except (OSError, ValueError, EOFError, struct.error):
        raise UsageError(f"cannot read {str(path)!r}: expected a PCM or float WAV file") from None
    if cut_short is not None and any("EOF" in str(w.message) for w in caught):
        cut_short.append(path)
    samples = _to_float(np.asarray(data))
    if samples.ndim == 2:
        samples = samples.mean(axis=1)
    if samples.size == 0:
        raise UsageError(f"cannot use {str(path)!r}: expected a WAV file holding samples")
    if not MIN_RATE <= rate <= MAX_RATE:
        raise UsageError(
            f"cannot use {str(path)!r}: its sample rate {rate} Hz is outside "
            f"{MIN_RATE:,}-{MAX_RATE:,} Hz (a damaged header?)"
        )
    if not np.isfinite(samples).all():
        raise UsageError(f"cannot use {str(path)!r}: it holds NaN or infinite samples")
    return samples.astype(np.float32), int(rate)


def _to_float(data: np.ndarray) -> np.ndarray:
    if data.dtype == np.uint8:
        return (data.astype(np.float32) - 128.0) / 128.0
    if np.issubdtype(data.dtype, np.integer):
        return data.astype(np.float32) / float(np.iinfo(data.dtype).max + 1)
    return data.astype(np.float32)


def resample(samples: np.ndarray, rate: int, target: int) -> np.ndarray:
    """Return ``samples`` at ``rate`` Hz resampled to ``target`` Hz (polyphase filter)."""
    if rate == target:
        return samples.astype(np.float32)
    common = gcd(rate, target)
    out = resample_poly(samples, target // common, rate // common)
    return np.asarray(out, dtype=np.float32)


def fit_length(samples: np.ndarray, length: int) -> np.ndarray:
    """Return ``samples`` in ``length`` samples: zero-padded on both sides, or cut.

    A longer recording keeps its loudest ``length`` samples, where the word is: its
    middle could be the silence after a word said early (the middle, when all is silent).
    """
    if len(samples) >= length:
        start = loudest_window(samples, length)
        return samples[start : start + length].astype(np.float32)
    out = np.zeros(length, dtype=np.float32)
    start = (length - len(samples)) // 2
    out[start : start + len(samples)] = samples
    return out


def loudest_window(samples: np.ndarray, length: int) -> int:
    """Return where the ``length`` samples of most energy in ``samples`` start."""
    energy = np.concatenate([[0.0], np.cumsum(np.square(samples, dtype=np.float64))])
    windows = energy[length:] - energy[:-length]
    if float(windows.max()) <= 0.0:
        return (len(samples) - length) // 2
    # the first of equal windows would be as good as any; the middle one is the fairer pick
    best = np.flatnonzero(windows >= windows.max() * (1 - 1e-9))
    return int(best[len(best) // 2])


def peak_normalise(samples: np.ndarray) -> np.ndarray:
    """Return ``samples`` scaled so the largest magnitude is 0.9 (silence stays silence)."""
    peak = float(np.abs(samples).max(initial=0.0))
    if peak <= 0.0:
        return samples.astype(np.float32)
    return (samples * (PEAK / peak)).astype(np.float32)


def to_clip(samples: np.ndarray, rate: int, target: int, length: int) -> np.ndarray:
    """Return one fixed-length clip: resampled to ``target`` Hz, normalised, centred."""
    return fit_length(peak_normalise(resample(samples, rate, target)), length)
