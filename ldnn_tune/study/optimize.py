"""Run a planned study: open it, run trials here or in worker processes, summarise."""

import sys
import time
from dataclasses import dataclass

import optuna
from rich.console import Console

from ldnn_tune.config.resolve import RunPlan, plan_run
from ldnn_tune.console.progress import StudyProgress
from ldnn_tune.ensembles.from_study import ensemble_study, print_ensemble
from ldnn_tune.plugin.manager import Host, get_plugin_manager
from ldnn_tune.study.loop import (
    Budget,
    start_processes,
    stopped_on_interrupt,
    threads_per_worker,
    trial_counts,
    wait_processes,
    work,
)
from ldnn_tune.study.open import finished_trials, make_pruner, make_sampler, open_study
from ldnn_tune.study.queries import best_trials, print_summary
from ldnn_tune.study.recovery import OrphanRunSweeper
from ldnn_tune.study.storages import GRACE_FACTOR, redact
from ldnn_tune.tracking import PARENT_RUN_ATTR, StudyTracker
from ldnn_tune.trial.objective import Objective
from ldnn_tune.trial.training import quiet_frameworks

EXIT_INTERRUPTED = 130


@dataclass
class Session:
    """An open study with its MLflow tracker and parent run."""

    study: optuna.Study
    tracker: StudyTracker
    parent: str


def open_session(plan: RunPlan) -> Session:
    """Open ``plan``'s study and its MLflow parent run (one per study, whoever starts first).

    The worker that creates the study creates the parent run before the study's identity
    is written; workers that find the study wait for the identity, so all use that run.
    """
    config = plan.config

    def create_parent(study: optuna.Study) -> None:
        tracker = StudyTracker(config.mlflow, experiment=config.study_name)
        parent = tracker.open_parent_run(None, config.study_name, _study_params(plan))
        study.set_user_attr(PARENT_RUN_ATTR, parent)

    study = open_study(
        config.study_name,
        config.storage,
        make_sampler(config.sampler, config.seed),
        make_pruner(config.pruner, config.epochs),
        plan.identity(),
        plan.space,
        heartbeat=config.heartbeat,
        on_create=create_parent,
    )
    tracker = StudyTracker(config.mlflow, experiment=config.study_name)
    known = study.user_attrs.get(PARENT_RUN_ATTR)
    parent = tracker.open_parent_run(known, config.study_name, _study_params(plan))
    if known is None:  # a study from before parent runs were made at creation
        study.set_user_attr(PARENT_RUN_ATTR, parent)
    return Session(study, tracker, parent)


def run_study(plan: RunPlan, host: Host, console: Console) -> optuna.Study:
    """Run ``plan``'s study until it has ``trials`` finished trials or the timeout passes."""
    quiet_frameworks()
    config = plan.config
    session = open_session(plan)
    study = session.study
    done = finished_trials(study)
    console.print(
        f"study {config.study_name!r} ({redact(config.storage)}): {done} of "
        f"{config.trials} trials finished; task {plan.task.name}. "
        f"{plan.task.describe_data()}"
    )
    started = time.monotonic()
    if done < config.trials:
        with StudyProgress(console, config.trials, done) as progress:
            if config.n_jobs == 1:
                _work_here(plan, host, session, progress)
            else:
                _work_in_processes(plan, host, session, progress, console)
    else:
        console.print("nothing to run: raise trials= to add trials to this study")
    _close_parent(session, time.monotonic() - started)
    print_summary(console, study, config.top, config.mlflow)
    best = best_trials(study, 1)
    if config.ensemble != "none" and best:
        report = ensemble_study(study, session.tracker, config.top_k, config.ensemble)
        print_ensemble(console, report, config.top_k)
    return study


def make_budget(plan: RunPlan) -> Budget:
    """Return the budget of this invocation: the study's total and the timeout's deadline."""
    config = plan.config
    seconds = config.timeout_seconds
    deadline = None if seconds is None else time.time() + seconds
    return Budget(config.trials, deadline, poll_seconds=min(5.0, config.heartbeat))


def _work_here(plan: RunPlan, host: Host, session: Session, progress: StudyProgress) -> None:
    config = plan.config
    objective = Objective(
        config, plan.task, plan.space, host, session.tracker, session.parent, progress
    )
    sweeper = OrphanRunSweeper(session.tracker)
    wait_note = f"(a dead worker's trial is retried {GRACE_FACTOR * config.heartbeat}s after)"

    def on_poll(study: optuna.Study, running: int) -> None:
        sweeper.sweep(study)
        progress.show_study(study, f"{running} running elsewhere {wait_note}" if running else "")

    work(session.study, objective, make_budget(plan), [progress.trial_done], on_poll)


def _work_in_processes(
    plan: RunPlan, host: Host, session: Session, progress: StudyProgress, console: Console
) -> None:
    """Run trials here and in ``n_jobs - 1`` spawned processes, all on ``cores // n_jobs``."""
    import torch

    config = plan.config
    if not plan.words:
        raise ValueError("n_jobs > 1 needs a plan made by plan_run (its words start workers)")
    threads = threads_per_worker(config.n_jobs)
    args = [(plan.words, threads, make_budget(plan)) for _ in range(config.n_jobs - 1)]
    processes = start_processes(worker_process, args)
    torch.set_num_threads(threads)
    with stopped_on_interrupt(processes):
        _work_here(plan, host, session, progress)  # this process is ready first: it starts

    def tick() -> None:
        _, running = trial_counts(session.study)
        progress.show_study(session.study, f"waiting for {running} running trials")

    codes = wait_processes(processes, tick)
    for number, code in enumerate(codes, start=1):
        if code != 0:
            console.print(f"worker {number} stopped with exit code {code}; see its output above")


def worker_process(words: tuple[str, ...], threads: int, budget: Budget) -> None:
    """Run trials of the study that ``words`` describe: the body of one local worker process."""
    try:
        _worker(words, threads, budget)
    except KeyboardInterrupt:  # Ctrl-C reaches every worker: the parent reports it once
        sys.exit(EXIT_INTERRUPTED)


def _worker(words: tuple[str, ...], threads: int, budget: Budget) -> None:
    import torch

    torch.set_num_threads(threads)
    quiet_frameworks()
    host = Host(get_plugin_manager())
    plan = plan_run(words, host)
    session = open_session(plan)
    progress = StudyProgress(Console(quiet=True), plan.config.trials, 0)
    objective = Objective(
        plan.config, plan.task, plan.space, host, session.tracker, session.parent, progress
    )
    sweeper = OrphanRunSweeper(session.tracker)

    def on_poll(study: optuna.Study, running: int) -> None:
        sweeper.sweep(study)

    work(session.study, objective, budget, on_poll=on_poll)


def _close_parent(session: Session, seconds: float) -> None:
    finished, running = trial_counts(session.study)
    best = best_trials(session.study, 1)
    summary = {"finished_trials": float(finished), "wall_seconds": seconds}
    if best and best[0].value is not None:
        summary["best_val_loss"] = float(best[0].value)
    if running:  # other workers still run trials under it: leave it RUNNING
        session.tracker.log_metrics(session.parent, summary, step=0)
    else:
        session.tracker.close_parent_run(session.parent, summary)


def _study_params(plan: RunPlan) -> dict[str, object]:
    config = plan.config
    return {
        "task": plan.task.name,
        "sampler": config.sampler,
        "pruner": config.pruner,
        "seed": config.seed,
        "epochs": config.epochs,
        "storage": redact(config.storage),
        "space": {k.name: k.describe() for k in plan.space.knobs},
        **{f"option.{k}": v for k, v in plan.identity()["options"].items()},
    }
