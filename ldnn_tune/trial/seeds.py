"""Per-trial seeds derived from the study seed and the trial number."""

import numpy as np


def trial_seed(study_seed: int, trial_number: int) -> int:
    """Return trial ``trial_number``'s seed: the same whichever worker runs it, and when."""
    state = np.random.SeedSequence([study_seed, trial_number]).generate_state(1)
    return int(state[0] % (2**31 - 1))
