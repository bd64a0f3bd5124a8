"""Run a study end to end: open it, run trials here or in worker processes, summarise, ensemble."""

import shlex
import sys
import time
from collections.abc import Callable

import optuna
from optuna.trial import FrozenTrial
from rich.console import Console

from ldnn_tune.config.resolve import ResolvedRun, resolve_run
from ldnn_tune.config.settings import NO_ENSEMBLE, RunConfig
from ldnn_tune.console.progress import StudyProgress
from ldnn_tune.console.quiet import quiet_frameworks
from ldnn_tune.console.tables import print_ensemble, print_summary
from ldnn_tune.ensembles.combine import SEEDS
from ldnn_tune.ensembles.from_study import ensemble_study
from ldnn_tune.errors import EXIT_INTERRUPTED, USER_STOPS, Interrupted, PluginError
from ldnn_tune.interrupts import ignore_further, receive_held_stops
from ldnn_tune.interrupts import install as install_interrupts
from ldnn_tune.names import ENSEMBLE_USE_ATTR, TRACEBACK_ARTIFACT
from ldnn_tune.plugin.manager import Host, get_plugin_manager
from ldnn_tune.report import REPORT_RESERVE_SECONDS
from ldnn_tune.report.view import browse_hint
from ldnn_tune.study.clock import ENSEMBLE_RESERVE_SECONDS, RunClock
from ldnn_tune.study.loop import Budget, FailingTrials, look_after_dead_workers, work
from ldnn_tune.study.queries import (
    StudyView,
    best_search_trial,
    best_trials,
    ended_numbers,
    finished_search_trials,
    finished_trials,
    interrupted_since,
    reseed_count,
    stalled_since,
    view,
)
from ldnn_tune.study.recovery import OrphanRunSweeper
from ldnn_tune.study.reseeds import ReseedReserve, missing_reseeds, retrain
from ldnn_tune.study.session import (
    Session,
    close_session,
    open_session,
    periodic_report,
    warn_on_stderr,
)
from ldnn_tune.study.storages import GRACE_FACTOR
from ldnn_tune.study.workers import (
    end_with_parent,
    start_processes,
    stopped_on_interrupt,
    threads_per_worker,
    wait_processes,
)
from ldnn_tune.tracking import restored_note
from ldnn_tune.trial.objective import Objective
from ldnn_tune.urls import redact, store_words


def run_study(
    run: ResolvedRun, host: Host, console: Console, clock: RunClock | None = None
) -> optuna.Study:
    """Run ``run``'s study until it has ``trials`` finished trials or the timeout passes.

    ``clock`` times the command (default: from now); trials stop in time for the ensemble.
    """
    config = run.config
    clock = clock or RunClock(time.time(), config.timeout_seconds)
    quiet_frameworks()
    with clock.phase("open"):
        session = open_session(run)
    warn = warn_on_stderr  # stdout is the study's log; warnings go where errors do
    try:
        _search(run, host, console, clock, session, warn)
        close_session(session, clock.metrics(), warn=warn)  # with the study's plots
    except BaseException as error:  # stopped or failed: the parent run must not stay RUNNING
        stopped = isinstance(error, USER_STOPS)
        if stopped:
            ignore_further()
        if isinstance(error, Interrupted):
            error.study_open = True
        close_session(session, clock.metrics(), "KILLED" if stopped else "FAILED", warn)
        raise
    return session.study


