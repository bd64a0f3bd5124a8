from ldnn_tune.testing import BoringTask
from ldnn_tune.testing.contract import TaskContract


class TestBoringTask(TaskContract):
    task_class = BoringTask
