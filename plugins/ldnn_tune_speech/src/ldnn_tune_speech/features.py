"""Log-mel features computed in torch on the batch, normalised with training statistics.

Vocal tract length perturbation and spectrogram time and frequency masking (SpecAugment)
happen here too, in training only.
"""

import math
import warnings
from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np
import torch
from torch import nn

from ldnn_tune import UsageError

LOG_FLOOR = 1e-6
STD_FLOOR = 1e-3
FMIN = 20.0
SPEECH_RANGE = math.log(1e4)  # frames within 40 dB of a clip's loudest may be speech
VTLP_KNEE = 0.6  # Jaitly and Hinton's 4.8 kHz boundary at 16 kHz, as a share of the band
SPEECH_SHARE = 4  # ... and only the loudest quarter of its frames (centre_utterances)


@dataclass(frozen=True)
class MelConfig:
    """STFT and mel settings: ``n_fft`` about 25 ms rounded up to a power of 2, 50% hop.

    At 8 kHz that is a 32 ms window every 16 ms: 63 frames for a 1 s clip.
    """

    sample_rate: int
    n_mels: int

    @property
    def n_fft(self) -> int:
        """Return the FFT size (and window length) in samples."""
        return int(2 ** math.ceil(math.log2(0.025 * self.sample_rate)))

    @property
    def hop(self) -> int:
        """Return the hop between frames in samples (half the window)."""
        return self.n_fft // 2

    def frames(self, samples: int) -> int:
        """Return the number of frames of a clip of ``samples`` samples."""
        return samples // self.hop + 1


@lru_cache(maxsize=8)
def mel_filterbank(config: MelConfig) -> np.ndarray:
    """Return librosa's Slaney mel filterbank ``(n_mels, n_fft // 2 + 1)`` for ``config``."""
    import librosa.filters

    with warnings.catch_warnings():  # empty bands: check_mel_bands says so in one line
        warnings.simplefilter("ignore", UserWarning)
        bank = librosa.filters.mel(
            sr=config.sample_rate,
            n_fft=config.n_fft,
            n_mels=config.n_mels,
            fmin=FMIN,
            fmax=config.sample_rate / 2,
        )
    return np.asarray(bank, dtype=np.float32)


def empty_bands(config: MelConfig) -> int:
    """Return how many of ``config``'s mel bands hold no FFT bin (too many bands for the rate)."""
    return int((mel_filterbank(config).max(axis=1) == 0).sum())


def check_mel_bands(config: MelConfig) -> None:
    """Raise a UsageError when ``n_mels`` is too many for ``sample_rate``'s FFT bins."""
    empty = empty_bands(config)
    if not empty:
        return
    most = max(
        (n for n in range(1, config.n_mels) if not empty_bands(replace(config, n_mels=n))),
        default=0,
    )
    raise UsageError(
        f"invalid n_mels={config.n_mels} at sample_rate={config.sample_rate}: "
        f"{empty} of its mel bands would hold no bin of the {config.n_fft}-point "
        f"FFT; use n_mels={most} or fewer, or a higher sample_rate"
    )


class LogMel(nn.Module):
    """Waveforms ``(B, samples)`` → normalised log-mel images ``(B, 1, n_mels, frames)``.

    With ``utterance_norm`` each clip's own per-band mean over its speech frames
    (:func:`centre_utterances`) is subtracted first (cepstral mean normalisation: it
    removes a speaker's or microphone's fixed spectral tilt). ``mean`` and ``std`` (per
    mel band, shape ``(n_mels, 1)``) come from the training split, computed the same way.
    In training mode one time mask of up to ``time_mask`` frames and one frequency mask of
    up to ``freq_mask`` bands are set to zero (the training mean) per example, and each
    example's frequency axis is first stretched by a factor in ``1 ± freq_warp``
    (:func:`warp_frequencies`).
    """

    window: torch.Tensor
    filterbank: torch.Tensor
    mean: torch.Tensor
    std: torch.Tensor

    def __init__(
        self,
        config: MelConfig,
        mean: torch.Tensor | None = None,
        std: torch.Tensor | None = None,
        time_mask: int = 0,
        freq_mask: int = 0,
        utterance_norm: bool = False,
        freq_warp: float = 0.0,
    ) -> None:
        """Build the frontend; without ``mean``/``std`` it returns unscaled log-mel values."""
        super().__init__()
        self.config = config
        self.utterance_norm = utterance_norm
        self.time_mask = time_mask
        self.freq_mask = freq_mask
        self.freq_warp = freq_warp
        self.register_buffer("window", torch.hann_window(config.n_fft))
        self.register_buffer("filterbank", torch.from_numpy(mel_filterbank(config)))
        zeros = torch.zeros(config.n_mels, 1)
        self.register_buffer("mean", zeros if mean is None else mean.clone())
        self.register_buffer("std", torch.ones_like(zeros) if std is None else std.clone())

    def log_mel(self, waves: torch.Tensor) -> torch.Tensor:
        """Return the raw log-mel energies ``(B, n_mels, frames)`` of ``waves``."""
        spec = torch.stft(
            waves,
            n_fft=self.config.n_fft,
            hop_length=self.config.hop,
            window=self.window,
            center=True,
            return_complex=True,
        )
        power = spec.real**2 + spec.imag**2
        if self.training:
            power = warp_frequencies(power, self.freq_warp)
        return torch.log(torch.matmul(self.filterbank, power) + LOG_FLOOR)

    def centred(self, waves: torch.Tensor) -> torch.Tensor:
        """Return the log-mel of ``waves``, each clip centred on itself if ``utterance_norm``."""
        feats = self.log_mel(waves)
        return centre_utterances(feats) if self.utterance_norm else feats

    def forward(self, waves: torch.Tensor) -> torch.Tensor:
        """Return normalised (and, in training, masked) log-mel images of ``waves``."""
        feats = (self.centred(waves) - self.mean) / self.std
        if self.training:
            feats = mask_axis(feats, self.freq_mask, dim=1)
            feats = mask_axis(feats, self.time_mask, dim=2)
        return feats.unsqueeze(1)


