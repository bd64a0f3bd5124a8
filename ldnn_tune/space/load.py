"""Search-space files: YAML → validated :class:`SearchSpace`, merged in order.

A space file maps knob names to specs::

    lr:         {type: float, low: 0.01, high: 1.0, log: true, default: 0.1}
    init:       {type: categorical, choices: [lazy, scaled], default: lazy}
    init_scale: {type: float, low: 0.1, high: 1.0, default: 1.0, when: {init: scaled}}

``when`` makes a knob conditional: it is sampled only while an earlier categorical knob
holds one of the listed values. Later files override earlier ones knob by knob, and a knob
set to ``null`` is removed from the search (trials then use its last ``default``).

A file may hold knobs for one task only under ``task:``, by task name::

    task:
      image:    {width: {type: categorical, choices: [16, 32], default: 16}}
      sequence: {hidden: {type: categorical, choices: [32, 64], default: 64}}

so one file (the ready-made ``space=article``, ``quick-cpu``, ``wide``) serves every task.
A user's file may only change or remove knobs the recipe and the task define.
"""

import json
import math
import re
from collections.abc import Collection, Iterable, Mapping
from importlib.abc import Traversable
from importlib.resources import files
from pathlib import Path
from typing import Any

import yaml
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)

from ldnn_tune.errors import UsageError, choices_text, did_you_mean
from ldnn_tune.plugin.task import Task
from ldnn_tune.space.domains import Domain, outside
from ldnn_tune.space.knobs import Knob, SearchSpace

SpaceSource = Path | Traversable
SHIPPED_SPACES = "ldnn_tune.search_spaces"
RECIPE_SPACE = "recipe.yaml"  # the knobs every task shares, loaded first
TASK_SECTION = "task"  # a host setting, so never a knob: `task: {image: {width: ...}}`
_SPEC_KEYS = {"type", "low", "high", "log", "step", "choices", "default", "when", "help"}
_TYPES = ("categorical", "float", "int")
_RANGE_KEYS = {"low", "high", "log", "step"}  # the fields of float and int knobs


def space_file(name: str) -> Traversable:
    """Return the space file ``name`` shipped in ``search_spaces/`` (e.g. ``"recipe.yaml"``)."""
    return files(SHIPPED_SPACES) / name


def ready_made_spaces() -> list[str]:
    """Return the names of the shipped spaces a user passes as ``space=NAME``."""
    return sorted(
        entry.name.removesuffix(".yaml")
        for entry in files(SHIPPED_SPACES).iterdir()
        if entry.name.endswith(".yaml") and entry.name != RECIPE_SPACE
    )


def user_space_file(path: Path) -> SpaceSource:
    """Return the file ``space=PATH`` names: a file, or a ready-made space by its name.

    A bare name that is no file here (``space=article``, or ``article.yaml``) names the
    ready-made space shipped in ``search_spaces/``.
    """
    if path.is_file():
        return path
    ready = ready_made_spaces()
    name = path.name.removesuffix(".yaml")
    if path.parent == Path() and name in ready:
        return space_file(f"{name}.yaml")
    what = "is a folder, not a YAML file" if path.is_dir() else "does not exist"
    if path.exists() and not path.is_dir():  # /dev/null, a pipe
        what = "is not a regular file"
    raise UsageError(
        f"search space file {str(path)!r} {what}; ready-made spaces: {', '.join(ready)}"
    )


