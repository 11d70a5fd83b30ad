"""Every redirect the portal answers goes to a path on its own origin.

The static files' directory redirect (`/css` -> `/css/`) was built from the percent-decoded
request path, so `GET //css` answered `Location: //css/`, a protocol-relative URL to the host
"css". Attempts: doubled slashes, percent-encoded slashes and dots, backslashes, tabs and
newlines (encoded), on real directories of web/. Each Location must be a path with a single
leading "/", no "//" or "/\\" prefix, and resolve to the portal's own origin.
"""
import http.client
import urllib.parse

import pytest

ATTEMPTS = [
    "/css", "//css", "///css", "/%2Fcss", "/%2F%2Fcss", "/.//css", "//./css", "/%2e/css", "/%2e%2f/css",
    "/%5Ccss", "/%5C/css", "/%09/css", "/%0a/css", "/%0d%0a/css", "//js", "/%2Fjs/pages", "//js//pages",
    "/%5C%5Cjs", "/js/%2F%2Fpages",
]


def raw_get(portal, path):
    """GET with the path sent exactly as given (no client-side normalisation)."""
    connection = http.client.HTTPConnection("127.0.0.1", portal["port"], timeout=10)
    try:
        connection.putrequest("GET", path, skip_accept_encoding=True)
        connection.endheaders()
        response = connection.getresponse()
        response.read()
        return response.status, response.getheader("Location")
    finally:
        connection.close()


@pytest.mark.parametrize("path", ATTEMPTS)
def test_directory_redirects_stay_on_this_origin(portal, path):
    status, location = raw_get(portal, path)
    if 300 <= status < 400:
        assert location is not None
        assert location.startswith("/") and not location.startswith("//") and not location.startswith("/\\"), (path, location)
        assert not any(c in location for c in "\\\t\r\n"), (path, location)
        resolved = urllib.parse.urlsplit(urllib.parse.urljoin(portal["url"] + "/", location))
        assert resolved.netloc == f"127.0.0.1:{portal['port']}", (path, location)
    else:
        assert location is None, (path, status, location)


def test_the_directory_redirect_still_helps(portal):
    """Nothing useful changed: a directory still redirects to itself with a slash."""
    for path, target in (("/css", "/css/"), ("//css", "/css/"), ("/js/pages", "/js/pages/"), ("/.//js//pages", "/js/pages/")):
        status, location = raw_get(portal, path)
        assert 300 <= status < 400 and location == target, (path, status, location)
