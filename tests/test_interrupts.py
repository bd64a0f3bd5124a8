"""A Ctrl-C whose exception Python drops (raised inside a finaliser) still stops the command."""

import os
import signal
import time

import pytest

from ldnn_tune.errors import Interrupted
from ldnn_tune.interrupts import ignore_further, interruptible, raise_pending


class SignalledWhileFinalised:
    """An object whose finaliser is running when SIGINT arrives, as a weakref callback can."""

    def __del__(self) -> None:
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.05)  # the handler runs here, inside the finaliser: its raise is dropped


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_dropped_interrupt_is_raised_at_the_next_stop_and_only_until_handled() -> None:
    with interruptible():
        SignalledWhileFinalised()  # dropped at once: the finaliser runs now
        with pytest.raises(Interrupted) as stop:
            raise_pending()
        assert stop.value.signum == signal.SIGINT
        ignore_further()  # the stop is handled: no second raise
        raise_pending()
