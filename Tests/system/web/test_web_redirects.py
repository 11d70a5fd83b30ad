"""The post-sign-in target only ever goes to a path on the portal's own origin, in Chromium.

`next` is read by web/js/pages/login.js through `safeNext` (web/js/api.js). Attempts: protocol-
relative, backslash, scheme-only, percent-encoded, tab and newline forms, and paths that look
local but normalise to "//host" ("/.//host", "/..//host"). The other origin used is
`localhost` on the portal's own port: loopback, so no attempt leaves the machine even when
one succeeds.
"""
from __future__ import annotations

import os
import urllib.parse

import pytest

if os.environ.get("CI") != "true":  # under CI a missing selenium is a collection error, never a skip
    pytest.importorskip("selenium", reason="selenium is not installed (pip install -r Tests/system/requirements.txt)")

from webportal import wait_until


def attempts(other: str) -> list[str]:
    return [
        f"//{other}/dashboard.html", f"/\\{other}/dashboard.html", f"/\\/{other}/", f"/.//{other}/dashboard.html",
        f"/..//{other}/dashboard.html", f"/a/..//{other}/", f"/./\\{other}/", f"https:{other}/", f"http://{other}/",
        f"%2F%2F{other}/", f"/%2F{other}/", f"/\t/{other}/", f"/\n/{other}/", f"\t//{other}/", f" //{other}/",
        f"/%09/{other}/", "javascript:alert(1)", "/dashboard.html?x=//" + other,
    ]


def test_safe_next_keeps_every_target_on_this_origin(browser, portal_url):
    b = browser("redirects")
    b.open("/login.html")
    other = "localhost:" + str(urllib.parse.urlsplit(portal_url).port)
    results = b.driver.execute_async_script(
        "const [cases, done] = arguments;"
        "import('/js/api.js').then(m => done(cases.map(c => {"
        "  const out = m.safeNext(c);"
        "  return [c, out, out === null ? null : new URL(out, location.href).origin];"
        "})), e => done(String(e)));", attempts(other))
    assert isinstance(results, list), results
    origin = portal_url.rstrip("/")
    for case, target, target_origin in results:
        if target is not None:
            assert target_origin == origin, f"{case!r} -> {target!r} leaves for {target_origin}"
            assert target.startswith("/") and not target.startswith("//") and "\\" not in target, (case, target)
    # A plain local path is still honoured.
    assert b.driver.execute_async_script(
        "const done = arguments[0]; import('/js/api.js').then(m => done(m.safeNext('/bot.html?id=x#logs')));") == "/bot.html?id=x#logs"


def test_sign_in_with_a_normalising_target_stays_on_the_portal(browser, portal_url, admin_credentials):
    b = browser("redirect-sign-in")
    other = "localhost:" + str(urllib.parse.urlsplit(portal_url).port)
    b.sign_in(*admin_credentials, query="?next=" + urllib.parse.quote(f"/.//{other}/dashboard.html", safe=""))
    # sign_in waited for the dashboard of the portal's own origin; it must stay there.
    wait_until(lambda: b.driver.execute_script("return document.readyState") == "complete", 10)
    assert b.driver.current_url.startswith(portal_url + "/dashboard.html"), b.driver.current_url
