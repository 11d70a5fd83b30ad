"""The operator's check of the bots' firewall (`fta-firewall check`, shown by `sudo fta-admin
doctor` as bots.firewall): it fails when any one rule is gone, when another rule sees the bots'
packets first, when an fta network is outside the filtered bridges or when the configuration
asks for other rules than those in place, and it passes again after `apply`. A bad allow-list
changes nothing."""

from __future__ import annotations

import json
import os
import stat

import pytest

from fta_firewall_support import FIREWALL, FTA_ADMIN, IMDS, REPO, run

BOT = "chk-1"


@pytest.fixture(scope="module")
def applied(lab):
    """The rules in place, with an fta network and a bot on it."""
    lab.client_network("chk")
    lab.bot(BOT, "chk")
    lab.firewall("apply", check=True)


def rules(lab) -> list[tuple[str, str, str]]:
    """(tool, table, rule) for every rule `show` says apply puts in place."""
    tool, table, found = "iptables", "filter", []
    for line in lab.firewall("show", check=True).stdout.splitlines():
        if line.startswith("# "):
            tool, table = line[2:].split(" ")[0], line.split("(")[1].rstrip(")")
        elif line.startswith("-A "):
            found.append((tool, table, line))
    return found


def test_check_passes_once_applied_and_apply_again_changes_nothing(lab, applied):
    check = lab.firewall("check")
    assert check.returncode == 0, check.stdout
    assert "host closed" in check.stdout
    before = lab.iptables_save()
    assert lab.firewall("apply").returncode == 0
    assert lab.iptables_save() == before


def test_check_fails_when_any_one_rule_is_removed_and_passes_after_apply(lab, applied):
    listed = rules(lab)
    assert len(listed) >= 17, listed  # 2 jumps, 2 + 2 + 12 rules of the chains, IPv6's jump and rule
    unnoticed = []
    for tool, table, rule in listed:
        lab.host(tool, "-w", "-t", table, "-D", *rule[3:].split(" "))
        check = lab.firewall("check")
        if check.returncode != 1 or rule not in check.stdout:
            unnoticed.append(f"{tool} -t {table} {rule}: check exited {check.returncode}: {check.stdout}")
        lab.firewall("apply", check=True)
        assert lab.firewall("check").returncode == 0, f"apply did not put back {rule}"
    assert not unnoticed, "a removed rule went unnoticed:\n" + "\n".join(unnoticed)


def test_removing_the_metadata_rule_opens_it_to_a_bot_until_apply(lab, applied):
    """The rule the check looks for is the rule that stops the attack."""
    rule = "FTA-BOTS-EGRESS -d 169.254.0.0/16 -j REJECT --reject-with icmp-admin-prohibited"
    lab.host("iptables", "-w", "-D", *rule.split(" "))
    try:
        assert lab.connect(BOT, IMDS, 80)[0], "without its rule the metadata address should answer"
        assert lab.firewall("check").returncode == 1
    finally:
        lab.firewall("apply", check=True)
    assert not lab.connect(BOT, IMDS, 80)[0]


@pytest.mark.parametrize("chain, rule", [
    ("INPUT", "-i br-+ -j ACCEPT"),
    ("DOCKER-USER", "-j ACCEPT"),
    ("FORWARD", "-i br-+ -j ACCEPT"),
])
def test_check_fails_when_another_rule_sees_the_bots_packets_first(lab, applied, chain, rule):
    lab.host("iptables", "-w", "-I", chain, "1", *rule.split(" "))
    try:
        check = lab.firewall("check")
        assert check.returncode == 1, check.stdout
        assert chain in check.stdout and "before" in check.stdout, check.stdout
    finally:
        lab.host("iptables", "-w", "-D", chain, *rule.split(" "))
    assert lab.firewall("check").returncode == 0


def test_check_fails_for_an_fta_network_outside_the_filtered_bridges(lab, applied):
    """A bridge named otherwise (com.docker.network.bridge.name) escapes `br-+`: the check names it."""
    lab.docker("network", "create", "--label", "fta.managed=true", "-o", "com.docker.network.bridge.name=odd0", "fta-client-odd")
    try:
        check = lab.firewall("check")
        assert check.returncode == 1 and "network fta-client-odd (bridge odd0)" in check.stdout, check.stdout
    finally:
        lab.docker("network", "rm", "fta-client-odd")
    assert lab.firewall("check").returncode == 0


def test_check_fails_when_the_exchange_override_changes_until_apply(lab, applied):
    """A new FTA_EXCHANGE_OVERRIDE is a new destination to allow: the rules in place are stale."""
    original = lab.env_file.read_text()
    lab.env_file.write_text(original.replace("10.0.2.2:8765", "10.0.2.3:9000"))
    try:
        check = lab.firewall("check")
        assert check.returncode == 1 and "-d 10.0.2.3/32 -p tcp -m tcp --dport 9000 -j RETURN" in check.stdout, check.stdout
        lab.firewall("apply", check=True)
        assert lab.firewall("check").returncode == 0
        assert "10.0.2.2/32" not in lab.firewall("show").stdout
    finally:
        lab.env_file.write_text(original)
        lab.firewall("apply", check=True)


