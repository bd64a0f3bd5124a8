"""The terminal progress display: trials done, best so far, time left, the current trial.

Each finished trial also gets one plain line (number, state, val_loss or reason, time,
knobs): above the bars on a terminal, and the whole record where output is redirected
(nohup, tee, CI), where the bars do not draw. Trials other processes finish (the workers of
``n_jobs``, another command on the study) get theirs when the display next reads the study.
"""

import time
from collections.abc import Iterable, Mapping, Sequence
from types import TracebackType

from optuna.trial import FrozenTrial
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from ldnn_tune.config.timespan import format_seconds
from ldnn_tune.study.queries import StudyView, given_up, reason

KNOBS_SHOWN = 6  # the running trial's knobs on its bar, in the order the space samples them


def knobs_text(params: Mapping[str, object], limit: int = KNOBS_SHOWN) -> str:
    """Return ``lr=0.1 width=32 …``: the first ``limit`` of a trial's sampled knobs."""
    shown = [f"{k}={_short(v)}" for k, v in list(params.items())[:limit]]
    return " ".join(shown + (["…"] if len(params) > limit else []))


def _short(value: object) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)


class StudyProgress:
    """Two bars: the study's finished trials (with the best value) and the running trial's epochs.

    Use as a context manager; :meth:`show` takes one read of the study (a StudyView).
    """

    def __init__(
        self,
        console: Console,
        total_trials: int,
        already_done: int,
        deadline: float | None = None,
        ended: Iterable[int] | None = None,
    ) -> None:
        """Show progress towards ``total_trials``, of which ``already_done`` are finished.

        ``deadline`` (``time.time()``) is when trials must stop: the bar shows the time left.
        ``ended``: the trials the study had ended before this command, which get no line
        (None: those it has when the display first reads it).
        """
        self.console = console
        self.deadline = deadline
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[note]}"),
            TimeElapsedColumn(),
            console=console,
            transient=False,
            disable=not console.is_terminal,  # redirected: the per-trial lines are the record
        )
        self.trials = self.progress.add_task(
            "trials", total=total_trials, completed=already_done, note=""
        )
        self.epochs = self.progress.add_task("epoch ", total=1, visible=False, note="")
        self.knobs = ""
        self.lined = None if ended is None else set(ended)  # trials with a line, or unread

    def __enter__(self) -> "StudyProgress":
        self.progress.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.progress.stop()

    def start_trial(
        self, number: int, max_epochs: int, params: Mapping[str, object] | None = None
    ) -> None:
        """Reset the epoch bar for trial ``number``, naming its sampled knobs."""
        self.knobs = knobs_text(params or {})
        self.progress.reset(
            self.epochs,
            total=max_epochs,
            completed=0,
            visible=True,
            description=f"trial {number}",
            note=self.knobs,
        )

    def trial_done(
        self, number: int, state: str, outcome: str, seconds: float, params: Mapping[str, object]
    ) -> None:
        """Print one line for a finished trial: number, state, outcome, time, knobs."""
        if self.lined is not None:
            self.lined.add(number)
        line = (
            f"trial {number} {state} {outcome} in {format_seconds(seconds)}  {knobs_text(params)}"
        )
        self.console.print(line.rstrip(), markup=False, highlight=False, soft_wrap=True)

    def epoch_done(self, epoch: int, val_loss: float | None) -> None:
        """Advance the epoch bar to ``epoch`` and show its validation loss."""
        note = f"val_loss {val_loss:.4f}" if val_loss is not None else ""
        self.progress.update(self.epochs, completed=epoch, note=f"{note}  {self.knobs}".strip())

    def show(self, trials: StudyView, extra: str = "") -> None:
        """Show the study's finished trials and best validation loss, then ``extra``.

        A trial that another process finished since the last look gets its line here.
        """
        self.line_ended(trials.trials)
        best = trials.best_value
        note = f"best val_loss {best:.4f}" if best is not None else ""
        completed = trials.finished
        notes = [note, self.time_left(), extra]
        self.progress.update(self.trials, completed=completed, note=" ".join(n for n in notes if n))

    def line_ended(self, trials: Sequence[FrozenTrial]) -> None:
        """Print a line for each of ``trials`` that ended since the last look, elsewhere."""
        ended = {t.number: t for t in trials if t.state.is_finished()}
        if self.lined is None:  # those the study had when this command began were lined then
            self.lined = set(ended)
            return
        for number in sorted(set(ended) - self.lined):
            trial = ended[number]
            if given_up(trial):  # unstarted: no line of its own either
                self.lined.add(number)
                continue
            outcome = f"val_loss {trial.value:.4f}" if trial.value is not None else reason(trial)
            outcome = outcome or "(no reason recorded)"
            seconds = trial.duration.total_seconds() if trial.duration else 0.0
            self.trial_done(number, trial.state.name, outcome, seconds, trial.params)

    def time_left(self) -> str:
        """Return ``"4m10s left"`` before the deadline ("" without one)."""
        if self.deadline is None:
            return ""
        return f"{format_seconds(max(self.deadline - time.time(), 0.0))} left"
