"""ldnn-tune's speech task: small CNNs on log-mel spectrograms of spoken keywords.

The task is imported lazily, so the espeak-ng worker process (see :mod:`.espeak`) can
import this package without loading torch and Lightning.
"""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ldnn_tune_speech.task import SpeechOptions, SpeechTask

__all__ = ["SpeechOptions", "SpeechTask"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from ldnn_tune_speech import task

        return getattr(task, name)
    raise AttributeError(f"module 'ldnn_tune_speech' has no attribute {name!r}")
