"""Fixtures for the portal's system tests: a real `fta serve`, started by scripts/lib/portal.sh."""
import json
import os
import subprocess
import urllib.request

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
CI = os.environ.get("CI") == "true"


def need(value, what):
    """A missing component fails under CI and skips elsewhere."""
    if value:
        return value
    if CI:
        pytest.fail(f"{what} is missing (scripts/test provides it)")
    pytest.skip(f"{what} is missing")


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
