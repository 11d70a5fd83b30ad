# LabNotAStrategy: has a class of the file's name, so the portal's upload check (a top-level
# `class LabNotAStrategy(` line) lets it through, but that class is not a Freqtrade strategy (it
# does not derive from IStrategy); the strategy in the file has another name. Freqtrade loads a
# strategy by class name, finds no IStrategy of that name and says so in its own words
# ("Impossible to load Strategy ..."): the lab's validation must pass that on.
from pandas import DataFrame

from freqtrade.strategy import IStrategy


class LabNotAStrategy(object):
    timeframe = "5m"


class SomethingElse(IStrategy):
    INTERFACE_VERSION = 3
    timeframe = "5m"
    minimal_roi = {"0": 0.01}
    stoploss = -0.1

    def populate_indicators(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        return dataframe

    def populate_entry_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        return dataframe

    def populate_exit_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        return dataframe
