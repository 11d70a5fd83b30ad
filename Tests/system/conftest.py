"""Shared by every system test folder.

Each folder keeps its helpers in a uniquely named module (fta_proxy_support, fta_install_support,
fta_freqtrade_support, fta_portal_support, webportal, ...). scripts/test runs pytest with
--import-mode=importlib, which does not put test folders on sys.path, so they are added here once.
"""
import os
import sys
import urllib.error
import urllib.request

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)
for name in sorted(os.listdir(HERE)):
    folder = os.path.join(HERE, name)
    if os.path.isdir(folder) and not name.startswith(("_", ".")) and folder not in sys.path:
        sys.path.insert(0, folder)

from fta_system_support import missing  # noqa: E402


@pytest.fixture(scope="session")
def portal_url() -> str:
    """The portal scripts/test started (scripts/lib/portal.sh), answering its health check."""
    url = os.environ.get("FTA_TEST_PORTAL_URL", "").rstrip("/")
    if not url:
        missing("FTA_TEST_PORTAL_URL is not set")
    try:
        urllib.request.urlopen(url + "/api/v1/health", timeout=10).close()
    except urllib.error.HTTPError:
        pass  # it answered (a degraded health is still a portal to test)
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
