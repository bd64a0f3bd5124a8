"""The MLflow runs table a tuner wants: which columns, and the URL that opens it.

MLflow 3's UI opens on its GenAI view; ``workflowType=machine_learning`` in the URL picks
the model-training view. A shared view (an experiment tag ``mlflow.sharedViewState.KEY``
opened with ``viewStateShareKey=KEY``) presets the table's columns. MLflow 3.17 leaves
``runsExpanded`` out of a shared view, so the study's run opens collapsed; and the UI
nests the trials under it only while the table is sorted by creation time.
"""

import json
import shlex
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ldnn_tune.names import (
    EXPERIMENT_KIND_TAG,
    PARENT_RUN_TAG,
    RESEED_OF_ATTR,
    ROLE_TAG,
    SETTING_PARAM_PREFIX,
    SHARED_VIEW_TAG,
    STATE_TAG,
    STUDY_ROLE,
    TOP_KNOBS_TAG,
)
from ldnn_tune.urls import store_words

if TYPE_CHECKING:
    from mlflow.tracking import MlflowClient

VIEW_KEY = "ldnn-tune"  # the shared view's name in the URL
EXPERIMENT_KIND = "custom_model_development"  # the classic view, where a UI honours the tag
# val_loss: the last epoch's, all a pruned trial has; best_*: the kept weights', as test_*
CLASSIFICATION_COLUMNS = ("val_loss", "best_val_loss", "best_val_acc", "test_acc")
REGRESSION_COLUMNS = ("val_loss", "best_val_loss", "best_val_mae", "test_mse", "test_mae")
KNOB_COLUMNS = 5  # knob columns besides lr
FIRST_CURVES = ("val_loss", "train_loss", "val_acc", "lr")  # the chart view's first charts
FIRST_CURVES_REGRESSION = ("val_loss", "train_loss", "lr")
KIND_LOOKS = 20  # recent trial runs looked at to tell a regression study from a classifier
RUN_NAME_COLUMN = "attributes.`Run Name`"


def view_columns(knobs: Sequence[str], regression: bool = False) -> list[str]:
    """Return the table's columns: state, metrics, whose retrain it is, lr and ``knobs``.

    The metrics are a classifier's (accuracy) or, for a ``regression`` study, MSE and MAE.
    """
    params = ["lr", *(k for k in knobs if k != "lr")][: KNOB_COLUMNS + 1]
    metrics = REGRESSION_COLUMNS if regression else CLASSIFICATION_COLUMNS
    return [
        f"tags.`{STATE_TAG}`",
        *(f"metrics.`{m}`" for m in metrics),
        f"params.`{RESEED_OF_ATTR}`",  # a retrain names the trial whose knobs it trains again
        *(f"params.`{p}`" for p in params),
    ]


def view_state(knobs: Sequence[str], regression: bool = False) -> str:
    """Return the shared view's JSON: columns in order, a wide name column, all runs charted.

    The chart view opens on the trials' curves (:func:`chart_sections`).
    """
    columns = view_columns(knobs, regression)
    state = {
        "selectedColumns": columns,
        "columnOrder": columns,
        "columnWidths": {RUN_NAME_COLUMN: 220},
        "runsHiddenMode": "SHOW_ALL",
        **chart_sections(regression),
    }
    return json.dumps(state)


def chart_sections(regression: bool) -> dict[str, object]:
    """Return the chart view's sections and first charts, as MLflow's UI state holds them.

    MLflow puts a section per metric prefix before its "Model metrics", in name order,
    and orders charts by name: it opened on the per-layer ``update_ratio/...`` charts,
    ``val_loss`` last. Here "Model metrics" comes first and starts with the curves a
    tuner reads; the UI adds a chart for every other metric after them.
    """
    sections = [
        {"uuid": f"{VIEW_KEY}-{key}", "name": name, "display": True, "isReordered": reordered}
        for key, name, reordered in (
            ("model", "Model metrics", True),  # reordered: added charts go after these
            ("ratios", "update_ratio", False),
            ("system", "System metrics", False),
        )
    ]
    curves = FIRST_CURVES_REGRESSION if regression else FIRST_CURVES
    charts = [_line_chart(metric, sections[0]["uuid"]) for metric in curves]
    return {
        "compareRunSections": sections,
        "compareRunCharts": charts,
        "isAccordionReordered": True,
    }


