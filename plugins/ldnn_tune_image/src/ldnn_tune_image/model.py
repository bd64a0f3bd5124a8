"""A small CNN whose width and depth are knobs."""

import kornia.augmentation as K
import torch
from torch import nn

MAX_DEGREES = 15.0
MAX_TRANSLATE = 0.15


class SmallCNN(nn.Module):
    """``depth`` blocks of conv3x3-ReLU(-maxpool), doubling channels from ``width``.

    Then dropout and a linear layer from the flattened feature map to the class scores.
    """

    def __init__(
        self, in_channels: int, classes: int, width: int, depth: int, dropout: float, size: int
    ) -> None:
        """Build the net for ``size``x``size`` inputs of ``in_channels`` channels."""
        super().__init__()
        layers: list[nn.Module] = []
        channels = in_channels
        for block in range(depth):
            out = width * 2**block
            layers += [nn.Conv2d(channels, out, kernel_size=3, padding=1), nn.ReLU()]
            if size >= 2:
                layers.append(nn.MaxPool2d(2))
                size //= 2
            channels = out
        self.features = nn.Sequential(*layers)
        self.head = nn.Sequential(
            nn.Flatten(), nn.Dropout(dropout), nn.Linear(channels * size * size, classes)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Map images ``(B, C, H, W)`` to class scores ``(B, classes)``."""
        out: torch.Tensor = self.head(self.features(x))
        return out


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
