"""Helpers of the bot image's vulnerability scans (Tests/system/security, docs/security.md).

Two scans of the image that bots run (FTA_TEST_FREQTRADE_IMAGE, built by
scripts/build-freqtrade-image.sh):

- its Python packages, with pip-audit against PyPI's advisories, and
- its Debian packages, against Debian's security suite.

Both need the package registries (PyPI, deb.debian.org) and nothing else.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from fta_system_support import missing

REPO = Path(__file__).resolve().parents[3]

# The policy (docs/security.md, "Vulnerability scanning"): a known vulnerability that has a fixed
# release fails the scan when it is in a package fta pins itself, since fta's own change fixes
# it; every other finding is reported for the operator, since those versions are the ones
# Freqtrade's own requirements resolve to. scripts/build-freqtrade-image.sh pins Freqtrade
# (FTA_FREQTRADE_VERSION) and nothing else: the venv's pip and setuptools are removed.
PINNED_BY_FTA = frozenset({"freqtrade"})

PYPI_PROJECT_JSON = "https://pypi.org/pypi/{name}/json"


def canonical(name: str) -> str:
    """PEP 503's normalised project name."""
    return re.sub(r"[-_.]+", "-", name).lower()


def artifacts_dir() -> Path:
    folder = Path(os.environ.get("FTA_TEST_ARTIFACTS") or REPO / "artifacts")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def docker(*args: str, check: bool = True, timeout: int = 120) -> subprocess.CompletedProcess:
    """The docker CLI against the private test engine, never the host's default one."""
    env = dict(os.environ, DOCKER_HOST=os.environ.get("FTA_TEST_DOCKER_HOST", "unix:///run/fta-test/docker.sock"))
    run = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout, env=env)
    if check and run.returncode != 0:
        raise AssertionError(f"docker {' '.join(args)} failed: {run.stderr[-1500:]}")
    return run


def bot_image() -> str:
    """The Freqtrade image the tests run, present on the test engine."""
    image = os.environ.get("FTA_TEST_FREQTRADE_IMAGE")
    if not image:
        missing("FTA_TEST_FREQTRADE_IMAGE is not set (scripts/build-freqtrade-image.sh prints it)")
    inspected = docker("image", "inspect", "--format", "{{.Id}}", image, check=False, timeout=30)
    if inspected.returncode != 0:
        missing(f"the image {image} is not on the test engine: {inspected.stderr.strip()[-300:]}")
    return image


def image_label(image: str, label: str) -> str:
    return docker("image", "inspect", "--format", f'{{{{ index .Config.Labels "{label}" }}}}', image).stdout.strip()


def run_in_image(image: str, *command: str) -> str:
    """`command` in a throwaway container of `image`, without a network."""
    return docker("run", "--rm", "--network", "none", "--entrypoint", command[0], image, *command[1:]).stdout


# -- Python packages ---------------------------------------------------------------------------

# importlib.metadata, not pip: the image ships no pip (a bot installs nothing).
_LIST_DISTRIBUTIONS = (
    "import importlib.metadata as m\n"
    "for d in m.distributions():\n"
    "    print(d.metadata['Name'] + '==' + d.version)\n"
)


def image_python_packages(image: str) -> dict[str, str]:
    """Every distribution installed in the image's Freqtrade venv: canonical name -> version."""
    output = run_in_image(image, "/opt/freqtrade-venv/bin/python", "-c", _LIST_DISTRIBUTIONS)
    packages = {}
    for line in output.splitlines():
        name, _, version = line.strip().partition("==")
        if name and version:
            packages[canonical(name)] = version
    return packages


@dataclass
class Finding:
    package: str
    version: str
    id: str
    fix_versions: list[str]
    aliases: list[str] = field(default_factory=list)
    source: str = "pip-audit"


