"""The plugin manager: hookspecs, blocked plugins, entry points, and a typed view of tasks."""

from __future__ import annotations

import functools
import inspect
import os
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from typing import TYPE_CHECKING, Any, cast

import pluggy

from ldnn_tune.errors import (
    PluginError,
    UsageError,
    choices_text,
    did_you_mean,
    first_line,
    unknown_choice,
)
from ldnn_tune.plugin import spec as hookspecs
from ldnn_tune.plugin.calls import plugin_code
from ldnn_tune.plugin.task import Task

if TYPE_CHECKING:  # listing tasks loads neither Lightning nor torch
    import lightning.pytorch as pl

    from ldnn_tune.recipe.hparams import HParams

BLOCK_ENV = "LDNN_TUNE_BLOCK_PLUGINS"


def _warn_on_stderr(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr)


class TaskPlugins(pluggy.PluginManager):
    """pluggy's manager of ldnn-tune's hooks, knowing the package each plugin came from."""

    def __init__(self) -> None:
        """Make a manager with ldnn-tune's hook specifications and no plugins yet."""
        super().__init__(hookspecs.PROJECT)
        self.add_hookspecs(hookspecs)
        self.packages: dict[str, str] = {}  # registered name -> "project version"
        self.blocked: set[str] = set()  # entry-point names LDNN_TUNE_BLOCK_PLUGINS switched off
        self.failed: dict[str, PluginError] = {}  # entry-point name -> why it failed to import


def get_plugin_manager(
    extra_plugins: tuple[object, ...] = (), warn: Callable[[str], None] = _warn_on_stderr
) -> TaskPlugins:
    """Return a new plugin manager with every installed ``ldnn_tune`` plugin loaded.

    Plugins named in the comma-separated environment variable ``LDNN_TUNE_BLOCK_PLUGINS``
    (by entry-point name, as ``ldnn-tune tasks`` shows, or by package name) are not
    loaded; a name that matches no plugin is warned about. A plugin that fails to import
    is skipped with a one-line ``warn``ing, so one broken package does not take the
    others down. Two packages with one entry-point name are both loaded (the second
    under ``NAME:PACKAGE``), so a task they both provide is reported, not dropped.
    ``extra_plugins`` are registered too, for tests and embedding programs.
    """
    pm = TaskPlugins()
    found = list(entry_points(group=hookspecs.PROJECT))
    blocked = blocked_entry_points(found, warn)
    pm.blocked = {entry_point.name for entry_point in blocked}
    for entry_point in found:
        if entry_point in blocked:
            continue
        try:
            plugin = entry_point.load()
        except Exception as error:
            why = first_line(error)  # "ModuleNotFoundError: No module named ..."
            loaded = f"failed to import {entry_point.value}: {why}"
            _skip(pm, entry_point, f"failed to load: {why}", loaded, error, warn)
            continue
        if pm.is_registered(plugin):  # one module named by two entry points
            continue
        name = entry_point.name
        if pm.get_plugin(name) is not None:
            name = f"{name}:{_package(entry_point)}"
        fault = _register(pm, plugin, name)
        if fault is not None:
            what = f"{fault}; the hooks are {hook_signatures()}"
            _skip(pm, entry_point, what, f"in {entry_point.value} {what}", TypeError(fault), warn)
            continue
        pm.packages[name] = _package_label(entry_point)
    for plugin in extra_plugins:
        pm.register(plugin)
    pm.check_pending()
    return pm


def _skip(
    pm: TaskPlugins,
    entry_point: EntryPoint,
    warning: str,
    failure: str,
    error: BaseException,
    warn: Callable[[str], None],
) -> None:
    """Leave out the plugin of ``entry_point``: warn of ``warning``, keep ``failure``.

    Its tasks are unavailable (asking for one raises ``failure``); the others still work.
    """
    place = f"plugin {entry_point.name!r} ({entry_point.value})"
    warn(f"{place} {warning}; block it with {BLOCK_ENV}={entry_point.name}")
    label = _package_label(entry_point)
    pm.failed[entry_point.name] = PluginError(entry_point.name, label, failure, error, "plugin")


