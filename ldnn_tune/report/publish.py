"""Put a study's report on its MLflow parent run: plots, trials.csv, summary.md, description.

Only the parent run gets them. Trial runs are renamed after their final state, e.g.
``trial-7 (PRUNED)``, where the trial loop has not done it yet (a dead worker's trial).
"""

import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import optuna
from optuna.trial import FrozenTrial, TrialState

from ldnn_tune.names import (
    BEST_TAG,
    COMMAND_TAG,
    COMMAND_TAG_LENGTH,
    NOTE_TAG,
    PARENT_RUN_TAG,
    PLOTS_ARTIFACT,
    ROLE_TAG,
    RUN_NAME_TAG,
    SUMMARY_ARTIFACT,
    TOP_KNOBS_TAG,
    TRIAL_ROLE,
    TRIAL_RUN_ATTR,
    TRIALS_ARTIFACT,
)
from ldnn_tune.report.build import ReportSource, StudyReport, build_report
from ldnn_tune.study.queries import FINISHED, best_of
from ldnn_tune.tracking import StudyTracker, trial_run_name

EVERY = 10  # finished trials between two refreshes while a study runs
MAX_SHARE = 0.05  # of the study's time, at most, spent refreshing while it runs
FIRST_GUESS_SECONDS = 3.0  # what a refresh takes (measured 2.5 s for 20 digits trials)
ENDED = (*FINISHED, TrialState.FAIL)


def write_files(report: StudyReport, folder: Path) -> None:
    """Write the report's artifacts under ``folder``: plots/, trials.csv, summary.md."""
    plots = folder / PLOTS_ARTIFACT
    plots.mkdir(parents=True, exist_ok=True)
    for plot in report.plots:
        if plot.png is not None:
            (plots / f"{plot.name}.png").write_bytes(plot.png)
        if plot.html is not None:
            (plots / f"{plot.name}.html").write_text(plot.html, encoding="utf-8")
    (folder / TRIALS_ARTIFACT).write_text(report.trials_csv, encoding="utf-8")
    (folder / SUMMARY_ARTIFACT).write_text(report.summary, encoding="utf-8")


def publish(tracker: StudyTracker, parent: str, report: StudyReport) -> None:
    """Log ``report`` on the parent run: its artifacts, description and view tags."""
    with tempfile.TemporaryDirectory() as tmp:
        write_files(report, Path(tmp))
        tracker.client.log_artifacts(parent, tmp)
    tracker.set_tags(
        parent,
        {
            NOTE_TAG: report.description,
            COMMAND_TAG: report.command[:COMMAND_TAG_LENGTH],
            TOP_KNOBS_TAG: ",".join(report.top_knobs),
        },
    )


def label_trial_runs(tracker: StudyTracker, study: optuna.Study, parent: str) -> int:
    """Name ended trials' runs by their state and tag the best one's; return the changes.

    A run is named e.g. ``trial-7 (PRUNED)``; the run of the complete trial of lowest
    validation loss, retrains included, is tagged :data:`BEST_TAG`, and the one it
    replaces untagged, so ``tags.ldnn_tune.best = "true"`` finds it in the UI; so is the
    best run of a study this one replaced (deleted and started again in its storage).
    """
    trials = study.get_trials(deepcopy=False)
    ended = {
        t.user_attrs[TRIAL_RUN_ATTR]: t
        for t in trials
        if t.state in ENDED and TRIAL_RUN_ATTR in t.user_attrs
    }
    best = best_of(trials, 1)
    best_run = best[0].user_attrs.get(TRIAL_RUN_ATTR) if best else None
    query = f"tags.`{PARENT_RUN_TAG}` = '{parent}' and tags.`{ROLE_TAG}` = '{TRIAL_ROLE}'"
    runs = tracker.client.search_runs([tracker.experiment_id], query, max_results=50000)
    changed = 0
    for run in runs:
        run_id = run.info.run_id
        marked = run.data.tags.get(BEST_TAG) == "true"
        if (run_id == best_run) != marked:
            if marked:
                tracker.client.delete_tag(run_id, BEST_TAG)
            else:
                tracker.set_tags(run_id, {BEST_TAG: "true"})
            changed += 1
        trial: FrozenTrial | None = ended.get(run_id)
        if trial is None:
            continue
        name = trial_run_name(trial.number, trial.state.name)
        if run.info.run_name != name:
            tracker.set_tags(run_id, {RUN_NAME_TAG: name})
            changed += 1
    return changed + _untag_other_studies_best(tracker, parent)


