"""The template's user data, rendered (its !Sub resolved with test values) and run by bash as root,
the way cloud-init runs it at first boot, up to where it needs AWS.

Stand-ins: the release URL and the wait condition's presigned URL point at a local HTTPS server on
127.0.0.1 (a throwaway self-signed certificate, trusted through curl's own CURL_CA_BUNDLE); the
archive it serves is a small release-like one whose install.sh is a stub that records how it was
run and keeps a generated password the way install.sh --admin-password-file does; a stub
amazon-ssm-agent on PATH stands for the agent Amazon Linux ships (its download from AWS's bucket
is the one step left to a real instance, docs/aws.md). FTA_BOOT_ROOT moves every path the user
data writes (/opt/fta, /root) under a scratch directory. The script itself is the template's, byte
for byte: there is no test-only branch in it.

Checked: a wrong SHA-256, a download that fails, an archive that is not a release, and a release
whose install.sh would print the password are refused with nothing unpacked or run, and the stack
is told why; the right archive's install.sh runs with the expected arguments for each access
mode; the password file is root-only (a stub that leaves it 0644 is caught); no password and no
URL query appears in the output or on a command line.
"""

from __future__ import annotations

import hashlib
import http.server
import io
import json
import os
import re
import shutil
import ssl
import stat
import subprocess
import tarfile
import threading
from pathlib import Path

import pytest

from fta_aws_support import PASSWORD_FILE, Resolved, load_template
from fta_system_support import missing

NAME = "fta-1.2.3-linux-x86_64"
HELP_WITH_OPTION = "  --admin-password-file PATH  put the generated password in PATH (root only, 0600)"
STUB_INSTALL_SH = """#!/usr/bin/env bash
# A stand-in for a release's install.sh: records how the user data ran it, and keeps a generated
# password the way install.sh --admin-password-file does (a private file renamed into place).
set -euo pipefail
here=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")
if [ "${1:-}" = --help ]; then
    echo "Usage: sudo ./install.sh [options]"
    echo "@HELP@"
    exit 0
fi
printf '%s\\0' "$@" >"$here/ran-with"
printf '%s\\n%s\\n' "$(id -u)" "$PWD" >"$here/ran-as"
file=""
while [ $# -gt 0 ]; do
    if [ "$1" = --admin-password-file ]; then file=$2; shift; fi
    shift
done
password=$(od -An -tx1 -N12 /dev/urandom | tr -d ' \\n')
tmp=$(mktemp "$(dirname "$file")/.fta-admin-password.XXXXXX")
printf '%s\\n' "$password" >"$tmp"
chmod @MODE@ "$tmp"
mv -f "$tmp" "$file"
echo "  Password:  in $file (root only: sudo cat $file)"
exit @EXIT@
"""


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def release_archive(install_sh: str, top: str = NAME, extra_top: str | None = None) -> bytes:
    """A .tar.gz shaped like scripts/release.sh's: one top directory with install.sh, VERSION and
    SHA256SUMS (which the real install.sh checks; the stub does not need to)."""
    files = {"install.sh": install_sh.encode(), "VERSION": b"1.2.3\n"}
    files["SHA256SUMS"] = "".join(f"{sha256(data)}  {path}\n" for path, data in files.items()).encode()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for directory in [top] + ([extra_top] if extra_top else []):
            info = tarfile.TarInfo(directory)
            info.type, info.mode = tarfile.DIRTYPE, 0o755
            tar.addfile(info)
            for path, data in files.items():
                info = tarfile.TarInfo(f"{directory}/{path}")
                info.size, info.mode = len(data), 0o755 if path.endswith(".sh") else 0o644
                tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def stub(help_text: str = HELP_WITH_OPTION, mode: str = "600", exit_status: int = 0) -> str:
    return STUB_INSTALL_SH.replace("@HELP@", help_text).replace("@MODE@", mode).replace("@EXIT@", str(exit_status))