@pytest.mark.parametrize("allow, problem", [
    ("169.254.169.254", "metadata"),
    ("169.254.0.0/16:80", "metadata"),
    ("0.0.0.0/0", "metadata"),
    ("10.0.0.0/33", "prefix length"),
    ("10.1.2.3:70000", "port out of range"),
    ("10.1.2.300", "not an IPv4 address"),
    ("http://10.1.2.3", "not an IPv4 address"),
])
def test_a_bad_allow_list_is_refused_and_changes_nothing(lab, applied, allow, problem):
    before = lab.iptables_save()
    lab.write_conf(FTA_BOT_EGRESS_ALLOW=allow)
    try:
        result = lab.firewall("apply")
        assert result.returncode == 2 and problem in result.stderr, result.stdout + result.stderr
        assert lab.iptables_save() == before
        assert lab.firewall("check").returncode == 1
        valid = run("bash", FIREWALL, "validate", allow, check=False)
        assert valid.returncode == 2 and problem in valid.stderr
    finally:
        lab.write_conf()


def test_names_in_the_allow_list_are_resolved_when_applied(lab, applied):
    """exchange.test resolves (through the host's resolver) to a public address: nothing to open.
    A name that does not resolve opens nothing either, and says so."""
    lab.write_conf(FTA_BOT_EGRESS_ALLOW="exchange.test:443,nowhere.test:443")
    try:
        result = lab.firewall("apply")
        assert result.returncode == 0, result.stderr
        shown = lab.firewall("show").stdout
        assert "--dport 443" not in shown and "--dport 8001" not in shown
    finally:
        lab.write_conf()
        lab.firewall("apply", check=True)


def test_an_off_configuration_applies_nothing_and_check_says_why(lab, applied):
    lab.write_conf(FTA_FIREWALL="off", FTA_FIREWALL_OFF_REASON="the engine is shared")
    try:
        check = lab.firewall("check")
        assert check.returncode == 3 and "off: the engine is shared" in check.stdout
        assert "nothing applied" in lab.firewall("apply").stdout
    finally:
        lab.write_conf()


# --- fta-admin doctor: fta's own checks plus bots.firewall -------------------------------------

FTA_JSON = {"checks": [{"name": "portal.health", "status": "pass", "detail": "health is ok", "fix": ""}]}


def fta_admin(lab, tmp_path, *args: str) -> "subprocess.CompletedProcess":
    """scripts/install/fta-admin.sh with its two helpers replaced: fta-run by a stand-in that prints
    what `fta doctor` prints (one passing check), fta-firewall by the real one in the lab's host."""
    fta_run = tmp_path / "fta-run"
    fta_run.write_text("#!/bin/bash\n"
                       f"if [[ \" $* \" == *' --json '* ]]; then echo '{json.dumps(FTA_JSON)}'; "
                       "else echo '[PASS] portal.health: health is ok'; echo '1 passed, 0 warnings, 0 failed'; fi\n")
    firewall = tmp_path / "fta-firewall"
    firewall.write_text("#!/bin/bash\nexec " + " ".join(lab.in_host("bash", FIREWALL, "--config", lab.conf)) + ' "$@"\n')
    for path in (fta_run, firewall):
        path.chmod(path.stat().st_mode | stat.S_IXUSR)
    script = f'source "{FTA_ADMIN}"; FTA_RUN="{fta_run}"; FIREWALL="{firewall}"; main "$@"'
    return run("bash", "-c", script, "fta-admin", *args, check=False, cwd=REPO, env=dict(os.environ))


def test_fta_admin_doctor_passes_with_the_rules_in_place(lab, applied, tmp_path):
    result = fta_admin(lab, tmp_path, "doctor", "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    checks = {c["name"]: c for c in json.loads(result.stdout)["checks"]}
    assert checks["portal.health"]["status"] == "pass"
    assert checks["bots.firewall"]["status"] == "pass" and checks["bots.firewall"]["fix"] == ""
    text = fta_admin(lab, tmp_path, "doctor")
    assert text.returncode == 0 and "[PASS] bots.firewall: " in text.stdout and "2 passed, 0 warnings, 0 failed" in text.stdout


def test_fta_admin_doctor_fails_when_a_rule_is_removed_with_the_imds_advice(lab, applied, tmp_path):
    lab.host("iptables", "-w", "-D", "DOCKER-USER", "-i", "br-+", "-j", "FTA-BOTS-EGRESS")
    try:
        result = fta_admin(lab, tmp_path, "doctor", "--json")
        assert result.returncode == 1, result.stdout
        check = {c["name"]: c for c in json.loads(result.stdout)["checks"]}["bots.firewall"]
        assert check["status"] == "fail" and "-A DOCKER-USER -i br-+ -j FTA-BOTS-EGRESS" in check["detail"], check
        assert "fta-admin firewall apply" in check["fix"] and "hop limit of 1" in check["fix"] and "IMDSv2" in check["fix"]
        text = fta_admin(lab, tmp_path, "doctor")
        assert text.returncode == 1 and "[FAIL] bots.firewall: " in text.stdout
        assert "1 passed, 0 warnings, 1 failed" in text.stdout
        # `fta-admin firewall apply` is the fix.
        assert fta_admin(lab, tmp_path, "firewall", "apply").returncode == 0
        assert fta_admin(lab, tmp_path, "doctor", "--json").returncode == 0
    finally:
        lab.firewall("apply", check=True)
