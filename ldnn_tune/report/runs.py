"""What the report reads back from MLflow: the parent run's setup, the study's ensemble run."""

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ldnn_tune.ensembles.combine import NAMED
from ldnn_tune.names import ENSEMBLE_ROLE, PARENT_RUN_TAG, ROLE_TAG

if TYPE_CHECKING:
    from mlflow.tracking import MlflowClient


@dataclass(frozen=True)
class EnsembleSummary:
    """The latest ensemble of a study: its method, members and test scores."""

    run_id: str
    method: str
    weights: str  # e.g. "3:2,7:1"
    metrics: dict[str, float] = field(default_factory=dict)
    started_ms: int = 0  # when the ensemble run started (ms since the epoch; 0: unknown)

    def score(self, model: str, name: str) -> float | None:
        """Return e.g. ``score("greedy", "test_acc")``, or None if it was not logged."""
        return self.metrics.get(f"{model}_{name}")


def parent_params(client: "MlflowClient", parent: str) -> dict[str, str]:
    """Return the params of the study's parent run (empty if it cannot be read)."""
    try:
        return dict(client.get_run(parent).data.params)
    except Exception:
        return {}


LOOKED_AT = 50  # newest ensemble runs searched for one of the study's methods


def latest_ensemble(
    client: "MlflowClient", experiment_id: str, parent: str
) -> EnsembleSummary | None:
    """Return the study's newest finished ensemble run under ``parent``, or None.

    An ensemble of trials a user named (one net to predict with, or a comparison) is not
    the study's: it is shown only when the study has no other.
    """
    query = (
        f"tags.`{PARENT_RUN_TAG}` = '{parent}' and tags.`{ROLE_TAG}` = '{ENSEMBLE_ROLE}' "
        "and attributes.status = 'FINISHED'"
    )
    try:
        runs = client.search_runs(
            [experiment_id], query, order_by=["attributes.start_time DESC"], max_results=LOOKED_AT
        )
    except Exception:
        return None
    if not runs:
        return None
    run = next((r for r in runs if r.data.params.get("method") != NAMED), runs[0])
    params = run.data.params
    return EnsembleSummary(
        run.info.run_id,
        params.get("method", ""),
        params.get("weights", ""),
        dict(run.data.metrics),
        int(run.info.start_time or 0),
    )
