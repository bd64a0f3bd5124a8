"""Entry point of the sequence plugin (group ``ldnn_tune``, name ``sequence``)."""

from typing import Any

from ldnn_tune import Task, hookimpl
from ldnn_tune_sequence.task import SequenceTask


@hookimpl
def ldnn_tune_tasks() -> list[type[Task[Any]]]:
    """Provide the sequence task."""
    return [SequenceTask]
