"""A set of fixed-length clips with labels, speakers and (where known) take indices."""

from dataclasses import dataclass

import numpy as np

UNKNOWN = ""


@dataclass(frozen=True)
class ClipSet:
    """Clips ``(N, samples)`` float32, integer labels, class names, speakers, take indices.

    ``speakers`` holds ``""`` where the speaker is unknown; ``indices`` holds -1 where the
    take index (FSDD's ``{label}_{speaker}_{index}.wav``) is unknown.
    """

    waves: np.ndarray
    labels: np.ndarray
    classes: list[str]
    speakers: np.ndarray
    indices: np.ndarray
    source: str
    note: str = ""  # what loading them left out or read as far as it went, for the user

    def __len__(self) -> int:
        return len(self.labels)
