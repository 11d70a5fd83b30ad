"""A real nginx with the rendered site in front of a stub portal, observed over HTTP(S)."""

import http.client
import json
import socket
import ssl
import time

import pytest

from fta_install_support import SSE_PAUSE

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
EXPECTED_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": CSP,
}


def request(port, method="GET", path="/", host="localhost", headers=None, body=None, tls_host=None):
    if tls_host is not None:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=5, context=ctx)
        conn._tunnel_host = None
        # SNI comes from the host passed to wrap_socket: connect by hand to choose it.
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        conn.sock = ctx.wrap_socket(sock, server_hostname=tls_host)
    else:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    all_headers = {"Host": host}
    all_headers.update(headers or {})
    conn.request(method, path, body=body, headers=all_headers)
    response = conn.getresponse()
    data = response.read()
    version = conn.sock.version() if tls_host is not None else None
    conn.close()
    return response, data, version


def assert_security_headers(response, tls=False):
    for name, value in EXPECTED_HEADERS.items():
        values = response.headers.get_all(name) or []
        assert values == [value], (name, values, response.status)
    perms = response.headers.get_all("Permissions-Policy") or []
    assert len(perms) == 1 and "camera=()" in perms[0] and "geolocation=()" in perms[0]
    hsts = response.headers.get_all("Strict-Transport-Security") or []
    assert hsts == (["max-age=63072000"] if tls else [])
    assert response.headers.get("Server") == "nginx"  # server_tokens off: no version
    if response.status != 429:
        assert response.headers.get_all("Retry-After") is None


