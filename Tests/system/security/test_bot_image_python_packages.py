"""The bot image's Python packages against PyPI's advisories (issue 15, class 8; docs/security.md).

pip-audit audits the exact list of distributions installed in the image's Freqtrade venv; its
JSON report is kept as $FTA_TEST_ARTIFACTS/pip-audit.json and a summary table is printed. When
pip-audit's service does not answer (it reads PyPI's per-release JSON, which some networks do
not reach), the packages are audited with PyPI's advisories for each project's latest release
instead ($FTA_TEST_ARTIFACTS/pypi-latest-advisories.json), and what stays unaudited is listed.

Policy: a known vulnerability with a fixed release fails the test when it is in a package fta
pins itself (Freqtrade); every other finding is reported. A scan that could reach no advisory
data for a package fails: it must never pass by seeing nothing.
"""

from __future__ import annotations

import json

import fta_security_support as sec


def test_bot_image_python_packages_have_no_fixable_vulnerability_in_what_fta_pins():
    image = sec.bot_image()
    packages = sec.image_python_packages(image)
    pinned_version = sec.image_label(image, "fta.freqtrade-version")
    assert packages.get("freqtrade") == pinned_version, f"the image's venv holds freqtrade {packages.get('freqtrade')}, its label says {pinned_version}"
    assert len(packages) > 20, f"only {len(packages)} distributions found in the image's venv: {packages}"
    # What the build removes: Debian's ensurepip copies, with published advisories, never used by a bot.
    assert not {"pip", "setuptools"} & packages.keys(), "the image's venv still ships pip or setuptools"

    artifacts = sec.artifacts_dir()
    requirements = artifacts / "bot-image-requirements.txt"
    requirements.write_text("".join(f"{name}=={version}\n" for name, version in sorted(packages.items())))
    audit = sec.PythonAudit(packages)
    sec.apply_pip_audit(audit, sec.run_pip_audit(requirements, artifacts / "pip-audit.json"))
    if not audit.audited:
        audit.notes.append(f"pip-audit audited none of the {len(packages)} packages (its service answered: "
                           f"{next(iter(audit.not_audited.values()), '?')}); used PyPI's latest-release advisories instead")
        answers = sec.apply_latest_release_advisories(audit, sorted(packages))
        (artifacts / "pypi-latest-advisories.json").write_text(json.dumps(answers, indent=2, sort_keys=True))
    print("\n" + sec.summary_table(audit))

    silent = {name: why for name, why in audit.not_audited.items() if "did not answer" in why}
    assert not silent, f"no advisory data could be read for {sorted(silent)}: the scan would pass by seeing nothing"
    assert audit.audited, "not one package was audited"
    failing = sec.policy_failures(audit.findings)
    assert not failing, "known vulnerabilities with a fixed release in what fta pins (raise FTA_FREQTRADE_VERSION in " \
        "scripts/build-freqtrade-image.sh): " + "; ".join(f"{f.package} {f.version}: {f.id} fixed in {','.join(f.fix_versions)}" for f in failing)


def test_the_policy_fails_a_fixable_vulnerability_in_a_pinned_package_and_reports_the_rest():
    """The gate above, on planted pip-audit and PyPI answers: it must fire, and only where it should."""
    audit = sec.PythonAudit({"freqtrade": "2026.9", "requests": "2.0.0", "six": "1.0", "numpy": "2.0"})
    sec.apply_pip_audit(audit, {"dependencies": [
        {"name": "freqtrade", "version": "2026.9", "vulns": [{"id": "PYSEC-0000-1", "fix_versions": ["2026.10"], "aliases": []}]},
        {"name": "requests", "version": "2.0.0", "vulns": [{"id": "GHSA-xxxx", "fix_versions": ["2.32.0"], "aliases": []}]},
        {"name": "six", "skip_reason": "Dependency not found on PyPI and could not be audited: six (1.0)"},
    ]})
    failing = sec.policy_failures(audit.findings)
    assert [(f.package, f.id) for f in failing] == [("freqtrade", "PYSEC-0000-1")]
    assert audit.not_audited == {"six": "Dependency not found on PyPI and could not be audited: six (1.0)"}

    # A pinned package without a fixed release is reported, not failed: there is nothing to move to.
    unfixed = sec.PythonAudit({"freqtrade": "2026.9"})
    sec.apply_pip_audit(unfixed, {"dependencies": [{"name": "freqtrade", "version": "2026.9", "vulns": [{"id": "X", "fix_versions": []}]}]})
    assert unfixed.findings and not sec.policy_failures(unfixed.findings)

    # The fallback: advisories apply to a package at its latest release; an older pin is listed as
    # not audited; a project PyPI does not answer for is a failure of the scan, not a pass.
    answers = {
        "six": {"info": {"version": "1.0"}, "releases": {"1.0": [{"yanked": True, "yanked_reason": "CVE-0000-1"}]},
                "vulnerabilities": [{"id": "PYSEC-1", "fixed_in": ["1.1"], "withdrawn": None}]},
        "numpy": {"info": {"version": "2.4"}, "releases": {}, "vulnerabilities": []},
    }

    def fetch(name):
        if name not in answers:
            raise OSError("connection refused")
        return answers[name]

    fallback = sec.PythonAudit({"six": "1.0", "numpy": "2.0", "freqtrade": "2026.9"})
    sec.apply_latest_release_advisories(fallback, ["six", "numpy", "freqtrade"], fetch=fetch)
    assert fallback.audited == {"six": "PyPI latest release"}
    assert [(f.package, f.id, f.fix_versions) for f in fallback.findings] == [("six", "PYSEC-1", ["1.1"])]
    assert "latest release (2.4)" in fallback.not_audited["numpy"]
    assert "did not answer" in fallback.not_audited["freqtrade"]
    assert any("yanked" in note for note in fallback.notes)
    assert "1 failing the policy" in sec.summary_table(audit)
