"""The speech task's bad-data_dir errors, through the real ``ldnn-tune`` console script."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy.io import wavfile

LDNN_TUNE = Path(sys.executable).with_name("ldnn-tune")


@pytest.mark.slow
def test_unreadable_wav_exits_2_with_one_line_error(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    for label in ("0", "1"):
        for index in range(5):
            wavfile.write(data / f"{label}_ann_{index}.wav", 8000, np.zeros(800, np.int16))
    broken = data / "1_ann_9.wav"
    broken.write_bytes(b"RIFF but not a wave")
    result = subprocess.run(
        [str(LDNN_TUNE), "run", "task=speech", f"data_dir={data}", "trials=1", "epochs=1"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), result.stderr
    assert str(broken) in lines[0] and "expected a PCM or float WAV file" in lines[0]
    assert not (tmp_path / "ldnn_tune.db").exists()
