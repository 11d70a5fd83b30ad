# LabMismatchedName: valid Python, but the class is not named after the file. Freqtrade loads a
# strategy by class name from a file of the same name, so it cannot find `LabMismatchedName`
# here and says so ("Impossible to load Strategy ...").
from pandas import DataFrame

from freqtrade.strategy import IStrategy


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
