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
    # another signal than the one kept pending raises at once: SIGTERM after a Ctrl-C (a
    # user's `kill`, or the command's after its grace). The same one again does not: a
    # terminal's Ctrl-C reaches a local worker twice, from the terminal and passed on by
    # its command, the second maybe seconds later
    again = bool(_pending) and _pending[0] != signum
    if not _pending:
        _pending[:] = [signum]
    if _deferring[0] and not again:
        return
    raise Interrupted(signum)


class StopsDeferred:
    """A block in which a stop is kept pending, and raised when the block ends.

    For bookkeeping a stop must not cut in two: Optuna creating a trial (a stop there
    left it RUNNING) or recording its end (a finished trial failed). Inside, a
    :class:`StopsInPlace` block, the training, is stopped at once; so is another signal
    than the one kept pending (SIGTERM after a Ctrl-C), anywhere.
    """

    def __enter__(self) -> None:
        """Keep stops pending from here."""
        self._outer = _deferring[0]
        _deferring[0] = self._outer + 1

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: object
    ) -> None:
        """Raise a stop kept pending, unless an outer block will, or one is raised already.

        An error leaving the block takes the stop's place only when it is a stop or an
        exit itself: another would be handled (a trial another worker took over), the stop
        lost.
        """
        _deferring[0] = self._outer  # restored, not decremented: exact after any raise
        if self._outer or not _pending or (kind is not None and not issubclass(kind, Exception)):
            return
        raise Interrupted(_pending[0]) from error


class StopsInPlace:
    """A block in which a stop is raised at once: one kept pending is raised on entry."""

    def __enter__(self) -> None:
        """Raise stops at once from here, one kept pending first."""
        self._outer = _deferring[0]
        if _pending:
            raise Interrupted(_pending[0])
        _deferring[0] = 0

    def __exit__(self, *error: object) -> None:
        """Keep stops pending again, as the block around this one does."""
        _deferring[0] = self._outer


def stops_deferred() -> StopsDeferred:
    """Return a block in which a stop waits for its end (:class:`StopsDeferred`)."""
    return StopsDeferred()


def stops_in_place() -> StopsInPlace:
    """Return a block in which a stop is raised at once (:class:`StopsInPlace`)."""
    return StopsInPlace()


def raise_pending() -> None:
    """Raise the :class:`Interrupted` of a signal whose first raise Python dropped.

    Called where a command can stop cleanly (between trials, after each epoch), so a
    Ctrl-C that landed in a finaliser still stops the command.
    """
    if _pending:
        raise Interrupted(_pending[0])


@contextmanager
def blocked_stops() -> Iterator[None]:
    """Hold SIGINT, SIGTERM and SIGHUP back inside the block (delivered at its end).

    A process started inside it inherits them held back through ``exec``: a stop sent
    while it starts waits for it (:func:`receive_held_stops`), neither lost nor a
    KeyboardInterrupt traceback from its imports.
    """
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)


def receive_held_stops() -> None:
    """Take the stops this process was started with held back: one sent meanwhile is raised.

    Call it once the handlers are installed (:func:`install`).
    """
    signal.pthread_sigmask(signal.SIG_UNBLOCK, SIGNALS)


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
