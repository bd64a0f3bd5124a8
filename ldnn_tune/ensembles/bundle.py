"""An ensemble saved as a folder that loads without the study: weights, knobs, task identity.

Layout::

    bundle.json        format, task, options, seed, data_dir, data_files (its fingerprint),
                       data_contents (its files' digest),
                       kind, members (trial, weight,
                       knobs), target_transform (regression: mean and std, or null),
                       temperature (classification: what the average is scaled by),
                       made_with (ldnn-tune's version, the task's package and version)
    member-<n>.pt      each member's best-epoch state_dict
"""

import json
import math
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

from ldnn_tune.config.fingerprint import data_contents, data_fingerprint
from ldnn_tune.config.words import build_typed, field_names
from ldnn_tune.ensembles.calibrate import with_temperature
from ldnn_tune.ensembles.combine import weighted_average
from ldnn_tune.errors import UsageError, first_line
from ldnn_tune.names import (
    BUNDLE_ARTIFACT,
    BUNDLE_MANIFEST,
    ENSEMBLE_ROLE,
    ROLE_TAG,
    TRIAL_NUMBER_TAG,
    TRIAL_ROLE,
)
from ldnn_tune.plugin.calls import plugin_code
from ldnn_tune.plugin.manager import Host
from ldnn_tune.plugin.task import Task, TaskKind
from ldnn_tune.recipe.data import Standardizer
from ldnn_tune.recipe.hparams import HParams
from ldnn_tune.recipe.metrics import to_units
from ldnn_tune.tracking import mlflow_client
from ldnn_tune.urls import redact

FORMAT = 4  # 2: members carry every knob they trained with ("knobs"); 3: target_transform
# 4: temperature. A format-2 bundle predates target transforms (its outputs are in units);
# one before format 4 has no temperature, which reads as 1 (the average as it is)
READABLE = (2, 3, 4)


def write_bundle(
    folder: Path,
    identity: Mapping[str, Any],
    members: Sequence[Mapping[str, Any]],
    weights_files: Mapping[int, Path],
    target_transform: Standardizer | None = None,
    temperature: float = 1.0,
    task_package: str = "",
) -> None:
    """Write a bundle into ``folder``.

    ``identity`` is the study's (task, kind, seed, options, data_dir); each member is
    ``{"trial", "weight", "knobs"}``; ``weights_files`` maps trial numbers to state dicts;
    ``target_transform`` maps the members' regression outputs to the target's units;
    ``temperature`` scales a classification average's probabilities; ``task_package``
    (e.g. ``ldnn-tune-image 0.1.0``) is recorded with ldnn-tune's version.
    """
    from importlib.metadata import version

    folder.mkdir(parents=True, exist_ok=True)
    transform: dict[str, Any] | None = None
    if target_transform is not None:
        transform = {"mean": target_transform.mean.tolist(), "std": target_transform.std.tolist()}
        if target_transform.log1p:  # only then: an older ldnn-tune reads the others
            transform["log1p"] = True
    manifest = {
        "format": FORMAT,
        **identity,
        "members": list(members),
        "target_transform": transform,
        "temperature": temperature,
        "made_with": {"ldnn-tune": version("ldnn-tune"), "task_package": task_package},
    }
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
    source: str = "(local)"  # the package the task comes from
    target_transform: Standardizer | None = None  # regression outputs -> target units
    temperature: float = 1.0  # classification: the average's probabilities are scaled by it

    def member_predictions(self, inputs: torch.Tensor) -> list[np.ndarray]:
        """Return each member's predictions, dropout off: probabilities, or values in units."""
        outputs = []
        with torch.no_grad():
            for model in self.models:
                model.eval()
                outputs.append(model.predict_step((inputs,), 0).cpu().numpy())
        if self.task.kind is TaskKind.REGRESSION:
            return [to_units(output, self.target_transform) for output in outputs]
        return outputs

    def average(self, predictions: Sequence[np.ndarray]) -> np.ndarray:
        """Return the weighted average of the members' ``predictions``, temperature-scaled."""
        average = weighted_average(predictions, self.weights)
        if self.task.kind is TaskKind.CLASSIFICATION:
            return with_temperature(average, self.temperature)
        return average

    def predict(self, inputs: torch.Tensor) -> np.ndarray:
        """Return the weighted average of the members' predictions, dropout off."""
        return self.average(self.member_predictions(inputs))


