"""Pre-flight before a study: run the checks and show them as a table."""

from pathlib import Path

import optuna
from rich.console import Console
from rich.table import Table

from ldnn_tune.config.resolve import RunPlan
from ldnn_tune.health.checks import CheckResult, run_checks
from ldnn_tune.recipe.hparams import HParams
from ldnn_tune.study.open import make_storage

EXIT_CHECK_FAILED = 1


def check_table(results: list[CheckResult], title: str) -> Table:
    """Return the checks as a table: check, verdict, detail."""
    table = Table(title=title)
    for column in ("check", "result", "detail"):
        table.add_column(column, overflow="fold")
    for result in results:
        verdict = "[green]pass[/]" if result.passed else "[red]FAIL[/]"
        table.add_row(result.name, verdict, result.detail)
    return table


def preflight(plan: RunPlan, console: Console, quick_only: bool) -> bool:
    """Run the checks on the plan's task with the first trial's knobs; print; return success."""
    hp = HParams.from_params(plan.space.defaults())
    results = run_checks(plan.task, hp, quick_only=quick_only)
    failed = [r.name for r in results if not r.passed]
    if quick_only and not failed:
        console.print("pre-flight: " + ", ".join(f"{r.name} ok" for r in results))
        return True
    console.print(check_table(results, f"pre-flight checks of task {plan.task.name!r}"))
    if failed:
        console.print(f"failed: {', '.join(failed)}")
    return not failed


def study_exists(name: str, storage_url: str) -> bool:
    """Return whether study ``name`` exists, without creating a SQLite file that does not."""
    prefix = "sqlite:///"
    if storage_url.startswith(prefix) and not Path(storage_url.removeprefix(prefix)).exists():
        return False
    try:
        return name in optuna.get_all_study_names(make_storage(storage_url))
    except Exception:  # unreachable storage: opening the study reports it properly
        return False
