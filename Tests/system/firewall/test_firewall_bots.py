"""Issue 15, class 1, "bots reach the host and the world": the attacks, from inside real bot
containers (fta's hardening, on an fta-client-<id> network), against the lab's hosts.

Without the rules every one of them gets through (the first test: the attempts are real). With
fta-firewall's rules: no port of the host, by any of its addresses; no private range; not the
metadata address; no IPv6 at all. The market simulator that FTA_EXCHANGE_OVERRIDE names, the
allow-listed port, DNS and public addresses stay reachable. A network made later is covered at
once, the rules hold across a dockerd restart, and nothing of the host's firewall but fta's own
chains changes."""

from __future__ import annotations

import pytest

from fta_firewall_support import (ALLOWED_PORT, CLOSED_PORT, GATEWAY_PORT, HOST_ADDRESSES, HOST_PORT, IMDS,
                                  PRIVATE, PRIVATE_ADDRESSES, PUBLIC, SIM_PORT, SIMULATOR)

BOT, V6 = "acme-1", "acme-v6"


def host_targets(lab) -> list[tuple[str, int]]:
    return [(lab.gateway, HOST_PORT), (lab.gateway, GATEWAY_PORT)] + [(a, HOST_PORT) for a in HOST_ADDRESSES]


def closed_targets(lab) -> list[tuple[str, str, int]]:
    """(role, address, port): what no bot may reach."""
    return ([("host", a, p) for a, p in host_targets(lab)] + [("imds", IMDS, 80)]
            + [("priv", a, CLOSED_PORT) for a in PRIVATE_ADDRESSES]
            + [("priv", a, ALLOWED_PORT) for a in PRIVATE_ADDRESSES if a != PRIVATE])


def open_targets() -> list[tuple[str, str, int]]:
    return [("xchg", SIMULATOR, SIM_PORT), ("priv", PRIVATE, ALLOWED_PORT), ("pub", PUBLIC, 80)]


def assert_unreachable(lab, bot: str, role: str, address: str, port: int) -> None:
    before = len(lab.seen(role)) if role in lab.logs else 0
    reached, answer = lab.connect(bot, address, port)
    assert not reached, f"fta-bot-{bot} reached {address}:{port} ({role}): {answer!r}"
    if role in lab.logs:
        assert len(lab.seen(role)) == before, f"a connection from fta-bot-{bot} arrived at {role} {address}:{port}"


def assert_reachable(lab, bot: str, address: str, port: int) -> None:
    reached, answer = lab.connect(bot, address, port)
    assert reached, f"fta-bot-{bot} could not reach {address}:{port}: {answer!r}"


def link_local_of_bridge(lab, gateway: str) -> str:
    """The host's IPv6 link-local address on the bridge whose IPv4 gateway is `gateway`."""
    for line in lab.host("ip", "-o", "addr", "show").stdout.splitlines():
        if f"inet {gateway}/" in line:
            device = line.split()[1]
            six = lab.host("ip", "-6", "-o", "addr", "show", "dev", device, "scope", "link").stdout.split()
            return six[3].split("/")[0]
    raise AssertionError(f"no bridge holds {gateway}")


@pytest.fixture(scope="module")
def bots(lab):
    """A client network and its bot; every attempt made once without the rules (control), then the
    rules applied (with the host's firewall saved before and after)."""
    lab.gateway = lab.client_network("acme")
    lab.start_host_listener()
    lab.bot(BOT, "acme")
    # Not fta's shape: a container that has IPv6 (Docker disables it on fta's IPv4-only networks).
    lab.bot(V6, "acme", "--sysctl", "net.ipv6.conf.all.disable_ipv6=0", "--sysctl", "net.ipv6.conf.eth0.disable_ipv6=0")
    link_local = link_local_of_bridge(lab, lab.gateway)
    # Its link-local address is usable once duplicate address detection is over.
    lab.wait_for(lambda: "tentative" not in (out := lab.exec(V6, "ip", "-6", "addr", "show", "dev", "eth0").stdout)
                 and "fe80:" in out, "the IPv6 container's link-local address")
    control = {(address, port): lab.connect(BOT, address, port) for _, address, port in closed_targets(lab) + open_targets()}
    control[("ipv6", HOST_PORT)] = lab.connect(V6, f"{link_local}%eth0", HOST_PORT)
    before = lab.iptables_save()
    assert lab.firewall("present").returncode != 0 and not [line for line in before if "FTA-BOTS" in line]
    lab.firewall("apply", check=True)
    after, after_without_fta = lab.iptables_save(), lab.iptables_save(without_fta=True)
    return {"control": control, "before": before, "after": after, "after_without_fta": after_without_fta,
            "link_local": link_local}


def test_without_the_rules_every_test_host_answers_a_bot(bots):
    """The attempts below are real: the same bot reaches every one of these hosts when fta's rules
    are not there (on an appliance without them: the host's sshd, the VPC, the metadata service)."""
    missed = [f"{address}:{port}: {answer!r}" for (address, port), (reached, answer) in bots["control"].items() if not reached]
    assert not missed, "without the rules these did not answer, so a refusal would prove nothing:\n" + "\n".join(missed)


def test_a_bot_cannot_reach_any_port_of_the_host(lab, bots):
    """Not through its network's gateway (a port bound there, and one bound on every address), and
    not through the host's other addresses (its links, its public and private addresses)."""
    for address, port in host_targets(lab):
        assert_unreachable(lab, BOT, "host", address, port)