class FakeAws(http.server.BaseHTTPRequestHandler):
    """GET: the files the test put on the server. PUT: a wait-condition signal, recorded."""

    def log_message(self, *args):  # quiet
        pass

    def do_GET(self):
        data = self.server.files.get(self.path.split("?")[0])
        if data is None:
            self.send_response(404)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_PUT(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.server.signals.append({"path": self.path, "content_type": self.headers.get("Content-Type"),
                                    "body": json.loads(body)})
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()


@pytest.fixture(scope="module")
def fake_aws(tmp_path_factory):
    """The local HTTPS server, and the certificate curl is told to trust (CURL_CA_BUNDLE)."""
    if os.geteuid() != 0:
        missing("the user data runs as root (cloud-init runs it so)")
    for tool in ("bash", "curl", "openssl", "tar", "sha256sum"):
        if shutil.which(tool) is None:
            missing(f"{tool} is not installed")
    directory = tmp_path_factory.mktemp("fake-aws")
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), FakeAws)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    server.files, server.signals = {}, []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield {"server": server, "cert": cert, "base": f"https://127.0.0.1:{server.server_address[1]}"}
    server.shutdown()
    server.server_close()


class Boot:
    """One run of the rendered user data in its own scratch root."""

    def __init__(self, fake_aws, tmp_path: Path, archive: bytes, expected_sha: str | None = None, **parameters):
        self.server = fake_aws["server"]
        self.server.signals.clear()
        # A presigned URL's query is a credential: it must never be printed or be an argument.
        self.marker = "X-Amz-Signature=" + os.urandom(16).hex()
        release_path = f"/releases/{os.urandom(4).hex()}/{NAME}.tar.gz"
        self.server.files[release_path] = archive
        self.sha = sha256(archive)
        self.signal_path = f"/signal/{os.urandom(4).hex()}"
        values = {"ReleaseUrl": f"{fake_aws['base']}{release_path}?{self.marker}",
                  "ReleaseSha256": expected_sha or sha256(archive), "VpcId": "vpc-0123456789abcdef0",
                  "SubnetId": "subnet-0123456789abcdef0", **parameters}
        resolved = Resolved(load_template(), values,
                            refs={"InstallWaitHandle": f"{fake_aws['base']}{self.signal_path}?{self.marker}"})
        self.script = resolved.resources["LaunchTemplate"]["Properties"]["LaunchTemplateData"]["UserData"]
        self.root = tmp_path / "instance"
        self.root.mkdir(mode=0o755)
        (self.root / "root").mkdir(mode=0o700)
        stubs = tmp_path / "stubs"
        stubs.mkdir()
        agent = stubs / "amazon-ssm-agent"
        agent.write_text("#!/bin/sh\nexit 0\n")
        agent.chmod(0o755)
        self.script_file = tmp_path / "part-001"
        self.script_file.write_text(self.script)
        self.env = {"PATH": f"{stubs}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                    "FTA_BOOT_ROOT": str(self.root), "CURL_CA_BUNDLE": str(fake_aws["cert"]),
                    "HOME": str(tmp_path), "LANG": "C.UTF-8"}

    def run(self, prefix: list[str] | None = None) -> subprocess.CompletedProcess:
        self.result = subprocess.run([*(prefix or []), "bash", str(self.script_file)], env=self.env, cwd="/",
                                     capture_output=True, text=True, timeout=120)
        self.output = self.result.stdout + self.result.stderr
        assert self.marker not in self.output, "a presigned URL's query was printed"
        return self.result

    @property
    def release_dir(self) -> Path:
        return self.root / "opt" / "fta"

    @property
    def password_file(self) -> Path:
        return self.root / PASSWORD_FILE.lstrip("/")

    def ran_with(self) -> list[str] | None:
        record = self.release_dir / NAME / "ran-with"
        return record.read_text().split("\0")[:-1] if record.exists() else None

    def signal(self) -> dict:
        """The one signal the stack got: its status and reason."""
        signals = self.server.signals
        assert len(signals) == 1, f"{len(signals)} signals: {signals}\n{self.output}"
        assert signals[0]["path"] == f"{self.signal_path}?{self.marker}"
        assert signals[0]["content_type"] is None, "a Content-Type breaks the presigned PUT's signature"
        body = signals[0]["body"]
        assert body["UniqueId"] == "fta-install" and body["Reason"] == body["Data"]
        return body

    def assert_refused(self, reason: str) -> None:
        assert self.result.returncode == 1, self.output
        assert "fta-boot: FAILED: " in self.result.stderr and reason in self.result.stderr, self.output
        body = self.signal()
        assert body["Status"] == "FAILURE" and reason in body["Reason"], body
        assert self.ran_with() is None, "install.sh ran"
        # Nothing unpacked or left behind: the download's scratch directory is gone too.
        assert list(self.release_dir.iterdir()) == [], list(self.release_dir.iterdir())
        assert not self.password_file.exists()


