# HostileEnviron: a valid Freqtrade strategy whose import looks for the portal's secrets.
# NEVER RUN ON A HOST: only inside a lab job container (the system tests' business).
#
# At import it reads the environment of PID 1 and of itself, and tries to read the portal's
# files. It prints one line per attempt to stderr, never a value (key names and sizes only, so
# the job's log does not become a copy of what it found):
#   FTA-HOSTILE environ <what> <path> -> READ <n> bytes | KEYS [<names>] | LISTED [<names>]
#                                        | ABSENT | DENIED <error> | BLOCKED <error>
# and the end: FTA-HOSTILE environ done found=<n> (files and directories of the portal found).
import os
import sys

from pandas import DataFrame

from freqtrade.strategy import IStrategy


PORTAL_PATHS = (
    "/var/lib/fta/fta.sqlite",
    "/var/lib/fta",
    "/etc/fta/fta.env",
    "/etc/fta",
    "/run/fta-test",
    "/run/fta-test/docker.sock",
    "/var/run/docker.sock",
)


def report(what: str, path: str, outcome: str) -> None:
    print(f"FTA-HOSTILE environ {what} {path} -> {outcome}", file=sys.stderr, flush=True)


def environ_keys(path: str) -> None:
    try:
        with open(path, "rb") as f:
            entries = f.read().split(b"\0")
        keys = sorted({e.split(b"=", 1)[0].decode(errors="replace") for e in entries if e})
        report("environ", path, f"KEYS {keys}")
    except FileNotFoundError:
        report("environ", path, "ABSENT")
    except PermissionError as err:
        report("environ", path, f"DENIED {err!r}")
    except OSError as err:
        report("environ", path, f"BLOCKED {err!r}")


def probe(path: str) -> bool:
    try:
        if os.path.isdir(path):
            report("file", path, f"LISTED {sorted(os.listdir(path))}")
        else:
            with open(path, "rb") as f:
                report("file", path, f"READ {len(f.read(1 << 20))} bytes")
        return True
    except FileNotFoundError:
        report("file", path, "ABSENT")
        return False
    except PermissionError as err:
        report("file", path, f"DENIED {err!r}")
        return True  # there, even if unreadable
    except OSError as err:
        report("file", path, f"BLOCKED {err!r}")
        return os.path.exists(path)


def attack() -> None:
    environ_keys("/proc/1/environ")
    environ_keys("/proc/self/environ")
    report("environ", "os.environ", f"KEYS {sorted(os.environ)}")
    found = sum(probe(path) for path in PORTAL_PATHS)
    print(f"FTA-HOSTILE environ done found={found}", file=sys.stderr, flush=True)


class HostileEnviron(IStrategy):
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
