"""A saved ensemble used from Python gives what ``ldnn-tune predict`` prints, as numbers."""

import csv
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sklearn.datasets import load_digits

from ldnn_tune import UsageError, load_ensemble, predict_files
from ldnn_tune.testing.cli import run_cli


@pytest.mark.slow
def test_a_loaded_ensemble_predicts_what_the_command_prints(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    words = ("task=image", "trials=2", "epochs=2", "check=false", "reseeds=1")
    result = run_cli(tmp_path, "run", *words)
    assert result.returncode == 0, result.stderr
    run_id = re.findall(r"ensemble saved in MLflow run (\w+)", result.stdout)[-1]
    digits = load_digits()
    files = []
    for index in range(3):
        files.append(tmp_path / f"digit{index}.png")
        Image.fromarray((digits.images[index] * 16).astype("uint8")).save(files[-1])
    inputs = ",".join(path.name for path in files)
    result = run_cli(tmp_path, "predict", f"model={run_id}", f"input={inputs}", "output=p.csv")
    assert result.returncode == 0, result.stderr
    with open(tmp_path / "p.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    monkeypatch.chdir(tmp_path)  # the study's folder, as the command ran there
    ensemble = load_ensemble(run_id)
    probabilities = predict_files(ensemble, files)
    assert probabilities.shape == (3, 10)
    assert np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)
    assert [str(p.argmax()) for p in probabilities] == [row["prediction"] for row in rows]
    scores = [float(row["score"]) for row in rows]
    assert probabilities.max(axis=1) == pytest.approx(scores, rel=1e-5)
    assert np.allclose(predict_files(ensemble, files[0]), probabilities[:1], rtol=1e-4)
    with pytest.raises(UsageError, match=r"input 'gone\.png' does not exist"):
        predict_files(ensemble, ["gone.png"])
    with pytest.raises(UsageError, match="needs at least one file"):
        predict_files(ensemble, [])
    with pytest.raises(UsageError, match="is a folder; give its files"):
        predict_files(ensemble, [tmp_path])
    with pytest.raises(UsageError, match="is no ensemble folder, nor a run of a store here"):
        load_ensemble("nope", mlflow=f"sqlite:///{tmp_path / 'missing.db'}")
