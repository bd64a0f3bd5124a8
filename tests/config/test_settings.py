"""Command settings."""

from ldnn_tune.config.settings import RunConfig
from ldnn_tune.config.words import build_typed


def test_timeout_none_means_no_limit() -> None:
    assert build_typed(RunConfig, {"task": "t", "timeout": "none"}).timeout_seconds is None
    assert build_typed(RunConfig, {"task": "t"}).timeout_seconds == 600
