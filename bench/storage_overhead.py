"""Storage overhead per trial (ask + 3 suggests + 2 user attrs + tell) as a study grows.

For SQLite, a journal file, PostgreSQL and Redis, as ldnn-tune opens them (make_storage,
heartbeats on): one process fills a study with N trials, timing each; then W processes
share one study to show the aggregate trials/s. RandomSampler keeps the sampler's own cost
out. Usage: python bench/storage_overhead.py [--trials 1000] [--workers 2]
"""

import argparse
import multiprocessing
import statistics
import tempfile
import time
import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import optuna
import redis
import sqlalchemy

from ldnn_tune import make_storage

PG = "postgresql://postgres@127.0.0.1:5432"
REDIS = "redis://127.0.0.1:6379/14"


def one_trial(study: optuna.Study) -> float:
    started = time.perf_counter()
    trial = study.ask()
    x = trial.suggest_float("lr", 1e-3, 1.0, log=True)
    trial.suggest_int("width", 8, 64)
    trial.suggest_categorical("init", ["lazy", "scaled"])
    trial.set_user_attr("seed", trial.number)
    trial.set_user_attr("mlflow_run_id", uuid.uuid4().hex)
    study.tell(trial, x)
    return time.perf_counter() - started


def quiet() -> None:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", message="Heartbeat of storage")


def open_study(url: str, name: str) -> optuna.Study:
    sampler = optuna.samplers.RandomSampler(seed=0)
    storage = make_storage(url, heartbeat=60)
    return optuna.create_study(
        study_name=name, storage=storage, sampler=sampler, load_if_exists=True
    )


def fill(url: str, name: str, trials: int) -> list[float]:
    study = open_study(url, name)
    return [one_trial(study) for _ in range(trials)]


def _worker(url: str, name: str, trials: int, queue: Any, barrier: Any) -> None:
    quiet()
    study = open_study(url, name)
    barrier.wait()  # all workers start their trials together
    started = time.time()
    for _ in range(trials):
        one_trial(study)
    queue.put((started, time.time()))


def shared(url: str, workers: int, trials: int) -> float:
    """Return trials/s of ``workers`` processes each adding ``trials`` to one new study.

    Timed from the first worker's first trial to the last worker's last (start-up excluded).
    """
    name = f"shared-{uuid.uuid4().hex[:6]}"
    open_study(url, name)
    context = multiprocessing.get_context("spawn")
    queue: multiprocessing.Queue[tuple[float, float]] = context.Queue()
    barrier = context.Barrier(workers)
    processes = [
        context.Process(target=_worker, args=(url, name, trials, queue, barrier))
        for _ in range(workers)
    ]
    for p in processes:
        p.start()
    spans = [queue.get() for _ in processes]
    for p in processes:
        p.join()
    return workers * trials / (max(e for _, e in spans) - min(s for s, _ in spans))


@contextmanager
def postgres() -> Iterator[str]:
    name = f"ldnn_bench_{uuid.uuid4().hex[:8]}"
    admin = sqlalchemy.create_engine(f"{PG}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(sqlalchemy.text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{PG}/{name}"
    finally:
        with admin.connect() as c:
            c.execute(sqlalchemy.text(f'DROP DATABASE "{name}" WITH (FORCE)'))


@contextmanager
def redis_db() -> Iterator[str]:
    client = redis.Redis.from_url(REDIS)
    client.flushdb()
    try:
        yield REDIS
    finally:
        client.flushdb()


def ms(values: list[float]) -> float:
    return 1000 * statistics.median(values)


def bench(label: str, url: str, trials: int, workers: int) -> str:
    times = fill(url, "fill", trials)
    first, last = ms(times[:100]), ms(times[-100:])
    rate = shared(url, workers, trials // 4)
    return (
        f"| {label} | {first:.1f} | {last:.1f} | {last / first:.2f} | "
        f"{1 / statistics.median(times[-100:]):.0f} | {rate:.0f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    quiet()
    print(
        f"| storage | ms/trial, trials 1-100 | ms/trial, trials {args.trials - 99}-{args.trials} "
        f"| ratio | trials/s (1 worker, at the end) | trials/s ({args.workers} workers) |"
    )
    print("| --- | --- | --- | --- | --- | --- |")
    with tempfile.TemporaryDirectory() as tmp:
        print(bench("SQLite", f"sqlite:///{Path(tmp) / 's.db'}", args.trials, args.workers))
        print(bench("journal file", f"journal:{Path(tmp) / 'j.log'}", args.trials, args.workers))
    with postgres() as url:
        print(bench("PostgreSQL 15", url, args.trials, args.workers))
    with redis_db() as url:
        print(bench("Redis (journal)", url, args.trials, args.workers))


if __name__ == "__main__":
    main()
