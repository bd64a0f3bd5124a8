"""Benchmark: the default `ldnn-tune run task=image` against an RBF SVM on the same split.

Runs the real command in a temporary directory, reads the study back, and fits
scikit-learn's SVC (RBF kernel, C tuned on the validation split) on exactly the same
standardised train/validation/test split as the baseline measured in the same run.

    python bench/image_digits.py [extra key=value words for ldnn-tune run]
"""

import subprocess
import sys
import tempfile
import time
from pathlib import Path

import optuna
from ldnn_tune_image import ImageOptions, ImageTask
from sklearn.svm import SVC

CLI = str(Path(sys.executable).with_name("ldnn-tune"))


def svm_baseline(seed: int) -> tuple[float, float]:
    """Return (validation, test) accuracy of the best-C RBF SVM on the study's split."""
    task = ImageTask(ImageOptions(), None, seed)
    task.prepare()
    s = task.split
    flat = [t.reshape(len(t), -1).numpy() for t in (s.x_train, s.x_val, s.x_test)]
    best = max(
        (SVC(C=c, gamma="scale").fit(flat[0], s.y_train.numpy()) for c in (1, 3, 10, 30)),
        key=lambda m: m.score(flat[1], s.y_val.numpy()),
    )
    return best.score(flat[1], s.y_val.numpy()), best.score(flat[2], s.y_test.numpy())


def main() -> None:
    words = sys.argv[1:]
    with tempfile.TemporaryDirectory() as tmp:
        started = time.monotonic()
        result = subprocess.run(
            [CLI, "run", "task=image", *words], cwd=tmp, capture_output=True, text=True
        )
        wall = time.monotonic() - started
        if result.returncode != 0:
            sys.exit(result.stderr)
        study = optuna.load_study(study_name="image", storage=f"sqlite:///{tmp}/ldnn_tune.db")
    states = [t.state for t in study.trials]
    best = study.best_trial
    svm_val, svm_test = svm_baseline(seed=0)
    pruned = states.count(optuna.trial.TrialState.PRUNED)
    complete = states.count(optuna.trial.TrialState.COMPLETE)
    print(f"command: ldnn-tune run task=image {' '.join(words)}")
    print(f"wall time: {wall:.0f} s; trials: {complete} complete, {pruned} pruned")
    print(
        f"best trial {best.number}: val_loss {best.value:.4f}, "
        f"val_acc {best.user_attrs['val_acc']:.4f}, test_acc {best.user_attrs['test_acc']:.4f}"
    )
    print(f"baseline RBF SVM (same split): val_acc {svm_val:.4f}, test_acc {svm_test:.4f}")
    print(f"ratio test_acc tuned CNN / SVM: {best.user_attrs['test_acc'] / svm_test:.4f}")
    print(f"first trial (article defaults): val_acc {study.trials[0].user_attrs.get('val_acc')}")


if __name__ == "__main__":
    main()
