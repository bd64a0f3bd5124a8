"""Human time spans."""

import pytest

from ldnn_tune.config.timespan import format_seconds, parse_timespan
from ldnn_tune.errors import UsageError


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("600", 600),
        ("90s", 90),
        ("10m", 600),
        ("1.5h", 5400),
        ("1d", 86400),
        ("1h30m", 5400),  # as `run --help` offers it, and as a timeout is printed (1h05m)
        ("2m30s", 150),
        ("1h 30m", 5400),
        ("600 ", 600),
    ],
)
def test_parse_timespan(text: str, seconds: float) -> None:
    assert parse_timespan(text) == seconds


@pytest.mark.parametrize("text", ["0s", "-5m", "30m1h", "1m1m", "1h30", "", "366d", "9" * 400])
def test_a_span_that_is_no_budget_is_refused_naming_it(text: str) -> None:
    with pytest.raises(UsageError, match=r"invalid timeout .*: expected a positive duration up"):
        parse_timespan(text)


def test_a_printed_timeout_reads_back_as_its_seconds() -> None:
    assert parse_timespan(format_seconds(3900)) == 3900  # 1h05m
