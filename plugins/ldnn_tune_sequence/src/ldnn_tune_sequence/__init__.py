"""ldnn-tune's sequence task: LSTMs (and a two-hidden-layer net) on the article's problems."""

from ldnn_tune_sequence.options import PROBLEMS, SequenceOptions
from ldnn_tune_sequence.problems import SOLVED_ERROR
from ldnn_tune_sequence.task import SequenceTask

__all__ = ["PROBLEMS", "SOLVED_ERROR", "SequenceOptions", "SequenceTask"]
