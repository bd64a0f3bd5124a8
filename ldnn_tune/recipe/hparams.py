"""Typed hyperparameters of one trial: the article's shared knobs plus a task's own."""

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any


@dataclass(frozen=True)
class Recipe:
    """The knobs every task shares, with the article's values as defaults.

    A task whose search space leaves a knob out gets the default here.
    """

    lr: float = 0.1
    lr_factor: float = 2.0  # divide the LR by this when validation loss plateaus
    lr_patience: int = 2  # epochs without improvement before dividing
    init: str = "lazy"  # "lazy": 0.02*randn; "scaled": init_scale/sqrt(fan_in)*randn
    init_scale: float = 1.0
    dropout: float = 0.0
    batch_size: int = 128
    clip_norm: float = 10.0  # global gradient-norm clip on the batch-averaged gradient
    momentum: float = 0.9


RECIPE_KNOBS = frozenset(f.name for f in fields(Recipe))


@dataclass(frozen=True)
class HParams:
    """One trial's hyperparameters: the shared ``recipe`` and the task's ``extra`` knobs."""

    recipe: Recipe = field(default_factory=Recipe)
    extra: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> "HParams":
        """Split a flat Optuna ``params`` dict into recipe knobs and task knobs."""
        recipe = {k: v for k, v in params.items() if k in RECIPE_KNOBS}
        extra = {k: v for k, v in params.items() if k not in RECIPE_KNOBS}
        return cls(recipe=Recipe(**recipe), extra=extra)

    def get_int(self, name: str, default: int | None = None) -> int:
        """Return task knob ``name`` as an int (``default`` when the space lacks it)."""
        return int(self._get(name, default))

    def get_float(self, name: str, default: float | None = None) -> float:
        """Return task knob ``name`` as a float (``default`` when the space lacks it)."""
        return float(self._get(name, default))

    def _get(self, name: str, default: Any) -> Any:
        if name in self.extra:
            return self.extra[name]
        if default is None:
            raise KeyError(f"task knob {name!r} is not in this trial's parameters")
        return default
