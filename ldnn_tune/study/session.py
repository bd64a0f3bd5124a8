"""A study with its MLflow tracker and parent run: opened by every worker, closed at the end."""

import contextlib
import shlex
import sys
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import optuna
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    check_distribution_compatibility,
)

from ldnn_tune.config.resolve import ResolvedRun
from ldnn_tune.errors import UsageError, first_line, study_gone
from ldnn_tune.names import (
    COMMAND_TAG,
    COMMAND_TAG_LENGTH,
    COMMANDS_ATTR,
    CREATOR_ATTR,
    ENSEMBLE_USE_ATTR,
    PARENT_RUN_ATTR,
    SPACE_IN_USE_ATTR,
    SPACES_ATTR,
)
from ldnn_tune.plugin.calls import plugin_code
from ldnn_tune.plugin.task import ensemble_use
from ldnn_tune.space.knobs import Knob, SearchSpace
from ldnn_tune.study.open import open_study, study_set_up
from ldnn_tune.study.pruners import make_pruner
from ldnn_tune.study.queries import best_trials, finished_search_trials, trial_counts
from ldnn_tune.study.recovery import this_worker
from ldnn_tune.study.samplers import make_sampler, sampler_seed
from ldnn_tune.study.warm_start import load_warm_start
from ldnn_tune.tracking import StudyTracker, require_parent_run
from ldnn_tune.urls import redact

COMMANDS_KEPT = 50  # the newest commands a study's history keeps


@dataclass
class Session:
    """An open study with its MLflow tracker and parent run."""

    study: optuna.Study
    tracker: StudyTracker
    parent: str
    space_change: str | None = None  # what changed when this command's space is new
    command: str = ""  # the command that ran it, for the description's "reproduce" line
    report_seconds: float = 0.0  # time spent drawing and logging the study's report
    warm_start: str | None = None  # what ``warm_start=`` did (or why it did nothing)
    settings_change: str | None = None  # run settings other than the study's first command's


def check_compatible(
    study: optuna.Study,
    space: SearchSpace,
    pinned: Collection[str] = (),
    user_space: Path | None = None,
) -> None:
    """Refuse a space that Optuna cannot continue the study with, saying what made it so.

    A knob of a new kind, a new set of choices or a switched log scale would fail every
    trial that samples it. The message names every such knob, and the likely cause: a
    knob ``pinned`` on the command line, or a ``space=`` other than the study's last one.
    """
    searched: dict[str, BaseDistribution] = {}
    for trial in study.get_trials(deepcopy=False):
        for name, distribution in trial.distributions.items():
            searched.setdefault(name, distribution)
    refused = []
    for knob in space.knobs:
        before = searched.get(knob.name)
        if before is None:
            continue
        try:
            check_distribution_compatibility(before, knob.distribution)
        except ValueError:
            refused.append((knob, before))
    if not refused:
        return
    knob, before = refused[0]
    old = Knob(knob.name, before, None, {}).describe()
    also = f"; nor {', '.join(k.name for k, _ in refused[1:])}" if refused[1:] else ""
    raise UsageError(
        f"study {study.study_name!r} searched {knob.name} as {old}; Optuna cannot "
        f"continue it with {knob.describe()} ({_change(before, knob.distribution)}){also}; "
        f"{_remedy(study, knob.name, pinned, user_space)}"
    )


def _remedy(
    study: optuna.Study, name: str, pinned: Collection[str], user_space: Path | None
) -> str:
    """Return what to do about knob ``name``: drop its pin, give the study's space again."""
    if name in pinned:
        return f"{name}= pins it so: drop {name}=, or use another study= name"
    used = _last_space_word(study)
    if used is None:  # no command recorded: nothing to compare with
        return "use another study= name, or the study's own space"
    if used == "":
        return "the study's last command had no space=: drop it, or use another study= name"
    if user_space is not None and Path(used).resolve() == user_space.resolve():
        return (
            f"the study's last command had space={used} too: the file changed since? restore "
            "it, or use another study= name"
        )
    return f"the study's last command had space={used}: give it again, or use another study= name"


