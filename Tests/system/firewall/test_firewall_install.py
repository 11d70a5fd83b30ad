"""install.sh's part of the bots' firewall (scripts/install/lib/firewall.sh, in step 11, and in
--uninstall), run in the lab's host without systemd, the way install.sh runs it there: a dry run
changes nothing, the first run applies, a re-run says `unchanged`, a removed rule is put back, a
shared engine (--docker-host) gets no rules, and uninstall leaves the tables as they were. The
systemd unit is checked by systemd-analyze."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from fta_firewall_support import ALLOW, INSTALL_SH, REPO, run
from fta_system_support import missing


@pytest.fixture(scope="module")
def lab_without_rules(lab):
    """The lab with an fta network (the check looks at fta's networks)."""
    lab.client_network("inst")
    return lab


@pytest.fixture
def clean(lab_without_rules):
    """Each test starts with no rules (and its own tmp_path for the installed files)."""
    lab_without_rules.firewall("remove", check=True)


def installer(lab, tmp: Path, function: str, *, dry_run: bool = False, external: bool = False,
              env: dict | None = None) -> subprocess.CompletedProcess:
    """install.sh sourced in the lab's host, its firewall paths moved under tmp, then one step."""
    tmp.mkdir(exist_ok=True)
    (tmp / "lib").mkdir(exist_ok=True)
    step = "Removing installed files" if function == "uninstall_firewall" else "Starting the fta service"
    script = f'''
        source "{INSTALL_SH}"
        DRY_RUN={int(dry_run)} HAVE_SYSTEMD=0 EXTERNAL_DOCKER={int(external)} DOCKER_HOST="{lab.docker_host}"
        FIREWALL_CONF="{tmp}/firewall.conf" FIREWALL_BIN="{tmp}/lib/fta-firewall" FIREWALL_ENV_FILE="{lab.env_file}"
        INSTALL_LOG="{tmp}/install.log" TMP_DIR=$(mktemp -d) STEP_NO=10
        step "{step}"
        {function}
        step_done
        echo "RUN_CHANGES=$RUN_CHANGES"
        rm -rf "$TMP_DIR"'''
    full_env = {k: v for k, v in os.environ.items() if k != "FTA_BOT_EGRESS_ALLOW"}
    full_env.update(env or {})
    return lab.host("bash", "-c", script, check=False, env=full_env, cwd=REPO)


def changes(result: subprocess.CompletedProcess) -> int:
    return int(result.stdout.rsplit("RUN_CHANGES=", 1)[1].split()[0])


def conf_of(tmp: Path) -> dict:
    return dict(line.split("=", 1) for line in (tmp / "firewall.conf").read_text().splitlines() if "=" in line and not line.startswith("#"))


def test_a_dry_run_plans_the_firewall_and_changes_nothing(lab, clean, tmp_path):
    before = lab.iptables_save()
    result = installer(lab, tmp_path, "install_firewall", dry_run=True, env={"FTA_BOT_EGRESS_ALLOW": ALLOW})
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"would: create {tmp_path}/firewall.conf" in result.stdout
    assert f"would: create {tmp_path}/lib/fta-firewall" in result.stdout
    assert "would: apply the bots' firewall" in result.stdout
    assert lab.iptables_save() == before
    assert not (tmp_path / "firewall.conf").exists() and not (tmp_path / "lib" / "fta-firewall").exists()


def test_the_first_run_applies_a_rerun_says_unchanged_and_a_removed_rule_comes_back(lab, clean, tmp_path):
    first = installer(lab, tmp_path, "install_firewall", env={"FTA_BOT_EGRESS_ALLOW": ALLOW})
    assert first.returncode == 0, first.stdout + first.stderr
    assert "apply the bots' firewall" in first.stdout and "bots' firewall: bridges br-+" in first.stdout
    assert "WARNING" not in first.stdout + first.stderr
    conf = conf_of(tmp_path)
    assert conf["FTA_FIREWALL"] == "on" and conf["FTA_BOT_EGRESS_ALLOW"] == ALLOW and conf["FTA_BOT_BRIDGES"] == "br-+"
    for path, mode in ((tmp_path / "firewall.conf", 0o644), (tmp_path / "lib" / "fta-firewall", 0o755)):
        assert stat.S_IMODE(path.stat().st_mode) == mode and path.stat().st_uid == 0
    check = lab.host("bash", tmp_path / "lib" / "fta-firewall", "--config", tmp_path / "firewall.conf", "check", check=False)
    assert check.returncode == 0, check.stdout

    # Again, with nothing to do; the allow-list is the saved one when the environment names none.
    rules = lab.iptables_save()
    again = installer(lab, tmp_path, "install_firewall")
    assert again.returncode == 0 and changes(again) == 0 and "      unchanged" in again.stdout, again.stdout
    assert lab.iptables_save() == rules and conf_of(tmp_path)["FTA_BOT_EGRESS_ALLOW"] == ALLOW

    lab.host("iptables", "-w", "-D", "INPUT", "-i", "br-+", "-j", "FTA-BOTS-INPUT")
    repaired = installer(lab, tmp_path, "install_firewall")
    assert changes(repaired) == 1 and "apply the bots' firewall (1 problem(s)" in repaired.stdout, repaired.stdout
    assert lab.iptables_save() == rules


def test_a_bad_allow_list_stops_the_step_before_any_change(lab, clean, tmp_path):
    before = lab.iptables_save()
    result = installer(lab, tmp_path, "install_firewall", env={"FTA_BOT_EGRESS_ALLOW": "169.254.169.254:80"})
    assert result.returncode != 0 and "metadata" in result.stderr, result.stdout + result.stderr
    assert 'step [11/14] "Starting the fta service" failed: FTA_BOT_EGRESS_ALLOW' in result.stderr
    assert lab.iptables_save() == before and not (tmp_path / "firewall.conf").exists()
    quoted = installer(lab, tmp_path, "install_firewall", env={"FTA_BOT_EGRESS_ALLOW": "10.1.2.3;reboot"})
    assert quoted.returncode != 0 and "only addresses, ranges, names and ports" in quoted.stderr


def test_a_shared_engine_gets_no_rules_and_the_check_says_why(lab, clean, tmp_path):
    before = lab.iptables_save()
    result = installer(lab, tmp_path, "install_firewall", external=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "bots' firewall: off (the engine is shared: --docker-host)" in result.stdout
    assert conf_of(tmp_path)["FTA_FIREWALL"] == "off"
    assert lab.iptables_save() == before
    check = lab.host("bash", tmp_path / "lib" / "fta-firewall", "--config", tmp_path / "firewall.conf", "check", check=False)
    assert check.returncode == 3 and "is shared (--docker-host)" in check.stdout


def test_uninstall_removes_the_rules_and_nothing_else(lab, clean, tmp_path):
    before = lab.iptables_save()
    assert installer(lab, tmp_path, "install_firewall").returncode == 0
    assert lab.iptables_save() != before
    planned = installer(lab, tmp_path, "uninstall_firewall", dry_run=True)
    assert "would: remove the bots' firewall rules (chains FTA-BOTS-*)" in planned.stdout, planned.stdout
    assert lab.iptables_save() != before
    gone = installer(lab, tmp_path, "uninstall_firewall")
    assert gone.returncode == 0 and "remove the bots' firewall rules" in gone.stdout, gone.stdout + gone.stderr
    assert lab.iptables_save() == before
    again = installer(lab, tmp_path, "uninstall_firewall")
    assert changes(again) == 0


def test_the_systemd_unit_runs_after_docker_before_fta_and_again_with_either(lab, tmp_path):
    """fta-firewall.service: applied after Docker starts (Docker makes DOCKER-USER), before fta
    starts, and again whenever either is restarted (PartOf), so that `systemctl restart fta` after
    a new FTA_EXCHANGE_OVERRIDE lets it through, as the VM test does."""
    helper = tmp_path / "fta-firewall"
    shutil.copy(REPO / "scripts" / "install" / "fta-firewall.sh", helper)
    unit = run("bash", "-c", f'source "{INSTALL_SH}"; FIREWALL_BIN="{helper}"; firewall_unit').stdout
    lines = unit.splitlines()
    for expected in ("After=docker.service", "Before=fta.service", "PartOf=docker.service fta.service",
                     "Type=oneshot", "RemainAfterExit=yes", f"ExecStart={helper} --config /etc/fta/firewall.conf apply",
                     "WantedBy=multi-user.target docker.service fta.service"):
        assert expected in lines, f"{expected} not in:\n{unit}"
    # No ExecStop: stopping the unit (with Docker or fta) must never open the bots' way out.
    assert not [line for line in lines if line.startswith("ExecStop")]
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        missing("systemd-analyze is not installed (scripts/lib/deps.sh installs it)")
    path = tmp_path / "fta-firewall.service"
    path.write_text(unit)
    verify = run(analyze, "verify", path, check=False)
    problems = [line for line in (verify.stdout + verify.stderr).splitlines()
                if "fta-firewall.service" in line and "not found" not in line and "Unit " not in line]
    assert not problems, verify.stdout + verify.stderr