def test_a_bot_cannot_reach_the_instance_metadata_service(lab, bots):
    before = len(lab.seen("imds"))
    assert_unreachable(lab, BOT, "imds", IMDS, 80)
    # What a credential thief asks for, the way an HTTP client asks it.
    got = lab.fetch(BOT, f"http://{IMDS}/latest/meta-data/iam/security-credentials/")
    assert got.returncode != 0 and "can't connect" in got.stderr, got.stdout + got.stderr
    assert len(lab.seen("imds")) == before


@pytest.mark.parametrize("address", PRIVATE_ADDRESSES)
def test_a_bot_cannot_reach_a_private_address(lab, bots, address):
    assert_unreachable(lab, BOT, "priv", address, CLOSED_PORT)


def test_the_allow_list_opens_exactly_its_address_and_port(lab, bots):
    """FTA_BOT_EGRESS_ALLOW=10.203.0.10:8001: that port of that address, nothing more."""
    assert_reachable(lab, BOT, PRIVATE, ALLOWED_PORT)
    assert_unreachable(lab, BOT, "priv", PRIVATE, CLOSED_PORT)
    for address in PRIVATE_ADDRESSES[1:]:
        assert_unreachable(lab, BOT, "priv", address, ALLOWED_PORT)


def test_the_simulator_named_by_the_exchange_override_stays_reachable(lab, bots):
    """FTA_EXCHANGE_OVERRIDE sends ccxt to http://10.0.2.2:8765 (a private address, as in the VM
    test): the bot gets the simulator's answers, as Freqtrade would."""
    got = lab.fetch(BOT, f"http://{SIMULATOR}:{SIM_PORT}/api/v3/time")
    assert got.returncode == 0 and '"serverTime"' in got.stdout, got.stdout + got.stderr
    # Only its port: the simulator's host is still private.
    assert_unreachable(lab, BOT, "xchg", SIMULATOR, 22)


def test_dns_and_public_addresses_stay_reachable(lab, bots):
    """Names resolve through Docker's embedded DNS, whose questions leave the bot's namespace for
    the host's resolver (a private address, port 53 only); a public address answers."""
    before = len(lab.seen("priv"))
    answer = lab.exec(BOT, "nslookup", "exchange.test")
    assert answer.returncode == 0 and PUBLIC in answer.stdout, answer.stdout + answer.stderr
    assert any(line.startswith("dns ") and "exchange.test" in line for line in lab.seen("priv")[before:])
    got = lab.fetch(BOT, "http://exchange.test/")
    assert got.returncode == 0 and got.stdout == "pub:80", got.stdout + got.stderr


def test_no_ipv6_packet_from_a_bot_bridge_reaches_the_host(lab, bots):
    """Docker gives fta's bots no IPv6; a container that has it anyway would reach every service
    of the host listening on [::] by the bridge's link-local address. Without the rules it did."""
    assert bots["control"][("ipv6", HOST_PORT)][0], "the IPv6 control attempt did not get through"
    assert_unreachable(lab, V6, "host", f"{bots['link_local']}%eth0", HOST_PORT)


def test_a_client_network_made_after_the_rules_is_covered_at_once(lab, bots):
    gateway = lab.client_network("later")
    lab.bot("later-1", "later")
    assert_unreachable(lab, "later-1", "host", gateway, HOST_PORT)
    assert_unreachable(lab, "later-1", "imds", IMDS, 80)
    assert_unreachable(lab, "later-1", "priv", PRIVATE, CLOSED_PORT)
    assert_reachable(lab, "later-1", SIMULATOR, SIM_PORT)
    assert lab.firewall("check").returncode == 0


def test_the_rules_hold_after_dockerd_restarts(lab, bots):
    """dockerd rewrites its own chains when it starts (FORWARD's order changes), and leaves
    DOCKER-USER's and INPUT's rules alone: with nothing applied again, every attempt fails as before."""
    lab.restart_dockerd()
    assert lab.docker("inspect", "-f", "{{.State.Running}}", f"fta-bot-{BOT}").stdout.strip() == "true"
    check = lab.firewall("check")
    assert check.returncode == 0, check.stdout + check.stderr
    for role, address, port in closed_targets(lab):
        assert_unreachable(lab, BOT, role, address, port)
    for _, address, port in open_targets():
        assert_reachable(lab, BOT, address, port)


def test_apply_changed_nothing_but_ftas_own_chains(bots):
    """The host's tables after apply are the tables before it, plus fta's chains and the jumps to
    them; nothing of Docker's rules or anything else moved or went."""
    assert bots["after_without_fta"] == bots["before"]
    added = [line for line in bots["after"] if "FTA-BOTS" in line]
    assert "-A INPUT -i br-+ -j FTA-BOTS-INPUT" in added and "-A DOCKER-USER -i br-+ -j FTA-BOTS-EGRESS" in added
    assert "-A PREROUTING -i br-+ -j FTA-BOTS-IPV6" in added


def test_remove_puts_the_host_back_as_it_was(lab, bots):
    saved = lab.iptables_save(without_fta=True)
    lab.firewall("remove", check=True)
    try:
        assert lab.iptables_save() == saved
        assert lab.firewall("present").returncode != 0
        assert_reachable(lab, BOT, IMDS, 80)
    finally:
        lab.firewall("apply", check=True)
    assert_unreachable(lab, BOT, "imds", IMDS, 80)
