"""The terminal progress display: trials done, best so far, the current trial's epoch."""

from types import TracebackType

import optuna
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from ldnn_tune.study.queries import best_trials, finished_trials


class StudyProgress:
    """Two bars: the study's finished trials (with the best value) and the running trial's epochs.

    Use as a context manager; ``trial_done`` is an Optuna study callback.
    """

    def __init__(self, console: Console, total_trials: int, already_done: int) -> None:
        """Show progress towards ``total_trials``, of which ``already_done`` are finished."""
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

    def trial_done(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        """Count a finished trial and show the best validation loss so far."""
        self.show_study(study)

    def show_study(self, study: optuna.Study, extra: str = "") -> None:
        """Show ``study``'s finished trials and best validation loss, then ``extra``."""
        finished = finished_trials(study)
        best = best_trials(study, 1)
        best_value = best[0].value if best else None
        note = f"best val_loss {best_value:.4f}" if best_value is not None else ""
        self.progress.update(self.trials, completed=finished, note=" ".join([note, extra]).strip())
