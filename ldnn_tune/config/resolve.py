"""Resolve ``ldnn-tune run`` words into the task, its space and the settings, creating nothing.

Every user mistake is a UsageError here, before any study or run exists.
"""

import dataclasses
import functools
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ldnn_tune.config.fingerprint import data_contents, data_fingerprint
from ldnn_tune.config.settings import RunConfig
from ldnn_tune.config.words import build_typed, field_names, split_words
from ldnn_tune.ensembles.combine import SEEDS
from ldnn_tune.errors import (
    PluginError,
    UsageError,
    choice_text,
    choices_text,
    closest,
    did_you_mean,
)
from ldnn_tune.plugin.calls import plugin_code
from ldnn_tune.plugin.manager import Host
from ldnn_tune.plugin.task import Task
from ldnn_tune.space.domains import Domain
from ldnn_tune.space.knobs import WIDEN, SearchSpace
from ldnn_tune.space.load import task_domains, task_space


@dataclass(frozen=True)
class ResolvedRun:
    """A validated run: the settings, the task with its options, the effective space."""

    config: RunConfig
    task: Task[Any]
    space: SearchSpace
    words: tuple[str, ...] = ()  # the command-line words: worker processes resolve them again
    source: str = "(local)"  # the package the task comes from, e.g. "ldnn-tune-image 0.1.0"

    def prepare(self) -> None:
        """Call the task's ``prepare()``: a bug there is the plugin's, in one line."""
        with plugin_code(self.task.name, self.source, "prepare()"):
            self.task.prepare()

    def identity(self) -> dict[str, Any]:
        """Return what must match for a study to be continued: task, seed, options, data."""
        return {
            "task": self.task.name,
            "kind": str(self.task.kind),
            "seed": self.config.seed,
            "options": {k: str(v) for k, v in dataclasses.asdict(self.task.options).items()},
            "data_dir": str(self.config.data_dir.resolve()) if self.config.data_dir else None,
            "data_files": self.data_files,
            "data_contents": self.data_contents,
        }

    @functools.cached_property
    def data_files(self) -> str | None:
        """Return the fingerprint of ``data_dir``'s files (None without one), read once."""
        if self.config.data_dir is None:
            return None
        return data_fingerprint(self.config.data_dir, self.task.data_suffixes)

    @functools.cached_property
    def data_contents(self) -> str | None:
        """Return the digest of what the task reads in ``data_dir`` (None without one)."""
        if self.config.data_dir is None:
            return None
        return data_contents(self.config.data_dir, self.task.data_suffixes)

    def location_options(self) -> frozenset[str]:
        """Return the task options that only say where something is kept (``location``).

        A plugin marks one with ``metadata={"location": True}`` on its dataclass field,
        such as a cache folder: a study continues when it changes.
        """
        fields = dataclasses.fields(self.task.options_type)
        return frozenset(f.name for f in fields if f.metadata.get("location"))

    def option_defaults(self) -> dict[str, str]:
        """Return each task option's default as :meth:`identity` writes it.

        A study made before an option existed stored no value for it: it trained as the
        default does, so continuing it with the default is allowed.
        """
        return {
            f.name: str(f.default)
            for f in dataclasses.fields(self.task.options_type)
            if f.default is not dataclasses.MISSING
        }


