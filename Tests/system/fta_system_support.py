"""What every system test folder shares."""
import os

import pytest

CI = os.environ.get("CI") == "true"


def missing(reason: str):
    """A missing component fails under CI=true and skips elsewhere."""
    if CI:
        pytest.fail(f"{reason} (CI=true: a missing component is a failure)", pytrace=False)
    pytest.skip(reason)
