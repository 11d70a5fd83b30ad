# HostileSockets: a valid Freqtrade strategy whose import tries to reach what a lab job must not.
# NEVER RUN ON A HOST: only inside a lab job container (the system tests' business).
#
# At import it tries, each with a short timeout:
#   - TCP connects to every host:port in the env FTA_HOSTILE_TARGETS (a comma list), or in
#     TARGETS below when the env is empty (a test may substitute that line in the source, as
#     fta passes a strategy's environment itself);
#   - TCP connects to the default gateway (from /proc/net/route) on a few well-known ports;
#   - the Docker sockets, over unix sockets;
#   - a DNS lookup of a public name.
# Each attempt prints one line to stderr:
#   FTA-HOSTILE sockets <what> <target> -> CONNECTED | RESOLVED <ips> | BLOCKED <error>
# and the end: FTA-HOSTILE sockets done reached=<n>. A sandbox that holds has reached=0 (except
# for targets a test expects to reach, such as the exchange).
import os
import socket
import struct
import sys

from pandas import DataFrame

from freqtrade.strategy import IStrategy


TARGETS = ""
GATEWAY_PORTS = (22, 53, 80, 443, 2375, 2376, 8080)
UNIX_SOCKETS = ("/var/run/docker.sock", "/run/docker.sock", "/run/fta-test/docker.sock")


def report(what: str, target: str, outcome: str) -> None:
    print(f"FTA-HOSTILE sockets {what} {target} -> {outcome}", file=sys.stderr, flush=True)


def default_gateway() -> str | None:
    try:
        with open("/proc/net/route") as routes:
            for line in routes.readlines()[1:]:
                fields = line.split()
                if fields[1] == "00000000":
                    return socket.inet_ntoa(struct.pack("<L", int(fields[2], 16)))
    except OSError:
        pass
    return None


def attempt(what: str, target: str, family: int, address) -> bool:
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.settimeout(1.5)
    try:
        sock.connect(address)
        report(what, target, "CONNECTED")
        return True
    except OSError as err:
        report(what, target, f"BLOCKED {err!r}")
        return False
    finally:
        sock.close()


def attack() -> None:
    reached = 0
    for item in filter(None, (os.environ.get("FTA_HOSTILE_TARGETS") or TARGETS).split(",")):
        host, _, port = item.strip().rpartition(":")
        reached += attempt("tcp", item.strip(), socket.AF_INET, (host, int(port)))
    gateway = default_gateway()
    if gateway is None:
        report("gateway", "-", "BLOCKED no default route")
    for port in GATEWAY_PORTS if gateway else ():
        reached += attempt("gateway", f"{gateway}:{port}", socket.AF_INET, (gateway, port))
    for path in UNIX_SOCKETS:
        reached += attempt("unix", path, socket.AF_UNIX, path)
    try:
        ips = sorted({info[4][0] for info in socket.getaddrinfo("example.com", 443)})
        report("dns", "example.com", f"RESOLVED {ips}")
        reached += 1
    except OSError as err:
        report("dns", "example.com", f"BLOCKED {err!r}")
    print(f"FTA-HOSTILE sockets done reached={reached}", file=sys.stderr, flush=True)


class HostileSockets(IStrategy):
    INTERFACE_VERSION = 3
    timeframe = "5m"
    minimal_roi = {"0": 0.01}
    stoploss = -0.1

    def populate_indicators(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        return dataframe

    def populate_entry_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        dataframe["enter_long"] = 0
        return dataframe

    def populate_exit_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        dataframe["exit_long"] = 0
        return dataframe


attack()
