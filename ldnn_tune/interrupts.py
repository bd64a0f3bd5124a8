"""Ctrl-C, SIGTERM and SIGHUP become :class:`ldnn_tune.errors.Interrupted`, raised in place.

Python turns SIGINT into KeyboardInterrupt, which Lightning catches and turns into
``sys.exit(1)``; SIGTERM would end the process with no cleanup (or, through Lightning's
handler, with exit code 0). Raising our own exception from both lets the running trial
be marked failed and its MLflow runs ended before the command exits 130 or 143.
Lightning chains to a SIGTERM handler installed before it, so this one still runs.
"""

import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

from ldnn_tune.errors import Interrupted

# SIGHUP: the terminal closed or the ssh session dropped, the commonest stop of all
SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
# the signal whose Interrupted no cleanup has taken up yet: Python drops an exception
# raised inside a garbage-collection callback or a __del__ ("Exception ignored in ...")
_pending: list[int] = []


# above 0 inside stops_deferred(): a stop waits in _pending for a point where it is safe
_deferring: list[int] = [0]


def _raise(signum: int, frame: FrameType | None) -> None:
    _pending[:] = [signum]
    if _deferring[0]:
        return
    raise Interrupted(signum)


@contextmanager
def stops_deferred() -> Iterator[None]:
    """Keep a stop that lands inside the block pending, and raise it when the block ends.

    For bookkeeping a stop must not cut in two: Optuna creating a trial (a stop there
    left it RUNNING) or recording its end (a finished trial failed). Inside, a
    :func:`stops_in_place` block, the training, is stopped at once.
    """
    _deferring[0] += 1
    try:
        yield
    finally:
        _deferring[0] -= 1
    if not _deferring[0]:
        raise_pending()


@contextmanager
def stops_in_place() -> Iterator[None]:
    """Raise a stop at once inside the block, one kept pending before it on entry."""
    deferring, _deferring[0] = _deferring[0], 0
    try:
        raise_pending()
        yield
    finally:
        _deferring[0] = deferring


def raise_pending() -> None:
    """Raise the :class:`Interrupted` of a signal whose first raise Python dropped.

    Called where a command can stop cleanly (between trials, after each epoch), so a
    Ctrl-C that landed in a finaliser still stops the command.
    """
    if _pending:
        raise Interrupted(_pending[0])


def install() -> None:
    """Make SIGINT, SIGTERM and SIGHUP raise :class:`Interrupted` in this (main) thread.

    An :class:`Interrupted` that Python drops (raised in a finaliser) is not printed as
    "Exception ignored in ...": :func:`raise_pending` raises it again.
    """
    if threading.current_thread() is threading.main_thread():
        for signum in SIGNALS:
            signal.signal(signum, _raise)
        if sys.unraisablehook is not _quiet_about_stops:
            _previous_hook[:] = [sys.unraisablehook]
            sys.unraisablehook = _quiet_about_stops


# the hook that printed exceptions Python could not raise before install() replaced it
_previous_hook: list[Callable[["sys.UnraisableHookArgs"], object]] = []


def _quiet_about_stops(unraisable: "sys.UnraisableHookArgs") -> None:
    """Print an exception Python could not raise, unless it is a stop kept pending."""
    if not isinstance(unraisable.exc_value, Interrupted):
        (_previous_hook or [sys.__unraisablehook__])[0](unraisable)


@contextmanager
def interruptible() -> Iterator[None]:
    """Raise :class:`Interrupted` on SIGINT or SIGTERM inside the block; restore after."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    before = {signum: signal.getsignal(signum) for signum in SIGNALS}
    install()
    try:
        yield
    finally:
        for signum, handler in before.items():
            signal.signal(signum, handler)


def ignore_further() -> None:
    """Ignore more Ctrl-C and SIGTERM while a stopped command cleans up."""
    _pending.clear()  # taken up: the stop is being handled
    if threading.current_thread() is threading.main_thread():
        for signum in SIGNALS:
            signal.signal(signum, signal.SIG_IGN)
