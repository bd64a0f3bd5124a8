"""Entry point of the speech plugin (group ``ldnn_tune``, name ``speech``)."""

from typing import Any

from ldnn_tune import Task, hookimpl
from ldnn_tune_speech.task import SpeechTask


@hookimpl
def ldnn_tune_tasks() -> list[type[Task[Any]]]:
    """Provide the speech task."""
    return [SpeechTask]