def _last_space_word(study: optuna.Study) -> str | None:
    """Return the ``space=`` of the study's last recorded command ("": none), or None."""
    history = study.user_attrs.get(COMMANDS_ATTR, [])
    if not history:
        return None
    try:
        words = shlex.split(str(history[-1][-1]))
    except ValueError:  # a command cut at the tag's length, mid-quote
        return None
    return next((word.removeprefix("space=") for word in words if word.startswith("space=")), "")


def _change(before: BaseDistribution, after: BaseDistribution) -> str:
    """Return which change Optuna refuses: of kind, of choices, or of log scale."""
    if type(before) is not type(after):
        return "another kind of knob"
    if isinstance(before, CategoricalDistribution):
        return "other choices; Optuna keeps a categorical knob's choices for good"
    return "its log scale dropped" if getattr(before, "log", False) else "a log scale added"


def record_space(study: optuna.Study, space: SearchSpace) -> str | None:
    """Record ``space`` as the study's space in use; say how it differs from the last one.

    Every distinct space is kept once, numbered from 1, in the study's ``ldnn_tune_spaces``;
    ``ldnn_tune_space_in_use`` names the one the latest command ran with, so a space used
    before and come back to is compared with the one in use, not the newest recorded.
    """
    signature = {k.name: f"{k.describe()}, first {k.default!r}" for k in space.knobs}
    versions: list[dict[str, str]] = study.user_attrs.get(SPACES_ATTR, [])
    in_use = int(study.user_attrs.get(SPACE_IN_USE_ATTR, len(versions)))
    last = versions[in_use - 1] if 0 < in_use <= len(versions) else None
    if signature == last:
        return None
    new = signature not in versions
    if new:
        versions = [*versions, signature]
        study.set_user_attr(SPACES_ATTR, versions)
    number = versions.index(signature) + 1
    study.set_user_attr(SPACE_IN_USE_ATTR, number)
    if last is None:
        return None
    changed = [
        f"{name}: {last.get(name, 'absent')} -> {signature.get(name, 'absent')}"
        for name in [*last, *(n for n in signature if n not in last)]
        if last.get(name) != signature.get(name)
    ]
    said = f"recorded as space version {number}" if new else f"space version {number} again"
    return f"the search space differs from the study's last ({'; '.join(changed)}); {said}"


def open_session(run: ResolvedRun, worker: int = 0) -> Session:
    """Open ``run``'s study and its MLflow parent run (one per study, whoever starts first).

    The worker that creates the study creates the parent run before the study's identity
    is written; workers that find the study wait for the identity, so all use that run.
    ``worker`` numbers this process among the ``n_jobs`` of one command (0: the command's
    own); with the study's trials it seeds the sampler (:func:`sampler_seed`).
    """
    config = run.config

    def create_parent(study: optuna.Study) -> None:
        tracker = StudyTracker(config.mlflow, experiment=config.study_name, new_study=True)
        parent = tracker.open_parent_run(None, config.study_name, study_params(run))
        study.set_user_attr(PARENT_RUN_ATTR, parent)

    warm = warm_start(run)
    study = open_study(
        config.study_name,
        config.storage,
        make_pruner(config.pruner, config.epochs),
        run.identity(),
        run.space,
        heartbeat=config.heartbeat,
        on_create=create_parent,
        first=warm.first,
        option_defaults=run.option_defaults(),
        locations=run.location_options(),
    )
    pinned = {word.partition("=")[0] for word in run.words} & set(run.space.names)
    check_compatible(study, run.space, pinned, config.space)
    require_parent_run(config.mlflow, study)
    trials = study.get_trials(deepcopy=False)
    creator = study.user_attrs.get(CREATOR_ATTR)
    seed = sampler_seed(config.seed, trials, worker, this_worker(), creator)
    study.sampler = make_sampler(config.sampler, seed)
    # made after the study opened, so a bad storage URL creates no MLflow store
    tracker = StudyTracker(config.mlflow, experiment=config.study_name)
    own = own_parent_run(study, tracker)
    params = study_params(run)
    parent = tracker.open_parent_run(own, config.study_name, params)
    if own is None:
        study.set_user_attr(PARENT_RUN_ATTR, parent)
    command = f"ldnn-tune run {shlex.join(portable_words(run))}" if run.words else ""
    if command:  # now, not with the first report: a command killed before it has one too
        tracker.set_tags(parent, {COMMAND_TAG: command[:COMMAND_TAG_LENGTH]})
        if worker == 0:  # the command's own process: its workers run the same words
            record_command(study, command)
    if worker == 0:
        record_ensemble_use(study, run)
    session = Session(study, tracker, parent, record_space(study, run.space), command)
    session.warm_start = warm.note
    if own is not None and worker == 0:
        session.settings_change = settings_change(tracker, own, params)
    return session


