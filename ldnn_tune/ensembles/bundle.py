"""An ensemble saved as a folder that loads without the study: weights, knobs, task identity.

Layout::

    bundle.json        task, options, seed, data_dir, kind, members (trial, weight, params)
    member-<n>.pt      each member's best-epoch state_dict
"""

import json
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import torch

from ldnn_tune.config.settings import build_typed
from ldnn_tune.errors import UsageError
from ldnn_tune.plugin.manager import Host
from ldnn_tune.plugin.task import Task
from ldnn_tune.recipe.hparams import HParams

MANIFEST = "bundle.json"
FORMAT = 1


def write_bundle(
    folder: Path,
    identity: Mapping[str, Any],
    members: Sequence[Mapping[str, Any]],
    weights_files: Mapping[int, Path],
) -> None:
    """Write a bundle into ``folder``.

    ``identity`` is the study's (task, kind, seed, options, data_dir); each member is
    ``{"trial", "weight", "params"}``; ``weights_files`` maps trial numbers to state dicts.
    """
    folder.mkdir(parents=True, exist_ok=True)
    manifest = {"format": FORMAT, **identity, "members": list(members)}
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2, default=str), encoding="utf-8")
    for number, path in weights_files.items():
        shutil.copyfile(path, folder / f"member-{number}.pt")


@dataclass
class LoadedEnsemble:
    """A prepared task and its weighted member models, ready to predict."""

    task: Task
    models: list[pl.LightningModule]
    weights: list[float]

    def predict(self, inputs: torch.Tensor) -> torch.Tensor:
        """Return the weighted average of the members' predictions, dropout off."""
        total = sum(self.weights)
        combined = torch.zeros(())
        with torch.no_grad():
            for model, weight in zip(self.models, self.weights, strict=True):
                model.eval()
                predictions: torch.Tensor = model.predict_step((inputs,), 0)
                combined = combined + weight / total * predictions
        return combined


def load_bundle(folder: Path, host: Host) -> LoadedEnsemble:
    """Rebuild the ensemble in ``folder``: construct and prepare its task, load each member."""
    manifest_path = folder / MANIFEST
    if not manifest_path.is_file():
        raise UsageError(f"{str(folder)!r} is not an ensemble bundle (no {MANIFEST})")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    entry = host.task(manifest["task"])
    options = build_typed(entry.task.options_type, manifest.get("options", {}))
    data_dir = Path(manifest["data_dir"]) if manifest.get("data_dir") else None
    task = entry.task(options, data_dir, int(manifest["seed"]))
    task.prepare()
    models, weights = [], []
    for member in manifest["members"]:
        model = task.model(HParams.from_params(member["params"]))
        state = torch.load(folder / f"member-{member['trial']}.pt", weights_only=True)
        model.load_state_dict(state)
        models.append(model)
        weights.append(float(member["weight"]))
    return LoadedEnsemble(task, models, weights)
