# HostileMemory: a valid Freqtrade strategy whose import allocates 2 GiB and touches every page.
# NEVER RUN ON A HOST: only inside a lab job container (the system tests' business).
#
# It allocates in 64 MiB blocks filled with a non-zero byte (so every page is really used, not
# just reserved) and prints its progress to stderr every 256 MiB:
#   FTA-HOSTILE memory allocated=<n>MiB
# then, if it is still alive: FTA-HOSTILE memory -> ALLOCATED 2048MiB | REFUSED at <n>MiB <error>.
# In a job with a memory limit the kernel kills it first (the container is OOM-killed), so the
# last progress line says how far it got.
import sys

from pandas import DataFrame

from freqtrade.strategy import IStrategy


BLOCK_MIB = 64
WANTED_MIB = 2048


def attack() -> None:
    blocks = []
    try:
        while len(blocks) * BLOCK_MIB < WANTED_MIB:
            blocks.append(bytearray(b"\xa5") * (BLOCK_MIB << 20))
            if len(blocks) * BLOCK_MIB % 256 == 0:
                print(f"FTA-HOSTILE memory allocated={len(blocks) * BLOCK_MIB}MiB", file=sys.stderr, flush=True)
        outcome = f"ALLOCATED {WANTED_MIB}MiB"
    except MemoryError as err:
        outcome = f"REFUSED at {len(blocks) * BLOCK_MIB}MiB {err!r}"
    blocks.clear()
    print(f"FTA-HOSTILE memory -> {outcome}", file=sys.stderr, flush=True)


class HostileMemory(IStrategy):
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
