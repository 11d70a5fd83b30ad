"""What every system test folder shares."""
import os
import time

import pytest

CI = os.environ.get("CI") == "true"


def missing(reason: str):
    """A missing component fails under CI=true and skips elsewhere."""
    if CI:
        pytest.fail(f"{reason} (CI=true: a missing component is a failure)", pytrace=False)
    pytest.skip(reason)


def wait_until(condition, what: str, timeout: float = 60, interval: float = 0.5):
    """Polls `condition` until it returns something true (which is returned), or fails naming
    `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")
