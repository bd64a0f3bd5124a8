"""The default data: keywords spoken by synthetic speakers (espeak-ng voices and variants).

A *speaker* is one accent and one voice variant with its own base rate, pitch and pitch
range; each of its takes of a word varies rate and pitch a little around that base.
"""

import itertools
from dataclasses import dataclass

import numpy as np

from ldnn_tune import UsageError
from ldnn_tune_speech.audio import to_clip
from ldnn_tune_speech.clips import ClipSet
from ldnn_tune_speech.espeak import Voice, espeak_installed, speak_in_fresh_process
from ldnn_tune_speech.options import ACCENTS, MAX_SPEAKERS, VARIANTS


@dataclass(frozen=True)
class Speaker:
    """A synthetic speaker: an espeak voice name and its base rate, pitch and range."""

    voice: str
    rate: int
    pitch: int
    pitch_range: int

    def take(self, rng: np.random.Generator) -> Voice:
        """Return one take's voice: rate within ±15% and pitch within ±8 of the base."""
        rate = round(self.rate * rng.uniform(0.85, 1.15))
        pitch = int(np.clip(self.pitch + rng.integers(-8, 9), 0, 100))
        return Voice(self.voice, rate, pitch, self.pitch_range)


def make_speakers(count: int, seed: int) -> list[Speaker]:
    """Return ``count`` distinct speakers (accent+variant combos), fixed by ``seed``."""
    if not 1 <= count <= MAX_SPEAKERS:
        raise ValueError(f"invalid speakers={count}: must be between 1 and {MAX_SPEAKERS}")
    rng = np.random.default_rng(seed)
    combos = list(itertools.product(ACCENTS, VARIANTS))
    chosen = [combos[i] for i in rng.permutation(len(combos))[:count]]
    return [
        Speaker(
            f"{accent}+{variant}",
            int(rng.integers(130, 211)),
            int(rng.integers(25, 76)),
            int(rng.integers(30, 81)),
        )
        for accent, variant in chosen
    ]


def synthesise(
    words: tuple[str, ...], speakers: list[Speaker], takes: int, seed: int, rate: int, length: int
) -> ClipSet:
    """Return every speaker saying every word ``takes`` times, as clips at ``rate`` Hz.

    The same arguments give the same audio. Raises UsageError when espeak-ng (the
    optional ``espeakng-loader`` package) is not installed.
    """
    if not espeak_installed():
        raise UsageError(
            "synthesising the default keywords needs espeak-ng: install it with "
            "pip install 'ldnn-tune-speech[espeak]', or give data_dir=FOLDER of WAV files"
        )
    rng = np.random.default_rng(seed)
    utterances, labels, names = [], [], []
    for speaker_id, speaker in enumerate(speakers):
        for label, word in enumerate(words):
            for _ in range(takes):
                utterances.append((word, speaker.take(rng)))
                labels.append(label)
                names.append(f"s{speaker_id:03d}")
    audio, native_rate = speak_in_fresh_process(utterances, seed)
    return ClipSet(
        np.stack([to_clip(a, native_rate, rate, length) for a in audio]),
        np.asarray(labels, dtype=np.int64),
        list(words),
        np.asarray(names),
        np.full(len(labels), -1, dtype=np.int64),
        f"espeak-ng keywords ({len(speakers)} synthetic speakers)",
    )
