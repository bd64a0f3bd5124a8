"""The study's plots: Optuna's own, and the ratio traces, each as a PNG and an HTML page.

PNGs are drawn with matplotlib (Agg; no browser needed), the interactive pages with plotly.
Each HTML page embeds plotly.js: MLflow shows an HTML artifact in a sandboxed frame,
where a script beside it would not load, and offline machines cannot fetch one.
"""

import copy
import importlib
import io
import threading
import warnings
from collections.abc import Callable, Container, Sequence
from dataclasses import dataclass
from typing import Any

import optuna
from optuna.trial import FrozenTrial, TrialState

from ldnn_tune.errors import first_line
from ldnn_tune.report.importance import Importances, KnownImportances, top_knobs
from ldnn_tune.report.ratios import RatioTrace, draw_matplotlib, draw_plotly
from ldnn_tune.study.queries import is_reseed

PARALLEL_KNOBS = 8  # knobs on the parallel-coordinates plot, most important first
SLICE_KNOBS = 4  # knobs with a slice plot
PNG_DPI = 90
MAX_LEGEND = 20  # entries; Optuna's intermediate-values plot has one per trial
Drawer = Callable[[], Any]


@dataclass(frozen=True)
class PlotSpec:
    """A plot: its file name, title, and how to draw it with each library."""

    name: str
    title: str
    matplotlib: Drawer
    plotly: Drawer
    inches: tuple[float, float] | None = None  # the PNG's size, when Optuna's is too small


@dataclass(frozen=True)
class Plot:
    """A drawn plot: PNG bytes and HTML text (None when it could not be drawn), a note."""

    name: str
    title: str
    png: bytes | None
    html: str | None
    note: str = ""


class _ReadOnlyStudy(optuna.Study):
    """A study whose trials are handed out as stored, never deep-copied.

    Optuna's plots read ``study.trials``, a deep copy of every trial: about 0.2 s for
    1,000 trials, and the plots of one report read them 20 times. They only read them.
    """

    def get_trials(
        self, deepcopy: bool = True, states: Container[TrialState] | None = None
    ) -> list[FrozenTrial]:
        """Return the trials (in ``states``) without copying them, whatever ``deepcopy`` says."""
        return super().get_trials(deepcopy=False, states=states)

    @property
    def trials(self) -> list[FrozenTrial]:
        """Return every trial without copying it."""
        return self.get_trials()


def read_only(study: optuna.Study) -> optuna.Study:
    """Return ``study`` for readers that never change its trials (see :class:`_ReadOnlyStudy`)."""
    return _ReadOnlyStudy(study.study_name, study._storage)


class _SearchOnlyStudy(_ReadOnlyStudy):
    """A read-only study of the search's trials: the retrains of the best knobs left out.

    A retrain repeats the best trial's knobs with another seed: in the optimisation
    history its lower loss would read as progress of the search. Asked for every trial,
    the view hands a retrain out as a failed trial, a gap at its number: Optuna's
    history plots index their values by trial number, and a study continued after its
    retrains has search trials numbered past them.
    """

    def get_trials(
        self, deepcopy: bool = True, states: Container[TrialState] | None = None
    ) -> list[FrozenTrial]:
        """Return the search's trials (in ``states``), uncopied; retrains as failed copies."""
        trials = [_as_gap(t) if is_reseed(t) else t for t in super().get_trials(deepcopy)]
        return [t for t in trials if states is None or t.state in states]


def _as_gap(trial: FrozenTrial) -> FrozenTrial:
    """Return a copy of ``trial`` that no plot counts: failed, with no value."""
    gap = copy.copy(trial)  # the stored trial itself is handed out uncopied: never change it
    gap.state = TrialState.FAIL
    gap.values = None
    return gap


def search_only(study: optuna.Study) -> optuna.Study:
    """Return ``study`` without its retrains, for readers that never change its trials."""
    return _SearchOnlyStudy(study.study_name, study._storage)


@dataclass(frozen=True)
class StudyFacts:
    """What the plots are drawn from: the study, its importances, the ratio traces."""

    study: optuna.Study
    importances: Importances
    traces: Sequence[RatioTrace]


