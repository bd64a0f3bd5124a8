"""The Optuna study: opening it, storages, the trial loop, workers, recovery, queries."""
