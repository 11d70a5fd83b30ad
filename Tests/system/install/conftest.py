"""Fixtures for the install.sh and nginx tests (no top-level conftest: this one is local).

The nginx fixtures render the site with `install.sh --render-nginx`, wrap it in a minimal
nginx.conf of their own (own prefix, pid, logs and temp paths) and run a throwaway nginx on
free loopback ports, in front of a stub upstream (python http.server) that stands in for
`fta serve`. Helpers live in fta_install_support.py.
"""

from __future__ import annotations

import http.server
import os
import shutil
import sys
import tempfile
import threading
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fta_install_support import StubPortal, render_site, start_nginx, stop_nginx  # noqa: E402


@pytest.fixture(scope="session")
def stub_portal():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), StubPortal)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.fixture
def site_root():
    """A world-traversable temporary directory (nginx workers run as nobody)."""
    d = Path(tempfile.mkdtemp(prefix="fta-nginx-test-"))
    os.chmod(d, 0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def loopback_nginx(site_root, stub_portal):
    """A fresh nginx (fresh rate-limit zones) with the loopback-mode site."""
    site = render_site(site_root, "loopback", stub_portal)
    proc = start_nginx(site)
    yield site
    stop_nginx(proc)


@pytest.fixture
def tls_nginx(site_root, stub_portal):
    """A fresh nginx with the TLS-mode site on free ports instead of 80/443."""
    site = render_site(site_root, "tls", stub_portal)
    proc = start_nginx(site)
    yield site
    stop_nginx(proc)
