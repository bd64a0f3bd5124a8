"""The speech net: log-mel frontend, then a small CNN whose width and depth are knobs."""

import torch
from torch import nn

from ldnn_tune_speech.features import LogMel

POOLED = (4, 4)  # the feature map is average-pooled to this grid before the classifier


class SmallCNN(nn.Module):
    """``depth`` blocks of conv3x3-batchnorm-ReLU-maxpool, doubling channels from ``width``.

    Then average pooling to a 4x4 grid, dropout and a linear layer to the class scores.
    """

    def __init__(self, classes: int, width: int, depth: int, dropout: float) -> None:
        """Build the CNN for one-channel log-mel images."""
        super().__init__()
        layers: list[nn.Module] = []
        channels = 1
        for block in range(depth):
            out = width * 2**block
            layers += [
                nn.Conv2d(channels, out, kernel_size=3, padding=1),
                nn.BatchNorm2d(out),
                nn.ReLU(),
                nn.MaxPool2d(2, ceil_mode=True),
            ]
            channels = out
        self.features = nn.Sequential(*layers)
        self.head = nn.Sequential(
            nn.AdaptiveAvgPool2d(POOLED),
            nn.Flatten(),
            nn.Dropout(dropout),
            nn.Linear(channels * POOLED[0] * POOLED[1], classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Map log-mel images ``(B, 1, mels, frames)`` to class scores ``(B, classes)``."""
        out: torch.Tensor = self.head(self.features(x))
        return out


class SpeechNet(nn.Module):
    """Waveforms ``(B, samples)`` → :class:`LogMel` frontend → :class:`SmallCNN` scores."""

    def __init__(self, frontend: LogMel, cnn: SmallCNN) -> None:
        """Chain ``frontend`` and ``cnn``."""
        super().__init__()
        self.frontend = frontend
        self.cnn = cnn

    def forward(self, waves: torch.Tensor) -> torch.Tensor:
        """Return class scores for ``waves``."""
        out: torch.Tensor = self.cnn(self.frontend(waves))
        return out
