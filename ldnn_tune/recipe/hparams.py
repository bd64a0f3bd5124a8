"""Typed hyperparameters of one trial: the article's shared knobs plus a task's own.

The values come from the search space (``search_spaces/recipe.yaml`` and the task's YAML):
sampled by the trial, or the YAML ``default`` for knobs the trial does not sample. The
getters' ``missing=`` is no second default: it is the old behaviour for a knob that a
model or ensemble was saved without, because the task added it later.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ldnn_tune.space.domains import Domain, positive, unit_interval

if TYPE_CHECKING:
    from ldnn_tune.plugin.task import Task

INIT_SCHEMES = ("lazy", "scaled")  # 0.02*randn, or init_scale/sqrt(fan_in)*randn


@dataclass(frozen=True)
class Recipe:
    """The knobs every task shares (``search_spaces/recipe.yaml`` holds their defaults)."""

    lr: float
    lr_factor: float  # divide the LR by this when validation loss plateaus
    lr_patience: int  # epochs without improvement before dividing
    init: str  # "lazy": 0.02*randn; "scaled": init_scale/sqrt(fan_in)*randn
    init_scale: float
    dropout: float
    batch_size: int
    clip_norm: float  # global gradient-norm clip on the batch-averaged gradient
    momentum: float


RECIPE_KNOBS = frozenset(f.name for f in fields(Recipe))

# What the recipe's code accepts for each knob; a space that could sample outside is refused.
RECIPE_DOMAINS = {
    "lr": positive(),
    "lr_factor": Domain(low=1.0, low_open=True),  # the LR is divided by it
    "lr_patience": Domain(low=0.0, integer=True),
    "init": Domain(choices=INIT_SCHEMES),
    "init_scale": positive(),
    "dropout": unit_interval(high_open=True),
    "batch_size": positive(integer=True),
    "clip_norm": positive(),
    "momentum": unit_interval(high_open=True),
}


@dataclass(frozen=True)
class HParams:
    """One trial's hyperparameters: the shared ``recipe`` and the task's ``extra`` knobs."""

    recipe: Recipe
    extra: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> HParams:
        """Split a complete flat dict of knob values into recipe knobs and task knobs.

        ``params`` must hold every recipe knob: use ``SearchSpace.complete`` on a trial's
        sampled params.
        """
        missing = sorted(RECIPE_KNOBS - set(params))
        if missing:
            raise KeyError(f"recipe knobs without a value: {', '.join(missing)}")
        recipe = {k: v for k, v in params.items() if k in RECIPE_KNOBS}
        extra = {k: v for k, v in params.items() if k not in RECIPE_KNOBS}
        return cls(recipe=Recipe(**recipe), extra=extra)

    @classmethod
    def for_task(cls, task: Task[Any], space: Path | None = None, **knobs: Any) -> HParams:
        """Return ``task``'s first-trial knobs (its space's defaults) with ``knobs`` changed.

        ``space`` is an optional user space file merged over the task's, as ``space=`` does.
        """
        from ldnn_tune.space.load import task_space

        return cls.from_params(task_space(task, space).complete(knobs))

    # ``missing``: the value for knobs saved without one (a knob a task added after a model
    # or an ensemble was saved: its old behaviour); without it a missing knob is an error.

    def get_int(self, name: str, missing: int | None = None) -> int:
        """Return task knob ``name`` as an int (``missing`` where it has none)."""
        return int(self._get(name, missing))

    def get_float(self, name: str, missing: float | None = None) -> float:
        """Return task knob ``name`` as a float (``missing`` where it has none)."""
        return float(self._get(name, missing))

    def get_str(self, name: str, missing: str | None = None) -> str:
        """Return task knob ``name`` (a categorical of strings) as a str."""
        return str(self._get(name, missing))

    def get_bool(self, name: str, missing: bool | None = None) -> bool:
        """Return task knob ``name`` (a ``[false, true]`` categorical) as a bool."""
        value = self._get(name, missing)
        if not isinstance(value, bool):
            raise TypeError(f"task knob {name!r} is {value!r}, not true or false")
        return value

    def _get(self, name: str, missing: Any = None) -> Any:
        if name in self.extra:
            return self.extra[name]
        if missing is not None:
            return missing
        known = ", ".join(sorted(self.extra)) or "none"
        raise KeyError(f"task knob {name!r} has no value; the trial's task knobs: {known}")