EXPECTED_ARGS = ["--non-interactive", "--admin-user", "admin", "--admin-password-file"]


@pytest.mark.parametrize("mode", ["tunnel", "domain"])
def test_the_verified_release_is_installed_by_its_own_install_sh(fake_aws, tmp_path, mode):
    extra = {"AccessMode": "domain", "DomainName": "portal.example.com", "Email": "ops@example.com"} if mode == "domain" else {}
    boot = Boot(fake_aws, tmp_path, release_archive(stub()), **extra)
    result = boot.run()
    assert result.returncode == 0, boot.output
    expected = EXPECTED_ARGS + [str(boot.password_file)]
    if mode == "domain":
        expected += ["--domain", "portal.example.com", "--email", "ops@example.com"]
    assert boot.ran_with() == expected
    uid, cwd = (boot.release_dir / NAME / "ran-as").read_text().splitlines()
    assert uid == "0" and cwd == str(boot.release_dir / NAME)
    # The release stays unpacked under /opt/fta (its install.sh is the one to re-run or
    # --uninstall with); the download's scratch directory is gone.
    assert sorted(p.name for p in boot.release_dir.iterdir()) == [NAME]
    # The password: in a root-only file, and nowhere in what cloud-init logs and shows on the console.
    st = boot.password_file.stat()
    assert stat.S_IMODE(st.st_mode) == 0o600 and st.st_uid == 0 and stat.S_ISREG(st.st_mode)
    password = boot.password_file.read_text().strip()
    assert re.fullmatch(r"[0-9a-f]{24}", password)
    assert password not in boot.output
    assert f"fta-boot: SHA-256 verified: {boot.sha}\n" in boot.result.stdout
    body = boot.signal()
    assert body["Status"] == "SUCCESS"
    assert body["Reason"] == (f"fta installed from {NAME}; the first admin's one-time password is in "
                              f"{boot.password_file} (root only)")
    assert password not in json.dumps(body)


def test_a_wrong_sha256_is_refused_and_nothing_is_unpacked_or_run(fake_aws, tmp_path):
    archive = release_archive(stub())
    boot = Boot(fake_aws, tmp_path, archive, expected_sha="0" * 64)
    boot.run()
    boot.assert_refused(f"is {sha256(archive)}, not the expected {'0' * 64}: refused, nothing was unpacked or run")


def test_the_expected_sha256_may_be_given_in_upper_case(fake_aws, tmp_path):
    archive = release_archive(stub())
    boot = Boot(fake_aws, tmp_path, archive, expected_sha=sha256(archive).upper())
    assert boot.run().returncode == 0, boot.output
    assert boot.ran_with() is not None and boot.signal()["Status"] == "SUCCESS"


def test_a_failed_download_is_refused(fake_aws, tmp_path):
    boot = Boot(fake_aws, tmp_path, release_archive(stub()))
    boot.server.files.clear()  # 404
    boot.run()
    boot.assert_refused("download failed: https://127.0.0.1:")


