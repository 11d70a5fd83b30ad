# HostileDisk: a valid Freqtrade strategy whose import tries to write 1 GiB into each writable
# place it can think of. NEVER RUN ON A HOST: only inside a lab job container.
#
# For each directory it writes fta-hostile.bin in 4 MiB blocks up to 1 GiB, then deletes it (so
# the job can go on), and prints to stderr:
#   FTA-HOSTILE disk <dir> wrote=<n>MiB -> WROTE 1024MiB | STOPPED <error>
# The market data volume is read-only in a backtest, the root file system is read-only, and /tmp
# is a small tmpfs: a sandbox that holds stops every write early.
import os
import sys

from pandas import DataFrame

from freqtrade.strategy import IStrategy


DIRECTORIES = ("/freqtrade/user_data", "/freqtrade/user_data/data", "/tmp")
BLOCK_MIB = 4
WANTED_MIB = 1024


def fill(directory: str) -> None:
    path = os.path.join(directory, "fta-hostile.bin")
    written = 0
    outcome = f"WROTE {WANTED_MIB}MiB"
    block = b"\x5a" * (BLOCK_MIB << 20)
    try:
        with open(path, "wb") as f:
            while written < WANTED_MIB:
                f.write(block)
                f.flush()
                written += BLOCK_MIB
    except OSError as err:
        outcome = f"STOPPED {err!r}"
    finally:
        try:
            os.remove(path)
        except OSError:
            pass
    print(f"FTA-HOSTILE disk {directory} wrote={written}MiB -> {outcome}", file=sys.stderr, flush=True)


def attack() -> None:
    for directory in DIRECTORIES:
        fill(directory)


class HostileDisk(IStrategy):
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
