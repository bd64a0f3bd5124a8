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
    """Return the shared view's JSON: columns in order, a wide name column, all runs charted."""
    columns = view_columns(knobs, regression)
    state = {
        "selectedColumns": columns,
        "columnOrder": columns,
        "columnWidths": {RUN_NAME_COLUMN: 220},
        "runsHiddenMode": "SHOW_ALL",
    }
    return json.dumps(state)


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
