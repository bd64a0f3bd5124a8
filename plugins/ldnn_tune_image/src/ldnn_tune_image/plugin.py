"""Entry point of the image plugin (group ``ldnn_tune``, name ``image``)."""

from typing import Any

from ldnn_tune import Task, hookimpl
from ldnn_tune_image.task import ImageTask


@hookimpl
def ldnn_tune_tasks() -> list[type[Task[Any]]]:
    """Provide the image task."""
    return [ImageTask]
