"""The local address of a server this machine's browser opens, and opening it once it answers."""

import os
import sys
import threading
import time
import urllib.request
import webbrowser
from collections.abc import Callable, Mapping

ANY_ADDRESS = ("0.0.0.0", "::")
START_SECONDS = 120.0  # how long the browser waits for the server to answer


def base_url(host: str, port: int) -> str:
    """Return the URL a browser on this machine reaches a server bound to ``host`` at."""
    shown = "127.0.0.1" if host in ANY_ADDRESS else host
    return f"http://[{shown}]:{port}" if ":" in shown else f"http://{shown}:{port}"


def has_desktop(environ: Mapping[str, str] | None = None, platform: str = sys.platform) -> bool:
    """Return whether a browser can be shown: macOS, Windows, or a display on Linux."""
    env = os.environ if environ is None else environ
    if platform == "darwin" or platform.startswith("win"):
        return True
    return bool(env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"))


def open_when_up(
    url: str,
    base: str,
    opener: Callable[[str], object] = webbrowser.open,
    seconds: float = START_SECONDS,
) -> threading.Thread:
    """Open ``url`` with ``opener`` once ``base`` answers, from a background thread."""

    def wait_and_open() -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(base, timeout=2):
                    opener(url)
                    return
            except OSError:
                time.sleep(0.5)

    thread = threading.Thread(target=wait_and_open, daemon=True)
    thread.start()
    return thread
