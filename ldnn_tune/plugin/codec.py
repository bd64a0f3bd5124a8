"""What a character model's task tells ``ldnn-tune generate``: its characters and reach."""

from dataclasses import dataclass

from ldnn_tune.errors import UsageError

SHOWN_CHARACTERS = 100  # a vocabulary up to this size is shown whole in a refusal


@dataclass(frozen=True)
class TextCodec:
    """A character model's vocabulary and context, for sampling text from its ensembles.

    The task's model reads a ``(1, T)`` int64 tensor of character ids and scores every
    class at each of the ``T`` steps, class ``i`` being ``characters[i]`` (the task's
    :meth:`~ldnn_tune.Task.class_names`). ``context`` is how many characters it was trained
    to read at once, from a fresh state (its training windows): the sampler feeds it the
    last ``context`` characters at most, as in training.
    """

    characters: tuple[str, ...]
    context: int

    def __post_init__(self) -> None:
        """Refuse characters that are not single and distinct, and a context below 1."""
        if len(self.characters) < 2 or any(len(c) != 1 for c in self.characters):
            raise ValueError("text_codec() characters must be at least 2 single characters")
        if len(set(self.characters)) != len(self.characters):
            raise ValueError("text_codec() characters must be distinct")
        if not isinstance(self.context, int) or self.context < 1:
            raise ValueError(
                f"text_codec() context must be a whole number >= 1, not {self.context!r}"
            )

    def encode(self, text: str) -> list[int]:
        """Return the ids of ``text``'s characters; UsageError naming any the model never saw."""
        index = {character: number for number, character in enumerate(self.characters)}
        unknown = sorted({character for character in text if character not in index})
        if unknown:
            named = ", ".join(repr(character) for character in unknown[:10])
            more = f" and {len(unknown) - 10} more" if len(unknown) > 10 else ""
            raise UsageError(
                f"invalid prompt: {named}{more} never "
                f"{'occurs' if len(unknown) == 1 else 'occur'} in the training text; "
                f"it holds {self._shown()}"
            )
        return [index[character] for character in text]

    def decode(self, ids: list[int]) -> str:
        """Return the text of character ``ids``."""
        return "".join(self.characters[number] for number in ids)

    def _shown(self) -> str:
        """Return the vocabulary for a message: whole when short, else its size."""
        if len(self.characters) > SHOWN_CHARACTERS:
            return f"{len(self.characters):,} distinct characters"
        return f"these {len(self.characters)}: {''.join(self.characters)!r}"
