"""Log lines cannot be forged: every value a caller types stays inside one quoted field.

Attempts, against the real `fta serve` and its real log file: usernames at sign-in that carry
` key=value` pairs, quotes, backslashes, a newline and terminal escapes, and a refused cross-site
request whose path carries quotes and `=`. Each audit line is parsed with a strict parser (the
grammar `PortalLogHandler` documents); it must have exactly the audit's keys, the hostile text
must be inside one value, and no second line may appear. Bot names, client display names,
User-Agent and X-Forwarded-For never reach the log (the forwarded address is checked to be an
address before it is used), so they cannot be tried here.
"""
import os
import re
import secrets
import time

from fta_portal_support import login, request

LEVELS = "trace|debug|info|notice|warning|error|critical"
QUOTED = r'"(?:[^"\\]|\\.)*"'
LINE = re.compile(rf'^(\S+) ({LEVELS}) ([A-Za-z0-9._-]+): ({QUOTED})((?: [A-Za-z0-9._-]+={QUOTED})*)$')
FIELD = re.compile(rf' ([A-Za-z0-9._-]+)=({QUOTED})')
AUDIT_KEYS = {"action", "actor", "ip", "outcome", "target"}


def unquote(text):
    """The value inside a quoted field, its escapes undone (\\" \\\\ \\n \\r \\t \\u{hex})."""
    assert text[0] == '"' and text[-1] == '"', text
    escapes = {'"': '"', "\\": "\\", "n": "\n", "r": "\r", "t": "\t"}
    out, i, body = [], 0, text[1:-1]
    while i < len(body):
        if body[i] != "\\":
            out.append(body[i])
            i += 1
        elif body[i + 1] == "u":
            end = body.index("}", i)
            assert body[i + 2] == "{", body
            out.append(chr(int(body[i + 3:end], 16)))
            i = end + 1
        else:
            assert body[i + 1] in escapes, f"unknown escape in {text}"
            out.append(escapes[body[i + 1]])
            i += 2
    return "".join(out)


def parse(line):
    """(level, label, message, fields) of one log line; fails on anything outside the grammar."""
    match = LINE.match(line)
    assert match, f"not one well-formed log line: {line!r}"
    fields = {}
    for key, value in FIELD.findall(match.group(5)):
        assert key not in fields, f"key {key} twice in {line!r}"
        fields[key] = unquote(value)
    return match.group(2), match.group(3), unquote(match.group(4)), fields


def log_since(portal, offset):
    with open(os.path.join(portal["dir"], "fta.log"), encoding="utf-8", errors="replace") as handle:
        handle.seek(offset)
        return handle.read()


def log_size(portal):
    return os.path.getsize(os.path.join(portal["dir"], "fta.log"))


def printable(text):
    """What the audit trail keeps of a typed name: control and format characters become '?'."""
    import unicodedata
    return "".join("?" if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") else c for c in text)[:200]


def audit_lines(portal, offset, marker, count=1, timeout=10):
    """The audit lines naming `marker`, once `count` of them are in the log."""
    deadline = time.time() + timeout
    while True:
        text = log_since(portal, offset)
        found = [line for line in text.splitlines() if marker in line]
        if len(found) >= count or time.time() > deadline:
            return text, found
        time.sleep(0.1)


def test_hostile_usernames_stay_inside_one_field(portal):
    offset = log_size(portal)
    tag = "m" + secrets.token_hex(4)
    hostile = [
        f"{tag}a outcome=success actor=root ip=127.0.0.1",
        f'{tag}b" outcome="success" actor="root',
        f'{tag}c\\" outcome=\\"success\\" x=\\',
        f'{tag}d\n2026-01-01T00:00:00Z notice fta: "audit" outcome="success"',
        f"{tag}e\x1b[2K\r\u202e outcome=success",
    ]
    for username in hostile:
        status, headers, _ = request(portal["url"] + "/api/v1/auth/login", "POST", {"username": username, "password": "not the password 1"})
        assert status == 401 and "Set-Cookie" not in headers
    text, lines = audit_lines(portal, offset, tag, count=len(hostile))
    # One line per attempt, no more: a newline in a name cannot start a forged line.
    assert len(lines) == len(hostile), lines
    for username, line in zip(hostile, lines):
        level, label, message, fields = parse(line)
        assert (level, label, message) == ("notice", "fta", "audit")
        assert set(fields) == AUDIT_KEYS, line
        # Sign-in keeps the first 64 characters of a typed username.
        assert fields["actor"] == fields["target"] == printable(username[:64]), line
        assert (fields["action"], fields["outcome"], fields["ip"]) == ("auth.login", "failure", "127.0.0.1"), line
    # Every line fta wrote meanwhile is well formed too (nothing else was split or forged).
    for line in text.splitlines():
        parse(line)
    # Nothing changed: the attempts were failures in the trail, and nobody got a session.
    admin = login(portal)
    status, _, body = request(portal["url"] + "/api/v1/audit?action=auth.login&limit=50", cookie=admin)
    assert status == 200
    ours = [entry for entry in body["entries"] if tag in entry["actor"]]
    assert len(ours) == len(hostile) and all(entry["outcome"] == "failure" for entry in ours)


def test_a_hostile_path_stays_inside_one_field(portal):
    """A refused cross-site request is audited with its path as the target."""
    offset = log_size(portal)
    tag = "p" + secrets.token_hex(4)
    path = f'/api/v1/bots/{tag}"outcome="success"actor="root"x=\\/start'
    status, _, _ = request(portal["url"] + path, "POST", {}, headers={"Origin": "https://evil.example"})
    assert status == 403
    _, lines = audit_lines(portal, offset, tag)
    assert len(lines) == 1, lines
    _, _, message, fields = parse(lines[0])
    assert message == "audit" and set(fields) == AUDIT_KEYS, lines[0]
    assert fields["target"] == f"POST {path}" and fields["outcome"] == "denied" and fields["action"] == "csrf.refused"
