"""``ldnn-tune predict``: run a saved ensemble on new input files."""

import csv
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from rich.console import Console

from ldnn_tune.config.settings import PredictConfig
from ldnn_tune.config.stores import check_mlflow
from ldnn_tune.config.words import parse_words
from ldnn_tune.console.tables import predictions_table
from ldnn_tune.errors import EXIT_OK, UsageError
from ldnn_tune.plugin.calls import plugin_code
from ldnn_tune.plugin.manager import Host, get_plugin_manager

CSV_HEADER = ("input", "prediction", "score")


def main(words: Sequence[str], console: Console) -> int:
    """Run a saved ensemble on input files the task can read."""
    config = parse_words(PredictConfig, words)
    from ldnn_tune.console.quiet import quiet_frameworks

    quiet_frameworks()
    predict(config, Host(get_plugin_manager()), console)
    return EXIT_OK


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


def predict(config: PredictConfig, host: Host, console: Console) -> list[tuple[str, str, float]]:
    """Predict every input file; print a table (and write the CSV); return the rows."""
    from ldnn_tune.ensembles.bundle import open_bundle

    if not Path(config.model).exists():  # then it names an ensemble run in the store
        check_mlflow(config.mlflow, read_only=True)
    paths = input_paths(config.input)
    with tempfile.TemporaryDirectory() as scratch:
        ensemble = open_bundle(config.model, config.mlflow, host, Path(scratch))
    task = ensemble.task
    with plugin_code(task.name, ensemble.source, "read_inputs()"):
        inputs = task.read_inputs(paths)
    with plugin_code(task.name, ensemble.source, "class_names()"):
        classes = task.class_names()
    outputs = ensemble.predict(inputs)
    rows = [(str(p), *_describe(out, classes)) for p, out in zip(paths, outputs, strict=True)]
    title = f"predictions of a {len(ensemble.models)}-member ensemble ({ensemble.task.name})"
    console.print(predictions_table(title, rows))
    if config.output is not None:
        try:
            with config.output.open("w", newline="", encoding="utf-8") as handle:
                csv.writer(handle).writerows([CSV_HEADER, *rows])
        except OSError as error:
            raise UsageError(
                f"cannot write output {str(config.output)!r}: {error.strerror}"
            ) from None
    return rows


def _describe(output: np.ndarray, classes: Sequence[str] | None) -> tuple[str, float]:
    """Return (label, probability) for class probabilities, or (value, value) for regression."""
    if classes is not None and output.ndim == 1:
        index = int(output.argmax())
        return classes[index], float(output[index])
    value = float(output.flatten()[0]) if output.size == 1 else float(output.mean())
    return f"{value:.4g}", value
