"""The terminal progress display: trials done, best so far, the current trial's epoch."""

from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from ldnn_tune.study.queries import StudyView


class StudyProgress:
    """Two bars: the study's finished trials (with the best value) and the running trial's epochs.

    Use as a context manager; :meth:`show` takes one read of the study (a StudyView).
    """

    def __init__(self, console: Console, total_trials: int, already_done: int) -> None:
        """Show progress towards ``total_trials``, of which ``already_done`` are finished."""
        self.console = console
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[note]}"),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        )
        self.trials = self.progress.add_task(
            "trials", total=total_trials, completed=already_done, note=""
        )
        self.epochs = self.progress.add_task("epoch ", total=1, visible=False, note="")

    def __enter__(self) -> "StudyProgress":
        self.progress.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.progress.stop()

    def start_trial(self, number: int, max_epochs: int) -> None:
        """Reset the epoch bar for trial ``number``."""
        self.progress.reset(
            self.epochs,
            total=max_epochs,
            completed=0,
            visible=True,
            description=f"trial {number}",
            note="",
        )

    def epoch_done(self, epoch: int, val_loss: float | None) -> None:
        """Advance the epoch bar to ``epoch`` and show its validation loss."""
        note = f"val_loss {val_loss:.4f}" if val_loss is not None else ""
        self.progress.update(self.epochs, completed=epoch, note=note)

    def show(self, trials: StudyView, extra: str = "") -> None:
        """Show the study's finished trials and best validation loss, then ``extra``."""
        best = trials.best_value
        note = f"best val_loss {best:.4f}" if best is not None else ""
        completed = trials.finished
        self.progress.update(self.trials, completed=completed, note=" ".join([note, extra]).strip())