def load_space(
    sources: Iterable[SpaceSource],
    domains: Mapping[str, Domain] | None = None,
    *,
    task: str | None = None,
    overrides: Iterable[SpaceSource] = (),
    installed: Collection[str] = (),
) -> SearchSpace:
    """Merge the YAML files in ``sources``, then ``overrides`` (later wins per knob), and validate.

    ``sources`` define the knobs; a file in ``overrides`` (the user's ``space=``) may only
    change or remove those, so a mistyped knob is an error rather than a knob nobody reads.
    A file's ``task:`` section adds the knobs listed under ``task``'s name (with
    ``task=None``, no section applies); a section named like one of the ``installed``
    tasks but not one is a typo, and an error. An overriding knob keeps its place in the order
    (a ``when`` refers to earlier knobs); a new one comes last. Each knob must stay inside
    its entry of ``domains``. Errors name the file and the knob at fault.
    """
    merged: dict[str, Any] = {}
    origin: dict[str, str] = {}
    removed: dict[str, Any] = {}  # knob name -> the spec it had before a null removed it
    for source in sources:
        _merge(source, _knob_specs(source, task, installed), merged, origin, removed)
    defined = set(merged) | set(removed)
    removed_by_task = set(removed)
    for source in overrides:
        specs = _knob_specs(source, task, installed)
        if _shipped(source):  # serves every task and variant: it restores nothing removed
            specs = {name: spec for name, spec in specs.items() if name not in removed}
        unknown = [name for name in specs if name not in defined]
        if unknown:
            whose = f"task {task!r}" if task is not None else "the space"
            raise UsageError(
                f"{source}: knob {unknown[0]!r} is not a knob of {whose}; "
                f"valid: {choices_text(defined)} (another task's knobs go under "
                f"{TASK_SECTION}: {{NAME: {{...}}}})"
            )
        _merge(source, specs, merged, origin, removed)
    _refuse_orphans(merged, removed)
    knobs: list[Knob] = []
    for name, spec in merged.items():
        knob = _parse_knob(name, spec, knobs, origin[name])
        domain = (domains or {}).get(name)
        why = outside(knob.distribution, domain) if domain is not None else None
        if why is not None:
            raise UsageError(f"{origin[name]}: knob {name!r}: {why}")
        knobs.append(knob)
    fixed = {name: spec.get("default") for name, spec in removed.items() if isinstance(spec, dict)}
    return SearchSpace(tuple(knobs), fixed, frozenset(fixed) - removed_by_task)


def _refuse_orphans(merged: Mapping[str, Any], removed: Mapping[str, Any]) -> None:
    """Refuse a knob whose ``when`` names a knob a file removed (it could never be set)."""
    for name, spec in merged.items():
        when = spec.get("when") if isinstance(spec, dict) else None
        for parent in when if isinstance(when, dict) else ():
            if parent in removed:
                raise UsageError(
                    f"knob {name!r} depends on {parent!r} (its when:), which a space file "
                    f"removes ({parent}: null); remove {name} too ({name}: null)"
                )


def _shipped(source: SpaceSource) -> bool:
    """Return whether ``source`` is one of the space files shipped with ldnn-tune."""
    return str(source).startswith(str(files(SHIPPED_SPACES)))


def _merge(
    source: SpaceSource,
    specs: Mapping[str, Any],
    merged: dict[str, Any],
    origin: dict[str, str],
    removed: dict[str, Any],
) -> None:
    """Merge one file's ``specs`` into ``merged``: a spec replaces, a null removes."""
    for name, spec in specs.items():
        if spec is not None:
            merged[name] = spec
            origin[name] = str(source)
            removed.pop(name, None)
        elif name in merged:
            removed[name] = merged.pop(name)


def _knob_specs(
    source: SpaceSource, task: str | None, installed: Collection[str] = ()
) -> dict[str, Any]:
    """Return a file's knobs: its top-level ones, then those under ``task: {task: ...}``.

    A section whose name is not an ``installed`` task's but close to one is refused:
    its knobs would apply to no task. One far from every name may be for a task
    installed elsewhere (a file shared between machines), and is left alone.
    """
    specs = _read_yaml(source)
    sections = specs.pop(TASK_SECTION, None)
    if sections is None:
        return specs
    if not isinstance(sections, dict) or not all(
        isinstance(knobs, dict | None) for knobs in sections.values()
    ):
        raise UsageError(
            f"{source}: {TASK_SECTION!r} must map task names to their knobs, e.g. "
            f"{TASK_SECTION}: {{image: {{width: {{type: int, low: 8, high: 64, default: 8}}}}}}"
        )
    for name in sections:
        hint = did_you_mean(str(name), installed) if name not in installed else ""
        if hint:
            raise UsageError(
                f"{source}: {TASK_SECTION} section {name!r} is not an installed task{hint}; "
                f"installed: {choices_text(installed)}"
            )
    return {**specs, **(sections.get(task) or {})}


class _KeyTwice(ValueError):
    """A JSON object holds a key twice (json itself keeps the last silently)."""


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """Return a JSON object's ``pairs`` as a dict; raise on a key it holds twice."""
    keys = [key for key, _ in pairs]
    twice = next((key for key in keys if keys.count(key) > 1), None)
    if twice is not None:  # json tells no line here: the key names the place
        raise _KeyTwice(f"key {twice!r} given twice in one object")
    return dict(pairs)


