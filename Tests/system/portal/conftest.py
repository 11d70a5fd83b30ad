"""Fixtures for the portal's system tests: a real `fta serve`, started by scripts/lib/portal.sh."""
import json
import os
import subprocess
import urllib.request

import pytest
from fta_system_support import missing

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))


def need(value, what):
    """The value, or a failure under CI (a skip elsewhere) naming what is missing."""
    if not value:
        missing(f"{what} is missing (scripts/test provides it)")
    return value


@pytest.fixture(scope="session")
def portal():
    url = need(os.environ.get("FTA_TEST_PORTAL_URL"), "FTA_TEST_PORTAL_URL")
    return {
        "url": url,
        "port": int(url.rsplit(":", 1)[1]),
        "admin": os.environ.get("FTA_TEST_ADMIN_USER", "admin"),
        "password": need(os.environ.get("FTA_TEST_ADMIN_PASSWORD"), "FTA_TEST_ADMIN_PASSWORD"),
        "dir": need(os.environ.get("FTA_TEST_PORTAL_DIR"), "FTA_TEST_PORTAL_DIR"),
    }


@pytest.fixture(scope="session")
def binary():
    path = os.environ.get("FTA_TEST_BINARY", os.path.join(ROOT, ".build", "debug", "fta"))
    return need(path if os.access(path, os.X_OK) else None, "the fta binary")
