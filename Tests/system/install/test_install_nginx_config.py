"""The nginx site renders in both modes, nginx -t accepts it, and its structure keeps the
promises that live tests cannot see (no add_header in a location, loopback-only listeners)."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from fta_install_support import REPO, nginx_test, render_site, require_tool, run_install

SECURITY_HEADERS = ("X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy",
                    "Permissions-Policy", "Content-Security-Policy")


def blocks_of(text: str):
    """Yields (stack of enclosing block names, directive line) for each directive."""
    stack = []
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.endswith("{"):
            stack.append(line[:-1].strip().split()[0])
            continue
        if line == "}":
            stack.pop()
            continue
        yield tuple(stack), line


@pytest.mark.parametrize("mode", ["loopback", "tls"])
def test_nginx_accepts_the_rendered_site(site_root, mode):
    site = render_site(site_root, mode, upstream_port=18080)
    result = nginx_test(site)
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr


@pytest.mark.parametrize("mode", ["loopback", "tls"])
def test_no_location_declares_add_header(site_root, mode):
    # A location with one add_header of its own silently drops every server-level header.
    site = render_site(site_root, mode, upstream_port=18080)
    text = (site.root / "site" / "fta.conf").read_text()
    for stack, line in blocks_of(text):
        if line.startswith("add_header"):
            assert "location" not in stack, f"add_header inside a location: {line}"


@pytest.mark.parametrize("mode", ["loopback", "tls"])
def test_security_headers_are_declared_once_per_portal_server(site_root, mode):
    site = render_site(site_root, mode, upstream_port=18080)
    text = (site.root / "site" / "fta.conf").read_text()
    for header in SECURITY_HEADERS:
        lines = [l for _, l in blocks_of(text) if l.startswith(f"add_header {header} ")]
        assert len(lines) == 1, (header, lines)
        assert lines[0].endswith("always;")
    hsts = [l for _, l in blocks_of(text) if l.startswith("add_header Strict-Transport-Security")]
    assert len(hsts) == (1 if mode == "tls" else 0)


def test_loopback_mode_listens_on_loopback_only(site_root):
    site = render_site(site_root, "loopback", upstream_port=18080)
    text = (site.root / "site" / "fta.conf").read_text()
    listens = [l for _, l in blocks_of(text) if l.startswith("listen ")]
    assert listens
    for line in listens:
        address = line.split()[1]
        assert address.startswith("127.0.0.1:") or address.startswith("[::1]:"), line
    assert "ssl" not in " ".join(listens)


def test_tls_mode_uses_only_tls_1_2_and_1_3(site_root):
    site = render_site(site_root, "tls", upstream_port=18080)
    text = (site.root / "site" / "fta.conf").read_text()
    protocols = [l for _, l in blocks_of(text) if l.startswith("ssl_protocols")]
    assert protocols and all(l == "ssl_protocols TLSv1.2 TLSv1.3;" for l in protocols)


@pytest.mark.parametrize("mode", ["loopback", "tls"])
def test_proxy_settings(site_root, mode):
    site = render_site(site_root, mode, upstream_port=18080)
    text = (site.root / "site" / "fta.conf").read_text()
    directives = [l for _, l in blocks_of(text)]
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in directives
    assert not any("$proxy_add_x_forwarded_for" in l for l in directives)
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in directives
    assert "proxy_set_header Host $host;" in directives
    assert "client_max_body_size 64k;" in directives
    assert "limit_req_status 429;" in directives
    assert "server 127.0.0.1:18080;" in directives
    assert any(l.startswith("return 444") for l in directives)
    assert "server_tokens off;" in directives
    assert not re.search(r"@[A-Z_]+@", "\n".join(directives))


def test_render_rejects_bad_input(tmp_path):
    bad = run_install("--render-nginx", str(tmp_path), "--domain", "not a domain", "--email", "a@b.example", check=False)
    assert bad.returncode == 2 and "--domain" in bad.stderr
    no_email = run_install("--render-nginx", str(tmp_path), "--domain", "portal.example.org", check=False)
    assert no_email.returncode == 2 and "--email" in no_email.stderr
    same_port = run_install("--render-nginx", str(tmp_path), "--loopback", "--nginx-port", "8080", "--port", "8080", check=False)
    assert same_port.returncode == 2


def test_template_conditions_are_balanced():
    text = (REPO / "nginx" / "fta.conf.template").read_text()
    depth = 0
    for line in text.splitlines():
        if line.startswith("#@if "):
            assert line.split()[1] in {"loopback", "tls", "ipv6"}
            depth += 1
        elif line.startswith("#@end"):
            depth -= 1
            assert depth >= 0
    assert depth == 0


@pytest.mark.parametrize("mode", ["loopback", "tls"])
def test_site_fits_inside_the_distributions_nginx_conf(site_root, mode):
    # The site is included inside the stock http { } block: an http-level directive the stock
    # file also sets (server_tokens, ssl_protocols, ...) would be a "duplicate" error there.
    nginx = require_tool("nginx")
    stock = Path("/etc/nginx")
    if not (stock / "nginx.conf").exists():
        pytest.skip("no /etc/nginx/nginx.conf on this machine")
    site = render_site(site_root, mode, upstream_port=18080)
    copy = site_root / "etc-nginx"
    shutil.copytree(stock, copy, symlinks=True)
    conf_d = copy / "conf.d"
    conf_d.mkdir(exist_ok=True)
    (conf_d / "fta.conf").write_text((site.root / "site" / "fta.conf").read_text())
    # The stock default site is disabled by install.sh (it would also claim port 80).
    default = copy / "sites-enabled" / "default"
    if default.is_symlink() or default.exists():
        default.unlink()
    main = (copy / "nginx.conf").read_text().replace("/etc/nginx/", f"{copy}/")
    main = re.sub(r"^pid .*;$", f"pid {site_root}/stock.pid;", main, flags=re.M)
    main = re.sub(r"^error_log .*;$", f"error_log {site_root}/stock-error.log;", main, flags=re.M)
    (copy / "nginx.conf").write_text(main)
    result = subprocess.run([nginx, "-t", "-c", str(copy / "nginx.conf"), "-g", f"error_log {site_root}/stderr.log;"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
