"""Fixtures for fuzzing the portal's API against its own OpenAPI document (schemathesis).

Environment: FTA_TEST_PORTAL_URL (the running portal), FTA_TEST_ADMIN_USER and
FTA_TEST_ADMIN_PASSWORD (an operator account), FTA_TEST_ARTIFACTS (default "artifacts") for the
schemathesis reports. Under CI=true anything missing is a failure, never a skip.
"""
from __future__ import annotations

import os
import pathlib
import shutil
import sys
import urllib.error
import urllib.request

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from fta_api_support import Api  # noqa: E402

CI = os.environ.get("CI") == "true"


from fta_system_support import missing  # noqa: E402


@pytest.fixture(scope="session")
def admin_api(portal_url, admin_credentials) -> Api:
    return Api(portal_url).sign_in(*admin_credentials)


@pytest.fixture(scope="session")
def schemathesis_command() -> list[str]:
    """`schemathesis` from the same environment as pytest (the test venv)."""
    try:
        import schemathesis  # noqa: F401
    except ImportError as error:
        missing(f"schemathesis is not installed (pip install -r Tests/system/requirements.txt): {error}")
    cli = pathlib.Path(sys.executable).with_name("schemathesis")
    if cli.is_file():
        return [str(cli)]
    found = shutil.which("schemathesis")
    if found:
        return [found]
    return [sys.executable, "-m", "schemathesis.cli"]


@pytest.fixture(scope="session")
def artifacts() -> pathlib.Path:
    path = pathlib.Path(os.environ.get("FTA_TEST_ARTIFACTS") or "artifacts") / "schemathesis"
    path.mkdir(parents=True, exist_ok=True)
    (path / "summary.txt").unlink(missing_ok=True)
    return path
