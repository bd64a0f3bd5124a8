"""The ``ldnn-tune`` command: run, tasks, space, ui."""

import argparse
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass

from rich.console import Console
from rich.table import Table

from ldnn_tune.config.settings import EnsembleConfig, build_typed, field_names, split_words
from ldnn_tune.errors import UsageError, choices_text
from ldnn_tune.plugin.manager import Host, get_plugin_manager

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


class _Parser(argparse.ArgumentParser):
    """argparse, but a mistake is one line on stderr and exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser: a subcommand followed by ``key=value`` words."""
    parser = _Parser(prog="ldnn-tune", description=__doc__)
    commands = parser.add_subparsers(
        dest="command", metavar="COMMAND", required=True, parser_class=_Parser
    )
    helps = {
        "run": "tune a task: ldnn-tune run task=image [trials=20 timeout=10m lr=0.1 ...]",
        "tasks": "list the installed task plugins",
        "check": "pre-flight checks of a task in seconds: ldnn-tune check task=image [knob=value]",
        "space": "print the effective search space: ldnn-tune space task=image [space=FILE]",
        "ensemble": "ensemble a study's best trials: ldnn-tune ensemble study=NAME "
        "[top_k=5 method=greedy|average storage=URL mlflow=URI]",
        "predict": "run a saved ensemble on files: ldnn-tune predict model=RUN_ID_OR_FOLDER "
        "input=FILE[,FILE...] [mlflow=URI output=FILE.csv]",
        "ui": "serve the MLflow UI on 127.0.0.1: ldnn-tune ui [mlflow=URI port=5000]",
    }
    for name, text in helps.items():
        sub = commands.add_parser(name, help=text, description=text)
        sub.add_argument("words", nargs="*", metavar="key=value")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the process exit code."""
    console = Console()
    try:
        args = build_parser().parse_args(argv)
        command = COMMANDS[args.command]
        return command(args.words, console)
    except UsageError as error:
        Console(stderr=True, highlight=False).print(f"error: {error}", markup=False, soft_wrap=True)
        return EXIT_USAGE
    except KeyboardInterrupt:
        Console(stderr=True).print("interrupted; run the same command again to continue the study")
        return EXIT_INTERRUPTED


def cmd_run(words: Sequence[str], console: Console) -> int:
    """Plan, then run a study."""
    from ldnn_tune.config.resolve import plan_run
    from ldnn_tune.health.preflight import EXIT_CHECK_FAILED, preflight, study_exists
    from ldnn_tune.study.optimize import run_study

    host = Host(get_plugin_manager())
    plan = plan_run(words, host)
    config = plan.config
    new_study = not study_exists(config.study_name, config.storage)
    if config.check and new_study and not preflight(plan, console, quick_only=True):
        console.print("not starting the study; fix the task, or skip with check=false")
        return EXIT_CHECK_FAILED
    run_study(plan, host, console)
    return 0


def cmd_tasks(words: Sequence[str], console: Console) -> int:
    """List installed tasks with their package and description."""
    _no_words("tasks", words)
    table = Table(title="installed tasks")
    for column in ("task", "package", "description"):
        table.add_column(column)
    for name, entry in sorted(Host(get_plugin_manager()).tasks().items()):
        table.add_row(name, entry.package, entry.task.description)
    console.print(table)
    return 0


def cmd_check(words: Sequence[str], console: Console) -> int:
    """Run every pre-flight check on a task; exit 1 when one fails."""
    from ldnn_tune.config.resolve import plan_run
    from ldnn_tune.health.preflight import EXIT_CHECK_FAILED, preflight
    from ldnn_tune.trial.training import quiet_frameworks

    quiet_frameworks()
    plan = plan_run(words, Host(get_plugin_manager()))
    return 0 if preflight(plan, console, quick_only=False) else EXIT_CHECK_FAILED


def cmd_space(words: Sequence[str], console: Console) -> int:
    """Print the effective search space of a task with the user's overrides applied."""
    from ldnn_tune.config.resolve import plan_run

    plan = plan_run(words, Host(get_plugin_manager()), prepare=False)
    table = Table(title=f"search space of task {plan.task.name!r}")
    for column in ("knob", "distribution", "first trial", "when", "help"):
        table.add_column(column, overflow="fold")
    for knob in plan.space.knobs:
        when = " and ".join(f"{k} in {list(v)}" for k, v in knob.when.items())
        table.add_row(knob.name, knob.describe(), str(knob.default), when, knob.help)
    console.print(table)
    return 0


def cmd_ensemble(words: Sequence[str], console: Console) -> int:
    """Ensemble the best trials of an existing study and log the ensemble to MLflow."""
    from ldnn_tune.ensembles.from_study import ensemble_study, print_ensemble
    from ldnn_tune.study.open import load_existing_study
    from ldnn_tune.tracking import StudyTracker
    from ldnn_tune.trial.training import quiet_frameworks

    config = build_typed(EnsembleConfig, _known(words, field_names(EnsembleConfig)))
    if not config.study:
        raise UsageError("missing study=NAME")
    quiet_frameworks()
    study = load_existing_study(config.study, config.storage)
    tracker = StudyTracker(config.mlflow, experiment=config.study)
    report = ensemble_study(study, tracker, config.top_k, config.method)
    print_ensemble(console, report, config.top_k)
    return 0


def cmd_predict(words: Sequence[str], console: Console) -> int:
    """Run a saved ensemble on input files the task can read."""
    from ldnn_tune.commands.predict import PredictConfig, predict
    from ldnn_tune.trial.training import quiet_frameworks

    config = build_typed(PredictConfig, _known(words, field_names(PredictConfig)))
    quiet_frameworks()
    predict(config, Host(get_plugin_manager()), console)
    return 0


def _known(words: Sequence[str], valid: Sequence[str]) -> dict[str, str]:
    values = split_words(words)
    for key in values:
        if key not in valid:
            raise UsageError(f"unknown key {key!r}; valid: {choices_text(valid)}")
    return values


@dataclass
class UiConfig:
    """Options of ``ldnn-tune ui``."""

    mlflow: str = "sqlite:///mlflow.db"
    port: int = 5000

    def __post_init__(self) -> None:
        if not 1 <= self.port <= 65535:
            raise UsageError(f"invalid port={self.port}: must be between 1 and 65535")


def cmd_ui(words: Sequence[str], console: Console) -> int:
    """Serve the MLflow UI for the tracking store on 127.0.0.1 until interrupted."""
    config = build_typed(UiConfig, _known(words, ("mlflow", "port")))
    console.print(f"MLflow UI for {config.mlflow} at http://127.0.0.1:{config.port} (Ctrl-C stops)")
    command = [
        sys.executable,
        "-m",
        "mlflow",
        "ui",
        "--backend-store-uri",
        config.mlflow,
        "--host",
        "127.0.0.1",
        "--port",
        str(config.port),
    ]
    return subprocess.call(command)


def _no_words(command: str, words: Sequence[str]) -> None:
    if words:
        raise UsageError(f"{command} takes no arguments, got {words[0]!r}")


COMMANDS = {
    "run": cmd_run,
    "tasks": cmd_tasks,
    "space": cmd_space,
    "check": cmd_check,
    "ensemble": cmd_ensemble,
    "predict": cmd_predict,
    "ui": cmd_ui,
}
