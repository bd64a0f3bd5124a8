"""What goes wrong, as the user sees it: the error types, one-line messages and exit codes."""

import difflib
import errno
import signal
import traceback
from collections.abc import Iterable, Iterator

EXIT_OK = 0
EXIT_FAILED = 1  # a check failed, the disk filled up, or ldnn-tune itself failed
EXIT_CHECK_FAILED = EXIT_FAILED
EXIT_USAGE = 2  # the user asked for something invalid
EXIT_PLUGIN = 3  # a task plugin's code raised
EXIT_INTERRUPTED = 128 + signal.SIGINT  # 130: Ctrl-C
EXIT_TERMINATED = 128 + signal.SIGTERM  # 143: SIGTERM (timeout, docker stop, SLURM)

DEBUG_ENV = "LDNN_TUNE_DEBUG"  # set to 1 for the full traceback of a failure
DISK_FULL = ("database or disk is full", "no space left on device", "disk quota exceeded")


class UsageError(Exception):
    """A user mistake: the CLI prints its one-line message and exits with code 2.

    The message names the bad value and, where there is a finite set, the valid choices.
    """


class CommandFailed(Exception):
    """The command ran but could not do its job (no net, no time): exit code 1.

    The CLI prints its one line on stderr, below what the command printed of why.
    """


class PluginError(Exception):
    """A task plugin's own code raised: the message names the task, its package and what."""

    def __init__(
        self, task: str, source: str, what: str, original: BaseException, kind: str = "task"
    ) -> None:
        """Say that ``kind`` ``task`` (from package ``source``) ``what`` ("failed in ...")."""
        super().__init__(f"{kind} {task!r} ({source}) {what}")
        self.original = original

    @classmethod
    def raised(
        cls, task: str, source: str, step: str, error: BaseException, kind: str = "task"
    ) -> "PluginError":
        """Return the error for ``error``, raised by the task's ``step`` (e.g. "prepare()")."""
        return cls(task, source, f"failed in {step}: {first_line(error)}", error, kind)


class Interrupted(BaseException):
    """The user or the system asked the command to stop (SIGINT, SIGTERM or SIGHUP).

    A BaseException, so frameworks that catch Exception (Lightning, Optuna) pass it on;
    not a KeyboardInterrupt, so Lightning does not turn it into ``sys.exit(1)``.
    """

    def __init__(self, signum: int) -> None:
        """Remember which signal arrived."""
        super().__init__(signal.Signals(signum).name)
        self.signum = signum
        self.trial: int | None = None  # the trial it stopped, once one is known
        self.others: list[int] = []  # the trials it stopped in this command's other workers
        self.study_open = False  # whether the run's study was open (there is one to continue)

    @classmethod
    def of(cls, stop: "Interrupted | KeyboardInterrupt") -> "Interrupted":
        """Return ``stop`` as an Interrupted: a bare KeyboardInterrupt is a SIGINT."""
        return stop if isinstance(stop, Interrupted) else cls(signal.SIGINT)

    @property
    def exit_code(self) -> int:
        """Return 128 + the signal's number, as a shell reports a signalled process."""
        return 128 + self.signum


# the exceptions that mean the user (or the system, for them) stopped the command
USER_STOPS = (Interrupted, KeyboardInterrupt)


def choices_text(choices: Iterable[object]) -> str:
    """Return ``choices`` as a sorted, comma-separated list for an error message.

    Numbers sort by value (32, 64, 128, not 128, 32, 64), before any text.
    """

    def order(choice: object) -> tuple[bool, float, str]:
        if isinstance(choice, int | float) and not isinstance(choice, bool):
            return (False, float(choice), "")
        return (True, 0.0, choice_text(choice))

    return ", ".join(choice_text(c) for c in sorted(choices, key=order))


def number_ranges(numbers: Iterable[int]) -> str:
    """Return ``numbers`` sorted, runs of consecutive ones joined: ``"0-4, 7, 9-12"``."""
    runs: list[list[int]] = []
    for number in sorted(set(numbers)):
        if runs and number == runs[-1][-1] + 1:
            runs[-1].append(number)
        else:
            runs.append([number])
    return ", ".join(str(r[0]) if len(r) == 1 else f"{r[0]}-{r[-1]}" for r in runs)


