"""Helpers of the portal system tests: requests to a real fta serve, its CLI."""
import json
import os
import subprocess
import urllib.request


def portal_env(portal):
    """The environment the test portal runs with (its env file), for CLI commands."""
    env = dict(os.environ)
    with open(os.path.join(portal["dir"], "env")) as handle:
        for line in handle:
            key, _, value = line.strip().partition("=")
            if key:
                env[key] = value
    return env


def request(url, method="GET", body=None, cookie=None, headers=None, source=None, timeout=30):
    """A JSON request; returns (status, headers, parsed body or text)."""
    data = json.dumps(body).encode() if body is not None else (b"{}" if method != "GET" else None)
    req = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if cookie:
        req.add_header("Cookie", cookie)
    for key, value in (headers or {}).items():
        req.add_header(key, value)
    opener = urllib.request.build_opener()
    if source:
        import http.client

        class SourceConnection(http.client.HTTPConnection):
            def __init__(self, *args, **kwargs):
                kwargs["source_address"] = (source, 0)
                super().__init__(*args, **kwargs)

        class SourceHandler(urllib.request.HTTPHandler):
            def http_open(self, req):
                return self.do_open(SourceConnection, req)

        opener = urllib.request.build_opener(SourceHandler)
    try:
        with opener.open(req, timeout=timeout) as response:
            raw = response.read()
            status, hdrs = response.status, response.headers
    except urllib.error.HTTPError as error:
        raw, status, hdrs = error.read(), error.code, error.headers
    try:
        parsed = json.loads(raw) if raw else None
    except ValueError:
        parsed = raw.decode(errors="replace")
    return status, hdrs, parsed


def login(portal, username=None, password=None):
    status, headers, body = request(portal["url"] + "/api/v1/auth/login", "POST",
                                    {"username": username or portal["admin"], "password": password or portal["password"]})
    assert status == 200, body
    return headers["Set-Cookie"].split(";")[0]


def run(args, env=None, stdin=None, check=False):
    return subprocess.run(args, env=env, input=stdin, capture_output=True, text=True, timeout=120, check=check)