def resolve_run(
    words: Sequence[str],
    host: Host,
    prepare: bool = True,
    command: str = "run",
    settings: Collection[str] = (),
) -> ResolvedRun:
    """Validate ``words`` (``task=NAME key=value ...``) into a :class:`ResolvedRun`.

    Host settings, the task's options and knob values are told apart by name. With
    ``prepare`` the task also loads its data, so a bad ``data_dir`` is caught too.
    ``settings`` (when given) are the only run settings ``command`` takes: another one,
    which it would ignore, is a UsageError.
    """
    values = split_words(words)
    if not values.get("task"):
        if settings:
            _refuse_ignored(values, command, settings)
        installed = choices_text(host.tasks()) or "none"
        if "task" in values:  # task= with nothing after it
            raise UsageError(f"invalid task=: give a task's name; installed: {installed}")
        for key in values:  # TASK=image, tsk=image: say so, not just that task= is missing
            if closest(key, field_names(RunConfig)) == "task":
                raise UsageError(
                    f"unknown key {key!r} (did you mean 'task'?); installed tasks: {installed}"
                )
        raise UsageError(f"missing task=NAME; installed: {installed}")
    entry = host.task(values["task"])
    task_class = entry.task
    host_keys = set(field_names(RunConfig))
    option_keys = set(field_names(task_class.options_type))
    _refuse_shadowing(option_keys & host_keys, "option", task_class.name, entry.package)
    config = build_typed(RunConfig, {k: v for k, v in values.items() if k in host_keys})
    if "reseeds" in values and config.reseeds > 0 and config.ensemble != SEEDS:
        raise UsageError(
            f"reseeds= retrains the best trial for ensemble=seeds; ensemble={config.ensemble} "
            "does not use retrains: drop reseeds=, or use ensemble=seeds"
        )
    with plugin_code(task_class.name, entry.package, "options_type (its fields and defaults)"):
        _check_option_defaults(task_class.options_type, task_class.name, entry.package)
        options = build_typed(
            task_class.options_type, {k: v for k, v in values.items() if k in option_keys}
        )
    with plugin_code(task_class.name, entry.package, "__init__()"):
        task = task_class(options, config.data_dir, config.seed)
    with plugin_code(task.name, entry.package, "knob_domains()"):
        domains = task_domains(task)
    with plugin_code(task.name, entry.package, "search_space()"):
        _check_task_space(task, entry.package)
        space = task_space(task, config.space, installed=list(host.tasks()))
    _refuse_shadowing(set(space.names) & host_keys, "knob", task.name, entry.package)
    _refuse_option_knobs(set(space.names) & option_keys, task.name, entry.package)
    if settings:  # after the shadowing checks: the plugin's name, not the user's word, is wrong
        _refuse_ignored(values, command, settings)
    knob_values = {k: v for k, v in values.items() if k not in host_keys | option_keys}
    unknown = [k for k in knob_values if k not in space.names]
    if unknown and unknown[0] in space.fixed:
        raise UsageError(_removed_knob(unknown[0], space, task, config.space))
    if unknown:
        valid = sorted(settings or host_keys) + sorted(option_keys) + space.names
        hint = did_you_mean(unknown[0], valid)
        raise UsageError(f"unknown key {unknown[0]!r}{hint}; valid: {', '.join(valid)}")
    _refuse_outside_domains(knob_values, domains)
    space = space.fix(knob_values, widen_hint(config.space))
    if command == "run":  # min_lr is a setting of run alone: space and check ignore it
        _refuse_unreachable_lr(config.min_lr, space, "min_lr" in values)
    if config.data_dir is not None and not config.data_dir.exists():
        raise UsageError(f"data_dir {str(config.data_dir)!r} does not exist")
    resolved = ResolvedRun(config, task, space, tuple(words), entry.package)
    if prepare:
        resolved.prepare()
    return resolved


def _refuse_unreachable_lr(min_lr: float, space: SearchSpace, given: bool) -> None:
    """Refuse a ``min_lr`` the space's lowest ``lr`` is not above.

    A trial stops once its LR has been divided below ``min_lr``; at or above its starting
    LR, every such trial would stop after its first epoch, having learned nothing.
    ``given``: the user typed ``min_lr=`` (else the default is at fault, and the space).
    """
    if "lr" not in space.names:
        return
    lowest = space["lr"].lowest()
    if lowest is not None and min_lr >= lowest:
        which = "" if given else " (the default)"
        raise UsageError(
            f"invalid min_lr={min_lr:g}{which}: a trial stops once its LR is divided below "
            f"it, so it must be below the lowest lr the space can start from ({lowest:g}); "
            f"give min_lr={lowest / 100:g} or lower"
        )


