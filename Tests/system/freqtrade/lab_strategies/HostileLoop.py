# HostileLoop: a valid Freqtrade strategy whose import never returns (a busy loop).
# NEVER RUN ON A HOST: only inside a lab job container (the system tests' business).
#
# It prints `FTA-HOSTILE loop -> STARTED` to stderr and spins forever: the job's time limit is
# what ends it, and it must cost that limit and no more.
import sys

from pandas import DataFrame

from freqtrade.strategy import IStrategy


class HostileLoop(IStrategy):
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


print("FTA-HOSTILE loop -> STARTED", file=sys.stderr, flush=True)
while True:
    pass
