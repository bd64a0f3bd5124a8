"""The speech task's typed options and the voices they choose from (no torch, no numpy)."""

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SPEECH_COMMANDS_WORDS = ("yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go")
ACCENTS: tuple[str, ...] = ("en-us", "en", "en-gb-scotland", "en-gb-x-rp", "en-029")
ACCENTS += ("en-gb-x-gbclan", "en-gb-x-gbcwmd", "en-us-nyc")
VARIANTS: tuple[str, ...] = ("m1", "m2", "m3", "m4", "m5", "m6", "m7", "f1", "f2", "f3")
VARIANTS += ("f4", "f5", "klatt", "klatt2", "klatt3", "klatt4", "Alex", "Andy", "adam")
VARIANTS += ("anika", "aunty", "ed")
VARIANTS += ("john", "linda", "max", "steph", "travis", "zac")
MAX_SPEAKERS = len(ACCENTS) * len(VARIANTS)
SPLITS = ("speaker", "fsdd")


def _option(default: Any, help_text: str) -> Any:
    """Return a dataclass field of ``default`` whose help ``ldnn-tune space`` shows."""
    return field(default=default, metadata={"help": help_text})


@dataclass(frozen=True)
class SpeechOptions:
    """Options of the speech task (data source, audio format, split)."""

    words: str = _option(",".join(SPEECH_COMMANDS_WORDS), "keywords to synthesise (no data_dir)")
    speakers: int = _option(40, "synthetic speakers, espeak-ng voices (no data_dir)")
    takes: int = _option(3, "times each synthetic speaker says each word")
    sample_rate: int = _option(8000, "Hz; every clip is resampled to this")
    clip_seconds: float = _option(1.0, "clips are centred, zero-padded or cut to this")
    n_mels: int = _option(40, "mel bands of the log-mel features")
    split: str = _option("speaker", "speaker: speakers kept apart; fsdd: FSDD's own split")
    synth_speakers: int = _option(0, "espeak-ng speakers added to data_dir's training")
    cache_dir: Path | None = field(  # where, not what: a study continues when it changes
        default=None,
        metadata={"help": "synthesised sets; default ~/.cache/ldnn_tune/speech", "location": True},
    )

    def __post_init__(self) -> None:
        spoken = {word.lower() for word in self.word_list}  # Yes and yes sound alike
        if len(self.word_list) < 2 or len(spoken) != len(self.word_list):
            raise ValueError(
                f"invalid words={self.words!r}: need 2 or more distinct words "
                "(letter case aside: they are spoken)"
            )
        silent = next((w for w in self.word_list if not any(c.isalnum() for c in w)), None)
        if silent is not None:  # espeak-ng speaks no punctuation: an empty clip, a class
            raise ValueError(
                f"invalid words={self.words!r}: {silent!r} has no letter or digit to speak"
            )
        if not 3 <= self.speakers <= MAX_SPEAKERS:
            raise ValueError(
                f"invalid speakers={self.speakers}: must be between 3 and {MAX_SPEAKERS}"
            )
        if not 0 <= self.synth_speakers <= MAX_SPEAKERS:
            raise ValueError(
                f"invalid synth_speakers={self.synth_speakers}: must be between 0 and "
                f"{MAX_SPEAKERS}"
            )
        if not 1 <= self.takes <= 20:
            raise ValueError(f"invalid takes={self.takes}: must be between 1 and 20")
        if not 4000 <= self.sample_rate <= 48000:
            raise ValueError(
                f"invalid sample_rate={self.sample_rate}: must be between 4000 and 48000"
            )
        if not 0.1 <= self.clip_seconds <= 10:
            raise ValueError(f"invalid clip_seconds={self.clip_seconds}: must be in [0.1, 10]")
        if not 8 <= self.n_mels <= 128:
            raise ValueError(f"invalid n_mels={self.n_mels}: must be between 8 and 128")
        if self.split not in SPLITS:
            raise ValueError(f"invalid split={self.split!r}: choose from {', '.join(SPLITS)}")

    @property
    def word_list(self) -> tuple[str, ...]:
        """Return the keywords as a tuple."""
        return tuple(w.strip() for w in self.words.split(",") if w.strip())

    @property
    def clip_samples(self) -> int:
        """Return the clip length in samples."""
        return round(self.clip_seconds * self.sample_rate)