CHANGEABLE = ("epochs", "average_epochs", "sampler", "pruner")  # a continuation may change


def settings_change(tracker: StudyTracker, parent: str, params: Mapping[str, object]) -> str | None:
    """Return what this command trains with that the study's first command did not, or None.

    The study's run keeps its first command's settings (MLflow's params cannot change):
    a continuation with another ``epochs=`` gives its trials another budget than the
    earlier ones, which a user comparing them should know.
    """
    first = tracker.client.get_run(parent).data.params
    changed = [k for k in CHANGEABLE if k in first and first[k] != str(params[k])]
    if not changed:
        return None
    now = ", ".join(f"{k}={params[k]}" for k in changed)
    began = ", ".join(f"{k}={first[k]}" for k in changed)
    return (
        f"this command's trials run with {now}; the study began with {began} (each "
        "trial's MLflow run records its own, as run.epochs and the like)"
    )


@dataclass(frozen=True)
class WarmStartPlan:
    """What ``warm_start=`` does in this run: the knob sets queued first, the line saying so."""

    first: Sequence[dict[str, Any]] = ()
    note: str | None = None


def warm_start(run: ResolvedRun) -> WarmStartPlan:
    """Return the knob sets ``warm_start=`` queues for a new study, or a note why it does not.

    A study that exists already keeps its own history: there it only says so.
    """
    config = run.config
    if config.warm_start is None:
        return WarmStartPlan()
    if study_set_up(config.study_name, config.storage):  # before the source is even read
        name = config.study_name
        note = f"note: warm_start={config.warm_start} ignored: study {name!r} exists already"
        return WarmStartPlan(note=note)
    warm = load_warm_start(
        config.warm_start, config.storage, run.task.name, run.space, kind=str(run.task.kind)
    )
    return WarmStartPlan(warm.params, warm.describe())


def refresh_report(
    session: Session, plots: bool = True, warn: Callable[[str], None] | None = None
) -> float:
    """Log the study's plots, trials.csv and description on its parent run; return seconds.

    ``plots=False`` (a stopped command) logs the tables and description only. A failure
    is handed to ``warn`` (or raised when there is none).
    """
    from ldnn_tune.report.publish import refresh

    try:
        seconds = refresh(session.tracker, session.study, session.parent, session.command, plots)
    except Exception as error:
        if warn is None:
            raise
        warn(f"could not log the study's plots: {first_line(error)}")
        return 0.0
    session.report_seconds += seconds
    return seconds


def close_session(
    session: Session,
    timings: Mapping[str, float],
    status: str = "FINISHED",
    warn: Callable[[str], None] | None = None,
) -> None:
    """Log the study's report, summary and this command's ``timings`` on the parent run.

    The report's plots are drawn only when the command finished (``warn`` hears of a
    failure to draw them). The run ends with ``status`` (KILLED when the user stopped
    the command, FAILED when it failed) unless other workers still run trials under it.
    A store that cannot be written (a full disk) does not hide the failure that brought
    us here.
    """
    try:
        refresh_report(session, plots=status == "FINISHED", warn=warn or warn_on_stderr)
        _close(session, timings, status)
    except Exception as error:
        if status == "FINISHED":
            raise
        if study_gone(error):  # deleted meanwhile: no other worker can run trials under it
            with contextlib.suppress(Exception):
                session.tracker.client.set_terminated(session.parent, status)


