"""A command's local worker processes: stopped with it, killed when they do not stop."""

import multiprocessing
import signal
import time

import pytest

from ldnn_tune.errors import Interrupted
from ldnn_tune.interrupts import interruptible
from ldnn_tune.study.workers import stopped_on_interrupt


def deaf_worker() -> None:
    """A worker that no longer hears Ctrl-C or SIGTERM (as one cleaning up after a stop)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    time.sleep(60)


def test_workers_that_do_not_stop_are_killed_and_the_stop_goes_on() -> None:
    processes = [multiprocessing.get_context("fork").Process(target=deaf_worker) for _ in range(2)]
    for process in processes:
        process.start()
    time.sleep(0.5)  # their handlers set
    with interruptible(), pytest.raises(Interrupted), stopped_on_interrupt(processes, grace=0.5):
        raise Interrupted(signal.SIGINT)
    assert [p.exitcode for p in processes] == [-signal.SIGKILL, -signal.SIGKILL]
