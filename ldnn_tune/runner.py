"""Run a planned study: open it, optimise, close the MLflow parent run, summarise."""

import time

import optuna
from optuna.study import MaxTrialsCallback
from rich.console import Console

from ldnn_tune.ensembling import ensemble_study, print_ensemble
from ldnn_tune.host import Host
from ldnn_tune.objective import Objective
from ldnn_tune.plan import RunPlan
from ldnn_tune.progress import StudyProgress
from ldnn_tune.report import best_trials, print_summary
from ldnn_tune.study import FINISHED, finished_trials, make_pruner, make_sampler, open_study
from ldnn_tune.tracking import PARENT_RUN_ATTR, StudyTracker
from ldnn_tune.training import quiet_frameworks


def run_study(plan: RunPlan, host: Host, console: Console) -> optuna.Study:
    """Run ``plan``'s study until it has ``trials`` finished trials or the timeout passes."""
    quiet_frameworks()
    config = plan.config
    study = open_study(
        config.study_name,
        config.storage,
        make_sampler(config.sampler, config.seed),
        make_pruner(config.pruner, config.epochs),
        plan.identity(),
        plan.space,
    )
    tracker = StudyTracker(config.mlflow, experiment=config.study_name)
    parent = tracker.open_parent_run(
        study.user_attrs.get(PARENT_RUN_ATTR), config.study_name, _study_params(plan)
    )
    study.set_user_attr(PARENT_RUN_ATTR, parent)
    done = finished_trials(study)
    console.print(
        f"study {config.study_name!r} ({config.storage}): {done} of "
        f"{config.trials} trials finished; task {plan.task.name}. "
        f"{plan.task.describe_data()}"
    )
    started = time.monotonic()
    if done < config.trials:
        with StudyProgress(console, config.trials, done) as progress:
            objective = Objective(config, plan.task, plan.space, host, tracker, parent, progress)
            study.optimize(
                objective,
                n_trials=config.trials - done,
                timeout=config.timeout_seconds,
                callbacks=[MaxTrialsCallback(config.trials, states=FINISHED), progress.trial_done],
            )
    else:
        console.print("nothing to run: raise trials= to add trials to this study")
    best = best_trials(study, 1)
    tracker.close_parent_run(
        parent,
        {
            "finished_trials": finished_trials(study),
            "wall_seconds": time.monotonic() - started,
            **(
                {"best_val_loss": float(best[0].value)}
                if best and best[0].value is not None
                else {}
            ),
        },
    )
    print_summary(console, study, config.top, config.mlflow)
    if config.ensemble != "none" and best:
        report = ensemble_study(study, tracker, config.top_k, config.ensemble)
        print_ensemble(console, report, config.top_k)
    return study


def _study_params(plan: RunPlan) -> dict[str, object]:
    config = plan.config
    return {
        "task": plan.task.name,
        "sampler": config.sampler,
        "pruner": config.pruner,
        "seed": config.seed,
        "epochs": config.epochs,
        "storage": config.storage,
        "space": {k.name: k.describe() for k in plan.space.knobs},
        **{f"option.{k}": v for k, v in plan.identity()["options"].items()},
    }
