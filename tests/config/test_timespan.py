"""Human time spans."""

import pytest

from ldnn_tune.config.timespan import parse_timespan


@pytest.mark.parametrize(
    ("text", "seconds"), [("600", 600), ("90s", 90), ("10m", 600), ("1.5h", 5400), ("1d", 86400)]
)
def test_parse_timespan(text: str, seconds: float) -> None:
    assert parse_timespan(text) == seconds