def _register(pm: TaskPlugins, plugin: object, name: str) -> str | None:
    """Register ``plugin`` as ``name``; return what is wrong with its hooks (then unregistered).

    pluggy refuses a hook that takes an argument its specification does not give, and
    would refuse a misspelt hook name only once every plugin is in, taking them all down.
    """
    try:
        pm.register(plugin, name=name)
    except pluggy.PluginValidationError as error:
        return "has a bad hook: " + "; ".join(str(error).splitlines())
    callers = pm.get_hookcallers(plugin) or []
    unknown = [caller.name for caller in callers if not caller.has_spec()]
    if callers and not unknown:
        return None
    pm.unregister(name=name)
    return f"has an unknown hook {unknown[0]!r}" if unknown else "implements no ldnn-tune hook"


def hook_signatures() -> str:
    """Return the hooks a plugin may implement, e.g. ``ldnn_tune_trial_callbacks(task, hp)``."""
    names = [n for n in dir(hookspecs) if n.startswith(f"{hookspecs.PROJECT}_")]
    return ", ".join(
        f"{n}({', '.join(inspect.signature(getattr(hookspecs, n)).parameters)})" for n in names
    )


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


def _package_label(entry_point: EntryPoint) -> str:
    """Return ``"project version"`` of the package that declares ``entry_point``."""
    dist = getattr(entry_point, "dist", None)
    return f"{dist.name} {dist.version}" if dist is not None else "(local)"


@dataclass(frozen=True)
class TaskEntry:
    """An installed task and where it comes from."""

    task: type[Task[Any]]
    entry_point: str  # the name LDNN_TUNE_BLOCK_PLUGINS takes
    package: str


def _provided_twice(name: str, first: TaskEntry, second: TaskEntry) -> str:
    """Return the error for task ``name`` provided by two plugins, naming how to block each.

    Plugins of one entry-point name are blocked by their package names; one plugin that
    lists two tasks of that name is told to rename one.
    """
    if first.entry_point == second.entry_point:
        return (
            f"task {name!r} is provided twice by plugin {first.entry_point!r} "
            f"({first.package}): {first.task.__qualname__} and {second.task.__qualname__}; "
            "give each task its own name"
        )
    both = sorted((first, second), key=lambda e: e.entry_point)  # hook order varies
    plugins = [f"plugin {e.entry_point!r} ({e.package})" for e in both]
    same = first.entry_point.split(":")[0] == second.entry_point.split(":")[0]
    keys = [_normal(e.package.split()[0]) if same else e.entry_point for e in both]
    blocks = " or ".join(f"{BLOCK_ENV}={key}" for key in sorted(keys))
    return f"task {name!r} is provided twice: by {' and '.join(plugins)}; block one with {blocks}"