def _check_option_defaults(schema: type[Any], task: str, package: str) -> None:
    """Refuse a plugin whose option defaults fail its own checks: no user value is to blame."""
    try:
        build_typed(schema, {})
    except UsageError as error:
        what = f"has option defaults that its own check refuses: {error}"
        raise PluginError(task, package, what, error) from None


def _check_task_space(task: Task[Any], package: str) -> None:
    """Load ``task``'s own search space alone: a mistake in its files is its plugin's fault.

    Loaded with the user's ``space=`` file, the same mistake would read as the user's.
    """
    try:
        task_space(task)
    except UsageError as error:
        what = f"has a broken search space: {error}"
        raise PluginError(task.name, package, what, error) from None


def _refuse_shadowing(names: set[str], what: str, task: str, package: str) -> None:
    """Refuse a plugin's option or knob named like a setting of ``ldnn-tune run``.

    The host takes ``seed=`` or ``epochs=`` for itself, so the task's would never be set.
    """
    if names:
        name = sorted(names)[0]
        problem = f"has {what} {name!r}, a name ldnn-tune run takes for its own setting"
        raise PluginError(task, package, f"{problem}; rename it", ValueError(problem))


def _refuse_outside_domains(knob_values: Mapping[str, str], domains: Mapping[str, Domain]) -> None:
    """Refuse a pinned number the knob's code does not take (``depth=9``, past its limit).

    Checked before the search space's range, which ``space=FILE`` could widen: no file
    widens what the code takes (``domains``, :func:`task_domains`).
    """
    for name, raw in knob_values.items():
        domain = domains.get(name)
        try:
            value = float(raw)
        except ValueError:
            continue  # not a number: the knob's own type check says so
        if domain is not None and not domain.choices and not domain.allows(value):
            raise UsageError(f"invalid {name}={raw}: the task takes {domain.describe()}")


def _refuse_option_knobs(names: set[str], task: str, package: str) -> None:
    """Refuse a task option named like one of its knobs: ``NAME=`` would set the option only.

    The knob would be searched still, and could no longer be fixed from the command line.
    """
    if names:
        name = sorted(names)[0]
        problem = f"has option {name!r}, the name of one of its knobs"
        fix = "rename the option (the task reads the knob from hp, e.g. hp.recipe.dropout)"
        raise PluginError(task, package, f"{problem}; {fix}", ValueError(problem))


def _refuse_ignored(values: Mapping[str, str], command: str, settings: Collection[str]) -> None:
    """Refuse a run setting that ``command`` does not take (it would be silently ignored)."""
    ignored = [key for key in values if key in field_names(RunConfig) and key not in settings]
    if ignored:
        raise UsageError(
            f"{ignored[0]}= is a setting of ldnn-tune run, which {command} ignores; "
            f"{command} takes {choices_text(settings)} and the task's options and knobs"
        )


def widen_hint(user_space: Path | None) -> str:
    """Return how to widen a knob's range: with a space file, or in the one given."""
    if user_space is None:
        return WIDEN
    if user_space.is_file():
        return f"widen it in {user_space}"
    return f"space={user_space} sets that range; widen it with a space file of your own"


def _removed_knob(name: str, space: SearchSpace, task: Task[Any], user_space: Path | None) -> str:
    """Return why knob ``name``, which ``space`` removes from the search, cannot be pinned.

    The task's own space may remove it for these options (``model=mlp`` has no LSTM
    ``layers``), or the user's ``space=`` file (``momentum: null``).
    """
    if user_space is None or name in task_space(task).fixed:
        return (
            f"{name}= cannot be pinned: task {task.name!r} does not search it with these "
            f"options (its space for them removes it); drop {name}="
        )
    kept = choice_text(space.fixed[name])
    return (
        f"{name}= cannot be pinned: space={user_space} removes it from the search "
        f"({name}: null), so trials keep {kept}; drop {name}=, or that line of the file"
    )
