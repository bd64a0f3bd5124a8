"""The sequence task's typed options, validated when the command line is read."""

from dataclasses import dataclass

PROBLEMS = ("adding", "copy", "parity", "sort", "text")
MODELS = ("lstm", "mlp")
MLP_PROBLEMS = ("parity", "sort")
MAX_SORT_BITS = 16


def _choices(values: tuple[str, ...]) -> str:
    return ", ".join(sorted(values))


@dataclass(frozen=True)
class SequenceOptions:
    """Options of the sequence task; each problem reads the ones it names.

    ``length`` is the adding problem's sequence length T, the copy problem's gap of
    blanks, and the text problem's window of characters per training sequence.
    """

    problem: str = "adding"
    model: str = "lstm"  # "mlp": the article's two-hidden-layer net (parity and sort only)
    length: int = 100
    bits: int = 25  # parity: N bits (the article trained 25 and 29, never 31)
    copy_len: int = 10  # copy: symbols to memorise
    symbols: int = 8  # copy: alphabet size
    sort_count: int = 10  # sort: how many numbers
    sort_bits: int = 6  # sort: bits per number
    train_size: int = 10_000  # generated training sequences
    eval_size: int = 1_000  # generated validation (and, separately, test) sequences
    text_chars: int = 0  # text: read at most this many characters (0: the whole file)

    def __post_init__(self) -> None:
        if self.problem not in PROBLEMS:
            raise ValueError(f"invalid problem {self.problem!r}; choose from {_choices(PROBLEMS)}")
        if self.model not in MODELS:
            raise ValueError(f"invalid model {self.model!r}; choose from {_choices(MODELS)}")
        if self.model == "mlp" and self.problem not in MLP_PROBLEMS:
            raise ValueError(
                f"invalid model 'mlp' for problem {self.problem!r}; "
                f"mlp works for {_choices(MLP_PROBLEMS)}, lstm for all"
            )
        self._check_ranges()

    def _check_ranges(self) -> None:
        minimums = {
            "length": 1,
            "bits": 1,
            "copy_len": 1,
            "symbols": 2,
            "sort_count": 2,
            "sort_bits": 1,
            "train_size": 1,
            "eval_size": 1,
            "text_chars": 0,
        }
        for name, low in minimums.items():
            value = getattr(self, name)
            if value < low:
                raise ValueError(f"invalid {name}={value}: must be at least {low}")
        if self.sort_bits > MAX_SORT_BITS:
            raise ValueError(f"invalid sort_bits={self.sort_bits}: must be at most {MAX_SORT_BITS}")
