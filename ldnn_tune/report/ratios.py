"""The update/weight ratio per epoch of the best trials, read back from their MLflow runs."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from optuna.trial import FrozenTrial

from ldnn_tune.names import TRIAL_RUN_ATTR

if TYPE_CHECKING:
    from mlflow.tracking import MlflowClient

RATIO_METRIC = "update_ratio_median"  # the median over layers of ||dW|| / ||W||, per epoch
HEALTHY_RATIO = 1e-3  # the article: about 1e-3 is healthy


@dataclass(frozen=True)
class RatioTrace:
    """One trial's median update/weight ratio per epoch."""

    number: int
    epochs: list[int]
    values: list[float]

    @property
    def label(self) -> str:
        """Return the trace's legend label."""
        return f"trial {self.number}"


def ratio_traces(client: "MlflowClient", trials: Sequence[FrozenTrial]) -> list[RatioTrace]:
    """Return the ratio traces of ``trials`` that logged any (a missing run is skipped)."""
    traces = []
    for trial in trials:
        run_id = trial.user_attrs.get(TRIAL_RUN_ATTR)
        if not run_id:
            continue
        try:
            history = client.get_metric_history(run_id, RATIO_METRIC)
        except Exception:  # the run was deleted, or lives in another store
            continue
        points = sorted((m.step, m.value) for m in history if m.value > 0)
        if points:
            traces.append(RatioTrace(trial.number, [p[0] for p in points], [p[1] for p in points]))
    return traces


def draw_matplotlib(traces: Sequence[RatioTrace]) -> Any:
    """Return a matplotlib figure of the traces on a log scale, with the healthy level."""
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(7, 4.5))
    for trace in traces:
        axes.plot(trace.epochs, trace.values, marker="o", markersize=3, label=trace.label)
    axes.axhline(HEALTHY_RATIO, color="grey", linestyle="--", label="healthy (1e-3)")
    axes.set_yscale("log")
    axes.set_xlabel("epoch")
    axes.set_ylabel("median ||update|| / ||weight||")
    axes.set_title("Update/weight ratio of the best trials")
    axes.legend(fontsize="small")
    return figure


def draw_plotly(traces: Sequence[RatioTrace]) -> Any:
    """Return a plotly figure of the traces on a log scale, with the healthy level."""
    import plotly.graph_objects as go  # type: ignore[import-untyped]

    figure = go.Figure()
    for trace in traces:
        figure.add_trace(
            go.Scatter(x=trace.epochs, y=trace.values, mode="lines+markers", name=trace.label)
        )
    figure.add_hline(y=HEALTHY_RATIO, line_dash="dash", line_color="grey")
    figure.update_layout(
        title="Update/weight ratio of the best trials",
        xaxis_title="epoch",
        yaxis_title="median ||update|| / ||weight||",
        yaxis_type="log",
    )
    return figure
