"""Build the train/validation/test split of each problem from the task's options."""

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ldnn_tune import Split, Standardizer, UsageError
from ldnn_tune_sequence import problems
from ldnn_tune_sequence.options import SequenceOptions
from ldnn_tune_sequence.text import (
    TRAIN_FRACTION,
    find_text_file,
    load_corpus,
    text_parts,
    windows,
)

Pair = tuple[torch.Tensor, torch.Tensor]


@dataclass(frozen=True)
class SequenceData:
    """A prepared split with what the net needs to know about it."""

    split: Split
    features: int  # values per input step (the vocabulary size for text ids)
    classes: int  # classes per output position (1 for the regression problem)
    positions: int  # output positions per sequence (all steps for text)
    vocab: int | None  # text: inputs are ids of this many characters
    source: str
    characters: list[str] | None = None  # text: the character of each id


def generate(opts: SequenceOptions, n: int, rng: np.random.Generator) -> Pair:
    """Return ``n`` sequences of the generated problem ``opts.problem``."""
    length = opts.sizes[0]
    if opts.problem == "adding":
        return problems.adding(n, length, rng)
    if opts.problem == "copy":
        return problems.copy(n, opts.copy_len, length, opts.symbols, rng)
    if opts.problem == "parity":
        return problems.parity(n, opts.bits, rng)
    if opts.problem == "sort":
        x, y = problems.sort(n, opts.sort_count, opts.sort_bits, rng)
        if opts.model == "lstm":
            x = problems.append_write_phase(x, opts.sort_count)
        return x, y
    raise ValueError(f"problem {opts.problem!r} is not generated")


def generated_data(opts: SequenceOptions, seed: int) -> SequenceData:
    """Draw train, validation and test sets separately, each from its own seeded stream."""
    streams = [np.random.default_rng([seed, part]) for part in range(3)]
    _, train_size, eval_size = opts.sizes
    sizes = (train_size, eval_size, eval_size)
    (xt, yt), (xv, yv), (xs, ys) = (
        generate(opts, n, rng) for n, rng in zip(sizes, streams, strict=True)
    )
    (xv, yv), (xs, ys) = drop_seen(xt, xv, yv), drop_seen(xt, xs, ys)
    check_held_out(opts, min(len(yv), len(ys)))
    if opts.problem == "adding":
        scale_values = value_channel_standardizer(xt)
        xt, xv, xs = scale_values(xt), scale_values(xv), scale_values(xs)
    classes = {
        "adding": 1,
        "copy": opts.symbols,
        "parity": 2,
        "sort": 2**opts.sort_bits,
    }[opts.problem]
    return SequenceData(
        Split(xt, yt, xv, yv, xs, ys),
        features=xt.shape[-1],
        classes=classes,
        positions=yt.shape[1],
        vocab=None,
        source=f"generated {opts.problem} (seed {seed})",
    )


def drop_seen(seen: torch.Tensor, x: torch.Tensor, y: torch.Tensor) -> Pair:
    """Return ``(x, y)`` without the sequences that also occur in ``seen``.

    Small problem spaces (short parity strings) make separate draws collide; a collision
    would leak training data into validation or test.
    """
    train_rows = {row.tobytes() for row in seen.reshape(len(seen), -1).numpy()}
    keep = [row.tobytes() not in train_rows for row in x.reshape(len(x), -1).numpy()]
    mask = torch.tensor(keep, dtype=torch.bool)
    return x[mask], y[mask]


# the option that sizes each problem's space of distinct inputs (adding draws real values)
MAX_VOCAB = 1_000  # distinct characters of a text (tinyshakespeare: 65)
SPACE_SIZE_OPTION = {"copy": "copy_len", "parity": "bits", "sort": "sort_bits"}


def check_held_out(opts: SequenceOptions, kept: int) -> None:
    """Raise a UsageError when under half the validation or test draws are unseen in training.

    ``kept``: how many of the ``eval_size`` draws of the smaller of the two are left.
    Parity of 8 bits has 256 inputs: 5,000 training sequences hold them all, so nothing
    would be left to validate on.
    """
    _, train_size, eval_size = opts.sizes
    if 2 * kept >= eval_size:
        return
    option = SPACE_SIZE_OPTION[opts.problem]
    raise UsageError(
        f"invalid {option}={getattr(opts, option)} for problem={opts.problem} with "
        f"train_size={train_size}: only {kept} of {eval_size} validation or test sequences "
        f"differ from every training sequence; raise {option} or lower train_size"
    )


def value_channel_standardizer(x_train: torch.Tensor) -> Standardizer:
    """Standardise the adding problem's value channel with train statistics.

    The marker channel is a 0/1 code and stays as it is.
    """
    values = x_train[..., 0]
    mean = torch.tensor([float(values.mean()), 0.0])
    std = torch.tensor([float(values.std()), 1.0])
    return Standardizer(mean, std)


def check_vocabulary(source: str, characters: Sequence[str]) -> None:
    """Refuse a text of one distinct character, or of more than :data:`MAX_VOCAB`.

    One leaves nothing to predict. Each character is a one-hot input and an output
    class: a trial's saved predictions grow with their count (28,905 distinct
    characters took 5 GB and no trial finished an epoch).
    """
    if len(characters) < 2:
        raise UsageError(
            f"text file {source!r} holds one distinct character ({characters[0]!r}): there is "
            "nothing to predict; give a text of at least 2"
        )
    if len(characters) > MAX_VOCAB:
        raise UsageError(
            f"text file {source!r} holds {len(characters):,} distinct characters; a "
            f"character model takes at most {MAX_VOCAB:,} (each is a one-hot input and an "
            "output class): give a text of fewer, or a part of it with text_chars="
        )


def text_data(opts: SequenceOptions, data_dir: Path | None) -> SequenceData:
    """Read the text file, cut train/validation/test windows of ``opts.length`` characters."""
    length = opts.sizes[0]
    corpus = load_corpus(find_text_file(data_dir), opts.text_chars)
    check_vocabulary(corpus.source, corpus.vocab)
    parts = [windows(part, length) for part in text_parts(corpus)]
    shortest = min(len(x) for x, _ in parts)
    if shortest == 0:
        read = f" (text_chars={opts.text_chars} of them read)" if opts.text_chars else ""
        needed = round(2 / (1 - TRAIN_FRACTION)) * (length + 1)  # val: a twentieth
        raise UsageError(
            f"text file {corpus.source!r} has {len(corpus.ids):,} characters{read}, too few "
            f"for windows of length={length} in each of train/val/test (5% each for val/test): "
            f"give at least {needed:,}, or a smaller length"
        )
    (xt, yt), (xv, yv), (xs, ys) = parts
    vocab = len(corpus.vocab)
    return SequenceData(
        Split(xt, yt, xv, yv, xs, ys),
        features=vocab,
        classes=vocab,
        positions=length,
        vocab=vocab,
        source=f"{corpus.source}, {len(corpus.ids):,} chars, {vocab} distinct",
        characters=corpus.vocab,
    )


def load_data(opts: SequenceOptions, data_dir: Path | None, seed: int) -> SequenceData:
    """Return the prepared data of ``opts.problem``; only ``text`` reads ``data_dir``."""
    if opts.problem == "text":
        return text_data(opts, data_dir)
    if data_dir is not None:
        raise UsageError(
            f"data_dir is only read by problem=text, not problem={opts.problem!r}; "
            "drop data_dir or choose problem=text"
        )
    return generated_data(opts, seed)
