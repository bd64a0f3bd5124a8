"""Search spaces: YAML files of knobs → Optuna distributions, validated on load.

A space file maps knob names to specs::

    lr:         {type: float, low: 0.01, high: 1.0, log: true, default: 0.1}
    init:       {type: categorical, choices: [lazy, scaled], default: lazy}
    init_scale: {type: float, low: 0.1, high: 1.0, default: 1.0, when: {init: scaled}}

``when`` makes a knob conditional: it is sampled only while an earlier categorical knob
holds one of the listed values. Later files override earlier ones knob by knob, and a knob
set to ``null`` is removed.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from importlib.abc import Traversable
from importlib.resources import files
from pathlib import Path
from typing import Any

import optuna
import yaml
from optuna.distributions import (
    BaseDistribution,
    CategoricalChoiceType,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)

from ldnn_tune.errors import UsageError, choices_text

SpaceSource = Path | Traversable
SHIPPED_SPACES = "ldnn_tune.search_spaces"
_SPEC_KEYS = {"type", "low", "high", "log", "step", "choices", "default", "when", "help"}
_TYPES = ("categorical", "float", "int")


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

    def describe(self) -> str:
        """Return the distribution in a short human form, e.g. ``float [0.01, 1] log``."""
        dist = self.distribution
        if isinstance(dist, CategoricalDistribution):
            if len(dist.choices) == 1:
                return f"fixed {dist.choices[0]}"
            return "one of " + ", ".join(str(c) for c in dist.choices)
        assert isinstance(dist, FloatDistribution | IntDistribution)
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

    @property
    def names(self) -> list[str]:
        """Return the knob names in order."""
        return [k.name for k in self.knobs]

    def __getitem__(self, name: str) -> Knob:
        for knob in self.knobs:
            if knob.name == name:
                return knob
        raise KeyError(name)

    def sample(self, trial: optuna.Trial) -> dict[str, Any]:
        """Ask ``trial`` for every active knob, in order (define-by-run)."""
        params: dict[str, Any] = {}
        for knob in self.knobs:
            if knob.is_active(params):
                params[knob.name] = _suggest(trial, knob.name, knob.distribution)
        return params

    def defaults(self) -> dict[str, Any]:
        """Return the default value of every knob active under the defaults."""
        params: dict[str, Any] = {}
        for knob in self.knobs:
            if knob.is_active(params):
                params[knob.name] = knob.default
        return params

    def fix(self, values: Mapping[str, str]) -> "SearchSpace":
        """Return a copy where each named knob is pinned to the given raw value."""
        pinned = {name: coerce_knob_value(self[name], raw) for name, raw in values.items()}
        knobs = tuple(
            replace(
                k, distribution=CategoricalDistribution([pinned[k.name]]), default=pinned[k.name]
            )
            if k.name in pinned
            else k
            for k in self.knobs
        )
        return SearchSpace(knobs)


def _suggest(trial: optuna.Trial, name: str, dist: BaseDistribution) -> Any:
    if isinstance(dist, FloatDistribution):
        return trial.suggest_float(name, dist.low, dist.high, log=dist.log, step=dist.step)
    if isinstance(dist, IntDistribution):
        return trial.suggest_int(name, dist.low, dist.high, log=dist.log, step=dist.step)
    assert isinstance(dist, CategoricalDistribution)
    return trial.suggest_categorical(name, dist.choices)


def coerce_knob_value(knob: Knob, raw: str) -> Any:
    """Turn a command-line string into a value of ``knob``'s distribution, or raise UsageError."""
    dist = knob.distribution
    if isinstance(dist, CategoricalDistribution):
        for choice in dist.choices:
            if str(choice) == raw or _numbers_equal(choice, raw):
                return choice
        raise UsageError(
            f"invalid value {raw!r} for {knob.name}; choose from {choices_text(dist.choices)}"
        )
    assert isinstance(dist, FloatDistribution | IntDistribution)
    number_type = float if isinstance(dist, FloatDistribution) else int
    try:
        value = number_type(raw)
    except ValueError:
        raise UsageError(
            f"invalid value {raw!r} for {knob.name}: expected {number_type.__name__}"
        ) from None
    if not dist.low <= value <= dist.high:
        raise UsageError(
            f"{knob.name}={raw} is outside the search space [{dist.low:g}, {dist.high:g}]; "
            "widen it with space=FILE"
        )
    return value


def _numbers_equal(choice: CategoricalChoiceType, raw: str) -> bool:
    if isinstance(choice, bool) or not isinstance(choice, int | float):
        return False
    try:
        return float(raw) == float(choice)
    except ValueError:
        return False