def plot_specs(facts: StudyFacts) -> tuple[list[PlotSpec], list[str]]:
    """Return the plots ``facts`` allow, and a note for each one left out and why."""
    import optuna.visualization as pv
    import optuna.visualization.matplotlib as pm

    study = read_only(facts.study)
    search = search_only(facts.study)
    states = [t.state for t in study.get_trials(deepcopy=False)]
    complete = states.count(TrialState.COMPLETE)
    reported = any(t.intermediate_values for t in study.get_trials(deepcopy=False))
    parallel = top_knobs(study, facts.importances, PARALLEL_KNOBS)
    sliced = top_knobs(study, facts.importances, SLICE_KNOBS)
    evaluator = KnownImportances(facts.importances)
    candidates = [
        (
            complete >= 1,
            "no complete trial yet",
            PlotSpec(
                "optimization_history",
                "Optimisation history (the search's trials, retrains left out)",
                lambda: pm.plot_optimization_history(search, target_name="val_loss"),
                lambda: pv.plot_optimization_history(search, target_name="val_loss"),
            ),
        ),
        (
            bool(facts.importances.values),
            facts.importances.note,
            PlotSpec(
                "param_importances",
                "Knob importances (fANOVA)",
                lambda: pm.plot_param_importances(study, evaluator, target_name="val_loss"),
                lambda: pv.plot_param_importances(study, evaluator, target_name="val_loss"),
            ),
        ),
        (
            complete >= 2 and bool(parallel),
            "needs 2 complete trials",
            PlotSpec(
                "parallel_coordinate",
                "Parallel coordinates of the most important knobs",
                lambda: pm.plot_parallel_coordinate(study, parallel, target_name="val_loss"),
                lambda: pv.plot_parallel_coordinate(study, parallel, target_name="val_loss"),
                (max(8.0, 1.9 * len(parallel) + 2), 5.5),  # tick labels clear of the next axis
            ),
        ),
        (
            reported,
            "no trial reported a validation loss yet",
            PlotSpec(
                "intermediate_values",
                "Validation loss per epoch of every trial (pruned ones stop early)",
                lambda: pm.plot_intermediate_values(study),
                lambda: pv.plot_intermediate_values(study),
            ),
        ),
        (
            complete >= 1 and bool(sliced),
            "no complete trial yet",
            PlotSpec(
                "slice",
                "Validation loss against the most important knobs",
                lambda: pm.plot_slice(study, sliced, target_name="val_loss"),
                lambda: pv.plot_slice(study, sliced, target_name="val_loss"),
            ),
        ),
        (
            bool(facts.traces),
            "no complete trial yet" if complete == 0 else "no trial logged update_ratio_median",
            PlotSpec(
                "update_ratio",
                "Update/weight ratio per epoch of the best trials",
                lambda: draw_matplotlib(facts.traces),
                lambda: draw_plotly(facts.traces),
            ),
        ),
    ]
    specs = [spec for allowed, _, spec in candidates if allowed]
    notes = [f"{spec.title}: {why}" for allowed, why, spec in candidates if not allowed and why]
    return specs, notes


def draw(spec: PlotSpec, interactive: bool = True) -> Plot:
    """Draw ``spec`` as PNG (and, if ``interactive``, HTML); a failure becomes a note."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Optuna's ExperimentalWarning, matplotlib's notes
        try:
            png = png_bytes(spec.matplotlib(), spec.inches)
            html = html_text(spec.plotly(), spec.title) if interactive else None
        except Exception as error:
            return Plot(spec.name, spec.title, None, None, f"{spec.title}: {first_line(error)}")
    return Plot(spec.name, spec.title, png, html)


def draw_all(facts: StudyFacts, interactive: bool = True) -> tuple[list[Plot], list[str]]:
    """Draw every plot ``facts`` allow; return the plots and the notes on what is missing."""
    use_agg()
    specs, notes = plot_specs(facts)
    plots = [draw(spec, interactive) for spec in specs]
    return [p for p in plots if p.png is not None], notes + [p.note for p in plots if p.note]


def warm_up() -> threading.Thread:
    """Load matplotlib, plotly and Optuna's plots in a background thread; return it.

    Loading them takes over a second; done while the first trial trains, the study's
    end waits less for its plots.
    """

    def load() -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            use_agg()
            importlib.import_module("matplotlib.pyplot")
            importlib.import_module("optuna.visualization.matplotlib")
            import plotly.graph_objects as go  # type: ignore[import-untyped]

            go.Figure(go.Scatter(x=[0], y=[0]))  # plotly loads its validators on first use

    thread = threading.Thread(target=load, name="ldnn-tune-plots-warm-up", daemon=True)
    thread.start()
    return thread


def use_agg() -> None:
    """Draw with matplotlib's Agg backend (files only; no display needed)."""
    import matplotlib

    matplotlib.use("Agg")


def png_bytes(drawn: Any, inches: tuple[float, float] | None = None) -> bytes:
    """Return the figure of ``drawn`` (Axes, an array of Axes or a Figure) as PNG; close it."""
    import matplotlib.pyplot as plt
    import numpy as np

    if isinstance(drawn, np.ndarray):
        drawn = drawn.flat[0]
    figure = getattr(drawn, "figure", drawn)
    drop_long_legends(figure)
    if inches is not None:
        figure.set_size_inches(*inches)
    buffer = io.BytesIO()
    try:
        figure.savefig(buffer, format="png", dpi=PNG_DPI, bbox_inches="tight")
    finally:
        plt.close(figure)
    return buffer.getvalue()


def drop_long_legends(figure: Any) -> None:
    """Remove legends of more than :data:`MAX_LEGEND` entries from ``figure``.

    Saved with a tight bounding box, a legend of one entry per trial makes the PNG of a
    1,000-trial study 20,000 pixels tall, and takes most of the report's drawing time.
    """
    for axes in figure.get_axes():
        legend = axes.get_legend()
        if legend is not None and len(legend.get_texts()) > MAX_LEGEND:
            legend.remove()


def html_text(figure: Any, title: str) -> str:
    """Return a plotly ``figure`` as a standalone HTML page with plotly.js embedded."""
    html: str = figure.to_html(include_plotlyjs=True, full_html=True)
    return html.replace("<head>", f"<head><title>{title}</title>", 1)


def plot_names(plots: Sequence[Plot]) -> list[str]:
    """Return the file names of ``plots``: ``NAME.png`` and, when drawn, ``NAME.html``."""
    return [f"{p.name}.{ext}" for p in plots for ext in ("png", "html") if ext == "png" or p.html]
