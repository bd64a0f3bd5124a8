"""Waveform augmentation on the batch, on its device: speed, time shift, coloured noise."""

import torch
from torch import nn

SNR_SPAN_DB = 20.0  # the SNR is drawn from [snr_low_db, snr_low_db + SNR_SPAN_DB]
NOISE_EXPONENTS = (0.0, 1.0, 2.0)  # power ∝ 1/f^a: white, pink, brown
POWER_FLOOR = 1e-10


class WaveAugment(nn.Module):
    """Change each waveform's speed, shift it by up to ``max_shift`` samples, add noise.

    The speed factor is uniform in ``[1 - speed, 1 + speed]`` per example (Kaldi's speed
    perturbation: tempo and pitch change together, as with a faster or slower speaker).
    The noise colour (white, pink or brown) and the SNR (uniform in dB over
    ``[snr_low_db, snr_low_db + 20]``, relative to the clip's mean power) are drawn per
    example. RecipeModule applies this to training batches only.
    """

    def __init__(self, snr_low_db: float, max_shift: int, speed: float = 0.0) -> None:
        """Augment: noise from ``snr_low_db`` dB, shifts to ``max_shift``, speeds 1 ± ``speed``."""
        super().__init__()
        self.snr_low_db = snr_low_db
        self.max_shift = max_shift
        self.speed = speed

    def forward(self, waves: torch.Tensor) -> torch.Tensor:
        """Return sped-up or slowed, shifted, noisy copies of ``waves`` ``(B, samples)``."""
        moved = time_shift(change_speed(waves, self.speed), self.max_shift)
        return add_noise(moved, self.snr_low_db)


def change_speed(waves: torch.Tensor, speed: float) -> torch.Tensor:
    """Resample each waveform about its centre by a random factor in ``1 ± speed``.

    A factor above 1 plays the clip faster (shorter, higher); samples read from outside
    the clip are zero. Linear interpolation between samples, with no low-pass filter
    (Kaldi's resampler filters): speeding up folds a little content above the new
    Nyquist frequency back down, which a log-mel of speech at 8 kHz barely shows.
    """
    if speed <= 0:
        return waves
    batch, length = waves.shape
    factor = 1 + speed * (2 * torch.rand(batch, 1, device=waves.device) - 1)
    centre = (length - 1) / 2
    source = (torch.arange(length, device=waves.device) - centre) * factor + centre
    left = source.floor()
    frac = (source - left).to(waves.dtype)
    left_i = left.long()

    def read(index: torch.Tensor) -> torch.Tensor:
        """Return the samples at ``index`` per row, zero outside the clip."""
        inside = ((index >= 0) & (index < length)).to(waves.dtype)
        return waves.gather(1, index.clamp(0, length - 1)) * inside

    return read(left_i) * (1 - frac) + read(left_i + 1) * frac


def time_shift(waves: torch.Tensor, max_shift: int) -> torch.Tensor:
    """Move each waveform by a random number of samples in ±``max_shift``, zero-filling."""
    if max_shift <= 0:
        return waves
    batch, length = waves.shape
    shift = torch.randint(-max_shift, max_shift + 1, (batch, 1), device=waves.device)
    source = torch.arange(length, device=waves.device).unsqueeze(0) - shift
    valid = (source >= 0) & (source < length)
    moved = waves.gather(1, source.clamp(0, length - 1))
    return moved * valid.to(waves.dtype)


def coloured_noise(batch: int, length: int, device: torch.device) -> torch.Tensor:
    """Return unit-power noise ``(batch, length)``, each row white, pink or brown."""
    white = torch.randn(batch, length, device=device)
    choice = torch.randint(0, len(NOISE_EXPONENTS), (batch, 1), device=device)
    exponent = torch.tensor(NOISE_EXPONENTS, device=device)[choice]
    freqs = torch.arange(length // 2 + 1, device=device).clamp_min(1).float()
    shaped: torch.Tensor = torch.fft.irfft(
        torch.fft.rfft(white) * freqs ** (-exponent / 2), n=length
    )
    power = shaped.pow(2).mean(dim=1, keepdim=True).clamp_min(POWER_FLOOR)
    return shaped / power.sqrt()


def add_noise(waves: torch.Tensor, snr_low_db: float) -> torch.Tensor:
    """Return ``waves`` plus coloured noise at a random SNR of ``snr_low_db`` dB or more."""
    batch, length = waves.shape
    snr_db = snr_low_db + SNR_SPAN_DB * torch.rand(batch, 1, device=waves.device)
    signal = waves.pow(2).mean(dim=1, keepdim=True).clamp_min(POWER_FLOOR)
    scale = (signal / 10 ** (snr_db / 10)).sqrt()
    return waves + scale * coloured_noise(batch, length, waves.device).to(waves.dtype)
