"""Parse human time spans such as ``600``, ``90s``, ``10m``, ``1.5h``."""

import re

from ldnn_tune.errors import UsageError

_UNITS = {"": 1.0, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_PATTERN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")


def parse_timespan(text: str, key: str = "timeout") -> float:
    """Return the number of seconds that ``text`` stands for.

    A bare number is seconds; the suffixes s, m, h and d scale it.
    """
    match = _PATTERN.match(text.lower())
    if match is None or float(match.group(1)) <= 0:
        raise UsageError(
            f"invalid {key} {text!r}: expected a positive duration such as 600, 90s, 10m or 1h"
        )
    return float(match.group(1)) * _UNITS[match.group(2)]
