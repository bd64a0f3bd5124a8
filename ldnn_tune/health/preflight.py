"""The pre-flight before a study: run the checks on the first trial's knobs and show them.

A quick pre-flight that passed is remembered (``$XDG_CACHE_HOME/ldnn_tune/preflight``)
under everything its verdict depends on: the task, its options and seed, the data folder
and when it last changed, the first trial's knobs, the ldnn-tune version, and the task's
package: its version and the size and time of each of its files and of ldnn-tune's (an
edited plugin, installed editable, is checked again). A new study of the same setup then
starts without running the checks again.
"""

import hashlib
import json
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from rich.console import Console

import ldnn_tune
from ldnn_tune.cache import cache_root
from ldnn_tune.config.resolve import ResolvedRun
from ldnn_tune.console.tables import check_table
from ldnn_tune.health.checks import CheckResult, run_checks
from ldnn_tune.plugin.calls import plugin_code
from ldnn_tune.recipe.hparams import HParams


def preflight(run: ResolvedRun, console: Console, quick_only: bool) -> bool:
    """Run the checks on the run's task with the first trial's knobs; print; return success.

    The quick pre-flight is skipped when the same setup passed it before.
    """
    knobs = run.space.complete(run.space.defaults())
    remembered = passed_marker(run, knobs) if quick_only else None
    if remembered is not None and remembered.exists():
        console.print("pre-flight: passed before with these settings (skipped)")
        return True
    with plugin_code(run.task.name, run.source, "the pre-flight (datamodule() or model())"):
        results = run_checks(run.task, HParams.from_params(knobs), quick_only=quick_only)
    failed = [r.name for r in results if not r.passed]
    if quick_only and not failed:
        console.print("pre-flight: " + ", ".join(_verdict(r) for r in results), markup=False)
        if remembered is not None:
            _remember(remembered, [r.name for r in results])
        return True
    with plugin_code(run.task.name, run.source, "describe_data()"):
        data = run.task.describe_data()  # what a failed data check is about: copies, files
    if data:
        console.print(data, markup=False, soft_wrap=True)
    console.print(check_table(results, f"pre-flight checks of task {run.task.name!r}"))
    if failed:
        console.print(f"failed: {', '.join(failed)}")
    return not failed


def _verdict(result: CheckResult) -> str:
    """Return ``"gradient ok"``, or a warning with its detail."""
    return f"{result.name} warning: {result.detail}" if result.warning else f"{result.name} ok"


def passed_marker(run: ResolvedRun, knobs: dict[str, Any]) -> Path:
    """Return the file that says the quick pre-flight of this setup passed."""
    setup = {
        **run.identity(),
        "knobs": knobs,
        "ldnn_tune": _version(),
        "plugin": run.source,
        "code": code_stamp(_package_folder(ldnn_tune), _package_folder(type(run.task))),
    }
    digest = hashlib.sha256(json.dumps(setup, sort_keys=True, default=str).encode()).hexdigest()
    return cache_root() / "preflight" / f"{run.task.name}-{digest[:20]}.json"


def code_stamp(*folders: Path | None) -> str:
    """Return a digest of the name, size and modification time of every ``.py`` file in ``folders``.

    Only the files' metadata is read: a few milliseconds for ldnn-tune and a plugin.
    """
    digest = hashlib.sha256()
    for folder in folders:
        if folder is None:
            continue
        for path in sorted(folder.rglob("*.py")):
            stat = path.stat()
            digest.update(f"{path}:{stat.st_size}:{stat.st_mtime_ns};".encode())
    return digest.hexdigest()


def _package_folder(thing: object) -> Path | None:
    """Return the folder of the top-level package ``thing`` (a module or a class) is from."""
    name = str(getattr(thing, "__module__", None) or getattr(thing, "__name__", ""))
    top = sys.modules.get(name.split(".")[0])
    where = getattr(top, "__file__", None)
    return Path(where).parent if where else None


def _remember(marker: Path, checks: list[str]) -> None:
    try:
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text(json.dumps({"passed": checks}), encoding="utf-8")
    except OSError:  # a read-only home: the checks just run again next time
        pass


def _version() -> str:
    try:
        return version("ldnn-tune")
    except PackageNotFoundError:
        return "unknown"
