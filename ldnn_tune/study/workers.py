"""Local worker processes: spawned, given a share of the cores, stopped together on Ctrl-C."""

import contextlib
import multiprocessing
import os
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from multiprocessing import resource_tracker

from ldnn_tune.errors import USER_STOPS, Interrupted
from ldnn_tune.interrupts import blocked_stops, ignore_further
from ldnn_tune.parent_death import end_with
from ldnn_tune.trial.device import available_cores


def threads_per_worker(n_jobs: int) -> int:
    """Return the torch threads each of ``n_jobs`` local workers gets: the cores shared out."""
    return max(1, available_cores() // n_jobs)


def start_processes(
    target: Callable[..., None], args: Sequence[tuple[object, ...]]
) -> list[multiprocessing.process.BaseProcess]:
    """Start one spawned process per ``args`` entry running ``target(*entry)``.

    Each starts with the stop signals held back, which it inherits through ``exec``, until
    ``target`` installs its own handling and takes them (:func:`receive_held_stops`): a
    Ctrl-C while it still imports (seconds, on busy cores) printed the import's
    KeyboardInterrupt traceback, and ignored instead, the worker went on running trials
    until the command's grace ran out.
    """
    context = multiprocessing.get_context("spawn")  # no forked torch or database state
    processes: list[multiprocessing.process.BaseProcess] = [
        context.Process(target=target, args=a, daemon=False) for a in args
    ]
    # multiprocessing's resource tracker, started with the first process, unblocks the
    # stop signals after it starts: started before the block, it leaves the block whole
    resource_tracker.ensure_running()
    with blocked_stops():
        for process in processes:
            process.start()
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
