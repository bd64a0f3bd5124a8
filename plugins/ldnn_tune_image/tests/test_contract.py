from pathlib import Path

import numpy as np
from ldnn_tune_image import ImageTask
from PIL import Image

from ldnn_tune import Task
from ldnn_tune.testing.contract import TaskContract


class TestImageTask(TaskContract):
    task_class = ImageTask

    def contract_params(self) -> dict[str, object]:
        return {"width": 16, "depth": 1}

    def prediction_inputs(self, task: Task, tmp_path: Path) -> list[Path]:
        """Two of the digits as PNG files, grey levels 0-16 stretched to 0-255."""
        assert isinstance(task, ImageTask)
        paths = []
        for index in range(2):
            pixels = (task.images.images[index, 0] * 255 / 16).astype(np.uint8)
            paths.append(tmp_path / f"digit{index}.png")
            Image.fromarray(pixels).save(paths[-1])
        return paths
