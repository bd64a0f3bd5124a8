"""The clock of one ``ldnn-tune run``: its deadline, and how long each phase took.

``timeout`` bounds the whole command, from the process's start to its exit: imports and
the pre-flight count, and trials stop early enough to leave the end-of-run ensemble its
time. The phases' durations go to the study's MLflow parent run as ``time_<phase>_s``.
"""

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

# what the summary and the end-of-run ensemble take (measured: under 3 s on 2 cores)
ENSEMBLE_RESERVE_SECONDS = 4.0

_command_started = time.time()  # when this module loaded, until a command marks its start


def mark_command_start() -> None:
    """Note that a command starts now: its ``timeout`` counts from here."""
    global _command_started
    _command_started = time.time()


def command_started() -> float:
    """Return the ``time.time()`` at which the running command started."""
    return _command_started


@dataclass
class RunClock:
    """When the command started, how long it may run, and what each phase took."""

    started: float  # time.time() when the command began
    timeout: float | None  # seconds, or None for no limit
    phases: dict[str, float] = field(default_factory=dict)

    @property
    def deadline(self) -> float | None:
        """Return the ``time.time()`` by which the command should end, or None."""
        return None if self.timeout is None else self.started + self.timeout

    def trials_deadline(self, reserve: float) -> float | None:
        """Return when trials must stop so that ``reserve`` seconds remain for the end."""
        deadline = self.deadline
        return None if deadline is None else deadline - reserve

    def expired(self) -> bool:
        """Return whether the deadline has passed."""
        deadline = self.deadline
        return deadline is not None and time.time() >= deadline

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        """Time the block as phase ``name`` (added to what it took before)."""
        began = time.time()
        try:
            yield
        finally:
            self.phases[name] = self.phases.get(name, 0.0) + time.time() - began

    def metrics(self) -> dict[str, float]:
        """Return ``time_<phase>_s`` for every phase, and ``time_total_s`` so far."""
        timed = {f"time_{name}_s": round(seconds, 3) for name, seconds in self.phases.items()}
        return {**timed, "time_total_s": round(time.time() - self.started, 3)}