def periodic_report(
    session: Session, total: int, warn: Callable[[str], None]
) -> Callable[[int], None]:
    """Return what refreshes the report every few finished trials, told their count.

    The plotting libraries start loading now, in the background, while trials train.
    """
    from ldnn_tune.report.figures import warm_up
    from ldnn_tune.report.publish import PeriodicRefresh

    warm_up()
    return PeriodicRefresh(lambda: refresh_report(session, warn=warn), total)


def warn_on_stderr(message: str) -> None:
    """Print ``message`` as a warning on stderr."""
    print(f"warning: {message}", file=sys.stderr)


def _close(session: Session, timings: Mapping[str, float], status: str) -> None:
    finished, running = trial_counts(session.study)
    best = best_trials(session.study, 1)
    search = finished_search_trials(session.study)  # what trials= counts; then the retrains
    summary = {"finished_trials": float(search), "retrains": float(finished - search), **timings}
    summary["time_report_s"] = round(session.report_seconds, 3)
    if best and best[0].value is not None:
        summary["best_val_loss"] = float(best[0].value)
    if running:  # other workers still run trials under it: leave it RUNNING
        session.tracker.log_metrics(session.parent, summary, step=0)
    else:
        session.tracker.close_parent_run(session.parent, summary, status)


def portable_words(run: ResolvedRun) -> list[str]:
    """Return ``run``'s words with ``data_dir=`` made absolute.

    The command the report shows is run again from other folders too.
    """
    data_dir = run.config.data_dir
    return [
        f"data_dir={data_dir.resolve()}"
        if word.startswith("data_dir=") and data_dir
        else redact(word)
        for word in run.words
    ]


def own_parent_run(study: optuna.Study, tracker: StudyTracker) -> str | None:
    """Return ``study``'s parent run, or None when it is another study's.

    A study copied with ``optuna.copy_study`` under another name carries the original's
    parent run, in the original's experiment: continuing it there rewrote the original's
    description and nested the copy's trials under a run of another experiment. It gets
    a parent run of its own (None: the caller makes one).
    """
    parent = str(study.user_attrs[PARENT_RUN_ATTR])
    if tracker.client.get_run(parent).info.experiment_id != tracker.experiment_id:
        return None
    return parent


def study_params(run: ResolvedRun) -> dict[str, object]:
    """Return what the parent run records of the study's setup (the options read)."""
    config = run.config
    with plugin_code(run.task.name, run.source, "unread_options()"):
        unread = run.task.unread_options()
    return {
        "task": run.task.name,
        "sampler": config.sampler,
        "pruner": config.pruner,
        "seed": config.seed,
        "epochs": config.epochs,
        "average_epochs": config.average_epochs,
        "storage": redact(config.storage),
        **({"data_dir": str(config.data_dir.resolve())} if config.data_dir else {}),
        "space": {
            **{k.name: k.describe() for k in run.space.knobs},
            **{name: f"fixed {run.space.fixed[name]} (removed)" for name in run.space.user_removed},
        },
        **{f"option.{k}": v for k, v in run.identity()["options"].items() if k not in unread},
    }


def record_ensemble_use(study: optuna.Study, run: ResolvedRun) -> None:
    """Record which command runs the study's ensembles, for ``ldnn-tune ensemble`` to name.

    The prepared task knows (``text_codec()`` of a character model reads its text); the
    ``ensemble`` command, which does not prepare the task, reads it back.
    """
    with plugin_code(run.task.name, run.source, "text_codec()"):
        use = ensemble_use(run.task)
    if study.user_attrs.get(ENSEMBLE_USE_ATTR) != use:
        study.set_user_attr(ENSEMBLE_USE_ATTR, use)


def record_command(study: optuna.Study, command: str) -> None:
    """Add ``command`` to the study's history of commands (the newest ``COMMANDS_KEPT``).

    The parent run's params are the first command's and its tag the last one's; a study
    grown over several commands (more trials, another pruner) is told by all of them.
    """
    history = list(study.user_attrs.get(COMMANDS_ATTR, []))
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime())
    history.append([when, command[:COMMAND_TAG_LENGTH]])
    study.set_user_attr(COMMANDS_ATTR, history[-COMMANDS_KEPT:])