def _untag_other_studies_best(tracker: StudyTracker, parent: str) -> int:
    """Untag :data:`BEST_TAG` on the best runs of this study's predecessors; count them.

    A study deleted and started again under its name, in the same storage, shares the
    experiment with the old study's runs: the tag marks the live study's best, so
    ``tags.ldnn_tune.best = "true"`` finds one run, not one per study that ever ran there.
    A study of that name in another storage is live too, and keeps its tag.
    """
    query = f"tags.`{BEST_TAG}` = 'true' and tags.`{ROLE_TAG}` = '{TRIAL_ROLE}'"
    marked = tracker.client.search_runs([tracker.experiment_id], query, max_results=50000)
    others = [run for run in marked if run.data.tags.get(PARENT_RUN_TAG) != parent]
    ours = _storage_param(tracker, parent) if others else None
    if ours is None:
        return 0
    parents = {run.data.tags.get(PARENT_RUN_TAG, "") for run in others}
    predecessors = {p for p in parents if _storage_param(tracker, p) == ours}
    replaced = [run for run in others if run.data.tags.get(PARENT_RUN_TAG, "") in predecessors]
    for run in replaced:
        tracker.client.delete_tag(run.info.run_id, BEST_TAG)
    return len(replaced)


def _storage_param(tracker: StudyTracker, parent: str) -> str | None:
    """Return the ``storage`` a study's parent run records, or None (none, or no such run)."""
    from mlflow.exceptions import MlflowException

    try:
        return tracker.client.get_run(parent).data.params.get("storage")
    except MlflowException:
        return None


def refresh(
    tracker: StudyTracker, study: optuna.Study, parent: str, command: str, plots: bool = True
) -> float:
    """Rebuild the study's report and log it on ``parent``; return the seconds it took."""
    began = time.perf_counter()
    source = ReportSource(study, tracker.client, tracker.experiment_id, parent, command)
    publish(tracker, parent, build_report(source, plots=plots))
    label_trial_runs(tracker, study, parent)
    return time.perf_counter() - began


class PeriodicRefresh:
    """Call ``refresh()`` each time the study has ``every`` more finished trials.

    The trial loop tells it the count from the read of the study it makes each round
    anyway: a study of 1,000 trials is not read once more a trial for it.

    A refresh takes seconds, so it is skipped while the time since the last one is under
    ``1 / share`` times what the last one took (the first is guessed): the refreshes cost
    at most ``share`` of the study's time, and a short study is drawn only at its end. The
    trial that brings the study to ``total`` is left to the end of the command, which
    refreshes anyway. ``refresh`` returns the seconds it took.
    """

    def __init__(
        self,
        refresh: Callable[[], float],
        total: int,
        every: int = EVERY,
        share: float = MAX_SHARE,
        guess: float = FIRST_GUESS_SECONDS,
    ) -> None:
        """Call ``refresh`` every ``every`` finished trials below ``total``, within ``share``."""
        self.refresh = refresh
        self.total = total
        self.every = every
        self.share = share
        self.cost = guess  # what the last refresh took
        self.last = time.monotonic()  # when it ended (at first: when the study began)
        self.done: int | None = None  # finished trials at the last look

    def __call__(self, finished: int) -> None:
        """Refresh if ``finished`` trials passed a multiple of ``every`` and time allows."""
        before = finished - 1 if self.done is None else self.done
        self.done = finished
        if finished >= self.total or finished // self.every <= before // self.every:
            return
        if time.monotonic() - self.last < self.cost / self.share:
            return
        self.cost = self.refresh() or self.cost
        self.last = time.monotonic()
