from ldnn_tune_image import ImageTask

from ldnn_tune.testing.contract import TaskContract


class TestImageTask(TaskContract):
    task_class = ImageTask

    def contract_params(self) -> dict[str, object]:
        return {"width": 16, "depth": 1}
