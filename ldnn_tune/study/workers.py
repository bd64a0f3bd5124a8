"""Local worker processes: spawned, given a share of the cores, stopped together on Ctrl-C."""

import contextlib
import multiprocessing
import os
import signal
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from ldnn_tune.errors import USER_STOPS, Interrupted
from ldnn_tune.interrupts import ignore_further
from ldnn_tune.parent_death import end_with
from ldnn_tune.trial.device import available_cores


def threads_per_worker(n_jobs: int) -> int:
    """Return the torch threads each of ``n_jobs`` local workers gets: the cores shared out."""
    return max(1, available_cores() // n_jobs)


def start_processes(
    target: Callable[..., None], args: Sequence[tuple[object, ...]]
) -> list[multiprocessing.process.BaseProcess]:
    """Start one spawned process per ``args`` entry running ``target(*entry)``.

    Each starts with Ctrl-C ignored, which it inherits through ``exec``, until ``target``
    installs its own handling: a Ctrl-C while it still imports (seconds, on busy cores)
    printed the import's KeyboardInterrupt traceback. The command passes the stop on and,
    after a grace period, ends such a worker with SIGTERM.
    """
    context = multiprocessing.get_context("spawn")  # no forked torch or database state
    processes: list[multiprocessing.process.BaseProcess] = [
        context.Process(target=target, args=a, daemon=False) for a in args
    ]
    before = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        for process in processes:
            process.start()
    finally:
        signal.signal(signal.SIGINT, before)
    return processes


def wait_processes(
    processes: Sequence[multiprocessing.process.BaseProcess],
    tick: Callable[[], None],
    seconds: float = 1.0,
) -> list[int]:
    """Call ``tick`` every ``seconds`` until ``processes`` exit; return their exit codes."""
    with stopped_on_interrupt(processes):
        while any(p.is_alive() for p in processes):
            tick()
            time.sleep(seconds)
    tick()
    return [p.exitcode if p.exitcode is not None else -1 for p in processes]


@contextmanager
def stopped_on_interrupt(
    processes: Sequence[multiprocessing.process.BaseProcess], grace: float = 10.0
) -> Iterator[None]:
    """When this process is stopped, stop ``processes`` too, and wait for them.

    Ctrl-C reaches every process of the terminal's group, but ``kill`` or SIGTERM perhaps
    only this one: the signal is passed on to each worker, which ends its trial as failed
    and exits. Those still running after ``grace`` seconds are sent SIGTERM, and those
    running ``grace`` seconds later killed.
    """
    try:
        yield
    except USER_STOPS as error:
        ignore_further()  # a second Ctrl-C must not cut the passing on and waiting short
        signum = Interrupted.of(error).signum
        for process in processes:
            if process.is_alive() and process.pid is not None:
                with contextlib.suppress(OSError):  # it ended meanwhile
                    os.kill(process.pid, signum)
        for escalate in (lambda p: p.terminate(), lambda p: p.kill()):  # one grace for all
            _join_all(processes, grace)
            for process in processes:
                if process.is_alive():
                    escalate(process)
        _join_all(processes, grace)
        raise


def _join_all(processes: Sequence[multiprocessing.process.BaseProcess], seconds: float) -> None:
    """Wait for ``processes`` to end, up to ``seconds`` for all of them together."""
    deadline = time.monotonic() + seconds
    for process in processes:
        process.join(timeout=max(0.0, deadline - time.monotonic()))


def end_with_parent() -> None:
    """Have this worker sent SIGTERM when the command that started it dies (Linux).

    The worker would otherwise go on with the study alone, unseen, and the next command
    in that folder start workers beside it. SIGTERM ends a worker's trial as FAIL, queued
    to run again, as a ``kill`` does.
    """
    parent = multiprocessing.parent_process()
    if parent is not None and parent.pid is not None:
        end_with(parent.pid)
