"""The speech task's bad-data_dir errors, through the real ``ldnn-tune`` console script."""

from pathlib import Path

import numpy as np
import pytest
from scipy.io import wavfile

from ldnn_tune.testing.cli import assert_usage_error, run_cli


@pytest.mark.slow
def test_unreadable_wav_exits_2_with_one_line_error(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    for label in ("0", "1"):
        for index in range(5):
            wavfile.write(data / f"{label}_ann_{index}.wav", 8000, np.zeros(800, np.int16))
    broken = data / "1_ann_9.wav"
    broken.write_bytes(b"RIFF but not a wave")
    result = run_cli(
        tmp_path, "run", "task=speech", f"data_dir={data}", "trials=1", "epochs=1", timeout=120
    )
    assert_usage_error(result, str(broken), "expected a PCM or float WAV file")
    assert not (tmp_path / "ldnn_tune.db").exists()