@dataclass
class PythonAudit:
    """What the scan of the Python packages established, package by package."""
    packages: dict[str, str]
    findings: list[Finding] = field(default_factory=list)
    # package -> who audited it ("pip-audit" or "PyPI latest release")
    audited: dict[str, str] = field(default_factory=dict)
    # package -> why it was not audited
    not_audited: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def run_pip_audit(requirements: Path, output: Path) -> dict:
    """pip-audit on exact pins, with its default service (PyPI's per-release JSON advisories)."""
    try:
        import pip_audit  # noqa: F401
    except ImportError:
        missing("pip-audit is not installed in the test venv (Tests/system/requirements.txt)")
    run = subprocess.run(
        [sys.executable, "-m", "pip_audit", "--requirement", str(requirements), "--no-deps", "--disable-pip",
         "--vulnerability-service", "pypi", "--format", "json", "--output", str(output), "--progress-spinner", "off",
         "--timeout", "30"],
        capture_output=True, text=True, timeout=900)
    # 0: nothing found, 1: vulnerabilities found; anything else is pip-audit failing.
    assert run.returncode in (0, 1) and output.is_file(), f"pip-audit failed ({run.returncode}): {run.stderr[-2000:]}"
    return json.loads(output.read_text())


def apply_pip_audit(audit: PythonAudit, report: dict) -> None:
    for dependency in report.get("dependencies", []):
        name = canonical(dependency["name"])
        if "skip_reason" in dependency:
            audit.not_audited[name] = dependency["skip_reason"]
            continue
        audit.audited[name] = "pip-audit"
        for vuln in dependency.get("vulns", []):
            audit.findings.append(Finding(name, dependency.get("version", audit.packages.get(name, "?")), vuln["id"],
                                          list(vuln.get("fix_versions", [])), list(vuln.get("aliases", []))))


def pypi_project(name: str) -> dict:
    with urllib.request.urlopen(PYPI_PROJECT_JSON.format(name=name), timeout=60) as answer:  # noqa: S310 (a fixed https URL)
        return json.load(answer)


def apply_latest_release_advisories(audit: PythonAudit, names: list[str], fetch=pypi_project) -> dict:
    """The nearest real thing when pip-audit's service does not answer: PyPI's project JSON, which
    carries PyPI's advisories (the data pip-audit reads) for the project's latest release only.
    A package pinned at its latest release is audited with them; any other is reported as not
    audited, with the latest version. Returns what PyPI answered, for the artifact."""
    answers = {}
    for name in names:
        version = audit.packages[name]
        try:
            project = fetch(name)
        except (urllib.error.URLError, OSError, ValueError) as error:
            audit.not_audited[name] = f"PyPI's project JSON did not answer: {error}"
            answers[name] = {"error": str(error)}
            continue
        latest = project.get("info", {}).get("version", "")
        files = project.get("releases", {}).get(version, [])
        yanked = [f.get("yanked_reason") or "no reason given" for f in files if f.get("yanked")]
        vulns = [v for v in project.get("vulnerabilities", []) if not v.get("withdrawn")]
        answers[name] = {"version": version, "latest": latest, "yanked": yanked, "vulnerabilities": vulns}
        if yanked:
            audit.notes.append(f"{name} {version} is yanked on PyPI: {yanked[0]}")
        if latest != version:
            audit.not_audited[name] = f"not its latest release ({latest}): PyPI publishes advisories per release only for the latest here"
            continue
        audit.not_audited.pop(name, None)
        audit.audited[name] = "PyPI latest release"
        for vuln in vulns:
            audit.findings.append(Finding(name, version, vuln.get("id", "?"), list(vuln.get("fixed_in") or []),
                                          list(vuln.get("aliases") or []), source="PyPI latest release"))
    return answers


def policy_failures(findings: list[Finding], pinned: frozenset[str] = PINNED_BY_FTA) -> list[Finding]:
    """The findings that fail the scan: a fixed release exists and fta pins the package."""
    return [f for f in findings if f.fix_versions and canonical(f.package) in pinned]