def _search(
    run: ResolvedRun,
    host: Host,
    console: Console,
    clock: RunClock,
    session: Session,
    warn: Callable[[str], None],
) -> None:
    """Run the opened study's trials and retrains, then print the summary and ensemble."""
    config, study = run.config, session.study
    if session.space_change is not None:
        console.print(f"note: {session.space_change}", markup=False)
    if session.settings_change is not None:
        console.print(f"note: {session.settings_change}", markup=False, soft_wrap=True)
    if session.warm_start is not None:
        console.print(session.warm_start, markup=False, soft_wrap=True)
    if session.tracker.restored:
        console.print(restored_note(config.study_name), markup=False, soft_wrap=True)
    done = finished_search_trials(study)
    console.print(
        f"study {config.study_name!r} ({redact(config.storage)}): {done} of "
        f"{config.trials} trials finished; task {run.task.name}. "
        f"{run.task.describe_data()}",
        markup=False,  # a data folder's name may hold [brackets]
        soft_wrap=True,  # the terminal wraps it: no trailing space at a line's end
    )
    _end_dead_workers(session, console)  # a killed command's retrain, before its count
    budget = make_budget(run, clock, study)
    report = periodic_report(session, config.trials, warn)  # the plots, every few trials
    if done < config.trials:
        # a dead worker's trial, failed from here on, is news: it gets its line
        ended = ended_numbers(study)
        with (
            clock.phase("trials"),
            StudyProgress(console, config.trials, done, budget.deadline, ended) as progress,
        ):
            if config.n_jobs == 1:
                _work(run, host, session, progress, budget, report)
            else:
                _work_in_processes(run, host, session, progress, console, budget, report)
    elif not _missing_retrains(run, study)[1]:
        console.print("nothing to run: raise trials= to add trials to this study")
    _reseed(run, host, session, console, budget)
    tracker = session.tracker
    browse = browse_hint(tracker.client, tracker.experiment_id, config.mlflow, config.study_name)
    print_summary(console, study, config.top, browse)
    if config.ensemble != NO_ENSEMBLE and best_trials(study, 1):
        _ensemble(run, session, console, clock)
    finished = finished_search_trials(study)
    running = view(study).running  # other workers' trials, which may yet make up the total
    if finished + running < config.trials and budget.deadline is not None:
        # without an error, only the timeout ends the trials early: at the deadline, or
        # before it when the next trial could not reach its first epoch in what is left
        stalled = stalled_since(study, clock.started)
        console.print(_timeout_note(config, budget, finished, stalled))


def _end_dead_workers(session: Session, console: Console) -> None:
    """Fail the trials of workers known dead, with a line each, and end their MLflow runs.

    The trial loop does so each round; a command with no search trial left to run must
    too: a worker killed in the retrains left one RUNNING, which would read as still
    running elsewhere for good (no retrain, no ensemble).
    """
    before = ended_numbers(session.study)
    trials = look_after_dead_workers(session.study)
    OrphanRunSweeper(session.tracker).sweep(t for t in trials.failed if t.number not in before)
    StudyProgress(console, len(trials.trials), trials.finished, ended=before).line_ended(
        trials.trials
    )


def _timeout_note(config: RunConfig, budget: Budget, finished: int, stalled: bool) -> str:
    """Return the line saying the timeout ended the study after ``finished`` trials.

    ``stalled``: no trial finished while the command ran, nor runs on; the command's
    error line says what to do (the same command would stall again).
    """
    if stalled:
        if budget.expired():
            return f"timeout {config.timeout} reached before a trial finished"
        return f"timeout {config.timeout} leaves no time for a trial to reach its first epoch"
    ended = "reached" if budget.expired() else "leaves no time for another trial"
    return (
        f"timeout {config.timeout} {ended} after {finished} of {config.trials} trials; "
        "run the same command again to continue"
    )


def _ensemble(run: ResolvedRun, session: Session, console: Console, clock: RunClock) -> None:
    """Ensemble the study's best trials, unless other workers are still running trials.

    Every worker of a shared study gets here; only the one that finishes last ensembles.
    """
    config = run.config
    running = view(session.study).running
    if running:
        console.print(
            f"{running} {'trial still runs' if running == 1 else 'trials still run'} in other "
            f"workers; the last worker to finish ensembles (or: {ensemble_command(config)})",
            markup=False,
            soft_wrap=True,
        )
        return
    with clock.phase("ensemble"):
        comparison = ensemble_study(session.study, session.tracker, config.top_k, config.ensemble)
    use = str(session.study.user_attrs.get(ENSEMBLE_USE_ATTR, "predict"))
    print_ensemble(console, comparison, config.top_k, use=use, mlflow_uri=config.mlflow)


