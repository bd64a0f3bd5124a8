"""The pre-flight's gradient check has no false alarms on small folders of noise images."""

from pathlib import Path

import numpy as np
import pytest
from ldnn_tune_image import ImageOptions, ImageTask
from PIL import Image

from ldnn_tune import HParams, run_checks


def noise_folder(root: Path, seed: int, side: int, color: bool) -> Path:
    """Write 3 classes x 10 noise images, ``side`` pixels square, under ``root``."""
    rng = np.random.default_rng(seed)
    shape = (side, side, 3) if color else (side, side)
    for label in range(3):
        (root / f"class{label}").mkdir(parents=True)
        for index in range(10):
            pixels = rng.integers(0, 255, shape, dtype=np.uint8)
            Image.fromarray(pixels).save(root / f"class{label}" / f"{index}.png")
    return root


@pytest.mark.parametrize("seed", range(10))
@pytest.mark.parametrize(("side", "color"), [(20, True), (64, True), (32, False)])
def test_the_gradient_check_passes_valid_folders_over_many_seeds(
    tmp_path: Path, seed: int, side: int, color: bool
) -> None:
    # colour noise crossed enough ReLU and max-pool kinks to fail 3 of these 30 folders
    # when the check took the median of 5 fixed-step directions
    folder = noise_folder(tmp_path, seed, side, color)
    task = ImageTask(ImageOptions(color=color), folder, seed)
    task.prepare()
    results = {r.name: r for r in run_checks(task, HParams.for_task(task), quick_only=True)}
    assert results["gradient"].passed, results["gradient"].detail
