"""Knobs and search spaces: what a trial may set, how it is sampled, what trial 0 uses."""

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import optuna
from optuna.distributions import (
    BaseDistribution,
    CategoricalChoiceType,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)

from ldnn_tune.errors import UsageError, choice_text, choices_text

WIDEN = "widen it with space=FILE"  # how to widen a range of the task's own space


@dataclass(frozen=True)
class Knob:
    """One searchable knob: its distribution, the value the first trial uses, its condition."""

    name: str
    distribution: BaseDistribution
    default: Any
    when: Mapping[str, tuple[Any, ...]]
    help: str = ""

    def is_active(self, params: Mapping[str, Any]) -> bool:
        """Return whether this knob applies given the values already chosen."""
        return all(params.get(parent) in values for parent, values in self.when.items())

    def allows(self, value: Any) -> bool:
        """Return whether ``value`` is one this knob's distribution can take."""
        dist = self.distribution
        if isinstance(dist, CategoricalDistribution):
            return any(type(value) is type(c) and value == c for c in dist.choices)
        assert isinstance(dist, FloatDistribution | IntDistribution)
        if isinstance(value, bool) or not isinstance(value, int | float):
            return False
        if isinstance(dist, IntDistribution) and not float(value).is_integer():
            return False
        if not dist.low <= value <= dist.high:
            return False
        if dist.step is None:
            return True
        steps = (value - dist.low) / dist.step
        return abs(steps - round(steps)) < 1e-8

    def lowest(self) -> float | None:
        """Return the lowest number this knob can take (None for a choice of non-numbers)."""
        dist = self.distribution
        if isinstance(dist, FloatDistribution | IntDistribution):
            return float(dist.low)
        assert isinstance(dist, CategoricalDistribution)
        numbers = [
            c for c in dist.choices if isinstance(c, int | float) and not isinstance(c, bool)
        ]
        return float(min(numbers)) if numbers else None

    def describe(self) -> str:
        """Return the distribution in a short human form, e.g. ``float [0.01, 1] log``."""
        dist = self.distribution
        if isinstance(dist, CategoricalDistribution):
            if len(dist.choices) == 1:
                return f"fixed {dist.choices[0]}"
            return "one of " + ", ".join(str(c) for c in dist.choices)
        assert isinstance(dist, FloatDistribution | IntDistribution)
        if dist.low == dist.high:
            return f"fixed {dist.low:g}"
        kind = "float" if isinstance(dist, FloatDistribution) else "int"
        text = f"{kind} [{dist.low:g}, {dist.high:g}]"
        if dist.log:
            text += " log"
        if dist.step is not None and not (kind == "int" and dist.step == 1):
            text += f" step {dist.step:g}"
        return text


