"""Any text at all gives a valid setting or a one-line UsageError, never another exception."""

from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ldnn_tune.config.settings import EnsembleConfig, PredictConfig, RunConfig, UiConfig
from ldnn_tune.config.timespan import parse_timespan
from ldnn_tune.config.words import parse_words, split_words
from ldnn_tune.errors import UsageError
from ldnn_tune.recipe.hparams import RECIPE_DOMAINS
from ldnn_tune.space.load import load_space, space_file

KEYS = ["trials", "timeout", "epochs", "seed", "n_jobs", "ratio_low", "health", "space", "top"]
words = st.lists(
    st.one_of(
        st.text(max_size=30),
        st.builds(lambda k, v: f"{k}={v}", st.sampled_from(KEYS), st.text(max_size=20)),
    ),
    max_size=5,
)


def one_line(error: UsageError) -> None:
    assert str(error) and "\n" not in str(error)


@settings(max_examples=300, deadline=None)
@given(words, st.sampled_from([RunConfig, EnsembleConfig, PredictConfig, UiConfig]))
def test_any_words_give_settings_or_a_usage_error(texts: list[str], schema: type[object]) -> None:
    try:
        parse_words(schema, texts)
    except UsageError as error:
        one_line(error)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(max_size=40), max_size=6))
def test_split_words_accepts_or_explains(texts: list[str]) -> None:
    try:
        values = split_words(texts)
    except UsageError as error:
        one_line(error)
    else:
        assert len(values) == len(texts)


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=20))
def test_any_timespan_is_seconds_or_a_usage_error(text: str) -> None:
    try:
        seconds = parse_timespan(text)
    except UsageError as error:
        one_line(error)
    else:
        assert seconds > 0


specs = st.dictionaries(
    st.sampled_from(["type", "low", "high", "log", "step", "choices", "default", "when", "x"]),
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-5, 300),
        st.floats(allow_nan=True, allow_infinity=True),
        st.text(max_size=8),
        st.lists(st.one_of(st.integers(-3, 300), st.text(max_size=5)), max_size=4),
        st.sampled_from(["float", "int", "categorical"]),
        st.dictionaries(st.sampled_from(["init", "lr"]), st.text(max_size=5), max_size=1),
    ),
    max_size=7,
)
spaces = st.dictionaries(
    st.sampled_from(["lr", "dropout", "batch_size", "init", "init_scale", "width", "new"]),
    st.one_of(st.none(), specs, st.integers(), st.text(max_size=5)),
    max_size=4,
)


@settings(
    max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.one_of(spaces, st.text(max_size=60)))
def test_any_space_file_loads_or_is_a_usage_error(tmp_path: Path, content: object) -> None:
    path = tmp_path / "space.yaml"
    text = content if isinstance(content, str) else yaml.safe_dump(content)
    path.write_text(text, encoding="utf-8")
    try:
        space = load_space([space_file("recipe.yaml"), path], RECIPE_DOMAINS)
    except UsageError as error:
        one_line(error)
    else:
        for knob in space.knobs:
            assert knob.name
