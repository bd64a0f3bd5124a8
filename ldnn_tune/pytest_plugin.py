"""The pytest plugin ldnn-tune installs: the contract suite's failures show their values.

pytest rewrites the assertions of test modules only; the contract suite lives in
``ldnn_tune.testing``, a library a plugin's tests import, and its failures read
``AssertionError`` alone. Registered before the suite is imported (pytest loads this
module at start-up through the ``pytest11`` entry point), they show what was compared.
"""

import pytest

pytest.register_assert_rewrite("ldnn_tune.testing")
