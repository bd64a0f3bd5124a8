"""What goes wrong, as the user sees it: the usage-error type and the process exit codes."""

from collections.abc import Iterable

EXIT_OK = 0
EXIT_CHECK_FAILED = 1  # a pre-flight check failed
EXIT_USAGE = 2  # the user asked for something invalid
EXIT_INTERRUPTED = 130  # Ctrl-C (128 + SIGINT)


class UsageError(Exception):
    """A user mistake: the CLI prints its one-line message and exits with code 2.

    The message names the bad value and, where there is a finite set, the valid choices.
    """


def choices_text(choices: Iterable[object]) -> str:
    """Return ``choices`` as a sorted, comma-separated list for an error message."""
    return ", ".join(sorted(str(c) for c in choices))