class _SpaceLoader(yaml.SafeLoader):
    """YAML as a space file is read: ``1e-4`` is a number, and a key given twice an error.

    PyYAML follows YAML 1.1, where a float needs a dot (``1.0e-4``): ``1e-4`` is a
    string, and a later duplicate key silently replaces the earlier one (a second
    ``task:`` section dropped the first).
    """

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        """Return the mapping of ``node``; raise on a key it holds twice."""
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)  # type: ignore[no-untyped-call]
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {key!r} given twice", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


_SpaceLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)


def _read_yaml(source: SpaceSource) -> dict[str, Any]:
    if not source.is_file():
        raise UsageError(f"search space file {str(source)!r} does not exist")
    try:
        text = source.read_text(encoding="utf-8-sig")  # a byte-order mark is not text
        if source.name.lower().endswith(".json"):  # JSON's whitespace takes tabs; YAML's not
            data = json.loads(text, object_pairs_hook=_unique_keys)
        else:
            data = yaml.load(text, Loader=_SpaceLoader)
    except json.JSONDecodeError as exc:
        raise UsageError(f"malformed JSON in {source} at line {exc.lineno}: {exc.msg}") from None
    except _KeyTwice as exc:
        raise UsageError(f"malformed JSON in {source}: {exc}") from None
    except UnicodeDecodeError:
        raise UsageError(f"search space file {str(source)!r} is not UTF-8 text") from None
    except OSError as exc:
        raise UsageError(f"cannot read search space file {str(source)!r}: {exc.strerror}") from None
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
    if kind is None:  # a spec is whole: a later file replaces a knob's, never patches it
        raise bad(
            f"missing 'type'; a knob's spec is whole (type, its range or choices, default), "
            f"type one of {', '.join(_TYPES)}"
        )
    if kind not in _TYPES:
        raise bad(f"invalid type {kind!r}; choose from {', '.join(_TYPES)}")
    try:
        distribution = _distribution(kind, spec)
    except (TypeError, ValueError) as exc:
        raise bad(str(exc).splitlines()[0]) from None
    if "default" not in spec:
        raise bad("missing 'default' (the value the first trial uses)")
    default = spec["default"]
    if kind != "categorical" and (
        isinstance(default, bool) or not isinstance(default, int | float)
    ):
        raise bad(f"default {default!r} of a {kind} knob must be a number")
    if kind == "int" and isinstance(default, float) and not default.is_integer():
        raise bad(f"default {default!r} of an int knob must be a whole number")
    if not _contains(distribution, default):
        where = Knob(name, distribution, 0, {}).describe()
        relation = "is not" if isinstance(distribution, CategoricalDistribution) else "is outside"
        raise bad(f"default {default!r} {relation} {where}")
    when = _parse_when(spec.get("when"), earlier, bad)
    return Knob(name, distribution, default, when, str(spec.get("help", "")))


def _contains(distribution: BaseDistribution, value: Any) -> bool:
    """Return whether ``value`` is one of ``distribution``'s values (a choice, in range)."""
    try:
        return bool(distribution._contains(distribution.to_internal_repr(value)))
    except (TypeError, ValueError):  # not a choice, or not a number for a range
        return False


