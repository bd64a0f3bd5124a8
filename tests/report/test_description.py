from ldnn_tune.names import RESEED_OF_ATTR
from ldnn_tune.report.description import StudyStory, describe, reproduce_command
from ldnn_tune.report.document import markdown_html
from ldnn_tune.report.importance import param_importances
from ldnn_tune.report.runs import EnsembleSummary
from ldnn_tune.study.queries import best_trials

PARAMS = {
    "task": "toy",
    "sampler": "random",
    "pruner": "median",
    "seed": "0",
    "epochs": "3",
    "option.size": "2",
    "data_dir": "/data/toys",
}


def test_the_description_tells_setup_best_trial_ensemble_and_command(toy) -> None:
    ensemble = EnsembleSummary(
        "abc", "greedy", "3:2,1:1", {"greedy_test_acc": 0.95, "single_test_acc": 0.93}
    )
    story = StudyStory(
        toy.study, PARAMS, param_importances(toy.study), ensemble, "ldnn-tune run task=toy"
    )
    text = describe(story)
    best = best_trials(toy.study, 1)[0]
    setup = (
        "**Study `toy`**: task `toy`; options size=2; data `/data/toys`; seed 0; begun with "
        "sampler `random`"
    )
    assert setup in text
    assert "Trials: 6 complete, 2 pruned, 0 failed." in text
    assert f"**Best trial: {best.number}**" in text
    assert "**Ensemble (greedy)** of trials 3:2, 1:1" in text
    assert "test_acc 0.95 (best single 0.93)" in text
    assert "Most important knobs (fANOVA)" in text
    assert "```\nldnn-tune run task=toy\n```" in text


def test_a_study_without_complete_trials_or_ensemble_says_so(new_toy) -> None:
    toy = new_toy(complete=0, pruned=1)
    text = describe(StudyStory(toy.study, {}, param_importances(toy.study), None, "cmd"))
    assert "No complete trial yet." in text
    assert "Ensemble" not in text
    assert "Knob importances: knob importances need 2 complete trials" in text


def test_the_reproduce_command_is_made_from_the_parent_params() -> None:
    command = reproduce_command("s 1", PARAMS, 8, {"storage": "sqlite:///x.db"})
    assert command == (
        "ldnn-tune run task=toy 'study=s 1' trials=8 seed=0 sampler=random pruner=median "
        "epochs=3 size=2 storage=sqlite:///x.db"
    )


def test_a_retrain_is_counted_and_named_as_one(new_toy) -> None:
    toy = new_toy(complete=2, pruned=0)
    best = best_trials(toy.study, 1)[0]
    toy.study.enqueue_trial(best.params, user_attrs={RESEED_OF_ATTR: best.number})
    retrain = toy.study.ask()
    toy.study.tell(retrain, (best.value or 1.0) / 2)  # a luckier seed: the study's best
    text = describe(StudyStory(toy.study, {}, param_importances(toy.study), None, "cmd"))
    assert "Trials: 3 complete (1 of them retrains), 0 pruned, 0 failed." in text
    assert f"**Best trial: 2** (a retrain of trial {best.number}'s knobs)" in text


def test_an_ensemble_older_than_the_best_trial_says_so(toy) -> None:
    best = best_trials(toy.study, 1)[0]
    assert best.datetime_complete is not None
    done_ms = int(best.datetime_complete.timestamp() * 1000)

    def text(started_ms: int) -> str:
        ensemble = EnsembleSummary("abc", "greedy", "3:2", {"greedy_test_acc": 0.95}, started_ms)
        story = StudyStory(toy.study, PARAMS, param_importances(toy.study), ensemble, "")
        return " ".join(describe(story).split())

    assert "predates" not in text(done_ms + 1000)  # made after the best trial finished
    older = text(done_ms - 60_000)
    assert f"It predates the study's best trial, {best.number}, which finished after it" in older
    assert "`ldnn-tune ensemble study=toy` makes one from the trials as they are now." in older


def test_a_study_of_several_commands_lists_them_all(new_toy) -> None:
    toy = new_toy()
    story = StudyStory(toy.study, PARAMS, param_importances(toy.study), None, "last")
    assert "recorded commands" not in describe(story)  # one command: the last says it all
    first = "ldnn-tune run task=toy storage=postgresql://u:pw@h/db"  # recorded in clear before
    history = [["2026-11-30 10:00:00", first], ["2026-11-30 11:00:00", "last"]]
    toy.study.set_user_attr("ldnn_tune_commands", history)
    assert (
        "Its recorded commands, newest first (2 of 2):\n\n```\n2026-11-30 11:00:00  last\n"
        "2026-11-30 10:00:00  ldnn-tune run task=toy storage=postgresql://u:***@h/db\n```"
    ) in describe(story)
    page = markdown_html(describe(story))  # the HTML report: its own code block, one a line
    assert "<pre><code>2026-11-30 11:00:00  last\n2026-11-30 10:00:00  ldnn-tune" in page


def test_the_counts_name_running_and_queued_trials() -> None:
    import optuna

    from ldnn_tune.report.description import counts_line

    study = optuna.create_study()
    study.add_trial(optuna.trial.create_trial(state=optuna.trial.TrialState.FAIL))
    study.enqueue_trial({})  # a stopped trial's knobs, queued to run first
    study.ask()  # takes the queued one
    study.enqueue_trial({})
    assert (
        counts_line(study.trials) == "Trials: 0 complete, 0 pruned, 1 failed, 1 running, 1 queued."
    )
