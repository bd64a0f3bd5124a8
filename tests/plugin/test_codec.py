"""TextCodec: a character model's vocabulary, checked as a task returns it."""

import pytest

from ldnn_tune import UsageError
from ldnn_tune.plugin.codec import TextCodec


def test_text_goes_to_ids_and_back() -> None:
    codec = TextCodec(("\n", " ", "a", "b"), context=8)
    ids = codec.encode("ab a\n")
    assert ids == [2, 3, 1, 2, 0]
    assert codec.decode(ids) == "ab a\n"


def test_characters_the_text_never_used_are_named_with_those_it_did() -> None:
    codec = TextCodec(("a", "b", "c"), context=8)
    with pytest.raises(UsageError) as error:
        codec.encode("abzyz")
    assert str(error.value) == (
        "invalid prompt: 'y', 'z' never occur in the training text; it holds these 3: 'abc'"
    )
    with pytest.raises(UsageError, match="'z' never occurs in the training text"):
        codec.encode("abz")


def test_a_large_vocabulary_is_counted_not_listed() -> None:
    codec = TextCodec(tuple(chr(0x4E00 + n) for n in range(300)), context=8)
    with pytest.raises(UsageError, match=r"it holds 300 distinct characters$"):
        codec.encode("x")


@pytest.mark.parametrize(
    ("characters", "context", "problem"),
    [
        (("a",), 4, "at least 2 single characters"),
        (("a", "bc"), 4, "at least 2 single characters"),
        (("a", "a"), 4, "distinct"),
        (("a", "b"), 0, "context must be a whole number >= 1, not 0"),
    ],
)
def test_a_plugin_s_impossible_codec_is_refused(
    characters: tuple[str, ...], context: int, problem: str
) -> None:
    with pytest.raises(ValueError, match=problem):
        TextCodec(characters, context)
