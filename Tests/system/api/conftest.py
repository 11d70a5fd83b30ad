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


def missing(reason: str):
    if CI:
        pytest.fail(f"{reason} (CI=true: a missing component is a failure)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def portal_url() -> str:
    url = os.environ.get("FTA_TEST_PORTAL_URL", "").rstrip("/")
    if not url:
        missing("FTA_TEST_PORTAL_URL is not set")
    try:
        urllib.request.urlopen(url + "/api/v1/health", timeout=10).close()
    except urllib.error.HTTPError:
        pass  # it answered
    except Exception as error:  # noqa: BLE001
        missing(f"the portal at {url} is not reachable: {error}")
    return url


@pytest.fixture(scope="session")
def admin_credentials() -> tuple[str, str]:
    user = os.environ.get("FTA_TEST_ADMIN_USER")
    password = os.environ.get("FTA_TEST_ADMIN_PASSWORD")
    if not user or not password:
        missing("FTA_TEST_ADMIN_USER / FTA_TEST_ADMIN_PASSWORD are not set")
    return user, password


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
