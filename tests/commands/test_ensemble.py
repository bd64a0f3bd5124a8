"""``ldnn-tune ensemble``'s words, refused before any store is opened."""

from pathlib import Path

import pytest

from ldnn_tune.testing.cli import assert_usage_error, run_main


@pytest.mark.parametrize(
    ("word", "needle"),
    [
        ("method=seeds", "drop method=seeds"),  # the default, yet typed: it would be ignored
        ("method=greedy", "drop method=greedy"),
        ("top_k=3", "drop top_k=3"),
    ],
)
def test_trials_refuse_what_they_would_ignore(
    word: str,
    needle: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``trials=`` names the members, so a method or top_k beside it is refused, storing nothing."""
    monkeypatch.chdir(tmp_path)
    result = run_main(["ensemble", "study=image", "trials=3,7", word], capsys)
    assert_usage_error(result, "trials= names the members itself", needle)
    assert list(tmp_path.iterdir()) == []


def test_method_and_top_k_without_trials_are_taken(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without ``trials=``, method= and top_k= pass the words check: the missing store is next."""
    monkeypatch.chdir(tmp_path)
    result = run_main(["ensemble", "study=image", "method=greedy", "top_k=3"], capsys)
    assert_usage_error(result, "storage=sqlite:///ldnn_tune.db: 'ldnn_tune.db' does not exist")
