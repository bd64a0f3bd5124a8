"""`ldnn-tune report` and `ldnn-tune dashboard` in this process, on a toy study's stores."""

import importlib.util
from pathlib import Path

import pytest

from ldnn_tune.commands import dashboard
from ldnn_tune.config.outputs import refuse_output_in_data
from ldnn_tune.errors import UsageError
from ldnn_tune.testing.cli import assert_usage_error, run_main


def test_report_writes_one_self_contained_html_file(
    new_toy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    toy = new_toy(complete=5, pruned=1)
    monkeypatch.chdir(tmp_path)
    # MLflow caches a store by its URI in a process: each test gives its own, absolute
    result = run_main(["report", "study=toy", f"mlflow={toy.mlflow}"], capsys)
    assert result.returncode == 0, result.stderr
    assert "wrote toy-report.html (6 plots)" in result.stdout
    page = (tmp_path / "toy-report.html").read_text(encoding="utf-8")
    assert page.count('src="data:image/png;base64,') == 6
    assert "<h2>Best trials</h2>" in page and "**" not in page
    assert "<script" not in page  # static: opens anywhere, offline
    assert "Trials: 5 complete, 1 pruned, 0 failed." in page
    assert "task <code>toy</code>" in page  # read from this toy's parent run
    # a trial that ended early is in the report too, with why
    assert "<h2>Pruned and failed trials</h2>" in page
    assert "<td>5</td><td>PRUNED</td><td>pruned by the median rule</td>" in page


@pytest.mark.parametrize("given", [["format=md"], []])  # output=r.md alone means markdown
def test_report_as_markdown_puts_the_images_beside_it(
    new_toy,
    given: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    toy = new_toy(complete=3, pruned=0)
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    words = ["report", "study=toy", *given, f"output={out / 'r.md'}", f"mlflow={toy.mlflow}"]
    result = run_main(words, capsys)
    assert result.returncode == 0, result.stderr
    text = (out / "r.md").read_text(encoding="utf-8")
    title = "Optimisation history (the search's trials, retrains left out)"
    assert f"![{title}](r_plots/optimization_history.png)" in text
    assert (out / "r_plots" / "slice.png").read_bytes().startswith(b"\x89PNG")


@pytest.mark.parametrize(
    ("words", "needles"),
    [
        (["report"], ["missing study=NAME"]),
        (["report", "study=toy", "format=pdf"], ["invalid format 'pdf'", "html, md"]),
        (["report", "study=toy", "output=nowhere/r.html"], ["folder 'nowhere' does not exist"]),
        (["report", "study=toy", "format=html", "output=r.md"], ["output", ".html"]),
        (["report", "study=toy", "format=md", "output=r.html"], ["output", ".md"]),
        (["report", "study=toy", "colour=red"], ["unknown key 'colour'"]),
        (["report", "study=toy"], ["ldnn_tune.db", "does not exist"]),
        (["dashboard", "port=0"], ["invalid port=0"]),
        (["dashboard", "port=6000"], ["invalid port=6000: browsers refuse to open it"]),
        (["ui", "port=5060"], ["invalid port=5060: browsers refuse to open it"]),
        (["dashboard", "host=a:1"], ["invalid host='a:1'"]),
        (["dashboard"], ["ldnn_tune.db", "does not exist"]),
    ],
)
def test_mistakes_are_one_line_and_create_nothing(
    words: list[str],
    needles: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    assert_usage_error(run_main(words, capsys), *needles)
    assert list(tmp_path.iterdir()) == []


def test_an_unknown_study_names_the_studies(
    new_toy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    toy = new_toy(complete=1, pruned=0)
    monkeypatch.chdir(tmp_path)
    for command in ("report", "dashboard"):
        result = run_main([command, "study=nope", f"storage={toy.storage}"], capsys)
        assert_usage_error(result, "unknown study 'nope'", "studies: toy")


def test_dashboard_without_optuna_dashboard_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "optuna_dashboard" else real(name, *a),
    )
    monkeypatch.chdir(tmp_path)
    result = run_main(["dashboard"], capsys)
    assert_usage_error(result, "optuna-dashboard is not installed", "ldnn-tune[dashboard]")


def test_dashboard_serves_the_storage_and_opens_on_the_study(
    new_toy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    toy = new_toy(complete=1, pruned=0)
    served: list[tuple[object, str, int, bool]] = []
    import bottle

    def serve(app: object, host: str, port: int, quiet: bool) -> None:
        served.append((app, host, port, quiet))

    monkeypatch.setattr(bottle, "run", serve)
    monkeypatch.chdir(tmp_path)
    words = ["dashboard", "study=toy", "port=8099", "host=0.0.0.0", f"storage={toy.storage}"]
    result = run_main(words, capsys)
    assert result.returncode == 0, result.stderr
    assert served[0][1:] == ("0.0.0.0", 8099, True)  # no line for every request
    study_id = toy.study._study_id
    assert f"http://127.0.0.1:8099/dashboard/studies/{study_id}" in result.stdout
    assert "no authentication" in result.stdout


def test_dashboard_url() -> None:
    assert dashboard.dashboard_url("127.0.0.1", 8080, None) == "http://127.0.0.1:8080/dashboard"
    assert dashboard.dashboard_url("::1", 80, 3) == "http://[::1]:80/dashboard/studies/3"


def test_output_on_or_inside_the_data_dir_is_refused(tmp_path: Path) -> None:
    # a report's plots folder would read as a new class of images, and the study's data
    # changed; a sampled text written over the training text replaced it (audit)
    data = tmp_path / "shapes"
    (data / "circle").mkdir(parents=True)
    text = tmp_path / "input.txt"
    text.write_text("to be or not to be")
    with pytest.raises(UsageError, match=r"output '.*r\.md' is inside the study's data_dir"):
        refuse_output_in_data(data / "r.md", str(data), "the study's")
    with pytest.raises(UsageError, match=r"output '.*input\.txt' is this ensemble's data_dir"):
        refuse_output_in_data(tmp_path / "." / "input.txt", text, "this ensemble's")
    refuse_output_in_data(tmp_path / "r.md", str(data), "the study's")  # beside it: fine
    refuse_output_in_data(tmp_path / "sample.txt", text, "this ensemble's")
    refuse_output_in_data(data / "r.md", None, "the study's")  # a study of generated data
