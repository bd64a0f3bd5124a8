"""The sequence task's typed options, validated when the command line is read."""

from dataclasses import dataclass, field, fields, replace
from typing import Any

PROBLEMS = ("adding", "copy", "parity", "sort", "text")
SOLVED_ERROR = 0.04  # the adding problem counts a sequence solved below this absolute error
SCALES = ("auto", "cpu", "gpu")
# Sizes a scale fills in where the user gave none. On 2 CPU cores a trial of the adding
# problem at these sizes takes seconds to half a minute; the GPU sizes are the article's
# (sequences of 100 steps, 10,000 of them). `length` is also the copy gap and text window
# (whose default is TEXT_WINDOW at either scale).
SIZES = {
    "cpu": {"length": 50, "train_size": 5_000, "eval_size": 500},
    "gpu": {"length": 100, "train_size": 10_000, "eval_size": 1_000},
}
TEXT_WINDOW = 64  # text: characters per training window at either scale (more steps an epoch)
MODELS = ("lstm", "mlp")
MLP_PROBLEMS = ("parity", "sort")
MAX_SORT_BITS = 16
MAX_SYMBOLS = 1_000  # copy: each symbol is a one-hot input and an output class
GENERATED = ("adding", "copy", "parity", "sort")
READ_BY: dict[str, tuple[str, ...]] = {  # the options only some problems read
    "bits": ("parity",),
    "copy_len": ("copy",),
    "symbols": ("copy",),
    "sort_count": ("sort",),
    "sort_bits": ("sort",),
    "text_chars": ("text",),
    "length": ("adding", "copy", "text"),  # T, the copy gap, the text window
    "train_size": GENERATED,  # a text's sizes are its file's
    "eval_size": GENERATED,
}


def _option(default: Any, help_text: str) -> Any:
    """Return a dataclass field of ``default`` whose help ``ldnn-tune space`` shows."""
    return field(default=default, metadata={"help": help_text})


def _choices(values: tuple[str, ...]) -> str:
    return ", ".join(sorted(values))


@dataclass(frozen=True)
class SequenceOptions:
    """Options of the sequence task; each problem reads the ones it names.

    ``length`` is the adding problem's sequence length T, the copy problem's gap of
    blanks, and the text problem's window of characters per training sequence.
    """

    problem: str = _option("adding", "adding, copy, parity, sort, or text (data_dir=FILE)")
    model: str = _option("lstm", "lstm, or mlp: the article's two-hidden-layer net (parity, sort)")
    scale: str = _option("auto", "the sizes of a cpu or a gpu; auto: gpu where a CUDA GPU trains")
    length: int | None = _option(None, "adding: steps T; copy: the gap; text: window (64)")
    bits: int = _option(25, "parity: N bits (the article trained 25 and 29, never 31)")
    copy_len: int = _option(10, "copy: symbols to memorise")
    symbols: int = _option(8, "copy: alphabet size")
    sort_count: int = _option(10, "sort: how many numbers")
    sort_bits: int = _option(6, "sort: bits per number (at most 16)")
    train_size: int | None = _option(None, "generated problems: training sequences")
    eval_size: int | None = _option(None, "generated problems: validation and test ones, each")
    text_chars: int = _option(0, "text: read at most this many characters (0: all)")

    def __post_init__(self) -> None:
        if self.problem not in PROBLEMS:
            raise ValueError(f"invalid problem {self.problem!r}; choose from {_choices(PROBLEMS)}")
        if self.scale not in SCALES:
            raise ValueError(f"invalid scale {self.scale!r}; choose from {_choices(SCALES)}")
        if self.model not in MODELS:
            raise ValueError(f"invalid model {self.model!r}; choose from {_choices(MODELS)}")
        if self.model == "mlp" and self.problem not in MLP_PROBLEMS:
            raise ValueError(
                f"invalid model 'mlp' for problem {self.problem!r}; "
                f"mlp works for {_choices(MLP_PROBLEMS)}, lstm for all"
            )
        self._check_ranges()
        self._check_read()

    def _check_read(self) -> None:
        """Refuse an option set away from its default that this problem does not read.

        A size :meth:`sized` fills in from the scale counts as a default.
        """
        defaults = {f.name: {f.default} for f in fields(self)}
        for scale in SIZES.values():
            for name, size in scale.items():
                defaults[name].add(size)
        for name, problems in READ_BY.items():
            value = getattr(self, name)
            if self.problem not in problems and value not in defaults[name]:
                readers = ", ".join(problems)
                raise ValueError(
                    f"invalid {name}={value} for problem={self.problem}: "
                    f"only problem={readers} {'reads' if len(problems) == 1 else 'read'} it"
                )

    def _check_ranges(self) -> None:
        minimums = {
            "length": 2 if self.problem == "adding" else 1,  # adding: two marked steps
            "bits": 1,
            "copy_len": 1,
            "symbols": 2,
            "sort_count": 2,
            "sort_bits": 1,
            "train_size": 2,  # a spread of the inputs to standardise them by
            "eval_size": 1,
            "text_chars": 0,
        }
        for name, low in minimums.items():
            value = getattr(self, name)
            if value is not None and value < low:
                raise ValueError(f"invalid {name}={value}: must be at least {low}")
        if self.symbols > MAX_SYMBOLS:
            raise ValueError(f"invalid symbols={self.symbols}: must be at most {MAX_SYMBOLS:,}")
        if self.sort_bits > MAX_SORT_BITS:
            raise ValueError(f"invalid sort_bits={self.sort_bits}: must be at most {MAX_SORT_BITS}")

    def sized(self, gpu: bool) -> "SequenceOptions":
        """Return these options with the scale decided and every size it fills in set.

        ``gpu``: whether trials train on a CUDA GPU (what ``scale=auto`` follows).
        """
        scale = self.scale if self.scale != "auto" else ("gpu" if gpu else "cpu")
        sizes = dict(SIZES[scale])
        if self.problem == "text":
            sizes["length"] = TEXT_WINDOW
        missing: dict[str, Any] = {k: v for k, v in sizes.items() if getattr(self, k) is None}
        return replace(self, scale=scale, **missing)

    @property
    def sizes(self) -> tuple[int, int, int]:
        """Return (length, train_size, eval_size) of options made by :meth:`sized`."""
        if self.length is None or self.train_size is None or self.eval_size is None:
            raise ValueError("sizes are set by SequenceOptions.sized()")
        return self.length, self.train_size, self.eval_size
