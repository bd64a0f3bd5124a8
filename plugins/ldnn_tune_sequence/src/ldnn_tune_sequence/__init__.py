"""ldnn-tune's sequence task: LSTMs (and a two-hidden-layer net) on the article's problems."""

from ldnn_tune_sequence.options import PROBLEMS, SOLVED_ERROR, SequenceOptions
from ldnn_tune_sequence.task import SequenceTask

__all__ = ["PROBLEMS", "SOLVED_ERROR", "SequenceOptions", "SequenceTask"]
