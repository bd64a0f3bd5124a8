"""Benchmark: peak resident memory of `ldnn-tune run`, summed over its whole process tree.

Runs the real command (a short image study, with n_jobs=1 and n_jobs=2) and samples the
RSS of the command and every process under it from /proc ten times a second. The baseline
in the same run is a bare Python process importing torch alone, and one importing what a
trial needs (torch, Lightning, Optuna, MLflow): what no change to ldnn-tune can go below.

    python bench/memory.py [--trials 3]
"""

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CLI = str(Path(sys.executable).with_name("ldnn-tune"))
PAGE_KIB = 4


def rss_mib(pid: int) -> float:
    """Return the resident memory of process ``pid`` in MiB (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/statm").read_text().split()
    except OSError:
        return 0.0
    return int(fields[1]) * PAGE_KIB / 1024


def children(pid: int) -> list[int]:
    """Return every process under ``pid`` (children, their children, ...)."""
    found: list[int] = []
    try:
        tasks = Path(f"/proc/{pid}/task").iterdir()
        direct = [
            int(c) for t in tasks for c in (t / "children").read_text().split() if c.isdigit()
        ]
    except OSError:
        return found
    for child in direct:
        found += [child, *children(child)]
    return found


def peak_memory(command: list[str], cwd: str) -> tuple[float, float, float]:
    """Run ``command``; return (peak tree MiB, peak main-process MiB, wall seconds)."""
    started = time.monotonic()
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    tree = main = 0.0
    while process.poll() is None:
        own = rss_mib(process.pid)
        main = max(main, own)
        tree = max(tree, own + sum(rss_mib(c) for c in children(process.pid)))
        time.sleep(0.1)
    if process.returncode != 0:
        sys.exit(process.stderr.read().decode() if process.stderr else "failed")
    return tree, main, time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=3)
    args = parser.parse_args()
    for label, code in (
        ("python + torch", "import torch"),
        ("python + torch, Lightning, Optuna, MLflow", _TRIAL_IMPORTS),
    ):
        tree, _, _ = peak_memory([sys.executable, "-c", code], ".")
        print(f"baseline {label}: {tree:.0f} MiB")
    for jobs in (1, 2):
        with tempfile.TemporaryDirectory() as tmp:
            words = ["run", "task=image", f"trials={args.trials}", "epochs=5", f"n_jobs={jobs}"]
            tree, main_mib, wall = peak_memory([CLI, *words], tmp)
            print(
                f"ldnn-tune {' '.join(words)}: peak {tree:.0f} MiB over the process tree "
                f"({main_mib:.0f} MiB the command's own process), {wall:.0f} s"
            )


_TRIAL_IMPORTS = (
    "import torch, lightning.pytorch, optuna, mlflow.tracking, kornia.augmentation, sklearn"
)


if __name__ == "__main__":
    main()
