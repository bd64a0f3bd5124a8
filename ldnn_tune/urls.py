"""Store URLs in what ldnn-tune shows and records: passwords hidden."""

import re

from ldnn_tune.config import defaults


def redact(url: str) -> str:
    """Return ``url`` with any password replaced by ``***``, fit for messages and logs.

    Works on a ``key=URL`` command word too: ``storage=postgresql://u:***@host/db``.
    """
    return re.sub(r"(://[^:/@]*:)[^@/]*@", r"\1***@", url)


def store_words(*, storage: str | None = None, mlflow: str | None = None) -> list[str]:
    """Return the ``storage=``/``mlflow=`` command words a suggested command needs.

    A store left at its default needs no word; the others are named with any password
    hidden, so the suggestion can be printed and recorded.
    """
    chosen = [("storage", storage, defaults.STORAGE), ("mlflow", mlflow, defaults.MLFLOW)]
    return [f"{key}={redact(url)}" for key, url, default in chosen if url not in (None, default)]
