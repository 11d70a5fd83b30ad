"""The firewall tests' lab (fta_firewall_support.Lab), one per test module: network namespaces,
a dockerd of their own and the hosts bots try to reach. It is removed after the module (not left
running through the rest of the system tests), and this machine's own firewall is checked to hold
none of fta's rules, before and after."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fta_firewall_support import Lab, normalised, require_root_and_tools, run  # noqa: E402


def machine_rules() -> list[str]:
    """This machine's own tables (not the lab's): only ever read."""
    return normalised(run("iptables-save").stdout) + normalised(run("ip6tables-save").stdout)


@pytest.fixture(scope="module")
def lab():
    require_root_and_tools()
    assert not [line for line in machine_rules() if "FTA-BOTS" in line], "this machine's firewall already holds fta's chains"
    lab = Lab()
    try:
        yield lab.start()
    finally:
        problems = lab.close()
        problems += [f"fta's rule on this machine (not the lab's host): {line}" for line in machine_rules() if "FTA-BOTS" in line]
        assert not problems, "\n".join(problems)