def space_file(name: str) -> Traversable:
    """Return the space file ``name`` shipped in ``search_spaces/`` (e.g. ``"image.yaml"``)."""
    return files(SHIPPED_SPACES) / name


def load_space(sources: Iterable[SpaceSource]) -> SearchSpace:
    """Merge the YAML files in ``sources`` (later wins per knob) and validate the result."""
    merged: dict[str, Any] = {}
    origin: dict[str, str] = {}
    for source in sources:
        for name, spec in _read_yaml(source).items():
            merged.pop(name, None)  # an overriding knob moves to the end of the order
            if spec is not None:
                merged[name] = spec
                origin[name] = str(source)
    knobs: list[Knob] = []
    for name, spec in merged.items():
        knobs.append(_parse_knob(name, spec, knobs, origin[name]))
    return SearchSpace(tuple(knobs))


def _read_yaml(source: SpaceSource) -> dict[str, Any]:
    if not source.is_file():
        raise UsageError(f"search space file {str(source)!r} does not exist")
    try:
        data = yaml.safe_load(source.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or exc.__class__.__name__
        raise UsageError(f"malformed YAML in {source}{where}: {problem}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise UsageError(f"{source}: expected a mapping of knob names to specs")
    return data


def _parse_knob(name: str, spec: Any, earlier: list[Knob], source: str) -> Knob:
    def bad(why: str) -> UsageError:
        return UsageError(f"{source}: knob {name!r}: {why}")

    if not isinstance(spec, dict):
        raise bad("expected a mapping such as {type: float, low: 0.01, high: 1}")
    unknown = set(spec) - _SPEC_KEYS
    if unknown:
        raise bad(f"unknown field {sorted(unknown)[0]!r}; valid: {choices_text(_SPEC_KEYS)}")
    kind = spec.get("type")
    if kind not in _TYPES:
        raise bad(f"invalid type {kind!r}; choose from {', '.join(_TYPES)}")
    try:
        distribution = _distribution(kind, spec)
    except (TypeError, ValueError) as exc:
        raise bad(str(exc).splitlines()[0]) from None
    if "default" not in spec:
        raise bad("missing 'default' (the value the first trial uses)")
    default = spec["default"]
    if not distribution._contains(distribution.to_internal_repr(default)):
        raise bad(f"default {default!r} is outside {Knob(name, distribution, 0, {}).describe()}")
    when = _parse_when(spec.get("when"), earlier, bad)
    return Knob(name, distribution, default, when, str(spec.get("help", "")))


def _distribution(kind: str, spec: dict[str, Any]) -> BaseDistribution:
    if kind == "categorical":
        choices = spec.get("choices")
        if not isinstance(choices, list) or not choices:
            raise ValueError("categorical needs a non-empty 'choices' list")
        return CategoricalDistribution(choices)
    for bound in ("low", "high"):
        if not isinstance(spec.get(bound), int | float) or isinstance(spec.get(bound), bool):
            raise ValueError(f"{kind} needs a numeric {bound!r}")
    if spec["low"] > spec["high"]:
        raise ValueError(f"low {spec['low']} is greater than high {spec['high']}")
    log = bool(spec.get("log", False))
    if kind == "float":
        return FloatDistribution(
            float(spec["low"]), float(spec["high"]), log=log, step=spec.get("step")
        )
    return IntDistribution(
        int(spec["low"]), int(spec["high"]), log=log, step=int(spec.get("step", 1))
    )


def _parse_when(when: Any, earlier: list[Knob], bad: Any) -> Mapping[str, tuple[Any, ...]]:
    if when is None:
        return {}
    if not isinstance(when, dict):
        raise bad("'when' must map an earlier categorical knob to a value or list of values")
    by_name = {k.name: k for k in earlier}
    parsed: dict[str, tuple[Any, ...]] = {}
    for parent, values in when.items():
        knob = by_name.get(parent)
        if knob is None or not isinstance(knob.distribution, CategoricalDistribution):
            valid = [k.name for k in earlier if isinstance(k.distribution, CategoricalDistribution)]
            raise bad(
                f"'when' refers to {parent!r}, not an earlier categorical knob; "
                f"valid: {choices_text(valid) or 'none'}"
            )
        wanted = tuple(values) if isinstance(values, list) else (values,)
        missing = [v for v in wanted if v not in knob.distribution.choices]
        if missing:
            raise bad(
                f"'when' value {missing[0]!r} is not a choice of {parent!r}; "
                f"choose from {choices_text(knob.distribution.choices)}"
            )
        parsed[parent] = wanted
    return parsed
