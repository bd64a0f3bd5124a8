"""The pre-flight before a study: run the checks on the first trial's knobs and show them."""

from rich.console import Console

from ldnn_tune.config.resolve import ResolvedRun
from ldnn_tune.console.tables import check_table
from ldnn_tune.health.checks import run_checks
from ldnn_tune.recipe.hparams import HParams


def preflight(run: ResolvedRun, console: Console, quick_only: bool) -> bool:
    """Run the checks on the run's task with the first trial's knobs; print; return success."""
    hp = HParams.from_params(run.space.complete(run.space.defaults()))
    results = run_checks(run.task, hp, quick_only=quick_only)
    failed = [r.name for r in results if not r.passed]
    if quick_only and not failed:
        console.print("pre-flight: " + ", ".join(f"{r.name} ok" for r in results))
        return True
    console.print(check_table(results, f"pre-flight checks of task {run.task.name!r}"))
    if failed:
        console.print(f"failed: {', '.join(failed)}")
    return not failed
