"""Bundles keep a regression task's target transform; older bundles load as the identity."""

import dataclasses
import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from ldnn_tune import HParams, Standardizer, UsageError, hookimpl
from ldnn_tune.config.fingerprint import data_contents, data_fingerprint
from ldnn_tune.ensembles.bundle import check_data_unchanged, load_bundle, write_bundle
from ldnn_tune.ensembles.calibrate import with_temperature
from ldnn_tune.plugin.manager import Host, get_plugin_manager
from ldnn_tune.space.load import task_space
from ldnn_tune.testing import BoringOptions, BoringTask


class Plugin:
    @hookimpl
    def ldnn_tune_tasks(self) -> list[type[BoringTask]]:
        return [BoringTask]


@pytest.fixture
def host() -> Host:
    return Host(get_plugin_manager((Plugin(),)))


def bundle(folder: Path, options: BoringOptions) -> BoringTask:
    """Write a one-member bundle of an untrained boring model; return its prepared task."""
    task = BoringTask(options, None, 0)
    task.prepare()
    space = task_space(task)
    knobs = space.complete({**space.defaults(), "width": 8})
    torch.manual_seed(0)
    weights = folder.parent / "member.pt"
    torch.save(task.model(HParams.from_params(knobs)).state_dict(), weights)
    identity = {
        "task": "boring",
        "kind": str(task.kind),
        "seed": 0,
        "options": {k: str(v) for k, v in dataclasses.asdict(options).items()},
        "data_dir": None,
    }
    members = [{"trial": 0, "weight": 1, "knobs": knobs}]
    write_bundle(folder, identity, members, {0: weights}, task.target_transform())
    return task


def edit_manifest(folder: Path, **changes: Any) -> None:
    manifest = json.loads((folder / "bundle.json").read_text())
    manifest.update(changes)
    manifest = {k: v for k, v in manifest.items() if v is not ...}
    (folder / "bundle.json").write_text(json.dumps(manifest))


def test_regression_predictions_come_back_in_the_targets_units(tmp_path: Path, host: Host) -> None:
    task = bundle(tmp_path / "b", BoringOptions(regression=True))
    transform = task.target_transform()
    assert transform is not None
    manifest = json.loads((tmp_path / "b" / "bundle.json").read_text())
    assert manifest["format"] == 4
    assert manifest["target_transform"]["mean"] == pytest.approx(transform.mean.tolist())
    loaded = load_bundle(tmp_path / "b", host)
    inputs = task.split.x_test[:5]
    raw = loaded.models[0](inputs).detach().numpy()
    expected = raw * transform.std.numpy() + transform.mean.numpy()
    np.testing.assert_allclose(loaded.predict(inputs), expected, rtol=1e-5)
    assert 50 < float(loaded.predict(inputs).mean()) < 150  # units of about 100 +- 20


def test_a_log1p_target_transform_is_kept_and_undone_by_predict(tmp_path: Path, host: Host) -> None:
    task = bundle(tmp_path / "b", BoringOptions(regression=True))
    # prices of about 100 (log(1+x) about 4.6), as a task fitting log1p=True would save
    transform = Standardizer(torch.tensor([[4.6]]), torch.tensor([[0.2]]), log1p=True)
    write_bundle(tmp_path / "w", {"task": "boring"}, [], {}, transform)
    written = json.loads((tmp_path / "w" / "bundle.json").read_text())["target_transform"]
    assert written["log1p"] is True and written["mean"] == [[pytest.approx(4.6)]]
    edit_manifest(tmp_path / "b", target_transform=written)
    loaded = load_bundle(tmp_path / "b", host)
    assert loaded.target_transform is not None and loaded.target_transform.log1p
    inputs = task.split.x_test[:5]
    raw = loaded.models[0](inputs).detach().numpy()
    np.testing.assert_allclose(loaded.predict(inputs), np.expm1(raw * 0.2 + 4.6), rtol=1e-5)


def test_a_format_2_bundle_loads_with_outputs_as_they_are(tmp_path: Path, host: Host) -> None:
    task = bundle(tmp_path / "b", BoringOptions(regression=True))
    edit_manifest(tmp_path / "b", format=2, target_transform=...)
    loaded = load_bundle(tmp_path / "b", host)
    inputs = task.split.x_test[:5]
    raw = loaded.models[0](inputs).detach().numpy()
    np.testing.assert_allclose(loaded.predict(inputs), raw, rtol=1e-6)


def test_classification_bundles_carry_no_transform(tmp_path: Path, host: Host) -> None:
    bundle(tmp_path / "b", BoringOptions())
    assert json.loads((tmp_path / "b" / "bundle.json").read_text())["target_transform"] is None
    assert load_bundle(tmp_path / "b", host).target_transform is None


def test_the_temperature_scales_classification_predictions(tmp_path: Path, host: Host) -> None:
    task = bundle(tmp_path / "b", BoringOptions())
    inputs = task.split.x_test[:5]
    plain = load_bundle(tmp_path / "b", host).predict(inputs)
    edit_manifest(tmp_path / "b", temperature=2.0)
    scaled = load_bundle(tmp_path / "b", host).predict(inputs)
    np.testing.assert_allclose(scaled, with_temperature(plain, 2.0), rtol=1e-5)
    assert (scaled.max(axis=-1) < plain.max(axis=-1)).all()
    edit_manifest(tmp_path / "b", format=3, temperature=...)  # a bundle from before
    np.testing.assert_allclose(load_bundle(tmp_path / "b", host).predict(inputs), plain)


