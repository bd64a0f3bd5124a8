"""The values a knob's code accepts: a space that could sample outside them is refused.

A knob's *distribution* (in its YAML) says what the search tries; its *domain* says what
the code that reads it can take at all (a learning rate above 0, a dropout below 1, a
whole batch size). The shared recipe's knobs declare theirs in
:data:`ldnn_tune.recipe.hparams.RECIPE_DOMAINS`; a task declares its own through
``Task.knob_domains()``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ldnn_tune.errors import choice_text

if TYPE_CHECKING:  # a task declaring its domains loads no Optuna
    from optuna.distributions import BaseDistribution


@dataclass(frozen=True)
class Domain:
    """A number range (each end open or closed, whole numbers or any) or a set of choices."""

    low: float = -math.inf
    high: float = math.inf
    low_open: bool = False  # True: the value must be above ``low``, not equal to it
    high_open: bool = False
    integer: bool = False
    choices: tuple[Any, ...] = ()  # set: the value must be one of these (no range then)

    def allows(self, value: Any) -> bool:
        """Return whether the knob's code accepts ``value``."""
        if self.choices:  # 1 == True in Python, but 1 is not a true/false choice
            is_bool = isinstance(value, bool)
            return any(value == c and isinstance(c, bool) == is_bool for c in self.choices)
        if isinstance(value, bool) or not isinstance(value, int | float):
            return False
        if self.integer and not float(value).is_integer():
            return False
        above = value > self.low if self.low_open else value >= self.low
        below = value < self.high if self.high_open else value <= self.high
        return above and below

    def describe(self) -> str:
        """Return the domain in words, e.g. ``a number > 0`` or ``an integer >= 1``."""
        if self.choices:
            return "one of " + ", ".join(choice_text(c) for c in self.choices)
        what = "an integer" if self.integer else "a number"
        ends = []
        if self.low > -math.inf:
            ends.append(f"{'>' if self.low_open else '>='} {self.low:g}")
        if self.high < math.inf:
            ends.append(f"{'<' if self.high_open else '<='} {self.high:g}")
        return f"{what} {' and '.join(ends)}".strip()


def positive(integer: bool = False) -> Domain:
    """Return the domain of numbers above zero (whole ones when ``integer``)."""
    return Domain(low=0.0, low_open=True, integer=integer)


def unit_interval(high_open: bool = False) -> Domain:
    """Return [0, 1], or [0, 1) with ``high_open``."""
    return Domain(low=0.0, high=1.0, high_open=high_open)


def outside(distribution: BaseDistribution, domain: Domain) -> str | None:
    """Return why ``distribution`` could sample a value outside ``domain``, or None."""
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    if isinstance(distribution, CategoricalDistribution):
        bad = [c for c in distribution.choices if not domain.allows(c)]
        return f"choice {bad[0]!r} is not {domain.describe()}" if bad else None
    assert isinstance(distribution, FloatDistribution | IntDistribution)
    if domain.choices:
        return f"a {type(distribution).__name__} range is not {domain.describe()}"
    if domain.integer and isinstance(distribution, FloatDistribution):
        return f"type float samples numbers like 64.0; it must be {domain.describe()} (type: int)"
    for end in ("low", "high"):
        value = getattr(distribution, end)
        if not domain.allows(value):
            return f"{end} {value:g} is not {domain.describe()}"
    return None