def stored_options(stored: Mapping[str, str], task: type[Task[Any]], package: str) -> Any:
    """Return task options stored as text (a bundle's, a study's), typed by the installed task.

    An option the installed task no longer has (renamed, removed) is a UsageError: the
    members were trained with it, and the task cannot be rebuilt as they were.
    """
    gone = sorted(set(stored) - set(field_names(task.options_type)))
    if gone:
        raise UsageError(
            f"this ensemble was made with option {gone[0]}={stored[gone[0]]}, which task "
            f"{task.name!r} ({package}) no longer has; use it with the plugin version "
            "that trained it"
        )
    return build_typed(task.options_type, stored)


def load_bundle(folder: Path, host: Host, moved_data_dir: Path | None = None) -> LoadedEnsemble:
    """Rebuild the ensemble in ``folder``: construct and prepare its task, load each member.

    ``moved_data_dir`` is where the ensemble's ``data_dir`` is now, when it moved; its
    files must be those the ensemble trained on. A damaged or tampered bundle (a manifest
    that is not one, weights that are not weights or do not fit the model) is a one-line
    UsageError naming the file.
    """
    manifest = read_manifest(folder)
    entry = host.task(manifest["task"])
    options = stored_options(manifest["options"], entry.task, entry.package)
    data_dir = Path(manifest["data_dir"]) if manifest.get("data_dir") else None
    if moved_data_dir is not None:
        if data_dir is None:
            raise UsageError(
                f"this ensemble was trained without a data_dir; drop data_dir={moved_data_dir}"
            )
        if not moved_data_dir.exists():
            raise UsageError(f"data_dir {str(moved_data_dir)!r} does not exist")
        data_dir = moved_data_dir
    check_data_unchanged(
        data_dir,
        manifest.get("data_files"),
        entry.task.data_suffixes,
        manifest.get("data_contents"),
    )
    with plugin_code(entry.task.name, entry.package, "prepare()"):
        task = entry.task(options, data_dir, manifest["seed"])
        task.prepare()
    models, weights = [], []
    made = str(manifest.get("made_with", {}).get("task_package") or "")
    changed = (
        f" (made with {made}; installed: {entry.package})"
        if made not in ("", entry.package)
        else ""
    )
    for member in manifest["members"]:
        with plugin_code(task.name, entry.package, "model()"):
            model = task.model(HParams.from_params(member["knobs"]))
        load_weights(model, folder / f"member-{member['trial']}.pt", changed)
        models.append(model)
        weights.append(float(member["weight"]))
    temperature = float(manifest.get("temperature", 1.0))
    transform = manifest.get("target_transform")
    standardizer = None
    if transform is not None:
        mean, std = (torch.tensor(transform[k], dtype=torch.float32) for k in ("mean", "std"))
        standardizer = Standardizer(mean, std, transform.get("log1p", False))
    return LoadedEnsemble(task, models, weights, entry.package, standardizer, temperature)


