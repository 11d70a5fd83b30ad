"""The release archive (scripts/release.sh) and an install from it with no Swift toolchain (issue 11).

The archive is made from the fta binary under test (release.sh --binary: the build itself is the
one install.sh does, and takes half an hour here). These tests check what it holds and that its
checksums verify; that install.sh refuses a tampered archive, a tampered unpacked tree and an
unverifiable download, and changes nothing then (the paths of test_install_dry_run.py are
compared before and after, for dry and real runs alike); and that a dry run from the unpacked
archive, with a PATH that holds no Swift, plans to install the archive's binary and never starts
swift (every execve is traced).
"""

from __future__ import annotations

import hashlib
import os
import platform
import re
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

from fta_install_support import INSTALL_LIB, REPO, require_tool, snapshot

BINARY = Path(os.environ.get("FTA_TEST_BINARY") or REPO / ".build" / "debug" / "fta")
VERSION = "0.0.0-test"
NAME = f"fta-{VERSION}-linux-{platform.machine()}"
# A PATH without any Swift toolchain (the machine's lives in /opt/swift, outside it).
NO_SWIFT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def clean_env(**extra) -> dict:
    """No FTA_* variable of the caller's (FTA_BINARY, FTA_RELEASE_URL, ...) reaches install.sh."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FTA_")}
    env.update(extra)
    return env


def install_sh(script: Path, *args: str, env: dict | None = None, timeout: int = 180) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(script), *args], capture_output=True, text=True, timeout=timeout,
                          env=env or clean_env(), cwd="/")


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    """scripts/release.sh run once: its output, the archive, the .sha256 beside it."""
    if not (BINARY.is_file() and os.access(BINARY, os.X_OK)):
        message = f"no fta binary at {BINARY}: run swift build (or set FTA_TEST_BINARY)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    out = tmp_path_factory.mktemp("dist")
    result = subprocess.run([str(REPO / "scripts" / "release.sh"), "--binary", str(BINARY), "--version", VERSION,
                             "--out", str(out)], capture_output=True, text=True, timeout=600, cwd=REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    archive = out / f"{NAME}.tar.gz"
    return {"result": result, "archive": archive, "sums": Path(f"{archive}.sha256"), "out": out}


@pytest.fixture
def unpacked(release, tmp_path):
    """A fresh unpacking of the archive, as an operator makes it."""
    with tarfile.open(release["archive"]) as tar:
        tar.extractall(tmp_path, filter="tar")
    return tmp_path / NAME


def repack(tree: Path, archive: Path) -> None:
    """A .tar.gz of tree, with a .sha256 beside it that matches (what a corrupted re-upload of a
    release with its checksum recomputed looks like)."""
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(tree, arcname=tree.name)
    archive.with_name(archive.name + ".sha256").write_text(f"{sha256(archive)}  {archive.name}\n")


def assert_refused(result: subprocess.CompletedProcess, before: dict, *expected: str) -> None:
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Nothing was changed" in result.stderr, result.stderr
    for text in expected:
        assert text in result.stderr, result.stderr
    assert "[1/14]" not in result.stdout, "install.sh went on with a release it could not verify"
    changed = [path for path, digest in snapshot().items() if before[path] != digest]
    assert not changed, f"a refused release changed {changed}"


def test_release_sh_prints_the_archive_and_its_sha256(release):
    lines = release["result"].stdout.strip().splitlines()
    assert lines[-2] == str(release["archive"])
    digest = sha256(release["archive"])
    assert lines[-1] == f"SHA-256 {digest}"
    assert release["sums"].read_text() == f"{digest}  {NAME}.tar.gz\n"
    check = subprocess.run(["sha256sum", "--check", release["sums"].name], cwd=release["out"], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr


def test_the_archive_holds_the_binary_the_installer_and_its_files(release):
    with tarfile.open(release["archive"]) as tar:
        members = {m.name: m for m in tar.getmembers()}
    assert all(name == NAME or name.startswith(NAME + "/") for name in members), "one top directory"
    files = {name.removeprefix(NAME + "/"): m for name, m in members.items() if m.isfile()}
    assert not [m.name for m in members.values() if not (m.isfile() or m.isdir())], "only files and directories"
    tracked = subprocess.run(["git", "ls-files", "--", "web", "compose", "nginx", "scripts/install", "docs"], cwd=REPO,
                             capture_output=True, text=True, check=True).stdout.split()
    expected = {"bin/fta", "install.sh", "scripts/build-freqtrade-image.sh", ".env.example", "README.md",
                "docs/install.md", "VERSION", "SHA256SUMS", *tracked}
    expected |= {str(p.relative_to(REPO)) for p in INSTALL_LIB.glob("*.sh")}
    assert set(files) == expected, (sorted(set(files) - expected), sorted(expected - set(files)))
    for executable in ("bin/fta", "install.sh", "scripts/install/fta-run.sh", "scripts/build-freqtrade-image.sh"):
        assert files[executable].mode & 0o111, executable
    assert all(m.uid == 0 and m.gid == 0 for m in members.values())
    # The installer and its files are the checkout's, byte for byte.
    with tarfile.open(release["archive"]) as tar:
        for rel in ("install.sh", "scripts/install/lib/binary.sh", "compose/haproxy/haproxy.cfg", "web/index.html"):
            assert tar.extractfile(f"{NAME}/{rel}").read() == (REPO / rel).read_bytes(), rel
        assert tar.extractfile(f"{NAME}/VERSION").read() == f"{VERSION}\n".encode()


def test_the_binary_in_the_archive_runs_here(unpacked):
    """The archive's fta is the one under test (stripped of debug sections only) and runs here."""
    help_text = subprocess.run([str(unpacked / "bin" / "fta"), "--help"], capture_output=True, text=True, check=True).stdout
    assert "serve" in help_text and "migrate" in help_text
    ldd = subprocess.run(["ldd", str(unpacked / "bin" / "fta")], capture_output=True, text=True).stdout
    assert "not found" not in ldd, ldd