def ensemble_command(config: RunConfig) -> str:
    """Return the ``ldnn-tune ensemble`` command for this run's study and stores."""
    words = [
        f"study={config.study_name}",
        *store_words(storage=config.storage, mlflow=config.mlflow),
    ]
    return f"ldnn-tune ensemble {shlex.join(words)}"


def make_budget(run: ResolvedRun, clock: RunClock, study: optuna.Study) -> Budget:
    """Return the budget of this invocation: the study's total, and when trials must stop.

    The total is ``trials`` search trials plus the retrains the study already has.
    Trials stop early enough to leave the end-of-run ensemble and report their time.
    """
    config = run.config
    reserve = 0.0 if config.ensemble == NO_ENSEMBLE else ENSEMBLE_RESERVE_SECONDS
    reserve += REPORT_RESERVE_SECONDS
    deadline = clock.trials_deadline(reserve)
    total = config.trials + reseed_count(study)
    return Budget(total, deadline, poll_seconds=min(5.0, config.heartbeat))


def _reseeds_wanted(run: ResolvedRun) -> int:
    """Return how many retrains of the best trial this run makes (only for ``seeds``)."""
    return run.config.reseeds if run.config.ensemble == SEEDS else 0


def _missing_retrains(run: ResolvedRun, study: optuna.Study) -> tuple[FrozenTrial | None, int]:
    """Return the search's best trial and how many of its retrains this run has to make."""
    anchor = best_search_trial(study)
    wanted = _reseeds_wanted(run)
    return anchor, 0 if anchor is None or wanted == 0 else missing_reseeds(study, anchor, wanted)


def _reseed(
    run: ResolvedRun, host: Host, session: Session, console: Console, budget: Budget
) -> None:
    """Retrain the search's best trial with new seeds, unless other workers still run trials.

    Every worker of a shared study gets here; only one that finds no trial running
    retrains (the others' last trials may still change which trial is best).
    """
    study = session.study
    anchor, missing = _missing_retrains(run, study)
    if anchor is None or missing == 0 or view(study).running:
        return
    wanted = _reseeds_wanted(run)
    seeds = f"{missing} new seed{'' if missing == 1 else 's'}"
    done = finished_trials(study)
    with StudyProgress(console, done + missing, done, budget.deadline) as progress:
        objective = _objective(run, host, session, progress, budget)
        if not budget.allows(objective.first_epoch_seconds()):
            console.print(
                f"no time left to retrain trial {anchor.number}'s knobs with {seeds}; "
                "run the same command again to train them"
            )
            return
        console.print(f"retraining trial {anchor.number}'s knobs with {seeds} for the ensemble")
        retrain(study, objective, anchor, wanted, budget, first_epoch=objective.first_epoch_seconds)
    left = missing_reseeds(study, anchor, wanted)  # another command may have run some
    if left:
        console.print(
            f"{missing - left} of {missing} retrains ran before the timeout; "
            "run the same command again to train the rest"
        )


def _objective(
    run: ResolvedRun, host: Host, session: Session, progress: StudyProgress, budget: Budget
) -> Objective:
    """Return the objective that trains the session's trials, knowing recent epoch times."""
    objective = Objective(
        run.config,
        run.task,
        run.space,
        host,
        session.tracker,
        session.parent,
        progress,
        deadline=budget.deadline,
    )
    objective.learn_first_epochs(session.study)
    return objective


