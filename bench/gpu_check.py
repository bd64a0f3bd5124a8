"""A short check that training runs on a GPU: each built-in task, a few epochs, health on.

Run where CUDA is available (the tasks train on the CPU otherwise, and the script says so):

    python bench/gpu_check.py

Prints, per task, the device Lightning trained on, the best validation loss and scores,
the median update/weight ratio of the last epoch and the wall time.
"""

import tempfile
import time
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import numpy as np
import torch
from scipy.io import wavfile

from ldnn_tune import (
    HealthBand,
    HealthMonitor,
    HParams,
    Task,
    quiet_frameworks,
    task_space,
    train_trial,
)


class RecordDevice(pl.Callback):
    """Remember the device the model trained on."""

    device = "unknown"

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        RecordDevice.device = str(pl_module.device)


def tone_folder(root: Path) -> Path:
    """Write a tiny FSDD-style folder: 3 'words' (tones) x 4 speakers x 6 takes at 8 kHz."""
    rng = np.random.default_rng(0)
    for label, pitch in enumerate((300, 600, 1200)):
        for speaker in range(4):
            for take in range(6):
                t = np.arange(4000) / 8000
                wave = np.sin(2 * np.pi * pitch * (1 + 0.05 * speaker) * t)
                wave += 0.1 * rng.standard_normal(len(t))
                wavfile.write(
                    root / f"{label}_s{speaker}_{take}.wav", 8000, (wave * 20000).astype(np.int16)
                )
    return root


def tasks(tmp: Path) -> list[tuple[str, Task[Any], dict[str, object]]]:
    from ldnn_tune_image import ImageOptions, ImageTask
    from ldnn_tune_sequence import SequenceOptions, SequenceTask
    from ldnn_tune_speech import SpeechOptions, SpeechTask

    return [
        ("image", ImageTask(ImageOptions(), None, 0), {}),
        ("sequence adding", SequenceTask(SequenceOptions(length=30), None, 0), {"init": "scaled"}),
        ("speech (tones)", SpeechTask(SpeechOptions(clip_seconds=0.5), tone_folder(tmp), 0), {}),
    ]


def main() -> None:
    quiet_frameworks()
    print(
        f"torch {torch.__version__}, CUDA available: {torch.cuda.is_available()}"
        + (f" ({torch.cuda.get_device_name()})" if torch.cuda.is_available() else "")
    )
    with tempfile.TemporaryDirectory() as tmp:
        for name, task, pins in tasks(Path(tmp)):
            task.prepare()
            params = task_space(task, None).defaults()
            params.update(pins)
            monitor = HealthMonitor(HealthBand(), prune=True)
            started = time.monotonic()
            out = train_trial(
                task,
                HParams.from_params(params),
                seed=0,
                max_epochs=3,
                min_lr=1e-6,
                callbacks=[monitor, RecordDevice()],
            )
            print(
                f"{name}: device {RecordDevice.device}, best val_loss {out.best_val_loss:.4f}, "
                f"val {out.val_scores}, ratio median "
                f"{monitor.last_metrics.get('update_ratio_median', float('nan')):.2e}, "
                f"{time.monotonic() - started:.1f} s",
                flush=True,
            )


if __name__ == "__main__":
    main()