def test_sha256sums_lists_every_file_and_verifies(unpacked):
    listed = {}
    for line in (unpacked / "SHA256SUMS").read_text().splitlines():
        m = re.fullmatch(r"([0-9a-f]{64})  (\S+)", line)
        assert m, line
        listed[m.group(2)] = m.group(1)
    present = {str(p.relative_to(unpacked)) for p in unpacked.rglob("*") if p.is_file()} - {"SHA256SUMS"}
    assert set(listed) == present
    for rel, digest in listed.items():
        assert sha256(unpacked / rel) == digest, rel


def test_a_tampered_archive_is_refused_and_nothing_changes(release, tmp_path):
    tampered = tmp_path / release["archive"].name
    data = bytearray(release["archive"].read_bytes())
    data[len(data) // 2] ^= 0x01
    tampered.write_bytes(bytes(data))
    shutil.copy(release["sums"], tmp_path / release["sums"].name)  # the genuine checksum
    for args in (["--dry-run", "-y"], ["-y", "--offline", "--no-swap"]):  # a dry run, and a real one
        before = snapshot()
        result = install_sh(REPO / "install.sh", "--release", str(tampered), *args)
        assert_refused(result, before, f"the SHA-256 of {tampered} is {sha256(tampered)}", "refusing to install it")


def test_an_archive_whose_files_do_not_match_its_sha256sums_is_refused(unpacked, tmp_path):
    """The archive's own checksum matches, but a file inside was changed after SHA256SUMS was made."""
    lib = unpacked / "scripts" / "install" / "lib" / "nginx.sh"
    lib.write_text(lib.read_text() + "\n# changed after the release was made\n")
    archive = tmp_path / f"{NAME}.tar.gz"
    repack(unpacked, archive)
    for args in (["--dry-run", "-y"], ["-y", "--offline", "--no-swap"]):
        before = snapshot()
        result = install_sh(REPO / "install.sh", "--release", str(archive), *args)
        assert_refused(result, before, "do not match its SHA256SUMS", "scripts/install/lib/nginx.sh: FAILED")


@pytest.mark.parametrize("tamper, problem", [
    ("change", "install.sh: FAILED"),
    ("add", "extra.sh: not in SHA256SUMS"),
    ("remove", "web/index.html: FAILED open or read"),
    ("symlink", "bin/fta: a symbolic link"),
])
def test_an_unpacked_release_that_does_not_match_its_sha256sums_is_refused(unpacked, tamper, problem):
    if tamper == "change":
        script = unpacked / "install.sh"
        script.write_text(script.read_text().replace("umask 022", "umask 022 # changed"))
    elif tamper == "add":
        (unpacked / "extra.sh").write_text("echo not from the release\n")
    elif tamper == "remove":
        (unpacked / "web" / "index.html").unlink()
    else:
        real = unpacked / "bin" / "fta.real"
        (unpacked / "bin" / "fta").rename(real)
        (unpacked / "bin" / "fta").symlink_to(real)
    for args in (["--dry-run", "-y"], ["-y", "--offline", "--no-swap"]):
        before = snapshot()
        result = install_sh(unpacked / "install.sh", *args, env=clean_env(PATH=NO_SWIFT_PATH))
        assert_refused(result, before, "does not match its SHA256SUMS", problem)


def test_a_release_without_a_checksum_or_over_plain_http_is_refused(release, tmp_path):
    lone = tmp_path / release["archive"].name
    shutil.copy(release["archive"], lone)  # no .sha256 beside it
    before = snapshot()
    assert_refused(install_sh(REPO / "install.sh", "--release", str(lone), "--dry-run", "-y"), before,
                   "no SHA-256 to check it against")
    url = clean_env(FTA_RELEASE_URL="http://127.0.0.1:9/fta.tar.gz", FTA_RELEASE_SHA256=sha256(release["archive"]))
    assert_refused(install_sh(REPO / "install.sh", "--dry-run", "-y", env=url), before, "must be an https:// (or file://) URL")
    no_sum = clean_env(FTA_RELEASE_URL=f"file://{release['archive']}")
    assert_refused(install_sh(REPO / "install.sh", "--dry-run", "-y", env=no_sum), before, "needs FTA_RELEASE_SHA256")
    wrong = clean_env(FTA_RELEASE_URL=f"file://{release['archive']}", FTA_RELEASE_SHA256="0" * 64)
    assert_refused(install_sh(REPO / "install.sh", "--dry-run", "-y", env=wrong), before, "not the expected " + "0" * 64)
    both = install_sh(REPO / "install.sh", "--release", str(release["archive"]), "--binary", "/bin/true", "--dry-run")
    assert both.returncode == 2 and "exclude each other" in both.stderr


@pytest.mark.parametrize("how", ["--release", "FTA_RELEASE_URL"])
def test_a_verified_release_is_installed_by_its_own_install_sh(release, how):
    """--release FILE (the .sha256 beside it) and FTA_RELEASE_URL + FTA_RELEASE_SHA256: verified,
    then the archive's install.sh plans the install of the archive's binary (a dry run here)."""
    before = snapshot()
    if how == "--release":
        result = install_sh(REPO / "install.sh", "--release", str(release["archive"]), "--dry-run", "-y",
                            env=clean_env(PATH=NO_SWIFT_PATH))
    else:
        result = install_sh(REPO / "install.sh", "--dry-run", "-y", env=clean_env(
            PATH=NO_SWIFT_PATH, FTA_RELEASE_URL=f"file://{release['archive']}", FTA_RELEASE_SHA256=sha256(release["archive"])))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Release {NAME} from " in result.stdout and "SHA-256 verified" in result.stdout
    assert re.search(rf"would: install /usr/local/bin/fta from the release's binary /\S+/{NAME}/bin/fta", result.stdout), result.stdout
    assert "[14/14]" in result.stdout and "swift build" not in result.stdout
    assert snapshot() == before


def test_a_dry_run_from_the_unpacked_archive_without_swift_does_not_build(unpacked, tmp_path):
    """What a fresh EC2 does: unpack, run install.sh. No toolchain is looked for or started."""
    strace = require_tool("strace")
    trace = tmp_path / "execve.log"
    before = snapshot()
    result = subprocess.run([strace, "-f", "-qq", "-e", "trace=execve", "-o", str(trace), "bash",
                             str(unpacked / "install.sh"), "--dry-run", "-y"],
                            capture_output=True, text=True, timeout=300, env=clean_env(PATH=NO_SWIFT_PATH), cwd=unpacked)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"would: install /usr/local/bin/fta from the release's binary {unpacked}/bin/fta (verified against SHA256SUMS)" in result.stdout
    assert "swift" not in result.stdout.lower()
    started = re.findall(r'execve\("([^"]+)"', trace.read_text())
    assert started, "strace saw no execve"
    assert not [p for p in started if os.path.basename(p) in ("swift", "swift-build", "swiftc")], "install.sh started Swift"
    assert snapshot() == before


def test_the_release_url_is_never_a_command_line_argument(release, tmp_path):
    """A presigned URL's query (or a user:password@ part) is a credential: curl gets the URL on
    stdin, and install.sh prints it without them (issue 15: any local user reads /proc/*/cmdline)."""
    strace = require_tool("strace")
    marker = "X-Amz-Signature=" + hashlib.sha256(os.urandom(16)).hexdigest()
    trace = tmp_path / "execve.log"
    env = clean_env(PATH=NO_SWIFT_PATH, FTA_RELEASE_URL=f"file://{release['archive']}?{marker}",
                    FTA_RELEASE_SHA256=sha256(release["archive"]))
    result = subprocess.run([strace, "-f", "-qq", "-s", "65536", "-e", "trace=execve", "-o", str(trace), "bash",
                             str(REPO / "install.sh"), "--dry-run", "-y"], capture_output=True, text=True, timeout=300,
                            env=env, cwd="/")
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Release {NAME} from file://{release['archive']}: SHA-256 verified" in result.stdout
    assert marker not in result.stdout + result.stderr
    assert "curl" in trace.read_text()
    leaked = [line[:300] for line in trace.read_text().splitlines() if marker in line]
    assert not leaked, "the URL's credential was an argument of execve:\n" + "\n".join(leaked)