@pytest.mark.parametrize("archive, reason", [
    (lambda: release_archive(stub(), top="not-fta"), "is not an fta release archive"),
    (lambda: release_archive(stub(), extra_top="fta-9.9.9-linux-x86_64"), "is not an fta release archive"),
    (lambda: b"not a tar.gz at all", "unpacking the release failed"),
])
def test_an_archive_that_is_not_a_release_is_refused(fake_aws, tmp_path, archive, reason):
    boot = Boot(fake_aws, tmp_path, archive())
    boot.run()
    boot.assert_refused(reason)


def test_a_release_whose_install_sh_would_print_the_password_is_refused(fake_aws, tmp_path):
    """An install.sh without --admin-password-file prints the password: into the console output."""
    boot = Boot(fake_aws, tmp_path, release_archive(stub(help_text="  --admin-user NAME")))
    boot.run()
    boot.assert_refused(f"{NAME}'s install.sh has no --admin-password-file")


def test_the_real_install_sh_offers_the_option_the_user_data_requires():
    """The check above asks install.sh --help for --admin-password-file: the real one has it."""
    from fta_aws_support import REPO
    result = subprocess.run(["bash", str(REPO / "install.sh"), "--help"], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0 and "--admin-password-file PATH" in result.stdout


def test_a_password_file_that_is_not_root_only_fails_the_install(fake_aws, tmp_path):
    boot = Boot(fake_aws, tmp_path, release_archive(stub(mode="644")))
    boot.run()
    assert boot.result.returncode == 1, boot.output
    body = boot.signal()
    assert body["Status"] == "FAILURE" and "is not a root-only (0600) regular file" in body["Reason"]
    assert boot.password_file.read_text().strip() not in boot.output


def test_a_failing_install_sh_is_reported_once_with_its_step(fake_aws, tmp_path):
    boot = Boot(fake_aws, tmp_path, release_archive(stub(exit_status=4)))
    boot.run()
    assert boot.result.returncode == 1, boot.output
    assert boot.ran_with() is not None
    body = boot.signal()  # exactly one signal
    assert body["Status"] == "FAILURE"
    assert body["Reason"].startswith("running install.sh failed (exit status 4); see /var/log/cloud-init-output.log")


def test_no_url_query_is_ever_a_command_line_argument(fake_aws, tmp_path):
    """curl gets both presigned URLs on stdin: any local user can read /proc/PID/cmdline."""
    strace = shutil.which("strace")
    if strace is None:
        missing("strace is not installed")
    boot = Boot(fake_aws, tmp_path, release_archive(stub()))
    trace = tmp_path / "execve.log"
    result = boot.run([strace, "-f", "-qq", "-s", "65536", "-e", "trace=execve", "-o", str(trace)])
    assert result.returncode == 0, boot.output
    text = trace.read_text()
    assert text.count('execve("/usr/bin/curl"') >= 2, "expected curl for the download and the signal"
    leaked = [line[:300] for line in text.splitlines() if boot.marker in line]
    assert not leaked, "a presigned URL was an argument of execve:\n" + "\n".join(leaked)


def test_the_rendered_user_data_fits_and_passes_shellcheck(fake_aws, tmp_path):
    boot = Boot(fake_aws, tmp_path, release_archive(stub()))
    assert len(boot.script.encode()) < 16384, "EC2 user data is limited to 16 KB"
    assert boot.script.startswith("#!/bin/bash\n")
    assert not re.search(r"<[A-Z][A-Za-z]+(\.[A-Za-z]+)?>", boot.script), "a resource reference left unresolved"
    shellcheck = shutil.which("shellcheck")
    if shellcheck is None:
        missing("shellcheck is not installed")
    result = subprocess.run([shellcheck, "--shell=bash", str(boot.script_file)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
