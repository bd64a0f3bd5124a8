"""``ldnn-tune dashboard``: optuna-dashboard on the study storage, live, on 127.0.0.1.

optuna-dashboard is the optional ``[dashboard]`` extra; without it this is one line.
"""

import importlib.util
import threading
from collections.abc import Sequence

from rich.console import Console

from ldnn_tune.config.settings import DashboardConfig, check_free, exposure_warning
from ldnn_tune.config.stores import check_storage
from ldnn_tune.config.words import parse_words
from ldnn_tune.console.browser import base_url, has_desktop, open_when_up
from ldnn_tune.errors import EXIT_OK, UsageError

INSTALL_HINT = "pip install 'ldnn-tune[dashboard]'"


def require_dashboard() -> None:
    """Refuse to go on without optuna-dashboard, saying how to install it."""
    if importlib.util.find_spec("optuna_dashboard") is None:
        raise UsageError(f"optuna-dashboard is not installed; install it with: {INSTALL_HINT}")


def dashboard_url(host: str, port: int, study_id: int | None) -> str:
    """Return the dashboard's URL (a study's page when ``study_id`` is given)."""
    path = "/dashboard" + (f"/studies/{study_id}" if study_id is not None else "")
    return base_url(host, port) + path


def main(words: Sequence[str], console: Console) -> int:
    """Serve optuna-dashboard on the study storage until interrupted."""
    config = parse_words(DashboardConfig, words)
    require_dashboard()
    check_free(config.host, config.port)
    check_storage(config.storage, read_only=True)
    from optuna_dashboard import wsgi  # type: ignore[import-untyped]

    from ldnn_tune.console.quiet import quiet_frameworks
    from ldnn_tune.study.open import load_existing_study
    from ldnn_tune.study.storages import make_storage
    from ldnn_tune.urls import redact

    quiet_frameworks()
    study_id = None
    if config.study is not None:
        load_existing_study(config.study, config.storage)  # an unknown name is one line
    storage = make_storage(config.storage)
    if config.study is not None:
        study_id = storage.get_study_id_from_name(config.study)
    warning = exposure_warning(config.host, "the dashboard", "read and change the studies")
    if warning:
        console.print(warning, markup=False, soft_wrap=True)
    url = dashboard_url(config.host, config.port, study_id)
    console.print(
        f"optuna-dashboard for {redact(config.storage)}: {url} (Ctrl-C stops)",
        markup=False,
        soft_wrap=True,
    )
    if config.browser and has_desktop():
        open_when_up(url, base_url(config.host, config.port))
    serve_in_background(wsgi(storage), config.host, config.port)
    return EXIT_OK


def serve_in_background(app: object, host: str, port: int) -> None:
    """Serve the WSGI ``app`` from a thread until it fails or this process is stopped.

    The server is optuna-dashboard's own (``run_server``: Bottle on wsgiref), less
    Bottle's banner and a line for every request. It runs in a thread because wsgiref
    swallows any exception raised while it answers a request, Ctrl-C's included: served
    from the main thread, a Ctrl-C during one of the page's frequent refreshes printed a
    traceback and left the server running. The main thread only waits, so the signal
    always reaches it there.
    """
    import bottle  # type: ignore[import-untyped]

    failures: list[BaseException] = []

    def serve() -> None:
        try:
            bottle.run(app, host=host, port=port, quiet=True)
        except BaseException as error:  # handed to the main thread, which reports it
            failures.append(error)

    server = threading.Thread(target=serve, name="optuna-dashboard", daemon=True)
    server.start()
    while server.is_alive():
        server.join(timeout=0.5)
    if failures:
        raise failures[0]