def check_data_unchanged(
    data_dir: Path | None,
    recorded: Any,
    suffixes: Sequence[str] = (),
    recorded_contents: Any = None,
) -> None:
    """Refuse to predict when ``data_dir``'s files differ from those the ensemble trained on.

    The task is rebuilt from ``data_dir`` to predict: its classes (a folder's names, in
    order) and input scaling come from the files there, so a renamed, added or removed file
    could put another class's name on every prediction; only files of the task's
    ``suffixes`` (its ``data_suffixes``) count. A bundle without a recorded
    fingerprint (no ``data_dir``, or made before fingerprints) is not checked; nor are
    the files' contents without ``recorded_contents`` (made before they were recorded).
    """
    if data_dir is None:
        return
    if not data_dir.exists():
        raise UsageError(
            f"this ensemble's data_dir {str(data_dir)!r} does not exist: the ensemble rebuilds "
            "the task from it; put it back where it was trained, or give data_dir=WHERE_IT_IS_NOW"
        )
    if not isinstance(recorded, str):
        return
    now = data_fingerprint(data_dir, suffixes)
    if now != recorded:
        raise UsageError(
            f"data_dir {str(data_dir)!r} changed since this ensemble was trained ({recorded}; "
            f"now {now}): the ensemble rebuilds the task's classes and input scaling from it; "
            "restore the folder as it was, or train a new study on it"
        )
    if isinstance(recorded_contents, str) and (
        data_contents(data_dir, suffixes) != recorded_contents
    ):
        raise UsageError(
            f"data_dir {str(data_dir)!r} changed since this ensemble was trained (edited in "
            "place, or in a symlinked folder): the ensemble rebuilds the task's classes and input "
            "scaling from it; restore the files as they were, or train a new study on it"
        )


def read_manifest(folder: Path) -> dict[str, Any]:
    """Return the bundle's manifest after checking every field ``load_bundle`` reads."""
    path = folder / BUNDLE_MANIFEST
    if not path.is_file():
        raise UsageError(f"{str(folder)!r} is not an ensemble bundle{_bundle_near(folder)}")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise UsageError(f"{path}: not a bundle manifest ({first_line(error)})") from None
    problem = _manifest_problem(manifest)
    if problem:
        raise UsageError(f"{path}: {problem}")
    return dict(manifest)


def _bundle_near(folder: Path) -> str:
    """Return where the bundle is when ``folder`` is its manifest or the folder above it."""
    if folder.name == BUNDLE_MANIFEST and folder.is_file():
        return f": give its folder, model={folder.parent}"
    if (folder / BUNDLE_ARTIFACT / BUNDLE_MANIFEST).is_file():
        return f": give its {BUNDLE_ARTIFACT}/ folder, model={folder / BUNDLE_ARTIFACT}"
    return f" (no {BUNDLE_MANIFEST})"


def _manifest_problem(manifest: Any) -> str:
    """Return what is wrong with a manifest's fields, or "" when nothing is."""
    if not isinstance(manifest, dict):
        return "not a bundle manifest (expected a JSON object)"
    if manifest.get("format") not in READABLE:
        readable = ", ".join(str(f) for f in READABLE)
        return f"bundle format {manifest.get('format')!r}; this ldnn-tune reads formats {readable}"
    fields = {"task": str, "seed": int, "options": dict, "members": list}
    for name, kind in fields.items():
        if not isinstance(manifest.get(name), kind) or isinstance(manifest.get(name), bool):
            return f"field {name!r} missing or not a {kind.__name__}"
    if not manifest["members"]:
        return "no members"
    for member in manifest["members"]:
        trial, weight = (
            member.get(k) if isinstance(member, dict) else None for k in ("trial", "weight")
        )
        if not isinstance(trial, int) or isinstance(trial, bool) or trial < 0:
            return f"member trial {trial!r} is not a trial number"
        if not _positive_number(weight):
            return f"member {trial}'s weight {_shown(weight)} is not a positive number"
        if not isinstance(member.get("knobs"), dict):
            return f"member {trial} has no knobs"
    temperature = manifest.get("temperature", 1.0)
    if not _positive_number(temperature):
        return f"temperature {_shown(temperature)} is not a positive number"
    return _transform_problem(manifest.get("target_transform"))


