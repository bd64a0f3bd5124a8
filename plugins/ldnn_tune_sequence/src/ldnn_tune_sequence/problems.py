"""Generated sequence problems: inputs and targets as tensors, drawn from a numpy generator.

Every problem returns inputs ``x`` of shape ``(n, steps, features)`` and targets ``y`` of
shape ``(n, outputs)``: one target per output position (the adding and parity problems
have a single output position). Bits are encoded as -1/+1.
"""

import numpy as np
import torch


def adding(n: int, length: int, rng: np.random.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Return the adding problem: channels (value, marker); target = sum of the marked values.

    Values are uniform in [0, 1); one marker falls uniformly in each half of the sequence,
    so always predicting the mean (1.0) scores an MSE of Var(U+U) = 1/6 ≈ 0.167.
    """
    values = rng.random((n, length)).astype(np.float32)
    half = max(length // 2, 1)
    first = rng.integers(0, half, size=n)
    second = rng.integers(half, length, size=n) if length > 1 else first
    second = np.where(second == first, (first + 1) % length, second)
    markers = np.zeros((n, length), dtype=np.float32)
    rows = np.arange(n)
    markers[rows, first] = 1.0
    markers[rows, second] = 1.0
    target = (values * markers).sum(axis=1, keepdims=True)
    x = np.stack([values, markers], axis=-1)
    return torch.from_numpy(x), torch.from_numpy(target.astype(np.float32))


def copy(
    n: int, copy_len: int, gap: int, symbols: int, rng: np.random.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """Return the copy problem: recall ``copy_len`` symbols after ``gap`` blanks.

    Input one-hot over blank (0), symbols 1..``symbols`` and a delimiter; the sequence is
    the symbols, ``gap - 1`` blanks, the delimiter, then ``copy_len`` blanks during which
    the net must output the symbols (targets are symbol - 1, so classes 0..symbols-1).
    """
    data = rng.integers(1, symbols + 1, size=(n, copy_len))
    steps = 2 * copy_len + gap
    codes = np.zeros((n, steps), dtype=np.int64)
    codes[:, :copy_len] = data
    codes[:, copy_len + gap - 1] = symbols + 1
    x = np.eye(symbols + 2, dtype=np.float32)[codes]
    return torch.from_numpy(x), torch.from_numpy(data - 1)


def parity(n: int, bits: int, rng: np.random.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Return N-bit parity: ``bits`` random bits in, class 1 when an odd number are set."""
    raw = rng.integers(0, 2, size=(n, bits))
    x = (2.0 * raw - 1.0).astype(np.float32)[:, :, None]
    y = (raw.sum(axis=1) % 2)[:, None]
    return torch.from_numpy(x), torch.from_numpy(y.astype(np.int64))


def sort(
    n: int, count: int, bits: int, rng: np.random.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """Return sorting: ``count`` numbers of ``bits`` bits in (one per step), sorted out.

    Targets are the sorted numbers, one class (0..2**bits-1) per output position.
    """
    numbers = rng.integers(0, 2**bits, size=(n, count))
    weights = 2 ** np.arange(bits - 1, -1, -1)
    raw = (numbers[:, :, None] // weights) % 2
    x = (2.0 * raw - 1.0).astype(np.float32)
    return torch.from_numpy(x), torch.from_numpy(np.sort(numbers, axis=1).astype(np.int64))


def append_write_phase(x: torch.Tensor, steps: int) -> torch.Tensor:
    """Return ``x`` followed by ``steps`` blank steps, with a channel flagging those steps.

    An LSTM reads the inputs, then emits one output per write step.
    """
    n, read, features = x.shape
    read_part = torch.cat([x, torch.zeros(n, read, 1)], dim=-1)
    write_part = torch.zeros(n, steps, features + 1)
    write_part[:, :, -1] = 1.0
    return torch.cat([read_part, write_part], dim=1)
