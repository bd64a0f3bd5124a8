"""Turn command-line words into a validated plan, before anything is created on disk."""

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ldnn_tune.config.settings import RunConfig, build_typed, field_names, split_words
from ldnn_tune.errors import UsageError, choices_text
from ldnn_tune.plugin.manager import Host, TaskEntry
from ldnn_tune.plugin.task import Task
from ldnn_tune.space.load import SearchSpace, load_space, space_file

RECIPE_SPACE = "recipe.yaml"


@dataclass(frozen=True)
class RunPlan:
    """A validated run: host settings, the task with its options, the effective space."""

    config: RunConfig
    entry: TaskEntry
    task: Task
    space: SearchSpace
    words: tuple[str, ...] = ()  # the command-line words: worker processes plan from them

    def identity(self) -> dict[str, Any]:
        """Return what must match for a study to be continued: task, seed, options, data."""
        return {
            "task": self.task.name,
            "kind": str(self.task.kind),
            "seed": self.config.seed,
            "options": {k: str(v) for k, v in dataclasses.asdict(self.task.options).items()},
            "data_dir": str(self.config.data_dir.resolve()) if self.config.data_dir else None,
        }


def plan_run(words: Sequence[str], host: Host, prepare: bool = True) -> RunPlan:
    """Validate ``words`` (``task=NAME key=value ...``) into a :class:`RunPlan`.

    Every user mistake raises UsageError here, before any study or run exists. With
    ``prepare`` the task also loads its data, so a bad ``data_dir`` is caught too.
    """
    values = split_words(words)
    if not values.get("task"):
        raise UsageError(f"missing task=NAME; installed: {choices_text(host.tasks()) or 'none'}")
    entry = host.task(values["task"])
    host_keys = set(field_names(RunConfig))
    option_keys = set(field_names(entry.task.options_type))
    config = build_typed(RunConfig, {k: v for k, v in values.items() if k in host_keys})
    options = build_typed(
        entry.task.options_type, {k: v for k, v in values.items() if k in option_keys}
    )
    task = entry.task(options, config.data_dir, config.seed)
    space = effective_space(task, config.space)
    knob_values = {k: v for k, v in values.items() if k not in host_keys | option_keys}
    unknown = [k for k in knob_values if k not in space.names]
    if unknown:
        valid = sorted(host_keys) + sorted(option_keys) + space.names
        raise UsageError(f"unknown key {unknown[0]!r}; valid: {', '.join(valid)}")
    space = space.fix(knob_values)
    if config.data_dir is not None and not config.data_dir.exists():
        raise UsageError(f"data_dir {str(config.data_dir)!r} does not exist")
    if prepare:
        task.prepare()
    return RunPlan(config, entry, task, space, tuple(words))


def effective_space(task: Task, user_space: Path | None) -> SearchSpace:
    """Return the shared recipe merged with the task's space and the user's ``space=`` file."""
    sources = [space_file(RECIPE_SPACE), task.search_space()]
    if user_space is not None:
        sources.append(user_space)
    return load_space(sources)
