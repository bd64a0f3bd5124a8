"""``ldnn-tune predict``: run a saved ensemble on new input files."""

import csv
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient
from rich.console import Console
from rich.table import Table

from ldnn_tune.ensembles.bundle import LoadedEnsemble, load_bundle
from ldnn_tune.errors import UsageError
from ldnn_tune.plugin.manager import Host


@dataclass
class PredictConfig:
    """Everything ``ldnn-tune predict`` takes."""

    model: str = ""  # an ensemble bundle folder, or the MLflow run id of an ensemble
    input: str = ""  # comma-separated files or folders
    mlflow: str = "sqlite:///mlflow.db"
    output: Path | None = None  # also write the predictions to this CSV file

    def __post_init__(self) -> None:
        for key in ("model", "input"):
            if not getattr(self, key):
                raise UsageError(
                    f"missing {key}=...; usage: ldnn-tune predict "
                    "model=RUN_ID_OR_FOLDER input=FILE[,FILE...]"
                )


def input_paths(text: str) -> list[Path]:
    """Expand comma-separated files and folders (their files, sorted) into paths."""
    paths: list[Path] = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        path = Path(part)
        if path.is_dir():
            paths.extend(sorted(p for p in path.iterdir() if p.is_file()))
        elif path.is_file():
            paths.append(path)
        else:
            raise UsageError(f"input {part!r} does not exist")
    if not paths:
        raise UsageError(f"input {text!r} holds no files")
    return paths


def load_ensemble(model: str, mlflow_uri: str, host: Host, scratch: Path) -> LoadedEnsemble:
    """Load the bundle folder ``model``, or download the ensemble of MLflow run ``model``."""
    if Path(model).exists():
        return load_bundle(Path(model), host)
    try:
        folder = MlflowClient(mlflow_uri).download_artifacts(model, "ensemble", str(scratch))
    except MlflowException:
        raise UsageError(
            f"model {model!r} is neither an ensemble folder nor an ensemble run in {mlflow_uri}"
        ) from None
    return load_bundle(Path(folder), host)


def predict(config: PredictConfig, host: Host, console: Console) -> list[tuple[str, str, float]]:
    """Predict every input file; print a table (and write the CSV); return the rows."""
    paths = input_paths(config.input)
    with tempfile.TemporaryDirectory() as scratch:
        ensemble = load_ensemble(config.model, config.mlflow, host, Path(scratch))
    outputs = ensemble.predict(ensemble.task.read_inputs(paths))
    rows = [
        (str(p), *_describe(out, ensemble.task.class_names()))
        for p, out in zip(paths, outputs, strict=True)
    ]
    table = Table(
        title=f"predictions of a {len(ensemble.models)}-member ensemble ({ensemble.task.name})"
    )
    for column in ("input", "prediction", "score"):
        table.add_column(column, overflow="fold")
    for path, label, value in rows:
        table.add_row(path, label, f"{value:.4f}")
    console.print(table)
    if config.output is not None:
        with config.output.open("w", newline="", encoding="utf-8") as handle:
            csv.writer(handle).writerows([("input", "prediction", "score"), *rows])
    return rows


def _describe(output: torch.Tensor, classes: Sequence[str] | None) -> tuple[str, float]:
    """Return (label, probability) for class probabilities, or (value, value) for regression."""
    if classes is not None and output.ndim == 1:
        index = int(output.argmax())
        return classes[index], float(output[index])
    value = float(output.flatten()[0]) if output.numel() == 1 else float(output.mean())
    return f"{value:.4g}", value
