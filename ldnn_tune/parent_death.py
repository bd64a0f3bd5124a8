"""Processes that end with the ldnn-tune command that started them, even when it is killed.

A command killed outright (SIGKILL, the OOM killer) cannot pass a signal on: its workers
went on with the study alone and its MLflow server kept the port. Linux sends a child a
signal of its choosing when its parent dies, once the child asks (``prctl``).

Run as ``python -m ldnn_tune.parent_death PARENT_PID MODULE ARG...``, it asks that, then
runs ``python -m MODULE ARG...`` in its own process.
"""

import contextlib
import ctypes
import os
import runpy
import signal
import sys

PR_SET_PDEATHSIG = 1  # Linux prctl(2): the signal a process gets when its parent dies


def end_with(parent_pid: int) -> None:
    """Have this process sent SIGTERM when its parent, ``parent_pid``, dies (Linux only)."""
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(OSError, AttributeError):  # no libc to ask: as before
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent_pid:  # it died before the request
        os.kill(os.getpid(), signal.SIGTERM)


def launcher(module: str, *args: str) -> list[str]:
    """Return the command line running ``python -m module args`` to end with this process."""
    return [sys.executable, "-m", __name__, str(os.getpid()), module, *args]


def main(argv: list[str]) -> None:
    """Ask to end with the parent named first in ``argv``, then run the module named next."""
    parent_pid, module, *args = argv
    end_with(int(parent_pid))
    sys.argv = [module, *args]
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main(sys.argv[1:])
