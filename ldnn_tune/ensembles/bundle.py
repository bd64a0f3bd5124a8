"""An ensemble saved as a folder that loads without the study: weights, knobs, task identity.

Layout::

    bundle.json        format, task, options, seed, data_dir, kind, members (trial, weight, knobs)
    member-<n>.pt      each member's best-epoch state_dict
"""

import json
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import numpy as np
import torch
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from ldnn_tune.config.words import build_typed
from ldnn_tune.ensembles.combine import weighted_average
from ldnn_tune.errors import UsageError
from ldnn_tune.names import BUNDLE_ARTIFACT, BUNDLE_MANIFEST
from ldnn_tune.plugin.manager import Host
from ldnn_tune.plugin.task import Task
from ldnn_tune.recipe.hparams import HParams

FORMAT = 2  # 2: members carry every knob they trained with ("knobs")


def write_bundle(
    folder: Path,
    identity: Mapping[str, Any],
    members: Sequence[Mapping[str, Any]],
    weights_files: Mapping[int, Path],
) -> None:
    """Write a bundle into ``folder``.

    ``identity`` is the study's (task, kind, seed, options, data_dir); each member is
    ``{"trial", "weight", "knobs"}``; ``weights_files`` maps trial numbers to state dicts.
    """
    folder.mkdir(parents=True, exist_ok=True)
    manifest = {"format": FORMAT, **identity, "members": list(members)}
    text = json.dumps(manifest, indent=2, default=str)
    (folder / BUNDLE_MANIFEST).write_text(text, encoding="utf-8")
    for number, path in weights_files.items():
        shutil.copyfile(path, folder / f"member-{number}.pt")


@dataclass
class LoadedEnsemble:
    """A prepared task and its weighted member models, ready to predict."""

    task: Task[Any]
    models: list[pl.LightningModule]
    weights: list[float]

    def predict(self, inputs: torch.Tensor) -> np.ndarray:
        """Return the weighted average of the members' predictions, dropout off."""
        outputs = []
        with torch.no_grad():
            for model in self.models:
                model.eval()
                outputs.append(model.predict_step((inputs,), 0).cpu().numpy())
        return weighted_average(outputs, self.weights)


def load_bundle(folder: Path, host: Host) -> LoadedEnsemble:
    """Rebuild the ensemble in ``folder``: construct and prepare its task, load each member."""
    manifest_path = folder / BUNDLE_MANIFEST
    if not manifest_path.is_file():
        raise UsageError(f"{str(folder)!r} is not an ensemble bundle (no {BUNDLE_MANIFEST})")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    task_class = host.task(manifest["task"]).task
    options = build_typed(task_class.options_type, manifest.get("options", {}))
    data_dir = Path(manifest["data_dir"]) if manifest.get("data_dir") else None
    task = task_class(options, data_dir, int(manifest["seed"]))
    task.prepare()
    models, weights = [], []
    for member in manifest["members"]:
        model = task.model(HParams.from_params(member["knobs"]))
        state = torch.load(folder / f"member-{member['trial']}.pt", weights_only=True)
        model.load_state_dict(state)
        models.append(model)
        weights.append(float(member["weight"]))
    return LoadedEnsemble(task, models, weights)


def open_bundle(model: str, mlflow_uri: str, host: Host, scratch: Path) -> LoadedEnsemble:
    """Load the bundle folder ``model``, or download the bundle of MLflow run ``model``."""
    if Path(model).exists():
        return load_bundle(Path(model), host)
    try:
        folder = MlflowClient(mlflow_uri).download_artifacts(model, BUNDLE_ARTIFACT, str(scratch))
    except MlflowException:
        raise UsageError(
            f"model {model!r} is neither an ensemble folder nor an ensemble run in {mlflow_uri}"
        ) from None
    return load_bundle(Path(folder), host)
