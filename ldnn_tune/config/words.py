"""Command-line ``key=value`` words → a typed dataclass.

Values are converted by OmegaConf's typed nodes against a dataclass schema, so ``trials=3``
becomes an int and ``study=007`` stays the string "007".
"""

import dataclasses
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar, get_type_hints

from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException

from ldnn_tune.errors import UsageError, choices_text, did_you_mean, unknown_choice

T = TypeVar("T")

MAX_VALUE_LENGTH = 4096  # the longest path Linux takes (PATH_MAX); no setting needs more
# the words a true-or-false setting takes (as OmegaConf reads them; it also took any integer)
BOOL_WORDS = frozenset({"true", "false", "yes", "no", "on", "off", "y", "n", "1", "0"})
NONE_WORDS = ("none", "null")


def split_words(words: Iterable[str]) -> dict[str, str]:
    """Return the ``key=value`` words as a dict of raw strings, rejecting malformed words."""
    values: dict[str, str] = {}
    for word in words:
        key, sep, value = word.partition("=")
        key, value = key.strip(), value.strip()  # ' task=image ', quoted with its spaces
        if not sep or not key:
            raise UsageError(f"expected key=value, got {word!r}")
        shown = key if key.isprintable() else repr(key)  # a newline in it: still one line
        if key in values:
            raise UsageError(f"{shown} given twice ({values[key]!r} and {value!r})")
        if len(value) > MAX_VALUE_LENGTH:
            raise UsageError(
                f"invalid {shown}: the value is {len(value):,} characters long; "
                f"the most is {MAX_VALUE_LENGTH:,}"
            )
        values[key] = value
    return values


def field_names(schema: type[Any]) -> list[str]:
    """Return the field names of dataclass ``schema``."""
    return [f.name for f in dataclasses.fields(schema)]


def parse_words(schema: type[T], words: Sequence[str]) -> T:
    """Return ``schema`` built from ``words``; a key it does not have is a UsageError."""
    values = split_words(words)
    valid = field_names(schema)
    for key in values:
        if key not in valid:
            raise UsageError(unknown_choice("key", key, valid))
    return build_typed(schema, values)


def require_choice(key: str, value: str, choices: Iterable[str]) -> None:
    """Raise a UsageError unless ``value`` is one of ``choices``."""
    if value not in choices:
        listed = list(choices)
        hint = did_you_mean(value, listed)
        raise UsageError(f"invalid {key} {value!r}{hint}; choose from {choices_text(listed)}")


def build_typed(schema: type[T], values: Mapping[str, str]) -> T:
    """Build dataclass ``schema`` from raw strings, converting each by its field's type.

    Raises UsageError naming the key, the bad value and the expected type; range checks
    in the schema's ``__post_init__`` raising ValueError become UsageErrors too.
    """
    conf = OmegaConf.structured(schema)
    OmegaConf.set_readonly(conf, False)  # frozen dataclasses give read-only configs
    hints = get_type_hints(schema)
    for key, raw in values.items():
        members = _members(hints[key])
        if not raw.strip() and Path in members:
            raise UsageError(f"invalid {key}={raw!r}: expected a path, got nothing")
        if Path in members and raw.startswith("~"):  # a shell leaves it after key=
            raw = os.path.expanduser(raw)
        allowed = BOOL_WORDS | (set(NONE_WORDS) if _optional(hints[key]) else set())
        if bool in members and raw.strip().lower() not in allowed:  # OmegaConf took 2, -1
            raise UsageError(f"invalid value {raw!r} for {key}: expected true or false")
        try:
            value = None if raw.lower() in NONE_WORDS and _optional(hints[key]) else raw
            OmegaConf.update(conf, key, value, merge=False)
        except OmegaConfBaseException:
            raise UsageError(
                f"invalid value {raw!r} for {key}: expected {type_name(hints[key])}"
            ) from None
    try:
        return OmegaConf.to_object(conf)  # type: ignore[return-value]
    except ValueError as exc:
        raise UsageError(str(exc).splitlines()[0]) from None


def _members(hint: Any) -> tuple[Any, ...]:
    """Return the types of a union hint (``Path | None``), or the hint alone."""
    return tuple(getattr(hint, "__args__", (hint,)))


def _optional(hint: Any) -> bool:
    return type(None) in _members(hint)


def type_name(hint: Any) -> str:
    """Return how a user writes a value of type ``hint``, e.g. ``"an integer or a path"``."""
    names = {
        int: "an integer",
        float: "a number",
        bool: "true or false",
        str: "text",
        Path: "a path",
    }
    args = [a for a in _members(hint) if a is not type(None)]
    return " or ".join(names.get(a, getattr(a, "__name__", str(a))) for a in args)
