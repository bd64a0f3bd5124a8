"""The one exception type that means "the user asked for something invalid"."""

from collections.abc import Iterable


class UsageError(Exception):
    """A user mistake: the CLI prints its one-line message and exits with code 2.

    The message names the bad value and, where there is a finite set, the valid choices.
    """


def choices_text(choices: Iterable[object]) -> str:
    """Return ``choices`` as a sorted, comma-separated list for an error message."""
    return ", ".join(sorted(str(c) for c in choices))
