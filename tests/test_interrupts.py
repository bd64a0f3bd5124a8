"""A Ctrl-C whose exception Python drops (raised inside a finaliser) still stops the command."""

import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from ldnn_tune.errors import Interrupted
from ldnn_tune.interrupts import (
    blocked_stops,
    ignore_further,
    interruptible,
    raise_pending,
    receive_held_stops,
    stops_deferred,
    stops_in_place,
)


class SignalledWhileFinalised:
    """An object whose finaliser is running when SIGINT arrives, as a weakref callback can."""

    def __del__(self) -> None:
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.05)  # the handler runs here, inside the finaliser: its raise is dropped


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_dropped_interrupt_is_raised_at_the_next_stop_and_only_until_handled() -> None:
    with interruptible():
        SignalledWhileFinalised()  # dropped at once: the finaliser runs now
        with pytest.raises(Interrupted) as stop:
            raise_pending()
        assert stop.value.signum == signal.SIGINT
        ignore_further()  # the stop is handled: no second raise
        raise_pending()


DROPPED_IN_A_FINALISER = """
import os, signal, sys, time
from ldnn_tune.errors import Interrupted
from ldnn_tune.interrupts import install, raise_pending

class Finalised:
    def __del__(self):
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.05)

class Other:
    def __del__(self):
        raise ValueError("a finaliser's own bug")

install()
Finalised()
Other()
try:
    raise_pending()
except Interrupted:
    print("stopped", file=sys.stderr)
"""


def test_a_dropped_interrupt_prints_no_traceback_and_other_dropped_errors_still_do() -> None:
    result = subprocess.run(
        [sys.executable, "-c", DROPPED_IN_A_FINALISER], capture_output=True, text=True, check=True
    )
    assert "Interrupted" not in result.stderr
    assert "ValueError: a finaliser's own bug" in result.stderr
    assert result.stderr.strip().endswith("stopped")


def test_a_stop_in_a_deferred_block_is_raised_at_its_end_or_on_entering_an_in_place_one() -> None:
    with interruptible():
        with pytest.raises(Interrupted), stops_deferred():
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)  # the handler ran: nothing raised here
            reached_the_end = True
        assert reached_the_end
        ignore_further()
    with interruptible(), stops_deferred():
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.05)
        with pytest.raises(Interrupted), stops_in_place():
            raise AssertionError("the pending stop is raised on entry")
        ignore_further()


def test_a_stop_in_an_in_place_block_is_raised_at_once() -> None:
    with interruptible(), stops_deferred(), stops_in_place():
        with pytest.raises(Interrupted):
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(1)
        ignore_further()


def test_an_error_leaving_a_deferred_block_does_not_lose_its_stop() -> None:
    # e.g. Optuna refusing to record a trial another worker took over, an error handled
    with interruptible():
        with pytest.raises(Interrupted) as stop, stops_deferred():
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)
            raise ValueError("handled by the caller")
        assert isinstance(stop.value.__cause__, ValueError)
        ignore_further()


def test_another_signal_raises_at_once_the_same_again_waits() -> None:
    with interruptible(), stops_deferred():
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.05)
        os.kill(os.getpid(), signal.SIGINT)  # the terminal's and its command's, maybe later
        time.sleep(0.05)  # still kept pending
        with pytest.raises(Interrupted) as stop:  # a `kill` after the Ctrl-C: stop now
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(1)
        assert stop.value.signum == signal.SIGTERM
        ignore_further()


def test_a_stop_held_back_while_a_process_starts_is_raised_once_it_is_taken() -> None:
    with interruptible(), blocked_stops():  # as a worker starts: held back through exec
        # to this thread: a process-wide signal may go to another thread of pytest's
        signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGINT)
        time.sleep(0.05)  # not delivered: held back, not lost
        with pytest.raises(Interrupted):
            receive_held_stops()  # the worker's handlers are installed: it takes it now
        ignore_further()