def dropped(port, raw: bytes, tls_host=None) -> bool:
    """True when the server closes the connection without any HTTP answer (nginx's 444)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    if tls_host is not None:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        sock = ctx.wrap_socket(sock, server_hostname=tls_host)
    try:
        sock.sendall(raw)
        return sock.recv(4096) == b""
    except (ConnectionResetError, ssl.SSLEOFError):
        return True
    finally:
        sock.close()


# ------------------------------------------------------------------------------------ loopback

def test_security_headers_on_200_and_404(loopback_nginx):
    ok, body, _ = request(loopback_nginx.nginx_port, path="/")
    assert ok.status == 200
    assert_security_headers(ok)
    missing, _, _ = request(loopback_nginx.nginx_port, path="/missing")
    assert missing.status == 404
    assert_security_headers(missing)


def test_x_forwarded_for_is_overwritten_not_appended(loopback_nginx):
    response, body, _ = request(loopback_nginx.nginx_port, path="/echo",
                                headers={"X-Forwarded-For": "203.0.113.9", "X-Real-IP": "203.0.113.9",
                                         "X-Forwarded-Proto": "https"})
    seen = json.loads(body)
    assert seen["x_forwarded_for"] == ["127.0.0.1"]
    assert seen["x_real_ip"] == "127.0.0.1"
    assert seen["x_forwarded_proto"] == "http"
    assert seen["host"] == "localhost"


def test_login_is_throttled_after_the_burst(loopback_nginx):
    statuses = []
    last = None
    for _ in range(10):
        response, body, _ = request(loopback_nginx.nginx_port, method="POST", path="/api/v1/auth/login",
                                    headers={"Content-Type": "application/json"}, body=b'{"username":"a","password":"b"}')
        statuses.append(response.status)
        if response.status == 429:
            last = (response, body)
    # 1 + burst 5 reach the portal (its own 401 here), then nginx answers 429.
    assert statuses[:6] == [401] * 6, statuses
    assert statuses[6:] == [429] * 4, statuses
    response, body = last
    assert_security_headers(response)
    assert response.headers.get_all("Retry-After") == ["12"]
    assert response.headers.get("Content-Type") == "application/json"
    assert json.loads(body)["error"]["code"] == "too_many_attempts"


def test_login_with_a_trailing_slash_is_throttled_too(loopback_nginx):
    statuses = [request(loopback_nginx.nginx_port, method="POST", path="/api/v1/auth/login/",
                        headers={"Content-Type": "application/json"}, body=b"{}")[0].status for _ in range(8)]
    assert 429 in statuses


def test_general_rate_limit(loopback_nginx):
    statuses = [request(loopback_nginx.nginx_port, path="/api/v1/bots")[0].status for _ in range(80)]
    assert 429 in statuses
    assert statuses[0] == 200


def test_portal_429_passes_through_with_a_single_retry_after(loopback_nginx):
    response, _, _ = request(loopback_nginx.nginx_port, path="/portal-429")
    assert response.status == 429
    assert response.headers.get_all("Retry-After") == ["7"]
    assert_security_headers(response)


def test_body_over_64k_is_refused(loopback_nginx):
    response, body, _ = request(loopback_nginx.nginx_port, method="POST", path="/api/v1/bots",
                                headers={"Content-Type": "application/json"}, body=b"x" * (65 * 1024))
    assert response.status == 413
    assert_security_headers(response)
    assert json.loads(body)["error"]["code"] == "payload_too_large"
    ok, _, _ = request(loopback_nginx.nginx_port, method="POST", path="/api/v1/bots",
                       headers={"Content-Type": "application/json"}, body=b"x" * (60 * 1024))
    assert ok.status == 200


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_known_hosts_are_served(loopback_nginx, host):
    response, _, _ = request(loopback_nginx.nginx_port, host=f"{host}:{loopback_nginx.nginx_port}")
    assert response.status == 200


def test_unknown_host_is_dropped(loopback_nginx):
    assert dropped(loopback_nginx.nginx_port, b"GET / HTTP/1.1\r\nHost: evil.example\r\n\r\n")
    assert dropped(loopback_nginx.nginx_port, b"GET / HTTP/1.0\r\n\r\n")


# ------------------------------------------------------------------------------------- TLS

def test_tls_portal_sends_hsts_and_security_headers(tls_nginx):
    response, body, version = request(tls_nginx.https_port, host=tls_nginx.domain, tls_host=tls_nginx.domain)
    assert response.status == 200
    assert version in ("TLSv1.2", "TLSv1.3")
    assert_security_headers(response, tls=True)
    assert json.loads(body)["x_forwarded_proto"] == "https"
    missing, _, _ = request(tls_nginx.https_port, path="/missing", host=tls_nginx.domain, tls_host=tls_nginx.domain)
    assert missing.status == 404
    assert_security_headers(missing, tls=True)


@pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1:DeprecationWarning")
def test_tls_refuses_old_protocols_and_weak_ciphers(tls_nginx):
    def handshake(configure):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        configure(ctx)
        with socket.create_connection(("127.0.0.1", tls_nginx.https_port), timeout=5) as sock:
            with ctx.wrap_socket(sock, server_hostname=tls_nginx.domain) as tls:
                return tls.version(), tls.cipher()[0]

    version, cipher = handshake(lambda ctx: setattr(ctx, "maximum_version", ssl.TLSVersion.TLSv1_2))
    assert version == "TLSv1.2" and cipher.startswith("ECDHE-")

    def no_forward_secrecy(ctx):
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        ctx.set_ciphers("AES128-GCM-SHA256:AES256-SHA:@SECLEVEL=0")

    with pytest.raises(ssl.SSLError):
        handshake(no_forward_secrecy)

    def tls_1_1(ctx):
        ctx.minimum_version = ssl.TLSVersion.TLSv1
        ctx.maximum_version = ssl.TLSVersion.TLSv1_1
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")

    with pytest.raises(ssl.SSLError):
        handshake(tls_1_1)


def test_http_redirects_to_https_except_the_acme_challenge(tls_nginx):
    response, _, _ = request(tls_nginx.http_port, path="/login?next=/x", host=tls_nginx.domain)
    assert response.status == 301
    assert response.headers["Location"] == f"https://{tls_nginx.domain}:{tls_nginx.https_port}/login?next=/x"
    token = tls_nginx.acme_root / ".well-known" / "acme-challenge" / "tok3n"
    token.write_text("tok3n.key-authorization")
    token.chmod(0o644)
    response, body, _ = request(tls_nginx.http_port, path="/.well-known/acme-challenge/tok3n", host=tls_nginx.domain)
    assert response.status == 200
    assert body == b"tok3n.key-authorization"


def test_tls_unknown_names_are_dropped(tls_nginx):
    assert dropped(tls_nginx.http_port, b"GET / HTTP/1.1\r\nHost: evil.example\r\n\r\n")
    assert dropped(tls_nginx.https_port, b"GET / HTTP/1.1\r\nHost: evil.example\r\n\r\n", tls_host="evil.example")
    # Right SNI, wrong Host header: still not the portal.
    assert dropped(tls_nginx.https_port, b"GET / HTTP/1.1\r\nHost: evil.example\r\n\r\n", tls_host=tls_nginx.domain)


def first_message_after(port, path) -> float:
    """Seconds from the request until the first SSE message reaches the client through nginx."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    started = time.monotonic()
    conn.request("GET", path, headers={"Host": "localhost", "Accept": "text/event-stream"})
    response = conn.getresponse()
    assert response.status == 200 and response.getheader("Content-Type", "").startswith("text/event-stream")
    # read1: what has arrived, de-chunked, without waiting for more.
    chunk = response.read1(4096)
    elapsed = time.monotonic() - started
    conn.close()
    assert chunk.startswith(b"event: bots"), chunk
    return elapsed


def test_event_stream_passes_through_at_once_when_the_portal_says_so(loopback_nginx):
    """The live stream (GET /api/v1/stream) reaches the page as the portal writes it: the portal
    sends `X-Accel-Buffering: no`, and nginx then passes each message on at once. Without the
    header nginx holds the stream in its buffer until the upstream is done: the control case shows
    the check can fail."""
    port = loopback_nginx.nginx_port
    unbuffered = first_message_after(port, "/sse-stub?accel=no")
    buffered = first_message_after(port, "/sse-stub")
    print(f"first message through nginx: {unbuffered:.2f} s with X-Accel-Buffering: no, {buffered:.2f} s without")
    assert unbuffered < SSE_PAUSE / 2, f"the first message waited {unbuffered:.2f} s in nginx"
    assert buffered >= SSE_PAUSE * 0.8, f"without the header the first message came after {buffered:.2f} s: the control case proves nothing"
