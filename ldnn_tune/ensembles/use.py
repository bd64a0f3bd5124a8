"""A saved ensemble from Python: what ``ldnn-tune predict`` does, as values, not a table.

    from ldnn_tune import load_ensemble, predict_files

    ensemble = load_ensemble("RUN_ID")  # or an ensemble folder; mlflow= as the command's
    probabilities = predict_files(ensemble, ["a.png", "b.png"])  # one row per file

``ensemble.predict(inputs)`` takes inputs already read (``ensemble.task.read_inputs``).
"""

import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ldnn_tune.config import defaults
from ldnn_tune.ensembles.bundle import LoadedEnsemble


def load_ensemble(
    model: str | Path, mlflow: str = defaults.MLFLOW, data_dir: str | Path | None = None
) -> LoadedEnsemble:
    """Return the ensemble saved in folder ``model``, or as MLflow run ``model`` in ``mlflow``.

    ``data_dir``: where the ensemble's training folder is now, if it moved (an image
    folder's ensemble reads its class names and scaling there). Raises
    :class:`~ldnn_tune.UsageError`, with the line ``ldnn-tune predict`` would print, when
    ``model`` is no ensemble.
    """
    from ldnn_tune.config.stores import check_model_source
    from ldnn_tune.ensembles.bundle import open_bundle
    from ldnn_tune.plugin.manager import Host, get_plugin_manager

    check_model_source(str(model), mlflow)
    moved = Path(data_dir) if data_dir is not None else None
    with tempfile.TemporaryDirectory() as scratch:  # a run's bundle is read into memory
        return open_bundle(str(model), mlflow, Host(get_plugin_manager()), Path(scratch), moved)


def predict_files(ensemble: LoadedEnsemble, paths: str | Path | Sequence[str | Path]) -> np.ndarray:
    """Return ``ensemble``'s predictions for the file or files ``paths``, in their order.

    One row per file (per table row, for a task that reads tables): the class
    probabilities (temperature-scaled as the CLI's scores; columns in the order of
    ``ensemble.task.class_names()``) of a classification, the values in the targets'
    units of a regression. A file that is missing or cannot be read raises
    :class:`~ldnn_tune.UsageError` naming it.
    """
    from ldnn_tune.commands.predict import missing_input, read_inputs
    from ldnn_tune.errors import UsageError

    files = [Path(paths)] if isinstance(paths, str | Path) else [Path(path) for path in paths]
    if not files:
        raise UsageError("predict_files needs at least one file")
    for path in files:
        if path.is_dir():
            raise UsageError(
                f"input {str(path)!r} is a folder; give its files, "
                "e.g. sorted(Path(folder).glob('*.png'))"
            )
        if not path.is_file():
            raise UsageError(missing_input(str(path)))
    inputs, _ = read_inputs(ensemble.task, files, ensemble.source)
    return ensemble.predict(inputs)
