"""Defaults that more than one command or module shares, each written once."""

STORAGE = "sqlite:///ldnn_tune.db"  # the Optuna study storage, in the working directory
MLFLOW = "sqlite:///mlflow.db"  # the MLflow tracking store, in the working directory
UI_PORT = 5000

# The update/weight ratio band of the health rule. The article: about 1e-3 is healthy. The
# band is wide on purpose: only trials that are clearly broken (frozen, or updates as large
# as the weights) are pruned. Measured on digits (bench/results/health.md): every trial under
# 1e-5 in its first epoch ended at chance, while the study's best trial started at 0.55 and
# settled as its LR was divided.
RATIO_LOW = 1e-5
RATIO_HIGH = 1.0
