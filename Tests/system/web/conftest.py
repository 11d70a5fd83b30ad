"""Fixtures for the portal's browser tests.

Environment: FTA_TEST_PORTAL_URL (the running portal), FTA_TEST_ADMIN_USER and
FTA_TEST_ADMIN_PASSWORD (an operator account), FTA_TEST_ARTIFACTS (default "artifacts") for
screenshots. Chromium and chromedriver come from Debian (FTA_TEST_CHROMIUM /
FTA_TEST_CHROMEDRIVER override the paths). Under CI=true anything missing is a failure, never a skip.
"""
from __future__ import annotations

import os
import pathlib
import secrets
import shutil
import urllib.error
import urllib.request

import pytest

CI = os.environ.get("CI") == "true"


from fta_system_support import missing  # noqa: E402


try:
    import webportal  # noqa: F401  (needs selenium)
    _import_error = None
except ImportError as error:  # selenium not installed
    _import_error = error


@pytest.fixture(scope="session")
def artifacts() -> pathlib.Path:
    path = pathlib.Path(os.environ.get("FTA_TEST_ARTIFACTS") or "artifacts")
    (path / "screenshots").mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="session")
def chromium_ready() -> None:
    if _import_error is not None:
        missing(f"selenium is not installed: {_import_error}")
    from webportal import chromium_paths
    for path in chromium_paths():
        if not (os.path.isfile(path) or shutil.which(path)):
            missing(f"{path} not found (apt-get install chromium chromium-driver)")


@pytest.fixture
def browser(portal_url, artifacts, chromium_ready, request):
    """Factory: browser("owner") opens a fresh Chromium session (own cookies). Every session's
    console is checked when the test ends: any console error or CSP violation fails the test."""
    from webportal import Browser
    sessions = []

    def open_session(name: str) -> Browser:
        session = Browser(base_url=portal_url, artifacts=artifacts, name=name)
        sessions.append(session)
        return session

    yield open_session
    problems = []
    for session in sessions:
        try:
            session.quit()
        finally:
            if not session.reported:
                problems.extend(session.problems)
    if problems:
        pytest.fail("console errors or CSP violations:\n" + "\n".join(map(str, problems)), pytrace=False)


class Scenario(dict):
    """State handed from one step of the scenario to the next (ids, passwords)."""

    def need(self, key: str):
        if key not in self:
            pytest.fail(f"an earlier step of the scenario did not provide {key!r}; see the first failure", pytrace=False)
        return self[key]


@pytest.fixture(scope="module")
def scenario(portal_url, admin_credentials):
    state = Scenario(suffix=secrets.token_hex(3))
    yield state
    # Clean-up through the API, whatever happened: a bot left behind would hold memory budget.
    if "bot_id" in state and not state.get("bot_deleted"):
        from webportal import ApiClient
        api = ApiClient(portal_url)
        try:
            api.sign_in(*admin_credentials)
            api.call("DELETE", f"/bots/{state['bot_id']}")
        except Exception:  # noqa: BLE001 - best effort
            pass
