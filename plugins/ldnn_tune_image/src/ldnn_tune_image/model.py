"""A small CNN whose width and depth are knobs."""

import kornia.augmentation as K
import torch
from torch import nn

MAX_DEGREES = 15.0
MAX_TRANSLATE = 0.15


class SmallCNN(nn.Module):
    """``depth`` blocks of ``convs`` conv3x3-ReLU layers then a 2x2 max-pool.

    Channels start at ``width`` and double each block. The head is dropout, then a hidden
    ReLU layer of ``hidden`` units with dropout (none when ``hidden`` is 0), then the class
    scores.
    """

    def __init__(
        self,
        in_channels: int,
        classes: int,
        *,
        width: int,
        depth: int,
        convs: int,
        hidden: int,
        dropout: float,
        size: int,
    ) -> None:
        """Build the net for ``size``x``size`` inputs of ``in_channels`` channels."""
        super().__init__()
        layers: list[nn.Module] = []
        channels = in_channels
        for block in range(depth):
            out = width * 2**block
            for _ in range(convs):
                layers += [nn.Conv2d(channels, out, kernel_size=3, padding=1), nn.ReLU()]
                channels = out
            if size >= 2:
                layers.append(nn.MaxPool2d(2))
                size //= 2
        self.features = nn.Sequential(*layers)
        self.head = _head(channels * size * size, hidden, classes, dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Map images ``(B, C, H, W)`` to class scores ``(B, classes)``."""
        out: torch.Tensor = self.head(self.features(x))
        return out


def _head(features: int, hidden: int, classes: int, dropout: float) -> nn.Sequential:
    """Flatten, dropout, an optional hidden ReLU layer with its own dropout, class scores."""
    layers: list[nn.Module] = [nn.Flatten(), nn.Dropout(dropout)]
    if hidden > 0:
        layers += [nn.Linear(features, hidden), nn.ReLU(), nn.Dropout(dropout)]
        features = hidden
    layers.append(nn.Linear(features, classes))
    return nn.Sequential(*layers)


def make_augmentation(strength: float) -> nn.Module | None:
    """Return random translate-and-rotate on the batch scaled by ``strength`` (0 gives None).

    Borders are filled by replicating edge pixels, so a standardised background stays
    background.
    """
    if strength <= 0:
        return None
    shift = MAX_TRANSLATE * strength
    augmentation: nn.Module = K.RandomAffine(
        degrees=MAX_DEGREES * strength, translate=(shift, shift), padding_mode="border", p=1.0
    )
    return augmentation
