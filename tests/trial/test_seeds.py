"""Per-trial seeds."""

from ldnn_tune.trial.seeds import trial_seed


def test_trial_seeds_differ_by_trial_and_study() -> None:
    seeds = {trial_seed(s, n) for s in range(3) for n in range(50)}
    assert len(seeds) == 150
