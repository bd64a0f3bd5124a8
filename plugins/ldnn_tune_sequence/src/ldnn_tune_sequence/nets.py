"""The nets: an LSTM with a linear read-out, and the article's two-hidden-layer net."""

import torch
import torch.nn.functional as F
from torch import nn

from ldnn_tune import init_std


class OneHot(nn.Module):
    """Map integer ids ``(B, T)`` to one-hot floats ``(B, T, classes)``."""

    def __init__(self, classes: int) -> None:
        """Encode ids 0..``classes``-1."""
        super().__init__()
        self.classes = classes
        # follows the model's dtype (e.g. float64 in the gradient check)
        self.dtype_probe: torch.Tensor
        self.register_buffer("dtype_probe", torch.zeros(()))

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        """Return the one-hot encoding of ``ids`` in the model's floating dtype."""
        return F.one_hot(ids, self.classes).to(self.dtype_probe.dtype)


class LSTMNet(nn.Module):
    """An LSTM, dropout, and a linear layer applied at the last ``tail`` steps (or all).

    Outputs ``(B, tail, outputs)``; with ``tail=None`` one output per input step.
    """

    def __init__(
        self,
        features: int,
        hidden: int,
        layers: int,
        dropout: float,
        outputs: int,
        tail: int | None,
        vocab: int | None = None,
    ) -> None:
        """Read ``features`` per step (or one-hot ids of a ``vocab``), emit ``outputs``."""
        super().__init__()
        self.encode: nn.Module = OneHot(vocab) if vocab is not None else nn.Identity()
        between = dropout if layers > 1 else 0.0
        self.lstm = nn.LSTM(features, hidden, layers, batch_first=True, dropout=between)
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(hidden, outputs)
        self.tail = tail

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Map inputs ``(B, T, features)`` (or ids ``(B, T)``) to ``(B, steps, outputs)``."""
        states, _ = self.lstm(self.encode(x))
        if self.tail is not None:
            states = states[:, -self.tail :]
        out: torch.Tensor = self.head(self.dropout(states))
        return out


class TwoLayerNet(nn.Module):
    """The article's feed-forward net: flatten, two ReLU hidden layers, a linear output.

    Outputs ``(B, positions, outputs)``, so it answers the same targets as the LSTM.
    """

    def __init__(
        self, inputs: int, hidden: int, dropout: float, positions: int, outputs: int
    ) -> None:
        """Map ``inputs`` flattened values to ``positions`` x ``outputs`` scores."""
        super().__init__()
        self.layers = nn.Sequential(
            nn.Flatten(),
            nn.Linear(inputs, hidden),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(hidden, hidden),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(hidden, positions * outputs),
        )
        self.shape = (positions, outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return scores ``(B, positions, outputs)`` for inputs ``(B, ...)``."""
        out: torch.Tensor = self.layers(x)
        return out.reshape(len(x), *self.shape)


def init_lstm(lstm: nn.LSTM, scheme: str, init_scale: float, forget_bias: float) -> None:
    """Initialise ``lstm``'s weights per the init knob and set its forget-gate bias.

    Weights get ``init_std(scheme, fan_in)``: fan-in is the input size for ``weight_ih``
    and the hidden size for ``weight_hh``. Biases are zeroed, then the forget-gate slice
    (PyTorch packs gates i, f, g, o, so rows ``hidden:2*hidden``) of ``bias_ih`` is set
    to ``forget_bias`` and that of ``bias_hh`` left at 0: the gate sees their sum, which
    is exactly the knob.
    """
    hidden = lstm.hidden_size
    with torch.no_grad():
        for name, param in lstm.named_parameters():
            if name.startswith("weight"):
                param.normal_(0.0, init_std(scheme, param.shape[1], init_scale))
            else:
                param.zero_()
                if name.startswith("bias_ih"):
                    param[hidden : 2 * hidden] = forget_bias