def _line_chart(metric: str, section: object) -> dict[str, object]:
    """Return a per-epoch line chart of ``metric`` in ``section``, as MLflow's UI makes one."""
    return {
        "uuid": f"{VIEW_KEY}-{metric}",
        "type": "LINE",
        "runsCountToCompare": 10,
        "metricSectionId": section,
        "deleted": False,
        "isGenerated": True,
        "displayName": metric,
        "metricKey": metric,
        "lineSmoothness": 0,
        "xAxisScaleType": "linear",
        "scaleType": "linear",
        "range": {},
        "xAxisKey": "step",
        "selectedXAxisMetricKey": "",
        "yAxisKey": "metric",
        "yAxisExpressions": [],
        "ignoreOutliers": False,
        "useGlobalXaxisKey": True,
        "useGlobalLineSmoothing": True,
    }


def runs_url(base: str, experiment_id: str, shared: bool = True) -> str:
    """Return the URL of the experiment's runs table in the model-training view."""
    url = f"{base.rstrip('/')}/#/experiments/{experiment_id}/runs?workflowType=machine_learning"
    return f"{url}&viewStateShareKey={VIEW_KEY}" if shared else url


def study_knobs(client: "MlflowClient", experiment_id: str) -> tuple[list[str], bool]:
    """Return the study's knobs, most important first, and whether it is a regression.

    The knobs come from its parent run's tag, or a trial's params. A study is a
    regression when a recent trial reported MSE and none accuracy (a trial that failed
    before its first validation reports neither).
    """
    query = f"tags.`{ROLE_TAG}` = '{STUDY_ROLE}'"
    parents = client.search_runs([experiment_id], query, max_results=1)
    if not parents:
        return [], False
    child = f"tags.`{PARENT_RUN_TAG}` = '{parents[0].info.run_id}'"
    trials = client.search_runs([experiment_id], child, max_results=KIND_LOOKS)
    reported = [set(t.data.metrics) for t in trials]
    regression = not any("val_acc" in m for m in reported) and any(
        "test_mse" in m for m in reported
    )
    tagged = parents[0].data.tags.get(TOP_KNOBS_TAG, "")
    if tagged:
        return tagged.split(","), regression
    params = trials[0].data.params if trials else {}
    return [k for k in params if k != "seed" and not k.startswith(SETTING_PARAM_PREFIX)], regression


def prepare_view(client: "MlflowClient", experiment_id: str) -> None:
    """Tag experiment ``experiment_id`` so the UI opens it in the training view, tuner's columns."""
    knobs, regression = study_knobs(client, experiment_id)
    client.set_experiment_tag(experiment_id, EXPERIMENT_KIND_TAG, EXPERIMENT_KIND)
    client.set_experiment_tag(
        experiment_id, f"{SHARED_VIEW_TAG}{VIEW_KEY}", view_state(knobs, regression)
    )


def browse_hint(client: "MlflowClient", experiment_id: str, uri: str, study: str) -> str:
    """Return how to browse study ``study``'s trials, kept in the MLflow store at ``uri``.

    A store in a file or database is opened by ``ldnn-tune ui``; an MLflow server is
    browsed already, so the hint is its runs table's URL, with the tuner's view set up
    (``ui`` sets it up for the others).
    """
    if uri.startswith(("http://", "https://")):
        prepare_view(client, experiment_id)
        return runs_url(uri, experiment_id)
    words = [f"study={study}", *store_words(mlflow=uri)]
    return f"ldnn-tune ui {shlex.join(words)}"
