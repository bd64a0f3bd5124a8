"""Store URLs in what ldnn-tune shows and records: passwords hidden."""

import re


def redact(url: str) -> str:
    """Return ``url`` with any password replaced by ``***``, fit for messages and logs.

    Works on a ``key=URL`` command word too: ``storage=postgresql://u:***@host/db``.
    """
    return re.sub(r"(://[^:/@]*:)[^@/]*@", r"\1***@", url)
