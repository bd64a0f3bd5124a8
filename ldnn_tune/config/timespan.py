"""Parse human time spans such as ``600``, ``90s``, ``10m``, ``1.5h``."""

import re

from ldnn_tune.errors import UsageError

_UNITS = {"": 1.0, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_PATTERN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")
MAX_DAYS = 365  # longer is no budget at all: that is "none"


def parse_timespan(text: str, key: str = "timeout") -> float:
    """Return the number of seconds that ``text`` stands for.

    A bare number is seconds; the suffixes s, m, h and d scale it.
    """
    match = _PATTERN.match(text.lower())
    seconds = float(match.group(1)) * _UNITS[match.group(2)] if match else 0.0
    if not 0 < seconds <= MAX_DAYS * _UNITS["d"]:
        raise UsageError(
            f"invalid {key} {text!r}: expected a positive duration up to {MAX_DAYS}d such as "
            "600, 90s, 10m or 1h, or none"
        )
    return seconds


def format_seconds(seconds: float) -> str:
    """Return ``seconds`` the way a timeout is written: ``42s``, ``4m10s``, ``1h05m``."""
    whole = round(seconds)
    if whole < 60:
        return f"{seconds:.1f}s" if seconds < 10 else f"{whole}s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"
