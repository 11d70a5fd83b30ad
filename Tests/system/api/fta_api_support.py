"""A small JSON client for the portal's API, for the fuzzing tests' setup and cleanup."""
from __future__ import annotations

import http.cookiejar
import json
import urllib.error
import urllib.request


class Api:
    """A tiny JSON client with its own cookie jar (one signed-in session per instance)."""

    def __init__(self, base: str):
        self.base = base.rstrip("/") + "/api/v1"
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def call(self, method: str, path: str, body: dict | None = None) -> tuple[int, object]:
        data = None
        headers = {"Accept": "application/json"}
        if method not in ("GET", "HEAD"):
            data = json.dumps(body if body is not None else {}).encode()
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(self.base + path, data=data, method=method, headers=headers)
        try:
            with self.opener.open(request, timeout=60) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, raw = error.code, error.read()
        return status, (json.loads(raw) if raw else None)

    def ok(self, method: str, path: str, body: dict | None = None, expect: tuple[int, ...] = (200, 201, 204)):
        status, answer = self.call(method, path, body)
        assert status in expect, f"{method} {path} answered {status}: {answer}"
        return answer

    def sign_in(self, username: str, password: str) -> "Api":
        self.ok("POST", "/auth/login", {"username": username, "password": password}, expect=(200,))
        return self

    @property
    def session_cookie(self) -> str:
        """`name=value` of the session cookie, for schemathesis' `-H Cookie:`."""
        for cookie in self.jar:
            if cookie.name.endswith("fta_session"):
                return f"{cookie.name}={cookie.value}"
        raise AssertionError("no session cookie after sign-in")
