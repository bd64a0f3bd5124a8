"""An ensemble gets its task's own scores (the adding problem's ``solved``), as trials do."""

import dataclasses
from typing import Any

import numpy as np
import optuna
from ldnn_tune_sequence import SequenceOptions

from ldnn_tune.ensembles.combine import OwnScores
from ldnn_tune.ensembles.own_scores import study_own_scores
from ldnn_tune.names import IDENTITY_ATTR
from ldnn_tune.plugin.manager import Host, get_plugin_manager


def own_scores_of(study: optuna.Study) -> OwnScores | None:
    """Return ``study_own_scores`` with the study's task as installed."""
    task = study.user_attrs[IDENTITY_ATTR]["task"]
    return study_own_scores(study, Host(get_plugin_manager()).tasks().get(task))


def study_of(task: str, options: dict[str, Any]) -> optuna.Study:
    """Return a study whose identity names ``task`` with ``options`` (as a run stores them)."""
    study = optuna.create_study()
    stored = {k: str(v) for k, v in options.items()}
    study.set_user_attr(IDENTITY_ATTR, {"task": task, "seed": 0, "options": stored})
    return study


def test_the_sequence_task_is_rebuilt_with_the_study_s_problem() -> None:
    adding = study_of("sequence", dataclasses.asdict(SequenceOptions(problem="adding")))
    own = own_scores_of(adding)
    assert own is not None
    sums = np.array([1.0, 0.5, 0.2])
    assert own(np.array([1.01, 0.6, 0.2]), sums) == {"solved": 2 / 3}
    sort = study_of("sequence", dataclasses.asdict(SequenceOptions(problem="sort")))
    scorer = own_scores_of(sort)
    assert scorer is not None
    probabilities = np.eye(3)[np.array([[0, 1], [2, 2]])]  # two sequences of two steps
    assert scorer(probabilities, np.array([[0, 1], [2, 1]])) == {"seq_acc": 0.5}


def test_no_own_scores_for_a_task_without_them_or_not_rebuilt() -> None:
    assert own_scores_of(study_of("image", {})) is None  # the default: none
    assert own_scores_of(study_of("no-such-task", {})) is None
    gone = study_of("sequence", {"problem": "adding", "renamed_option": "3"})
    assert own_scores_of(gone) is None  # the ensemble is still scored, without extras
