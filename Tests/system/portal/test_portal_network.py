"""fta serve binds loopback only; X-Forwarded-For is trusted only from 127.0.0.1 (nginx)."""
import secrets
import subprocess

from fta_portal_support import login, request, run, portal_env


def listeners(port):
    out = subprocess.run(["ss", "-Hltn", f"sport = :{port}"], capture_output=True, text=True, check=True).stdout
    return [line.split()[3] for line in out.splitlines() if line.strip()]


def test_portal_listens_on_loopback_only(portal):
    bound = listeners(portal["port"])
    assert bound == [f"127.0.0.1:{portal['port']}"], bound


def test_non_loopback_listen_is_refused(portal, binary):
    for args in (["--listen", "0.0.0.0"], ["--listen", "10.1.2.3"]):
        result = run([binary, "serve", "--port", "1"] + args, env=portal_env(portal))
        assert result.returncode != 0
        assert "FTA_LISTEN" in result.stderr and "loopback" in result.stderr
    env = portal_env(portal)
    env["FTA_LISTEN"] = "0.0.0.0"
    result = run([binary, "serve", "--port", "1"], env=env)
    assert result.returncode != 0 and "FTA_LISTEN" in result.stderr


def audit_ips(portal, cookie, actor):
    status, _, body = request(portal["url"] + f"/api/v1/audit?actor={actor}&limit=5", cookie=cookie)
    assert status == 200
    return [entry["sourceIp"] for entry in body["entries"]]


def test_forwarded_for_is_trusted_from_nginx_only(portal):
    one, two = "xff-one-" + secrets.token_hex(3), "xff-two-" + secrets.token_hex(3)
    # From 127.0.0.1 (where nginx connects from), the header names the user's address.
    request(portal["url"] + "/api/v1/auth/login", "POST", {"username": one, "password": "not the password 1"},
            headers={"X-Forwarded-For": "203.0.113.7"})
    # From any other address, it is ignored: a forged header cannot dodge the per-IP limit.
    request(portal["url"] + "/api/v1/auth/login", "POST", {"username": two, "password": "not the password 2"},
            headers={"X-Forwarded-For": "203.0.113.8"}, source="127.0.0.2")
    admin = login(portal)
    assert audit_ips(portal, admin, one) == ["203.0.113.7"]
    assert audit_ips(portal, admin, two) == ["127.0.0.2"]
