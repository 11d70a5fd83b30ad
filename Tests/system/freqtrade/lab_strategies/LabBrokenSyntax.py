# LabBrokenSyntax: a custom strategy with a syntax error (the `def` line lacks its colon), for
# the lab's validation tests: Freqtrade's own SyntaxError text must reach the client.
from pandas import DataFrame

from freqtrade.strategy import IStrategy


class LabBrokenSyntax(IStrategy):
    INTERFACE_VERSION = 3
    timeframe = "5m"
    minimal_roi = {"0": 0.01}
    stoploss = -0.1

    def populate_indicators(self, dataframe: DataFrame, metadata: dict) -> DataFrame
        return dataframe

    def populate_entry_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        return dataframe

    def populate_exit_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        return dataframe
