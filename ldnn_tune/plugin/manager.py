"""The plugin manager: hookspecs, blocked plugins, entry points, and a typed view of tasks."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from typing import TYPE_CHECKING, Any, cast

import pluggy

from ldnn_tune.errors import UsageError, unknown_choice
from ldnn_tune.plugin import spec as hookspecs
from ldnn_tune.plugin.calls import plugin_code
from ldnn_tune.plugin.task import Task

if TYPE_CHECKING:  # listing tasks loads neither Lightning nor torch
    import lightning.pytorch as pl

    from ldnn_tune.recipe.hparams import HParams

BLOCK_ENV = "LDNN_TUNE_BLOCK_PLUGINS"


def _warn_on_stderr(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr)


def get_plugin_manager(
    extra_plugins: tuple[object, ...] = (), warn: Callable[[str], None] = _warn_on_stderr
) -> pluggy.PluginManager:
    """Return a new plugin manager with every installed ``ldnn_tune`` plugin loaded.

    Plugins named in the comma-separated environment variable ``LDNN_TUNE_BLOCK_PLUGINS``
    (by entry-point name, as ``ldnn-tune tasks`` shows, or by package name) are not
    loaded; a name that matches no plugin is warned about. A plugin that fails to import
    is skipped with a one-line ``warn``ing, so one broken package does not take the
    others down. ``extra_plugins`` are registered too, for tests and embedding programs.
    """
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    found = list(entry_points(group=hookspecs.PROJECT))
    for entry_point in blocked_entry_points(found, warn):
        pm.set_blocked(entry_point.name)
    for entry_point in found:
        if pm.is_blocked(entry_point.name):
            continue
        try:
            entry_point.load()
        except Exception as error:
            pm.set_blocked(entry_point.name)
            warn(
                f"plugin {entry_point.name!r} ({entry_point.value}) failed to load: "
                f"{type(error).__name__}: {error}; block it with {BLOCK_ENV}={entry_point.name}"
            )
    pm.load_setuptools_entrypoints(hookspecs.PROJECT)
    for plugin in extra_plugins:
        pm.register(plugin)
    pm.check_pending()
    return pm


def blocked_entry_points(
    found: list[EntryPoint], warn: Callable[[str], None] = _warn_on_stderr
) -> list[EntryPoint]:
    """Return the entry points ``LDNN_TUNE_BLOCK_PLUGINS`` names, by their or their package's name.

    A name that matches none is warned about, with the names that would work.
    """
    blocked: list[EntryPoint] = []
    for name in filter(None, (n.strip() for n in os.environ.get(BLOCK_ENV, "").split(","))):
        matches = [e for e in found if _normal(name) in (_normal(e.name), _package(e))]
        if not matches:
            known = ", ".join(sorted(f"{e.name} ({_package(e) or '?'})" for e in found))
            warn(f"{BLOCK_ENV} names {name!r}, which no installed plugin is; installed: {known}")
        blocked += matches
    return blocked


def _normal(name: str) -> str:
    """Return a package name in its PEP 503 form (``LDNN_Tune.image`` → ``ldnn-tune-image``)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _package(entry_point: EntryPoint) -> str:
    """Return the normalised name of the package that declares ``entry_point``."""
    dist = getattr(entry_point, "dist", None)
    return _normal(dist.name) if dist is not None else ""


@dataclass(frozen=True)
class TaskEntry:
    """An installed task and where it comes from."""

    task: type[Task[Any]]
    entry_point: str  # the name LDNN_TUNE_BLOCK_PLUGINS takes
    package: str


def _provided_twice(name: str, first: TaskEntry, second: TaskEntry) -> str:
    """Return the error for task ``name`` provided by two plugins, naming how to block each."""
    both = sorted((first, second), key=lambda e: e.entry_point)  # hook order varies
    plugins = [f"plugin {e.entry_point!r} ({e.package})" for e in both]
    blocks = " or ".join(f"{BLOCK_ENV}={e.entry_point}" for e in both)
    return f"task {name!r} is provided twice: by {' and '.join(plugins)}; block one with {blocks}"


class Host:
    """A typed wrapper around the plugin manager's hook calls."""

    def __init__(self, pm: pluggy.PluginManager) -> None:
        """Wrap ``pm``, a manager from :func:`get_plugin_manager`."""
        self.pm = pm

    def tasks(self) -> dict[str, TaskEntry]:
        """Return the installed tasks by name, with the plugin and package of each."""
        entries: dict[str, TaskEntry] = {}
        distributions = {id(plugin): dist for plugin, dist in self.pm.list_plugin_distinfo()}
        for impl in self.pm.hook.ldnn_tune_tasks.get_hookimpls():
            dist = distributions.get(id(impl.plugin))
            package = f"{dist.project_name} {dist.version}" if dist is not None else "(local)"
            with plugin_code(impl.plugin_name, package, "ldnn_tune_tasks()", kind="plugin"):
                tasks = cast(list[type[Task[Any]]], impl.function())
            for task in tasks:
                entry = TaskEntry(task, impl.plugin_name, package)
                if task.name in entries:
                    raise UsageError(_provided_twice(task.name, entries[task.name], entry))
                entries[task.name] = entry
        return entries

    def task(self, name: str) -> TaskEntry:
        """Return the installed task called ``name`` or raise a UsageError naming the others."""
        tasks = self.tasks()
        if name not in tasks:
            raise UsageError(unknown_choice("task", name, tasks, label="installed"))
        return tasks[name]

    def trial_callbacks(self, task: Task[Any], hp: HParams) -> list[pl.Callback]:
        """Return the extra Lightning callbacks every plugin adds for one trial."""
        lists = self.pm.hook.ldnn_tune_trial_callbacks(task=task, hp=hp)
        return [callback for callbacks in lists for callback in callbacks]
