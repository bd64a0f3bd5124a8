"""Parse human time spans such as ``600``, ``90s``, ``10m``, ``1.5h``, ``1h30m``."""

import itertools
import re

from ldnn_tune.errors import UsageError

_UNITS = {"": 1.0, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_NUMBER = r"\d+(?:\.\d+)?"
_PART = re.compile(rf"({_NUMBER})\s*([smhd])")
# a bare number, or parts with units in falling order (1h30m, 2m30s, 1d12h)
_PATTERN = re.compile(rf"^\s*(?:{_NUMBER}\s*|(?:{_NUMBER}\s*[smhd]\s*)+)$")
MAX_DAYS = 365  # longer is no budget at all: that is "none"


def parse_timespan(text: str, key: str = "timeout") -> float:
    """Return the number of seconds that ``text`` stands for.

    A bare number is seconds; the suffixes s, m, h and d scale it, and parts add up from
    the largest unit down (``1h30m``).
    """
    seconds = _seconds(text.lower()) if _PATTERN.match(text.lower()) else 0.0
    if not 0 < seconds <= MAX_DAYS * _UNITS["d"]:
        raise UsageError(
            f"invalid {key} {text!r}: expected a positive duration up to {MAX_DAYS}d such as "
            "600, 90s, 10m, 1h or 1h30m, or none"
        )
    return seconds


def _seconds(text: str) -> float:
    """Return the seconds of a well-formed span; 0 when its units do not fall (30m1h, 1m1m)."""
    parts = _PART.findall(text)
    if not parts:  # a bare number, in whatever space the pattern let through
        return float(re.findall(_NUMBER, text)[0])
    scales = [_UNITS[unit] for _, unit in parts]
    if any(later >= earlier for earlier, later in itertools.pairwise(scales)):
        return 0.0
    return sum(float(number) * _UNITS[unit] for number, unit in parts)


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
