# LabGoodStrategy: a well-formed custom strategy for fta's strategy lab tests.
# Pandas only (no TA-Lib): it must load in any Freqtrade image. It trades often on the market
# simulator's 1m and 5m candles, so a backtest over a day or two has trades to report, and it
# declares one hyperoptable parameter of each kind and protections, so validation has
# something to describe.
from pandas import DataFrame, Series

from freqtrade.strategy import (
    BooleanParameter,
    CategoricalParameter,
    DecimalParameter,
    IntParameter,
    IStrategy,
)


def rsi(close: Series, period: int) -> Series:
    """Relative Strength Index with Wilder's smoothing."""
    delta = close.diff()
    gain = delta.clip(lower=0.0).ewm(alpha=1.0 / period, adjust=False, min_periods=period).mean()
    loss = (-delta.clip(upper=0.0)).ewm(alpha=1.0 / period, adjust=False, min_periods=period).mean()
    return 100.0 - 100.0 / (1.0 + gain / loss)


class LabGoodStrategy(IStrategy):
    """Short-period RSI dips below a moving average, spot, long only."""

    INTERFACE_VERSION = 3
    can_short = False
    timeframe = "5m"

    minimal_roi = {"0": 0.02, "30": 0.01, "60": 0.0}
    stoploss = -0.04
    trailing_stop = False

    process_only_new_candles = True
    use_exit_signal = True
    startup_candle_count = 30

    buy_rsi = IntParameter(10, 45, default=40, space="buy")
    buy_dip = DecimalParameter(0.0, 0.02, default=0.0, decimals=3, space="buy")
    buy_ma = CategoricalParameter(["sma", "ema"], default="ema", space="buy")
    sell_rsi = IntParameter(50, 85, default=60, space="sell")
    sell_use_signal = BooleanParameter(default=True, space="sell")
    protection_cooldown = IntParameter(0, 10, default=1, space="protection")

    @property
    def protections(self):
        # A property, as Freqtrade's documentation suggests when protections use parameters:
        # the lab must be able to replace it as well as a plain list.
        return [
            {"method": "CooldownPeriod", "stop_duration_candles": self.protection_cooldown.value},
            {"method": "StoplossGuard", "lookback_period_candles": 24, "trade_limit": 4,
             "stop_duration_candles": 6, "only_per_pair": False},
        ]

    def populate_indicators(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        close = dataframe["close"]
        dataframe["rsi"] = rsi(close, 7)
        dataframe["sma"] = close.rolling(20).mean()
        dataframe["ema"] = close.ewm(span=20, adjust=False).mean()
        return dataframe

    def populate_entry_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        average = dataframe[self.buy_ma.value]
        dip = dataframe["close"] < average * (1 - self.buy_dip.value)
        oversold = dataframe["rsi"] < self.buy_rsi.value
        dataframe.loc[dip & oversold & (dataframe["volume"] > 0), ["enter_long", "enter_tag"]] = (1, "rsi_dip")
        return dataframe

    def populate_exit_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        if self.sell_use_signal.value:
            overbought = dataframe["rsi"] > self.sell_rsi.value
            dataframe.loc[overbought & (dataframe["volume"] > 0), ["exit_long", "exit_tag"]] = (1, "rsi_high")
        return dataframe