def choice_text(choice: object) -> str:
    """Return one choice as a user types it: ``true``/``false`` for booleans, as YAML has them."""
    return str(choice).lower() if isinstance(choice, bool) else str(choice)


def did_you_mean(value: str, choices: Iterable[object]) -> str:
    """Return ``" (did you mean 'trials'?)"`` for the choice closest to ``value``, or ""."""
    close = closest(value, choices)
    return f" (did you mean {close!r}?)" if close is not None else ""


def closest(value: str, choices: Iterable[object]) -> str | None:
    """Return the choice closest to ``value``, case ignored (``TASK``: ``task``), or None."""
    by_lower = {str(c).lower(): str(c) for c in choices}
    close = difflib.get_close_matches(value.lower(), list(by_lower), n=1, cutoff=0.6)
    return by_lower[close[0]] if close else None


def unknown_choice(what: str, value: str, choices: Iterable[object], label: str = "valid") -> str:
    """Return ``unknown WHAT 'value'[ (did you mean 'x'?)]; LABEL: a, b, c``."""
    listed = list(choices)
    hint = did_you_mean(value, listed)
    return f"unknown {what} {value!r}{hint}; {label}: {choices_text(listed) or 'none'}"


def first_line(error: BaseException, limit: int = 120) -> str:
    """Return ``Type: first line of the message`` of ``error``.

    A line longer than ``limit`` characters is cut to its first sentence.
    """
    text = (str(error).strip().splitlines() or [""])[0]
    if len(text) > limit and ". " in text:
        text = text.split(". ")[0]
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def causes(error: BaseException) -> Iterator[BaseException]:
    """Yield ``error`` and the exceptions it was raised from or during."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def written_store(error: BaseException) -> str:
    """Return which store ``error`` was raised while writing, from the code it passed."""
    for cause in causes(error):
        frames = traceback.extract_tb(cause.__traceback__)
        names = " ".join(frame.filename for frame in frames)
        if "mlflow" in names:
            return "the MLflow store"
        if "optuna" in names:
            return "the study storage"
    return "a file"


def disk_full(error: BaseException) -> BaseException | None:
    """Return the exception in ``error``'s chain that says the disk is full, or None."""
    for cause in causes(error):
        if isinstance(cause, OSError) and cause.errno in (errno.ENOSPC, errno.EDQUOT):
            return cause
        if any(words in str(cause).lower() for words in DISK_FULL):
            return cause
    return None


def name_too_long(error: BaseException) -> OSError | None:
    """Return the exception in ``error``'s chain that says a file name is too long, or None."""
    for cause in causes(error):
        if isinstance(cause, OSError) and cause.errno == errno.ENAMETOOLONG:
            return cause
    return None


# what torch's CPU allocator says when it gets no memory (a RuntimeError, no MemoryError)
CPU_ALLOCATION_FAILED = ("alloc_cpu.cpp", "DefaultCPUAllocator: can't allocate memory")
# numpy's and torch's refusals of a size no array can have (past int64): memory, at a size
TOO_LARGE = ("Maximum allowed dimension exceeded", "array is too big")


def out_of_memory(error: BaseException) -> BaseException | None:
    """Return the exception in ``error``'s chain that says memory ran out, or None.

    A MemoryError, torch's OutOfMemoryError (a GPU's), its CPU allocator's failure, or a
    size no array can have (numpy's "Maximum allowed dimension exceeded").
    """
    for cause in causes(error):
        if isinstance(cause, MemoryError) or type(cause).__name__ == "OutOfMemoryError":
            return cause
        if isinstance(cause, RuntimeError) and any(s in str(cause) for s in CPU_ALLOCATION_FAILED):
            return cause
        if isinstance(cause, ValueError | OverflowError) and any(
            s in str(cause) for s in TOO_LARGE
        ):
            return cause
    return None


def shortened(text: str, limit: int = 60) -> str:
    """Return ``text``, or its first ``limit`` characters and how long it is."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text):,} characters)"


def study_gone(error: BaseException) -> bool:
    """Return whether ``error`` is Optuna's for a study or trial no longer in its storage."""
    return any(
        isinstance(cause, KeyError) and "Record does not exist" in str(cause)
        for cause in causes(error)
    )
