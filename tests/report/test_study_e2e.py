"""A real tiny study: its parent run carries the plots, trials.csv and description."""

import csv
import io
import re
from pathlib import Path

import pytest
from helpers import mlflow_client
from PIL import Image

from ldnn_tune.names import COMMAND_TAG, NOTE_TAG, ROLE_TAG
from ldnn_tune.testing.cli import run_cli

PLOTS = (
    "optimization_history",
    "param_importances",
    "parallel_coordinate",
    "intermediate_values",
    "slice",
    "update_ratio",
)


@pytest.mark.slow
def test_a_run_logs_the_studys_report_on_its_parent_run(tmp_path: Path) -> None:
    result = run_cli(
        tmp_path, "run", "task=image", "trials=4", "epochs=2", "timeout=5m", "reseeds=1"
    )
    assert result.returncode == 0, result.stderr
    assert "warning" not in result.stdout + result.stderr
    client = mlflow_client(tmp_path)
    experiment = client.get_experiment_by_name("image")
    runs = client.search_runs([experiment.experiment_id])
    roles = {r.info.run_name: r.data.tags.get(ROLE_TAG) for r in runs}
    assert roles["image"] == "study" and roles["ensemble-seeds"] == "ensemble"
    trials = sorted(n for n, role in roles.items() if role == "trial")
    assert len(trials) == 5  # 4 of the search and 1 retrain of the best
    assert all(re.fullmatch(r"trial-\d \((COMPLETE|PRUNED)\)", n) for n in trials), trials
    parent = next(r for r in runs if r.data.tags.get(ROLE_TAG) == "study")
    parent_id = parent.info.run_id
    files = {a.path for a in client.list_artifacts(parent_id, "plots")}
    for name in PLOTS:
        assert {f"plots/{name}.png", f"plots/{name}.html"} <= files
    folder = tmp_path / "down"
    png = client.download_artifacts(parent_id, "plots/slice.png", str(folder))
    low, high = Image.open(png).convert("L").getextrema()
    assert high - low > 100
    table = Path(client.download_artifacts(parent_id, "trials.csv", str(folder)))
    rows = list(csv.DictReader(io.StringIO(table.read_text(encoding="utf-8"))))
    assert [int(r["number"]) for r in rows] == [0, 1, 2, 3, 4]
    assert all(r["state"] in ("COMPLETE", "PRUNED") for r in rows)
    assert rows[4]["reseed_of"] != "" and rows[0]["reseed_of"] == ""
    note = parent.data.tags[NOTE_TAG]
    assert note.startswith("**Study `image`**: task `image`")
    assert "**Best trial:" in note and "**Ensemble (seeds)**" in note
    command = "ldnn-tune run task=image trials=4 epochs=2 timeout=5m reseeds=1"
    assert command in note
    assert parent.data.tags[COMMAND_TAG] == command
    assert "time_report_s" in parent.data.metrics

    report = run_cli(tmp_path, "report", "study=image")
    assert report.returncode == 0, report.stderr
    assert "wrote image-report.html (6 plots)" in report.stdout
    page = (tmp_path / "image-report.html").read_text(encoding="utf-8")
    assert page.count("data:image/png;base64,") == 6
    assert "ldnn-tune run task=image trials=4 epochs=2 timeout=5m" in page
