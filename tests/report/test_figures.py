import io
import re

import pytest
from PIL import Image

from ldnn_tune.report.figures import StudyFacts, draw_all, plot_names
from ldnn_tune.report.importance import param_importances
from ldnn_tune.report.ratios import ratio_traces
from ldnn_tune.study.queries import best_trials

ALL = {
    "optimization_history",
    "param_importances",
    "parallel_coordinate",
    "intermediate_values",
    "slice",
    "update_ratio",
}


def facts(toy) -> StudyFacts:
    traces = ratio_traces(toy.tracker.client, best_trials(toy.study, 5))
    return StudyFacts(toy.study, param_importances(toy.study), traces)


def assert_not_blank(png: bytes) -> None:
    assert png.startswith(b"\x89PNG")
    image = Image.open(io.BytesIO(png)).convert("L")
    low, high = image.getextrema()
    assert high - low > 100, "the plot is one flat colour"
    assert image.width > 300 and image.height > 200


def test_every_plot_is_drawn_as_png_and_html(toy) -> None:
    plots, notes = draw_all(facts(toy))
    assert {p.name for p in plots} == ALL
    assert notes == []
    for plot in plots:
        assert plot.png is not None
        assert_not_blank(plot.png)
        assert plot.html is not None and "Plotly.newPlot" in plot.html
        assert not re.search(r"<script[^>]*src=", plot.html)  # plotly.js is embedded
    assert "slice.html" in plot_names(plots)


def test_the_ratio_traces_come_from_the_best_trials_runs(toy) -> None:
    traces = ratio_traces(toy.tracker.client, best_trials(toy.study, 3))
    assert [t.number for t in traces] == [t.number for t in best_trials(toy.study, 3)]
    assert all(t.epochs == [0, 1, 2] for t in traces)


@pytest.mark.parametrize(("complete", "pruned"), [(0, 0), (0, 1), (1, 0), (2, 1)])
def test_a_tiny_study_draws_what_it_can_and_says_why_not(
    new_toy, complete: int, pruned: int
) -> None:
    toy = new_toy(complete=complete, pruned=pruned)
    plots, notes = draw_all(facts(toy), interactive=False)
    names = {p.name for p in plots}
    assert all(p.png for p in plots) and all(p.html is None for p in plots)
    if complete == 0:
        assert "optimization_history" not in names
        assert any("no complete trial" in n for n in notes)
    if complete + pruned:
        assert "intermediate_values" in names
    if complete < 2:
        assert "param_importances" not in names
        assert any("knob importances need 2 complete trials" in n for n in notes)


def test_the_plots_read_the_trials_without_copying_them(toy, monkeypatch) -> None:
    storage = toy.study._storage
    copied: list[bool] = []
    read = storage.get_all_trials

    def recording(study_id, deepcopy=True, states=None):
        copied.append(deepcopy)
        return read(study_id, deepcopy=deepcopy, states=states)

    monkeypatch.setattr(storage, "get_all_trials", recording)
    plots, _ = draw_all(facts(toy))
    assert {p.name for p in plots} == ALL
    assert copied and not any(copied)  # 20 deep copies of every trial before


def test_a_legend_of_one_entry_per_trial_is_left_out_of_the_png(new_toy) -> None:
    toy = new_toy(complete=40, pruned=0)
    plots, _ = draw_all(facts(toy), interactive=False)
    png = next(p.png for p in plots if p.name == "intermediate_values")
    assert png is not None
    assert_not_blank(png)
    height = Image.open(io.BytesIO(png)).height
    assert height < 500, height  # 1,000 trials made it 20,559 pixels


def test_the_optimisation_history_leaves_the_retrains_out() -> None:
    import optuna

    from ldnn_tune.names import RESEED_OF_ATTR
    from ldnn_tune.report.figures import StudyFacts, plot_specs
    from ldnn_tune.report.importance import Importances

    study = optuna.create_study(storage="sqlite:///:memory:")
    for value in (0.5, 0.4):
        study.add_trial(optuna.trial.create_trial(value=value))
    retrain = optuna.trial.create_trial(value=0.1, user_attrs={RESEED_OF_ATTR: 1})
    study.add_trial(retrain)  # the best knobs with another seed: no progress of the search
    specs, _ = plot_specs(StudyFacts(study, Importances(), []))
    history = next(s for s in specs if s.name == "optimization_history").plotly()
    best = next(trace for trace in history.data if trace.name == "Best Value")
    assert min(best.y) == 0.4


def test_the_optimisation_history_draws_a_study_continued_after_its_retrains() -> None:
    """Search trials numbered past a retrain (a study continued): the retrain is a gap."""
    import optuna

    from ldnn_tune.names import RESEED_OF_ATTR
    from ldnn_tune.report.figures import StudyFacts, plot_specs
    from ldnn_tune.report.importance import Importances

    study = optuna.create_study(storage="sqlite:///:memory:")
    study.add_trial(optuna.trial.create_trial(value=0.5))
    study.add_trial(optuna.trial.create_trial(value=0.1, user_attrs={RESEED_OF_ATTR: 0}))
    study.add_trial(optuna.trial.create_trial(value=0.3))
    specs, _ = plot_specs(StudyFacts(study, Importances(), []))
    history = next(s for s in specs if s.name == "optimization_history")
    history.matplotlib()  # Optuna's IndexError: list index out of range, before
    figure = history.plotly()
    search = next(trace for trace in figure.data if trace.name == "val_loss")
    assert list(search.x) == [0, 2] and list(search.y) == [0.5, 0.3]
    assert study.trials[1].state == optuna.trial.TrialState.COMPLETE  # the store unchanged


def test_a_study_of_pruned_trials_is_told_why_it_has_no_ratio_plot() -> None:
    """Pruned trials logged ratios; the plot draws the best complete ones, of which none."""
    import optuna

    from ldnn_tune.report.figures import StudyFacts, plot_specs
    from ldnn_tune.report.importance import Importances

    study = optuna.create_study(storage="sqlite:///:memory:")
    pruned = optuna.trial.create_trial(
        state=optuna.trial.TrialState.PRUNED, intermediate_values={0: 1.0}
    )
    study.add_trial(pruned)
    _, notes = plot_specs(StudyFacts(study, Importances(), []))
    assert "Update/weight ratio per epoch of the best trials: no complete trial yet" in notes