def warp_frequencies(power: torch.Tensor, max_warp: float) -> torch.Tensor:
    """Warp each example's frequency axis of ``power`` ``(B, bins, frames)`` by 1 ± ``max_warp``.

    Vocal tract length perturbation (Jaitly and Hinton, 2013), with a factor uniform per
    example: below a knee at 0.6 of the top bin (scaled down with factors under 1) bin
    ``k`` reads the power at ``k / factor``, so a factor above 1 moves formants and pitch
    up, as a shorter vocal tract does, and keeps the tempo; above the knee the mapping is
    the straight line that keeps the top bin where it is, so no band is left empty.
    Linear interpolation between bins.
    """
    if max_warp <= 0:
        return power
    batch, bins, frames = power.shape
    top = bins - 1
    factor = 1 + max_warp * (2 * torch.rand(batch, 1, device=power.device) - 1)
    k = torch.arange(bins, device=power.device, dtype=factor.dtype)
    knee = VTLP_KNEE * top * factor.clamp_max(1.0)
    above = knee / factor + (k - knee) * (top - knee / factor) / (top - knee)
    source = torch.where(k <= knee, k / factor, above)  # (B, bins), 0 to top
    left = source.floor().long().clamp_max(top - 1)
    frac = (source - left).to(power.dtype).unsqueeze(2)

    def read(index: torch.Tensor) -> torch.Tensor:
        return power.gather(1, index.unsqueeze(2).expand(batch, bins, frames))

    return read(left) * (1 - frac) + read(left + 1) * frac


def mask_axis(feats: torch.Tensor, max_width: int, dim: int) -> torch.Tensor:
    """Zero one random band of 0..``max_width`` rows along ``dim`` (1 or 2) per example."""
    if max_width <= 0:
        return feats
    batch, size = feats.shape[0], feats.shape[dim]
    device = feats.device
    width = torch.randint(0, max_width + 1, (batch, 1), device=device).clamp_max(size)
    start = (torch.rand(batch, 1, device=device) * (size - width + 1)).long()
    pos = torch.arange(size, device=device).unsqueeze(0)
    keep = ~((pos >= start) & (pos < start + width))
    shape = (batch, size, 1) if dim == 1 else (batch, 1, size)
    return feats * keep.reshape(shape).to(feats.dtype)


def centre_utterances(feats: torch.Tensor) -> torch.Tensor:
    """Subtract from each clip of ``feats`` ``(B, n_mels, frames)`` its per-band speech mean.

    Speech frames are the loudest quarter of the clip's frames that are also within 40 dB
    of its loudest. The 40 dB rule keeps the digital silence a short clip is padded with
    out of a clean clip's mean; the loudest-quarter rule keeps out the training noise that
    augmentation adds to that silence, so a clip is centred on the same frames with and
    without noise.
    """
    energy = feats.logsumexp(dim=1, keepdim=True)
    quarter = max(1, energy.shape[2] // SPEECH_SHARE)
    loud = energy >= energy.topk(quarter, dim=2).values[..., -1:]
    near_peak = energy >= energy.amax(dim=2, keepdim=True) - SPEECH_RANGE
    speech = (loud & near_peak).to(feats.dtype)
    mean = (feats * speech).sum(dim=2, keepdim=True) / speech.sum(dim=2, keepdim=True)
    return feats - mean


@torch.no_grad()
def band_statistics(
    waves: torch.Tensor, config: MelConfig, utterance_norm: bool = False, chunk: int = 512
) -> tuple[torch.Tensor, torch.Tensor]:
    """Return per-band mean and std ``(n_mels, 1)`` of the log-mel of ``waves``.

    With ``utterance_norm`` the statistics are of the clip-centred features (:class:`LogMel`).
    """
    frontend = LogMel(config, utterance_norm=utterance_norm)
    feats = torch.cat([frontend.centred(part) for part in waves.split(chunk)])
    mean = feats.mean(dim=(0, 2)).unsqueeze(1)
    std = feats.std(dim=(0, 2)).unsqueeze(1).clamp_min(STD_FLOOR)
    return mean, std
