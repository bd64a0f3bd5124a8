from pathlib import Path

import pytest
from ldnn_tune_speech import SpeechOptions, SpeechTask

from ldnn_tune import Task
from ldnn_tune.testing.contract import TaskContract

pytest.importorskip("espeakng_loader", reason="the speech task synthesises with espeak-ng")


def small_options(cache_dir: Path) -> SpeechOptions:
    return SpeechOptions(
        words="yes,no,up", speakers=6, takes=2, clip_seconds=0.5, n_mels=16, cache_dir=cache_dir
    )


class TestSpeechTask(TaskContract):
    task_class = SpeechTask

    def make_task(self, tmp_path: Path) -> Task:
        return SpeechTask(small_options(tmp_path / "cache"), None, 0)

    def contract_params(self) -> dict[str, object]:
        return {"width": 8, "depth": 2}
