"""The speech task: data, augmentation and model for ``ldnn-tune run task=speech``."""

from collections.abc import Sequence
from dataclasses import dataclass
from importlib.abc import Traversable
from pathlib import Path

import lightning.pytorch as pl
import numpy as np
import torch

from ldnn_tune import HParams, RecipeModule, Split, SplitDataModule, Task, UsageError
from ldnn_tune.space.load import space_file
from ldnn_tune_speech.audio import read_wav, to_clip
from ldnn_tune_speech.augment import WaveAugment
from ldnn_tune_speech.cache import cache_path, cached, default_cache_dir
from ldnn_tune_speech.clips import ClipSet
from ldnn_tune_speech.features import LogMel, MelConfig, band_statistics
from ldnn_tune_speech.folders import load_recordings
from ldnn_tune_speech.model import SmallCNN, SpeechNet
from ldnn_tune_speech.splits import SPLITS, split_clips
from ldnn_tune_speech.synth import (
    MAX_SPEAKERS,
    SPEECH_COMMANDS_WORDS,
    make_speakers,
    synthesise,
)

SYNTH_SEED = 0  # the synthetic speakers and takes do not depend on the study seed


@dataclass(frozen=True)
class SpeechOptions:
    """Options of the speech task (data source, audio format, split)."""

    words: str = ",".join(SPEECH_COMMANDS_WORDS)  # keywords to synthesise, comma-separated
    speakers: int = 40  # synthetic speakers (espeak accent+variant combos)
    takes: int = 3  # times each synthetic speaker says each word
    sample_rate: int = 8000  # Hz; every clip is resampled to this
    clip_seconds: float = 1.0  # clips are centred and zero-padded or cut to this length
    n_mels: int = 40  # mel bands of the log-mel features
    split: str = "speaker"  # speaker: speakers kept apart; fsdd: FSDD's official split
    cache_dir: Path | None = None  # synthesised sets; default ~/.cache/ldnn_tune/speech

    def __post_init__(self) -> None:
        if len(self.word_list) < 2 or len(set(self.word_list)) != len(self.word_list):
            raise ValueError(f"invalid words={self.words!r}: need 2 or more distinct words")
        if not 3 <= self.speakers <= MAX_SPEAKERS:
            raise ValueError(
                f"invalid speakers={self.speakers}: must be between 3 and {MAX_SPEAKERS}"
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


class SpeechTask(Task[SpeechOptions]):
    """Classify spoken keywords from log-mel spectrograms with a small CNN."""

    name = "speech"
    description = (
        "spoken keywords: espeak-ng synthesised words, or data_dir=FOLDER of WAV recordings"
    )
    options_type = SpeechOptions
    standardises_in_model = True  # waveforms in; log-mel standardised inside the net

    def search_space(self) -> Path | Traversable:
        """Return search_spaces/speech.yaml (CNN size, noise, shift and masking knobs)."""
        return space_file("speech.yaml")

    def prepare(self) -> None:
        """Load or synthesise the clips, split them, and compute training log-mel statistics."""
        if getattr(self, "split", None) is not None:
            return
        opts = self.options
        if self.data_dir is None and opts.split == "fsdd":
            raise UsageError("split=fsdd needs data_dir=FOLDER of FSDD recordings")
        clips = self._load()
        (train, val, test), self.split_note = split_clips(clips, opts.split, self.seed)
        self.clips, self.parts = clips, (train, val, test)
        self.mel = MelConfig(opts.sample_rate, opts.n_mels)
        x, y = torch.from_numpy(clips.waves), torch.from_numpy(clips.labels)
        self.mean, self.std = band_statistics(x[train], self.mel)
        self.split = Split(x[train], y[train], x[val], y[val], x[test], y[test])

    def _load(self) -> ClipSet:
        opts = self.options
        if self.data_dir is not None:
            return load_recordings(self.data_dir, opts.sample_rate, opts.clip_samples)
        params = {
            "words": list(opts.word_list),
            "speakers": opts.speakers,
            "takes": opts.takes,
            "sample_rate": opts.sample_rate,
            "samples": opts.clip_samples,
            "seed": SYNTH_SEED,
        }
        path = cache_path(opts.cache_dir or default_cache_dir(), params)
        speakers = make_speakers(opts.speakers, SYNTH_SEED)
        return cached(
            path,
            lambda: synthesise(
                opts.word_list,
                speakers,
                opts.takes,
                SYNTH_SEED,
                opts.sample_rate,
                opts.clip_samples,
            ),
        )

    def describe_data(self) -> str:
        """Return the data source, classes, split sizes and how the split was made."""
        s = self.split
        return (
            f"data: {self.clips.source}, {len(self.clips.classes)} classes, "
            f"{len(s.y_train)}/{len(s.y_val)}/{len(s.y_test)} train/val/test, {self.split_note}"
        )

    def read_inputs(self, paths: Sequence[Path]) -> torch.Tensor:
        """Return WAV files as clips like the training ones: resampled, normalised, centred."""
        opts = self.options
        clips = [to_clip(*read_wav(p), opts.sample_rate, opts.clip_samples) for p in paths]
        return torch.from_numpy(np.stack(clips))

    def class_names(self) -> list[str]:
        """Return the keywords or folder labels, in output order."""
        return list(self.clips.classes)

    def datamodule(self, hp: HParams) -> pl.LightningDataModule:
        """Serve the prepared waveforms in minibatches of the trial's batch size."""
        return SplitDataModule(self.split, hp.recipe.batch_size, seed=self.seed)

    def model(self, hp: HParams) -> pl.LightningModule:
        """Return log-mel frontend + SmallCNN in the recipe, with waveform augmentation."""
        frontend = LogMel(
            self.mel,
            self.mean,
            self.std,
            time_mask=hp.get_int("time_mask"),
            freq_mask=hp.get_int("freq_mask"),
        )
        cnn = SmallCNN(
            classes=len(self.clips.classes),
            width=hp.get_int("width"),
            depth=hp.get_int("depth"),
            dropout=hp.recipe.dropout,
        )
        max_shift = round(hp.get_float("shift_ms") / 1000 * self.mel.sample_rate)
        augment = WaveAugment(hp.get_float("noise_snr_db"), max_shift)
        return RecipeModule(SpeechNet(frontend, cnn), hp.recipe, kind=self.kind, augment=augment)