def _distribution(kind: str, spec: dict[str, Any]) -> BaseDistribution:
    foreign = sorted(set(spec) & (_RANGE_KEYS if kind == "categorical" else {"choices"}))
    if foreign:
        raise ValueError(f"field {foreign[0]!r} does not apply to type {kind}")
    if kind == "categorical":
        choices = spec.get("choices")
        if not isinstance(choices, list) or not choices:
            raise ValueError("categorical needs a non-empty 'choices' list")
        _check_choices(choices)
        return CategoricalDistribution(choices)
    for bound in ("low", "high"):
        value = spec.get(bound)
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise ValueError(f"{kind} needs a numeric {bound!r}, got {value!r}")
        if not math.isfinite(value):
            raise ValueError(f"{bound} {value} is not a finite number")
    if not isinstance(spec.get("log", False), bool):
        raise ValueError(f"'log' must be true or false, got {spec['log']!r}")
    if kind == "int":
        for bound in ("low", "high"):
            if not float(spec[bound]).is_integer():
                raise ValueError(f"{bound} {spec[bound]} of an int knob must be a whole number")
    if spec["low"] > spec["high"]:
        raise ValueError(f"low {spec['low']} is greater than high {spec['high']}")
    log = bool(spec.get("log", False))
    if log and spec["low"] <= 0:
        raise ValueError(f"log: true needs low above 0 (a log scale has no 0), got {spec['low']}")
    step = spec.get("step")
    if step is not None and (
        isinstance(step, bool) or not isinstance(step, int | float) or step <= 0
    ):
        raise ValueError(f"'step' must be a positive number, got {step!r}")
    if kind == "int" and step is not None and not float(step).is_integer():
        raise ValueError(f"'step' of an int knob must be a whole number, got {step!r}")
    if step is not None and not _divides(step, spec["low"], spec["high"]):
        raise ValueError(
            f"'step' {step} does not divide the range [{spec['low']}, {spec['high']}]; "
            "make high - low a multiple of it"
        )
    if kind == "float":
        return FloatDistribution(
            float(spec["low"]), float(spec["high"]), log=log, step=spec.get("step")
        )
    return IntDistribution(
        int(spec["low"]), int(spec["high"]), log=log, step=int(spec.get("step", 1))
    )


def _check_choices(choices: list[Any]) -> None:
    """Refuse a choice Optuna cannot store (a list, a mapping) and one listed twice."""
    for index, choice in enumerate(choices):
        if choice is not None and not isinstance(choice, str | int | float | bool):
            raise ValueError(
                f"choice {choice!r} is not a number, text, true/false or null, which a "
                "study can store"
            )
        if any(type(choice) is type(c) and choice == c for c in choices[:index]):
            raise ValueError(f"choice {choice!r} is listed twice")


def _divides(step: float, low: float, high: float) -> bool:
    """Return whether ``high - low`` is a whole number of ``step`` (to float rounding)."""
    steps = (high - low) / step
    return abs(steps - round(steps)) <= 1e-8 * max(1.0, abs(steps))


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
        if not wanted:
            raise bad(f"'when' lists no value of {parent!r}, so the knob would never apply")
        missing = [v for v in wanted if v not in knob.distribution.choices]
        if missing:
            raise bad(
                f"'when' value {missing[0]!r} is not a choice of {parent!r}; "
                f"choose from {choices_text(knob.distribution.choices)}"
            )
        parsed[parent] = wanted
    return parsed


def task_space_files(task: Task[Any]) -> list[SpaceSource]:
    """Return the YAML files of ``task``'s own knobs: one, or several merged in order.

    Raises TypeError for anything else ``search_space()`` returns (a file name as a str
    would otherwise be read as a list of one-letter files).
    """
    found = task.search_space()
    sources: list[SpaceSource] = []
    for source in found if isinstance(found, list | tuple) else [found]:
        if not isinstance(source, Traversable):
            raise TypeError(
                f"search_space() returns a {type(source).__name__}, not a Path (or a list of "
                "them): e.g. Path(__file__).with_name('space.yaml')"
            )
        sources.append(source)
    return sources


def task_domains(task: Task[Any]) -> dict[str, Domain]:
    """Return what the code takes for each knob: the recipe's domains, then ``task``'s own.

    Raises TypeError when ``task.knob_domains()`` is not a mapping.
    """
    from ldnn_tune.recipe.hparams import RECIPE_DOMAINS

    domains = task.knob_domains()
    if not isinstance(domains, Mapping):
        raise TypeError(
            f"knob_domains() returns a {type(domains).__name__}, not a dict of knob names "
            "to domains"
        )
    return {**RECIPE_DOMAINS, **domains}


def task_space(
    task: Task[Any], user_space: Path | None = None, installed: Collection[str] = ()
) -> SearchSpace:
    """Return the shared recipe merged with ``task``'s space and the user's ``space=`` file.

    ``user_space`` is a file, or the name of a ready-made space (``Path("article")``);
    ``installed`` names the installed tasks, to catch a misspelt ``task:`` section.
    """
    return load_space(
        [space_file(RECIPE_SPACE), *task_space_files(task)],
        task_domains(task),
        task=task.name,
        overrides=[user_space_file(user_space)] if user_space is not None else [],
        installed=installed,
    )
