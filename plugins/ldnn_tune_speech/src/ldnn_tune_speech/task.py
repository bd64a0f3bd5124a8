"""The speech task: data, augmentation and model for ``ldnn-tune run task=speech``.

The module loads no torch, scipy or librosa: they load when a study needs the data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from importlib.abc import Traversable
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING

from ldnn_tune import Domain, HParams, Task, UsageError, positive
from ldnn_tune_speech.options import SpeechOptions

if TYPE_CHECKING:
    import lightning.pytorch as pl
    import torch

    from ldnn_tune import Split
    from ldnn_tune_speech.clips import ClipSet
    from ldnn_tune_speech.features import MelConfig

SYNTH_SEED = 0  # the synthetic speakers and takes do not depend on the study seed

__all__ = ["SpeechOptions", "SpeechTask"]

SYNTH_TAKES = ("takes",)  # read with data_dir only for synth_speakers


def check_folder_options(opts: SpeechOptions) -> None:
    """Raise a UsageError for an option of the synthesised set, set with ``data_dir``.

    The folder's class names are its words and its recordings its speakers; ``takes``
    applies to the espeak-ng speakers ``synth_speakers`` adds.
    """
    ignored = ("words", "speakers") + (() if opts.synth_speakers else SYNTH_TAKES)
    for name in ignored:
        value = getattr(opts, name)
        if value != getattr(SpeechOptions(), name):
            shown = repr(value) if isinstance(value, str) else value
            raise UsageError(
                f"{name}={shown} applies to the synthesised keywords, not to data_dir's "
                f"recordings (their classes are its folders or file names); drop {name}"
                + (", or add synth_speakers=N" if name in SYNTH_TAKES else "")
            )


def check_synth_speakers(count: int, data_dir: Path | None) -> None:
    """Raise a UsageError unless ``synth_speakers=count`` can be added to ``data_dir``."""
    from ldnn_tune_speech.espeak import espeak_installed

    if data_dir is None:
        raise UsageError(
            f"synth_speakers={count} adds espeak-ng speakers to data_dir recordings; "
            "the default data is synthetic already (use speakers=N)"
        )
    if not espeak_installed():
        raise UsageError(
            f"synth_speakers={count} needs espeak-ng: install it with "
            "pip install 'ldnn-tune-speech[espeak]', or set synth_speakers=0"
        )


class SpeechTask(Task[SpeechOptions]):
    """Classify spoken keywords from log-mel spectrograms with a small CNN."""

    name = "speech"
    description = (
        "spoken keywords: espeak-ng synthesised words, or data_dir=FOLDER of WAV recordings"
    )
    options_type = SpeechOptions
    standardises_in_model = True  # waveforms in; log-mel standardised inside the net
    input_suffixes = (".wav",)
    data_suffixes = (".wav",)

    clips: ClipSet
    mel: MelConfig
    split: Split
    band_stats: dict[bool, tuple[torch.Tensor, torch.Tensor]]  # by utterance_norm

    def search_space(self) -> list[Path | Traversable]:
        """Return space.yaml (CNN size, augmentation), and synth.yaml with ``synth_speakers``."""
        package = files("ldnn_tune_speech")
        extra = [package / "synth.yaml"] if self.options.synth_speakers else []
        return [package / "space.yaml", *extra]

    def knob_domains(self) -> dict[str, Domain]:
        """Return what the CNN and the augmentation accept."""
        return {
            "width": positive(integer=True),
            "depth": positive(integer=True),
            "shift_ms": Domain(low=0.0),
            "speed": Domain(low=0.0, high=0.5),
            "freq_warp": Domain(low=0.0, high=0.5),
            "mixup": Domain(low=0.0),
            "utterance_norm": Domain(choices=(True, False)),
            "synth_share": Domain(low=0.0, high=1.0),
            "time_mask": Domain(low=0.0, integer=True),
            "freq_mask": Domain(low=0.0, integer=True),
        }

    def prepare(self) -> None:
        """Load or synthesise the clips and split them (log-mel statistics: :meth:`statistics`)."""
        if getattr(self, "split", None) is not None:
            return
        import torch

        from ldnn_tune import Split
        from ldnn_tune_speech.features import MelConfig, check_mel_bands
        from ldnn_tune_speech.splits import split_clips

        opts = self.options
        check_mel_bands(MelConfig(opts.sample_rate, opts.n_mels))  # before loading the data
        if self.data_dir is None and opts.split == "fsdd":
            raise UsageError("split=fsdd needs data_dir=FOLDER of FSDD recordings")
        if self.data_dir is not None:
            check_folder_options(opts)
        if opts.synth_speakers:
            check_synth_speakers(opts.synth_speakers, self.data_dir)
        clips = self._load()
        (train, val, test), self.split_note = split_clips(clips, opts.split, self.seed)
        if clips.note:
            self.split_note += f"; {clips.note}"
        self.clips, self.parts = clips, (train, val, test)
        self.mel = MelConfig(opts.sample_rate, opts.n_mels)
        x, y = torch.from_numpy(clips.waves), torch.from_numpy(clips.labels)
        x_train, y_train = x[train], y[train]
        if opts.synth_speakers:
            extra = self._synthesise(tuple(clips.classes), opts.synth_speakers)
            # self.parts index clips: the added clips sit after them in x_train only,
            # speaker by speaker (trial_split keeps the first synth_share of them)
            x_train = torch.cat([x_train, torch.from_numpy(extra.waves)])
            y_train = torch.cat([y_train, torch.from_numpy(extra.labels)])
            self.split_note += (
                f"; training adds {opts.synth_speakers} espeak-ng speakers "
                f"({len(extra)} clips saying the class names)"
            )
        self.band_stats = {}
        self.split = Split(x_train, y_train, x[val], y[val], x[test], y[test])

    def trial_split(self, synth_share: float) -> Split:
        """Return the split with the first ``synth_share`` of the synthetic speakers in training.

        The synthetic clips follow the recordings speaker by speaker, and the first k of
        ``synth_speakers=N`` are the same speakers as ``synth_speakers=k`` would make.
        :meth:`datamodule` still draws as many clips an epoch as the whole pool holds.
        """
        kept = round(synth_share * self.options.synth_speakers)
        per_speaker = len(self.clips.classes) * self.options.takes
        end = len(self.parts[0]) + kept * per_speaker  # the recordings come first
        s = self.split
        return replace(s, x_train=s.x_train[:end], y_train=s.y_train[:end])

    def statistics(self, utterance_norm: bool) -> tuple[torch.Tensor, torch.Tensor]:
        """Return the training split's log-mel band mean and std, clip-centred or not.

        Measured over every training clip, all synthetic speakers included, whatever a
        trial's ``synth_share``: the same standardisation for every trial and bundle.
        """
        from ldnn_tune_speech.features import band_statistics

        if utterance_norm not in self.band_stats:  # once per process and kind of frontend
            stats = band_statistics(self.split.x_train, self.mel, utterance_norm=utterance_norm)
            self.band_stats[utterance_norm] = stats
        return self.band_stats[utterance_norm]

    def _load(self) -> ClipSet:
        from ldnn_tune_speech.folders import load_recordings

        opts = self.options
        if self.data_dir is not None:
            return load_recordings(self.data_dir, opts.sample_rate, opts.clip_samples)
        return self._synthesise(opts.word_list, opts.speakers)

    def _synthesise(self, words: tuple[str, ...], speakers: int) -> ClipSet:
        """Return ``speakers`` espeak-ng speakers saying ``words``, cached on disk."""
        from ldnn_tune_speech.cache import cache_path, cached, default_cache_dir
        from ldnn_tune_speech.synth import make_speakers, synthesise

        opts = self.options
        params = {
            "words": list(words),
            "speakers": speakers,
            "takes": opts.takes,
            "sample_rate": opts.sample_rate,
            "samples": opts.clip_samples,
            "seed": SYNTH_SEED,
            "cut": "loudest",  # how a clip longer than clip_seconds is cut (once: the middle)
        }
        path = cache_path(opts.cache_dir or default_cache_dir(), params)
        voices = make_speakers(speakers, SYNTH_SEED)
        return cached(
            path,
            lambda: synthesise(
                words, voices, opts.takes, SYNTH_SEED, opts.sample_rate, opts.clip_samples
            ),
        )

    def describe_data(self) -> str:
        """Return the data source, classes, split sizes and how the split was made."""
        s = self.split
        return (
            f"data: {self.clips.source}, {len(self.clips.classes)} classes "
            f"({_first_few(self.clips.classes)}), "
            f"{len(s.y_train)}/{len(s.y_val)}/{len(s.y_test)} train/val/test, {self.split_note}"
        )

    def read_inputs(self, paths: Sequence[Path]) -> torch.Tensor:
        """Return WAV files as clips like the training ones: resampled, normalised, centred.

        A silent file is refused: any class it got would be a guess.
        """
        import numpy as np
        import torch

        from ldnn_tune_speech.audio import SILENCE, read_wav, to_clip

        opts = self.options
        clips = []
        for path in paths:
            samples, rate = read_wav(path)
            if float(np.abs(samples).max()) < SILENCE:
                raise UsageError(
                    f"cannot use {str(path)!r}: it is silent (no sample above -80 dBFS), "
                    "with no word to recognise"
                )
            clips.append(to_clip(samples, rate, opts.sample_rate, opts.clip_samples))
        return torch.from_numpy(np.stack(clips))

    def class_names(self) -> list[str]:
        """Return the keywords or folder labels, in output order."""
        return list(self.clips.classes)

    def datamodule(self, hp: HParams) -> pl.LightningDataModule:
        """Serve the prepared waveforms in minibatches of the trial's batch size."""
        from ldnn_tune import SplitDataModule

        # missing=: trials and bundles from before the knob trained with every speaker
        split = self.trial_split(hp.get_float("synth_share", missing=1.0))
        # an epoch draws as many clips whatever the share, so epochs compare across trials
        # (the pruner compares trials epoch by epoch) and train as long
        return SplitDataModule(split, hp.recipe.batch_size, epoch_size=len(self.split.y_train))

    def model(self, hp: HParams) -> pl.LightningModule:
        """Return log-mel frontend + SmallCNN in the recipe, with waveform augmentation."""
        from ldnn_tune import RecipeModule
        from ldnn_tune_speech.augment import WaveAugment
        from ldnn_tune_speech.features import LogMel
        from ldnn_tune_speech.model import SmallCNN, SpeechNet

        # missing=: ensembles saved before these knobs existed trained without them
        utterance_norm = hp.get_bool("utterance_norm", missing=False)
        frontend = LogMel(
            self.mel,
            *self.statistics(utterance_norm),
            time_mask=hp.get_int("time_mask"),
            freq_mask=hp.get_int("freq_mask"),
            utterance_norm=utterance_norm,
            freq_warp=hp.get_float("freq_warp", missing=0.0),
        )
        cnn = SmallCNN(
            classes=len(self.clips.classes),
            width=hp.get_int("width"),
            depth=hp.get_int("depth"),
            dropout=hp.recipe.dropout,
        )
        max_shift = round(hp.get_float("shift_ms") / 1000 * self.mel.sample_rate)
        speed = hp.get_float("speed", missing=0.0)
        augment = WaveAugment(hp.get_float("noise_snr_db"), max_shift, speed)
        return RecipeModule(
            SpeechNet(frontend, cnn),
            hp.recipe,
            kind=self.kind,
            augment=augment,
            mixup=hp.get_float("mixup", missing=0.0),
        )


def _first_few(names: Sequence[str], shown: int = 12) -> str:
    """Return the first ``shown`` of ``names``, comma-separated, and how many more."""
    more = len(names) - shown
    return ", ".join(names[:shown]) + (f", ... ({more} more)" if more > 0 else "")
