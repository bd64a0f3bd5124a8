"""``ldnn-tune report``: a study's plots and tables in one file, from its stores, read-only."""

from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich.console import Console

from ldnn_tune.config.outputs import refuse_output_in_data
from ldnn_tune.config.settings import ReportConfig
from ldnn_tune.config.stores import check_mlflow, check_storage
from ldnn_tune.config.words import parse_words
from ldnn_tune.errors import EXIT_OK

if TYPE_CHECKING:
    from mlflow.tracking import MlflowClient

    from ldnn_tune.report.build import StudyReport


def main(words: Sequence[str], console: Console) -> int:
    """Write study ``study=``'s report as HTML (PNGs inline) or markdown (PNGs beside it)."""
    config = parse_words(ReportConfig, words)
    check_storage(config.storage, read_only=True)
    check_mlflow(config.mlflow, read_only=True)

    from ldnn_tune.console.quiet import quiet_frameworks
    from ldnn_tune.names import COMMAND_TAG, IDENTITY_ATTR, PARENT_RUN_ATTR
    from ldnn_tune.report.build import ReportSource, build_report
    from ldnn_tune.sqlite import use_fast_sqlite
    from ldnn_tune.study.open import load_existing_study
    from ldnn_tune.tracking import mlflow_client

    quiet_frameworks()
    use_fast_sqlite()
    study = load_existing_study(config.study, config.storage)
    data_dir = study.user_attrs.get(IDENTITY_ATTR, {}).get("data_dir")
    refuse_output_in_data(config.path, data_dir, "the study's")
    client = mlflow_client(config.mlflow)
    experiment = client.get_experiment_by_name(config.study)
    parent = str(study.user_attrs.get(PARENT_RUN_ATTR, ""))
    source = ReportSource(
        study,
        client,
        experiment.experiment_id if experiment is not None else "",
        parent,
        _tag(client, parent, COMMAND_TAG),
    )
    report = build_report(source, interactive=False)
    write(config, report_title(config.study), report)
    console.print(f"wrote {config.path} ({len(report.plots)} plots)", markup=False, soft_wrap=True)
    return EXIT_OK


def report_title(study: str) -> str:
    """Return the report's title."""
    return f"Study {study}: ldnn-tune report"


def write(config: ReportConfig, title: str, report: "StudyReport") -> None:
    """Write ``report`` to ``config.path`` in ``config.format`` (md: PNGs in a folder beside)."""
    from ldnn_tune.report.document import html_document, markdown_document

    path = config.path
    if config.format == "html":
        path.write_text(html_document(report, title), encoding="utf-8")
        return
    folder = config.plots_folder
    text, files = markdown_document(report, title, folder.name)
    folder.mkdir(exist_ok=True)
    for name, content in files.items():
        (folder / name).write_bytes(content)
    path.write_text(text, encoding="utf-8")


def _tag(client: "MlflowClient", run_id: str, key: str) -> str:
    """Return tag ``key`` of run ``run_id``, or '' when there is no such run or tag."""
    try:
        return str(client.get_run(run_id).data.tags.get(key, ""))
    except Exception:
        return ""