def _positive_number(value: Any) -> bool:
    """Return whether ``value`` is a finite positive JSON number (not a boolean)."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return False
    try:
        number = float(value)
    except OverflowError:  # an integer of hundreds of digits
        return False
    return math.isfinite(number) and number > 0


def _shown(value: Any) -> str:
    """Return ``repr(value)`` cut to 20 characters, for a one-line error."""
    shown = repr(value)
    return shown if len(shown) <= 20 else f"{shown[:20]}…"


def _transform_problem(transform: Any) -> str:
    """Return what is wrong with a manifest's ``target_transform``, or "" (null is fine)."""
    if transform is None:
        return ""
    problem = (
        "target_transform is not null or a mean and a positive std of one shape (and log1p: true)"
    )
    if not isinstance(transform, dict) or not {"mean", "std"} <= set(transform):
        return problem
    transform = {"log1p": False, **transform}
    if set(transform) - {"mean", "std", "log1p"} or not isinstance(transform.get("log1p"), bool):
        return problem
    try:
        mean, std = (np.asarray(transform[k], dtype=np.float64) for k in ("mean", "std"))
    except (TypeError, ValueError):
        return problem
    finite = np.isfinite(mean).all() and np.isfinite(std).all()
    if mean.shape != std.shape or not finite or not (std > 0).all():
        return problem
    return ""


def load_weights(model: pl.LightningModule, path: Path, plugin_change: str = "") -> None:
    """Load the state dict at ``path`` into ``model``; refuse anything but fitting weights.

    ``plugin_change`` says which version of the task's package made them, when another
    is installed now.
    """
    if not path.is_file():
        raise UsageError(f"{path}: missing from the bundle")
    try:
        state = torch.load(path, weights_only=True)  # never unpickles code
    except Exception as error:
        raise UsageError(f"{path}: not readable weights ({first_line(error)})") from None
    try:
        model.load_state_dict(state)
    except Exception as error:
        raise UsageError(
            f"{path}: the weights do not fit the task's model ({_misfit(error)}); was the "
            f"task's plugin changed since the ensemble was made?{plugin_change}"
        ) from None


def _misfit(error: Exception) -> str:
    """Return torch's first reason why a state dict does not load.

    The error's first line says only that it does not.
    """
    lines = [line.strip() for line in str(error).splitlines()]
    details = [line for line in lines[1:] if line]
    return details[0].rstrip(".") if details else first_line(error)


def open_bundle(
    model: str, mlflow_uri: str, host: Host, scratch: Path, moved_data_dir: Path | None = None
) -> LoadedEnsemble:
    """Load the bundle folder ``model``, or download the bundle of MLflow run ``model``.

    ``moved_data_dir``: where the ensemble's ``data_dir`` is now (:func:`load_bundle`).
    """
    if Path(model).exists():
        return load_bundle(Path(model), host, moved_data_dir)
    client = mlflow_client(mlflow_uri)
    try:
        folder = client.download_artifacts(model, BUNDLE_ARTIFACT, str(scratch))
    except MlflowException:
        raise UsageError(not_an_ensemble_run(client, model, mlflow_uri)) from None
    try:
        return load_bundle(Path(folder), host, moved_data_dir)
    except UsageError as error:  # name the run's artifact, not the scratch copy
        where = f"the {BUNDLE_ARTIFACT}/ artifact of run {model}"
        raise UsageError(str(error).replace(str(folder), where)) from None


def not_an_ensemble_run(client: MlflowClient, model: str, mlflow_uri: str) -> str:
    """Return why ``model`` names no ensemble run: a trial's run says how to make one."""
    try:
        run = client.get_run(model)
    except MlflowException:
        run = None
    tags = run.data.tags if run is not None else {}
    if run is not None and tags.get(ROLE_TAG) == TRIAL_ROLE:
        number = tags.get(TRIAL_NUMBER_TAG, "N")
        study = client.get_experiment(run.info.experiment_id).name
        return (
            f"model {model!r} is trial {number}'s run, not an ensemble's; make an ensemble "
            f"of that trial alone: ldnn-tune ensemble study={study} trials={number}"
        )
    if run is not None and tags.get(ROLE_TAG) == ENSEMBLE_ROLE:  # its files removed by hand
        study = client.get_experiment(run.info.experiment_id).name
        return (
            f"model {model!r} is an ensemble run whose files are gone (no {BUNDLE_ARTIFACT}/ "
            f"artifact in {run.info.artifact_uri}); make the ensemble again: "
            f"ldnn-tune ensemble study={study}"
        )
    return (
        f"model {model!r} is neither an ensemble folder nor an ensemble run in {redact(mlflow_uri)}"
    )