class Host:
    """A typed wrapper around the plugin manager's hook calls."""

    def __init__(self, pm: TaskPlugins, warn: Callable[[str], None] = _warn_on_stderr) -> None:
        """Wrap ``pm``, a manager from :func:`get_plugin_manager`.

        ``warn`` hears of each plugin whose ``ldnn_tune_tasks()`` raised.
        """
        self.pm = pm
        self.warn = warn
        self._warned = False

    @functools.cached_property
    def _collected(self) -> tuple[dict[str, TaskEntry], dict[str, PluginError], dict[str, str]]:
        """Return the installed tasks by name, each plugin whose hook raised, and clashes.

        A task name two plugins provide is in neither's tasks but in the clashes, with
        the error that says how to resolve it: the other tasks stay usable.
        """
        entries: dict[str, TaskEntry] = {}
        broken: dict[str, PluginError] = {}
        clashes: dict[str, str] = {}
        for impl in self.pm.hook.ldnn_tune_tasks.get_hookimpls():
            package = self.pm.packages.get(impl.plugin_name, "(local)")
            try:
                with plugin_code(impl.plugin_name, package, "ldnn_tune_tasks()", kind="plugin"):
                    tasks = cast(list[type[Task[Any]]], impl.function())
                    check_task_classes(tasks)
            except PluginError as error:  # its tasks are missing; the others still work
                broken[impl.plugin_name] = error
                continue
            for task in dict.fromkeys(tasks):  # one class listed twice is one task
                entry = TaskEntry(task, impl.plugin_name, package)
                if task.name in entries:
                    clashes[task.name] = _provided_twice(task.name, entries.pop(task.name), entry)
                elif task.name not in clashes:
                    entries[task.name] = entry
        return entries, broken, clashes

    def tasks(self) -> dict[str, TaskEntry]:
        """Return the installed tasks by name, with the plugin and package of each.

        Each plugin whose ``ldnn_tune_tasks()`` raised, and each task two plugins
        provide, is warned about, once.
        """
        tasks, broken, clashes = self._collected
        self._warn_broken(broken, clashes)
        return tasks

    def task(self, name: str) -> TaskEntry:
        """Return the installed task called ``name`` or raise a UsageError naming the others.

        When the plugin of that entry-point name failed to import or to list its tasks,
        its failure; when two plugins provide it, how to choose one.
        """
        tasks, broken, clashes = self._collected
        failed = broken.get(name) or self.pm.failed.get(name)
        if failed is not None and name not in tasks:
            raise failed
        if name in clashes:
            raise UsageError(clashes[name])
        self._warn_broken(broken, clashes)
        if name in tasks:
            return tasks[name]
        if name in self.pm.blocked:
            raise UsageError(
                f"task {name!r} is switched off: {BLOCK_ENV}={os.environ.get(BLOCK_ENV, '')} "
                f"blocks its plugin; installed: {choices_text(tasks) or 'none'}"
            )
        message = unknown_choice("task", name, tasks, label="installed")
        if did_you_mean(name, tasks):
            raise UsageError(message)
        # a plugin of one's own, not yet installed: how the host finds one
        raise UsageError(
            f"{message} (a plugin's package lists its tasks under the "
            f"'{hookspecs.PROJECT}' entry points of its pyproject.toml, and is found once "
            "installed: pip install -e FOLDER)"
        )

    def _warn_broken(self, broken: dict[str, PluginError], clashes: dict[str, str]) -> None:
        if (broken or clashes) and not self._warned:
            self._warned = True
            for error in broken.values():
                self.warn(f"{error}; its tasks are not available")
            for clash in clashes.values():
                self.warn(f"{clash}; until then it is not available")

    def trial_callbacks(self, task: Task[Any], hp: HParams) -> list[pl.Callback]:
        """Return the extra Lightning callbacks every plugin adds for one trial.

        A hook that raises, or returns anything but a list of callbacks, is a
        :class:`PluginError` naming its plugin (not the task being tuned).
        """
        import lightning.pytorch as pl

        arguments = {"task": task, "hp": hp}
        found: list[pl.Callback] = []
        # in pluggy's calling order (the last registered first); None means none, as there
        for impl in reversed(self.pm.hook.ldnn_tune_trial_callbacks.get_hookimpls()):
            package = self.pm.packages.get(impl.plugin_name, "(local)")
            step = "ldnn_tune_trial_callbacks()"
            with plugin_code(impl.plugin_name, package, step, kind="plugin"):
                callbacks = impl.function(*(arguments[name] for name in impl.argnames))
                if callbacks is None:
                    continue
                if not isinstance(callbacks, list | tuple):
                    kind = type(callbacks).__name__
                    raise TypeError(f"must return a list of Lightning callbacks, not a {kind}")
                wrong = [type(c).__name__ for c in callbacks if not isinstance(c, pl.Callback)]
                if wrong:
                    raise TypeError(
                        f"must return a list of Lightning callbacks; it holds a {wrong[0]}"
                    )
                found += callbacks
        return found


def check_task_classes(tasks: object) -> None:
    """Raise TypeError unless ``tasks`` (what ``ldnn_tune_tasks()`` returned) lists Task classes.

    Each must be a subclass of :class:`Task` whose ``name`` is an identifier (it is the
    word after ``task=``).
    """
    if not isinstance(tasks, list | tuple):
        raise TypeError(f"must return a list of Task classes, not {tasks!r}")
    for task in tasks:
        if not (isinstance(task, type) and issubclass(task, Task)):
            raise TypeError(f"must return a list of Task classes; {task!r} is not one")
        if not (isinstance(task.name, str) and task.name.isidentifier()):
            raise TypeError(
                f"task name {task.name!r} of {task.__qualname__} is not an identifier "
                "(letters, digits and _, not starting with a digit)"
            )