def summary_table(audit: PythonAudit, pinned: frozenset[str] = PINNED_BY_FTA) -> str:
    """One line per finding, then the counts: what a CI log shows."""
    lines = [f"{'package':<22} {'version':<14} {'advisory':<22} {'fixed in':<18} {'pinned by fta':<14} source"]
    for f in sorted(audit.findings, key=lambda f: (f.package, f.id)):
        lines.append(f"{f.package:<22} {f.version:<14} {f.id:<22} {','.join(f.fix_versions) or '-':<18} "
                     f"{'yes' if canonical(f.package) in pinned else 'no':<14} {f.source}")
    if not audit.findings:
        lines.append("(no known vulnerability in the audited packages)")
    for name, why in sorted(audit.not_audited.items()):
        lines.append(f"not audited: {name} {audit.packages.get(name, '?')}: {why}")
    by_source: dict[str, int] = {}
    for source in audit.audited.values():
        by_source[source] = by_source.get(source, 0) + 1
    lines.append(f"{len(audit.packages)} packages: " + ", ".join(f"{n} audited by {s}" for s, n in sorted(by_source.items()))
                 + f", {len(audit.not_audited)} not audited; {len(audit.findings)} findings, "
                 + f"{len(policy_failures(audit.findings, pinned))} failing the policy")
    lines.extend(audit.notes)
    return "\n".join(lines)


# -- Debian packages ---------------------------------------------------------------------------

DEBIAN_KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg"


class DebianArchive:
    """The host's apt, pointed at a private state directory whose package database is the image's:
    `apt list --upgradable` then answers for the image (which has no apt lists, no network and
    no root to run apt itself), against the Debian archive as it is today."""

    def __init__(self, workdir: Path, suite: str, arch: str = "amd64"):
        self.workdir = workdir
        self.arch = arch
        for sub in ("state/lists/partial", "cache/archives/partial", "etc/sources.list.d", "etc/preferences.d"):
            (workdir / sub).mkdir(parents=True, exist_ok=True)
        keyring = f"[signed-by={DEBIAN_KEYRING}]"
        (workdir / "etc/sources.list").write_text(
            f"deb {keyring} http://deb.debian.org/debian {suite} main\n"
            f"deb {keyring} http://deb.debian.org/debian-security {suite}-security main\n")

    def options(self, status: Path) -> list[str]:
        w = self.workdir
        settings = {
            "Dir::State": w / "state", "Dir::State::status": status, "Dir::Cache": w / "cache",
            "Dir::Etc::SourceList": w / "etc/sources.list", "Dir::Etc::SourceParts": w / "etc/sources.list.d",
            "Dir::Etc::Preferences": w / "etc/preferences", "Dir::Etc::PreferencesParts": w / "etc/preferences.d",
            "APT::Architecture": self.arch, "APT::Architectures": self.arch, "Debug::NoLocking": "1",
            # The lists are this test's own files; apt's download sandbox user could not write them.
            "APT::Sandbox::User": "root",
        }
        return [arg for key, value in settings.items() for arg in ("-o", f"{key}={value}")]

    def update(self, status: Path) -> None:
        run = subprocess.run(["apt-get", *self.options(status), "update"], capture_output=True, text=True, timeout=600)
        assert run.returncode == 0 and "Err:" not in run.stdout, f"apt-get update against deb.debian.org failed: {run.stdout[-1500:]}{run.stderr[-1500:]}"

    def upgradable(self, status: Path) -> list[dict]:
        """`apt list --upgradable` for the package database `status`: package, suites, versions."""
        run = subprocess.run(["apt", *self.options(status), "list", "--upgradable"], capture_output=True, text=True, timeout=300)
        assert run.returncode == 0, f"apt list --upgradable failed: {run.stderr[-1500:]}"
        pending = []
        for line in run.stdout.splitlines():
            # pkg/suite1,suite2 new-version arch [upgradable from: old-version]
            match = re.match(r"^(\S+)/(\S+) (\S+) (\S+) \[upgradable from: (\S+)\]$", line.strip())
            if match:
                package, suites, new, _, old = match.groups()
                pending.append({"package": package, "suites": suites.split(","), "version": new, "installed": old})
        return pending


def from_security(pending: list[dict]) -> list[dict]:
    """The pending upgrades that Debian's security suite publishes (bookworm-security, which apt
    may also name oldstable-security)."""
    return [p for p in pending if any(s.endswith("-security") for s in p["suites"])]


def lowered_versions(status: str) -> str:
    """`status` with every package's version set to the oldest possible: every package that the
    security suite carries then shows as pending from it (the check's own control)."""
    return re.sub(r"^Version: .*$", "Version: 0~", status, flags=re.MULTILINE)
