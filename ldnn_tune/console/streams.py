"""Standard output that goes quiet, instead of failing, when nobody reads it any more.

``ldnn-tune run ... | head -1`` closes the pipe after one line; Python then raises
BrokenPipeError at the next print, in the middle of a trial, and the study stops with its
runs left RUNNING. A study's results are in its stores, not on the terminal, so the
command carries on without printing.
"""

import os
import sys
from typing import Any, TextIO


class QuietWhenClosed:
    """A text stream that writes to ``stream`` until its reader goes, then to nowhere."""

    def __init__(self, stream: TextIO) -> None:
        """Wrap ``stream`` (normally ``sys.stdout``)."""
        self._stream = stream

    def write(self, text: str) -> int:
        """Write ``text``; once the reader has gone, drop it."""
        try:
            return self._stream.write(text)
        except BrokenPipeError:
            self._go_quiet()
            return len(text)

    def flush(self) -> None:
        """Flush; once the reader has gone, do nothing."""
        try:
            self._stream.flush()
        except BrokenPipeError:
            self._go_quiet()

    def _go_quiet(self) -> None:
        """Send this stream, and the file descriptor under it, to the null device."""
        try:
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, self._stream.fileno())  # child processes and C code go quiet too
            os.close(null)
        except (OSError, ValueError):
            pass
        self._stream = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115  # for life

    def __getattr__(self, name: str) -> Any:
        """Pass everything else (``isatty``, ``encoding``, ``fileno``) to the stream."""
        return getattr(self._stream, name)


def guard_stdout() -> None:
    """Make ``sys.stdout`` quiet when its reader goes, or when the command started without one.

    Both streams also print what their encoding lacks as ``?`` (an ASCII locale's ``…``,
    a file name that is not UTF-8), and a closed ``sys.stderr`` becomes the null device:
    a character a terminal cannot show, or a stream nobody reads, never fails a trial
    that trained, nor a command that did its work.
    """
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if stream is None:  # started with it closed (`ldnn-tune tasks >&-`)
            setattr(sys, name, open(os.devnull, "w", encoding="utf-8"))  # noqa: SIM115
        elif hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="replace")
    if not isinstance(sys.stdout, QuietWhenClosed):
        sys.stdout = QuietWhenClosed(sys.stdout)  # type: ignore[assignment]