@dataclass(frozen=True)
class SearchSpace:
    """An ordered set of knobs; conditions refer only to knobs earlier in the order."""

    knobs: tuple[Knob, ...]
    # knobs a later file removed (null): not searched, trials use their last default
    fixed: Mapping[str, Any] = field(default_factory=dict)
    # those of them the user's space file removed (the task's own removes others for its
    # options, e.g. an MLP's LSTM knobs): a trial records these, as it trains with them
    user_removed: frozenset[str] = frozenset()

    @property
    def names(self) -> list[str]:
        """Return the knob names in order."""
        return [k.name for k in self.knobs]

    def __getitem__(self, name: str) -> Knob:
        for knob in self.knobs:
            if knob.name == name:
                return knob
        raise KeyError(name)

    def sample(self, trial: optuna.Trial, kept: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Ask ``trial`` for every active knob, in order (define-by-run).

        ``kept``: the knobs of the trial a retrain repeats. One this space no longer allows
        (a pin or a narrower range since) is asked with its range widened to hold it, so
        the study stores the value the net trains with inside its distribution. Any other
        trial queued by an earlier command (the defaults, a stopped trial's retry) with a
        value this space no longer allows takes this space's instead: the pin given now.
        """
        kept = kept or {}
        queued = getattr(trial, "_fixed_params", {})  # Optuna's: the values enqueued with it
        params: dict[str, Any] = {}
        for knob in self.knobs:
            if knob.is_active(params):
                distribution = knob.distribution
                if knob.name in kept and not knob.allows(kept[knob.name]):
                    distribution = _widened(distribution, kept[knob.name])
                elif knob.name in queued and not knob.allows(queued[knob.name]):
                    del queued[knob.name]  # in this process only; the store keeps the queue
                params[knob.name] = _suggest(trial, knob.name, distribution)
        return params

    def defaults(self) -> dict[str, Any]:
        """Return the default value of every knob active under the defaults."""
        params: dict[str, Any] = {}
        for knob in self.knobs:
            if knob.is_active(params):
                params[knob.name] = knob.default
        return params

    def complete(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """Return ``params`` with every other knob at its default: what a trial trains with.

        Knobs inactive under ``params`` (a ``when`` that does not hold) and knobs removed
        from the search keep their YAML default, so code never needs a default of its own.
        """
        return {**self.fixed, **{k.name: k.default for k in self.knobs}, **params}

    def fix(self, values: Mapping[str, str], widen: str = WIDEN) -> "SearchSpace":
        """Return a copy where each named knob is pinned to the given raw value.

        A float or int knob keeps its kind (a range from the value to itself), so a study
        that searched it can go on with it pinned; a categorical one keeps one choice.
        ``widen`` says how to widen a range a value lies outside.
        """
        pinned = {name: coerce_knob_value(self[name], raw, widen) for name, raw in values.items()}
        _check_conditions(pinned, self)
        knobs = tuple(
            replace(k, distribution=_pinned(k.distribution, pinned[k.name]), default=pinned[k.name])
            if k.name in pinned
            else k
            for k in self.knobs
        )
        return SearchSpace(knobs, self.fixed, self.user_removed)


def _check_conditions(pinned: Mapping[str, Any], space: "SearchSpace") -> None:
    """Refuse a pinned knob whose ``when`` a pinned parent rules out: it would never be set."""
    for name in pinned:
        for parent, wanted in space[name].when.items():
            if parent in pinned and pinned[parent] not in wanted:
                shown = ", ".join(choice_text(v) for v in wanted)
                raise UsageError(
                    f"{name}= applies only when {parent} is {shown}, and {parent}="
                    f"{choice_text(pinned[parent])} is pinned; drop {name}= or change {parent}="
                )


def _pinned(distribution: BaseDistribution, value: Any) -> BaseDistribution:
    """Return ``distribution`` narrowed to ``value`` alone, of the same kind where it can be."""
    if isinstance(distribution, FloatDistribution):
        return FloatDistribution(value, value, log=distribution.log)
    if isinstance(distribution, IntDistribution):
        return IntDistribution(value, value, log=distribution.log)
    return CategoricalDistribution([value])


def _widened(distribution: BaseDistribution, value: Any) -> BaseDistribution:
    """Return ``distribution`` stretched to hold number ``value``, its grid dropped.

    A choice of values cannot be stretched (Optuna keeps a knob's choices for good): it
    is returned as it is.
    """
    if isinstance(distribution, FloatDistribution):
        low, high = min(distribution.low, value), max(distribution.high, value)
        return FloatDistribution(low, high, log=distribution.log)
    if isinstance(distribution, IntDistribution):
        low, high = min(distribution.low, int(value)), max(distribution.high, int(value))
        return IntDistribution(low, high, log=distribution.log)
    return distribution


def _suggest(trial: optuna.Trial, name: str, dist: BaseDistribution) -> Any:
    if isinstance(dist, FloatDistribution):
        return trial.suggest_float(name, dist.low, dist.high, log=dist.log, step=dist.step)
    if isinstance(dist, IntDistribution):
        return trial.suggest_int(name, dist.low, dist.high, log=dist.log, step=dist.step)
    assert isinstance(dist, CategoricalDistribution)
    try:
        return trial.suggest_categorical(name, dist.choices)
    except ValueError as error:  # a value enqueued by hand, not a choice: Optuna names no knob
        raise ValueError(
            f"knob {name!r}: the value enqueued for this trial is not a choice ({error})"
        ) from None


def coerce_knob_value(knob: Knob, raw: str, widen: str = WIDEN) -> Any:
    """Turn a command-line string into a value of ``knob``'s distribution, or raise UsageError.

    ``widen``: how to widen a range the value lies outside (a space file's, or the task's).
    """
    dist = knob.distribution
    if isinstance(dist, CategoricalDistribution):
        for matches in (_same_text, _numbers_equal, _bools_equal):  # 3.0 for 3, yes for true
            for choice in dist.choices:
                if matches(choice, raw):
                    return choice
        raise UsageError(
            f"invalid value {raw!r} for {knob.name}; choose from {choices_text(dist.choices)}"
        )
    assert isinstance(dist, FloatDistribution | IntDistribution)
    number_type = float if isinstance(dist, FloatDistribution) else int
    expected = "a number" if number_type is float else "an integer"
    try:
        value = number_type(raw)
    except ValueError:
        raise UsageError(f"invalid value {raw!r} for {knob.name}: expected {expected}") from None
    if not math.isfinite(value):  # no space holds it: widening would not help
        raise UsageError(f"invalid value {raw!r} for {knob.name}: expected a finite number")
    if not dist.low <= value <= dist.high:
        raise UsageError(
            f"{knob.name}={raw} is outside the search space [{dist.low:g}, {dist.high:g}]; {widen}"
        )
    if not knob.allows(value):  # between the bounds, off the grid of a step
        raise UsageError(
            f"{knob.name}={raw} is off the search space's grid ({knob.describe()}); give a "
            "value on it"
        )
    return value


# the words a true/false knob takes, as the host's true/false settings take them
TRUE_WORDS = frozenset({"true", "yes", "on", "y", "1"})
FALSE_WORDS = frozenset({"false", "no", "off", "n", "0"})


def _same_text(choice: CategoricalChoiceType, raw: str) -> bool:
    """Return whether ``raw`` is ``choice`` as written (a true/false one in any case)."""
    if isinstance(choice, bool):
        return choice_text(choice) == raw.lower()
    return str(choice) == raw


def _bools_equal(choice: CategoricalChoiceType, raw: str) -> bool:
    if not isinstance(choice, bool):
        return False
    return raw.lower() in (TRUE_WORDS if choice else FALSE_WORDS)


def _numbers_equal(choice: CategoricalChoiceType, raw: str) -> bool:
    if isinstance(choice, bool) or not isinstance(choice, int | float):
        return False
    try:
        return float(raw) == float(choice)
    except ValueError:
        return False