def _work(
    run: ResolvedRun,
    host: Host,
    session: Session,
    progress: StudyProgress,
    budget: Budget,
    on_finished: Callable[[int], None] | None = None,
) -> None:
    """Run trials of the session's study in this process until ``budget`` says stop.

    ``on_finished`` is told the study's finished trials each round (the report's refresh).
    """
    config = run.config
    objective = _objective(run, host, session, progress, budget)
    sweeper = OrphanRunSweeper(session.tracker)
    wait_note = f"(a dead worker's trial is retried {GRACE_FACTOR * config.heartbeat}s after)"
    reserve = ReseedReserve(_reseeds_wanted(run), budget.deadline)

    def first_epoch() -> float:  # and the time the retrains after the search will need
        return objective.first_epoch_seconds() + reserve.seconds()

    def on_poll(trials: StudyView) -> None:
        if on_finished is not None:
            on_finished(trials.finished)
        reserve.update(trials)
        sweeper.sweep(trials.failed)
        running = trials.running
        progress.show(trials, f"{running} running elsewhere {wait_note}" if running else "")

    pointed: list[int] = []

    def on_failure(trial: FrozenTrial) -> None:  # its line, with the reason, is printed
        if not pointed:  # once a command: where to read what went wrong
            pointed.append(trial.number)
            progress.console.print(
                f"trial {trial.number}'s traceback, as every failed trial's, is the artifact "
                f"{TRACEBACK_ARTIFACT} of its MLflow run (ldnn-tune ui)",
                markup=False,
            )

    try:
        work(
            session.study,
            objective,
            budget,
            on_poll=on_poll,
            first_epoch=first_epoch,
            max_failures=config.max_failures,
            on_failure=on_failure,
        )
    except FailingTrials as failing:
        if failing.in_host:  # ldnn-tune's own fault: the command says so, not the plugin's
            raise
        raise PluginError(run.task.name, run.source, str(failing), failing) from None


def _work_in_processes(
    run: ResolvedRun,
    host: Host,
    session: Session,
    progress: StudyProgress,
    console: Console,
    budget: Budget,
    report: Callable[[int], None] | None = None,
) -> None:
    """Run trials here and in ``n_jobs - 1`` spawned processes, all on ``cores // n_jobs``."""
    import torch

    config = run.config
    if not run.words:
        raise ValueError("n_jobs > 1 needs a run made by resolve_run (its words start workers)")
    threads = threads_per_worker(config.n_jobs)
    args = [(run.words, threads, budget, number) for number in range(1, config.n_jobs)]
    processes = start_processes(worker_process, args)
    torch.set_num_threads(threads)
    ended = ended_numbers(session.study)
    try:
        with stopped_on_interrupt(processes):
            # this process is ready first: it starts; it alone refreshes the study's plots
            _work(run, host, session, progress, budget, report)
    except Interrupted as stop:  # the workers have ended their trials: say which
        stop.others = interrupted_since(session.study, ended)
        raise

    def tick() -> None:
        trials = view(session.study)
        progress.show(trials, f"waiting for {trials.running} running trials")

    codes = wait_processes(processes, tick)
    for number, code in enumerate(codes, start=1):
        if code != 0:
            console.print(f"worker {number} stopped with exit code {code}; see its output above")


def worker_process(words: tuple[str, ...], threads: int, budget: Budget, number: int) -> None:
    """Run trials of the study that ``words`` describe: the body of local worker ``number``."""
    install_interrupts()
    try:
        receive_held_stops()  # a Ctrl-C while it started is raised here, before any trial
        end_with_parent()  # raises Interrupted at once when the command already died
        _worker(words, threads, budget, number)
    except Interrupted as stop:  # Ctrl-C reaches every worker: the parent reports it once
        sys.exit(stop.exit_code)
    except KeyboardInterrupt:
        sys.exit(EXIT_INTERRUPTED)


def _worker(words: tuple[str, ...], threads: int, budget: Budget, number: int) -> None:
    import torch

    torch.set_num_threads(threads)
    quiet_frameworks()
    host = Host(get_plugin_manager())
    run = resolve_run(words, host)
    session = open_session(run, number)
    progress = StudyProgress(Console(quiet=True), run.config.trials, 0)
    _work(run, host, session, progress, budget)