def test_a_changed_data_dir_is_refused_before_it_can_mislabel(tmp_path: Path, host: Host) -> None:
    data = tmp_path / "data"
    for label in ("cat", "dog"):
        (data / label).mkdir(parents=True)
        (data / label / "a.png").write_bytes(b"x")
    recorded = data_fingerprint(data)
    check_data_unchanged(data, recorded)  # as trained: nothing to say
    check_data_unchanged(data, None)  # a bundle from before fingerprints is not checked
    bundle(tmp_path / "b", BoringOptions())
    edit_manifest(tmp_path / "b", data_dir=str(data), data_files=recorded)
    (data / "cat").rename(data / "ant")  # the same files under another class name
    with pytest.raises(UsageError, match=r"data_dir '.*data' changed since this ensemble"):
        load_bundle(tmp_path / "b", host)  # refused before the task is rebuilt from it
    data.rename(tmp_path / "moved")
    with pytest.raises(
        UsageError,
        match=r"this ensemble's data_dir '.*data' does not exist.*"
        "or give data_dir=WHERE_IT_IS_NOW",
    ):
        load_bundle(tmp_path / "b", host)
    (tmp_path / "moved" / "ant").rename(tmp_path / "moved" / "cat")  # the files as trained
    with pytest.raises(UsageError, match=r"data_dir '.*nowhere' does not exist"):
        load_bundle(tmp_path / "b", host, moved_data_dir=tmp_path / "nowhere")
    with pytest.raises(
        UsageError, match=r"boring generates its data; it takes no data_dir \(.*moved\)"
    ):
        load_bundle(tmp_path / "b", host, moved_data_dir=tmp_path / "moved")  # past the check
    (tmp_path / "moved" / "cat" / "b.png").write_bytes(b"x")
    with pytest.raises(UsageError, match=r"data_dir '.*moved' changed since this ensemble"):
        load_bundle(tmp_path / "b", host, moved_data_dir=tmp_path / "moved")


def test_a_data_dir_for_an_ensemble_trained_without_one_is_refused(
    tmp_path: Path, host: Host
) -> None:
    bundle(tmp_path / "b", BoringOptions())
    with pytest.raises(UsageError, match=r"trained without a data_dir; drop data_dir="):
        load_bundle(tmp_path / "b", host, moved_data_dir=tmp_path)


@pytest.mark.parametrize(
    ("changes", "needle"),
    [
        ({"format": 1}, "bundle format 1; this ldnn-tune reads formats 2, 3, 4"),
        ({"format": 5}, "bundle format 5; this ldnn-tune reads formats 2, 3, 4"),
        ({"temperature": 0}, "temperature 0 is not a positive number"),
        ({"temperature": "hot"}, "temperature 'hot' is not a positive number"),
        ({"temperature": True}, "temperature True is not a positive number"),
        ({"temperature": 10**400}, "temperature 10000000000000000000… is not a positive"),
        ({"members": [{"trial": 0, "weight": True, "knobs": {}}]}, "member 0's weight True"),
        ({"members": [{"trial": 0, "weight": float("nan"), "knobs": {}}]}, "member 0's weight nan"),
        ({"target_transform": {"mean": [1.0], "std": [0.0]}}, "target_transform is not null"),
        ({"target_transform": {"mean": [1.0, 2.0], "std": [1.0]}}, "target_transform is not"),
        ({"target_transform": {"mean": "x", "std": [1.0]}}, "target_transform is not null"),
        ({"target_transform": [1.0, 2.0]}, "target_transform is not null"),
        (
            {"options": {"samples": "300", "points": "5"}},  # an option renamed since
            "made with option points=5, which task 'boring' ((local)) no longer has",
        ),
    ],
)
def test_a_bad_format_or_transform_is_one_line(
    tmp_path: Path, host: Host, changes: dict[str, Any], needle: str
) -> None:
    bundle(tmp_path / "b", BoringOptions(regression=True))
    edit_manifest(tmp_path / "b", **changes)
    with pytest.raises(UsageError, match=re.escape(needle)):
        load_bundle(tmp_path / "b", host)


def test_misfit_weights_name_the_plugin_version_that_made_them(tmp_path: Path, host: Host) -> None:
    folder = tmp_path / "b"
    bundle(folder, BoringOptions())
    manifest = json.loads((folder / "bundle.json").read_text())
    assert set(manifest["made_with"]) == {"ldnn-tune", "task_package"}
    members = [
        {**manifest["members"][0], "knobs": {**manifest["members"][0]["knobs"], "width": 16}}
    ]
    edit_manifest(folder, members=members, made_with={"task_package": "boring-tasks 0.0.1"})
    with pytest.raises(UsageError) as error:
        load_bundle(folder, host)
    installed = host.task("boring").package
    assert str(error.value).endswith(
        "was the task's plugin changed since the ensemble was made? "
        f"(made with boring-tasks 0.0.1; installed: {installed})"
    )


def test_data_edited_in_place_is_refused_where_the_bundle_recorded_its_contents(
    tmp_path: Path,
) -> None:
    data = tmp_path / "corpus.txt"
    data.write_text("the cat sat")
    files, contents = data_fingerprint(data), data_contents(data)
    check_data_unchanged(data, files, (), contents)  # as trained
    data.write_text("the cat s~t")  # the same size
    check_data_unchanged(data, files)  # a bundle made before contents were recorded
    changed = r"data_dir '.*corpus.txt' changed since this ensemble was trained \(edited"
    with pytest.raises(UsageError, match=changed):
        check_data_unchanged(data, files, (), contents)
