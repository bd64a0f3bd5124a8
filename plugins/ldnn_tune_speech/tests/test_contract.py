from pathlib import Path

import numpy as np
import pytest
from ldnn_tune_speech import SpeechOptions, SpeechTask
from scipy.io import wavfile

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

    def prediction_inputs(self, task: Task, tmp_path: Path) -> list[Path]:
        """Two training clips as 16-bit WAV files."""
        assert isinstance(task, SpeechTask)
        paths = []
        for index in range(2):
            samples = (task.split.x_train[index].numpy() * 32767).astype(np.int16)
            paths.append(tmp_path / f"clip{index}.wav")
            wavfile.write(paths[-1], task.options.sample_rate, samples)
        return paths
