import Foundation

/// A strategy fta ships; clients choose among these, never upload code.
///
/// Each case carries its whole Freqtrade strategy file. The portal writes it into the bot's tmpfs
/// at every start, so the code a bot runs is always the code of the running fta release.
/// The sources are pandas-only (no TA-Lib, no `technical`): they run on any Freqtrade image,
/// including one built without the C TA library. All are spot, long only, `INTERFACE_VERSION = 3`.
/// The rendered config sets `timeframe`, which overrides the strategy's own; each strategy is
/// written to make sense on any timeframe fta offers. Tests in Tests/system/freqtrade load every
/// source into real Freqtrade (and read them from this file: keep one `static let ...Source`
/// raw literal per case).
public enum ShippedStrategy: String, CaseIterable, Sendable, Codable {
    case emaCross = "FtaEmaCross", rsi = "FtaRsi", bollinger = "FtaBollinger", quickTest = "FtaQuickTest"

    /// The Python class name, also the strategy file's name (`<className>.py`).
    public var className: String { rawValue }

    public var displayName: String {
        switch self {
        case .emaCross: "EMA crossover"
        case .rsi: "RSI mean reversion"
        case .bollinger: "Bollinger bands rebound"
        case .quickTest: "Quick test (operator only)"
        }
    }

    /// One sentence for the UI.
    public var summary: String {
        switch self {
        case .emaCross:
            "Buys when the 9-candle EMA crosses above the 21-candle EMA in an uptrend (price above the 50-candle EMA) and sells when it crosses back below."
        case .rsi:
            "Buys when the 14-candle RSI climbs back above 30 after an oversold dip and sells once it passes 70."
        case .bollinger:
            "Buys when the price closes back inside the lower Bollinger band (20 candles, 2 deviations) and sells when it reaches the middle band."
        case .quickTest:
            "Test only: buys on every candle and sells three candles later, so a dry-run bot trades within a minute."
        }
    }

    /// Hidden from users unless the operator enables test strategies.
    public var isTestOnly: Bool { self == .quickTest }

    /// The whole `.py` file.
    public var pythonSource: String {
        switch self {
        case .emaCross: Self.emaCrossSource
        case .rsi: Self.rsiSource
        case .bollinger: Self.bollingerSource
        case .quickTest: Self.quickTestSource
        }
    }

    // MARK: - Sources

    private static let emaCrossSource = #"""
        # FtaEmaCross: a strategy shipped by fta (dry-run only). Generated; do not edit in a bot.
        from pandas import DataFrame

        from freqtrade.strategy import IStrategy


        class FtaEmaCross(IStrategy):
            """EMA crossover, trend following, spot, long only.

            Enters when the fast EMA crosses above the slow EMA while the close is above a longer
            trend EMA; exits when the fast EMA crosses back below the slow one, on ROI or on the
            stoploss.
            """

            INTERFACE_VERSION = 3
            can_short = False
            timeframe = "5m"

            # Minutes held -> minimum profit to take.
            minimal_roi = {"0": 0.06, "60": 0.03, "180": 0.015, "360": 0.0}
            stoploss = -0.06
            trailing_stop = False

            process_only_new_candles = True
            use_exit_signal = True
            exit_profit_only = False
            ignore_roi_if_entry_signal = False

            fast_period = 9
            slow_period = 21
            trend_period = 50
            # An EMA depends on every earlier candle: three trend periods let it settle before
            # the first signal counts.
            startup_candle_count = 150

            # What the portal's candle chart draws over the candles (Freqtrade's /plot_config).
            plot_config = {
                "main_plot": {"ema_fast": {"color": "#2f80ed"}, "ema_slow": {"color": "#f2994a"}, "ema_trend": {"color": "#828282"}},
            }

            def populate_indicators(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
                close = dataframe["close"]
                dataframe["ema_fast"] = close.ewm(span=self.fast_period, adjust=False).mean()
                dataframe["ema_slow"] = close.ewm(span=self.slow_period, adjust=False).mean()
                dataframe["ema_trend"] = close.ewm(span=self.trend_period, adjust=False).mean()
                return dataframe

            def populate_entry_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
                fast, slow = dataframe["ema_fast"], dataframe["ema_slow"]
                crossed_up = (fast > slow) & (fast.shift(1) <= slow.shift(1))
                uptrend = dataframe["close"] > dataframe["ema_trend"]
                dataframe.loc[crossed_up & uptrend & (dataframe["volume"] > 0), ["enter_long", "enter_tag"]] = (
                    1,
                    "ema_cross_up",
                )
                return dataframe

            def populate_exit_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
                fast, slow = dataframe["ema_fast"], dataframe["ema_slow"]
                crossed_down = (fast < slow) & (fast.shift(1) >= slow.shift(1))
                dataframe.loc[crossed_down & (dataframe["volume"] > 0), ["exit_long", "exit_tag"]] = (
                    1,
                    "ema_cross_down",
                )
                return dataframe
        """#

    private static let rsiSource = #"""
        # FtaRsi: a strategy shipped by fta (dry-run only). Generated; do not edit in a bot.
        from pandas import DataFrame, Series

        from freqtrade.strategy import IStrategy


        def wilder_rsi(close: Series, period: int) -> Series:
            """Relative Strength Index with Wilder's smoothing (as TA-Lib computes it)."""
            delta = close.diff()
            gain = delta.clip(lower=0.0)
            loss = -delta.clip(upper=0.0)
            avg_gain = gain.ewm(alpha=1.0 / period, adjust=False, min_periods=period).mean()
            avg_loss = loss.ewm(alpha=1.0 / period, adjust=False, min_periods=period).mean()
            return 100.0 - 100.0 / (1.0 + avg_gain / avg_loss)


        class FtaRsi(IStrategy):
            """RSI mean reversion, spot, long only.

            Enters when the RSI climbs back above the oversold level (a dip that is ending);
            exits once it passes the overbought level, on ROI or on the stoploss.
            """

            INTERFACE_VERSION = 3
            can_short = False
            timeframe = "5m"

            # Minutes held -> minimum profit to take.
            minimal_roi = {"0": 0.05, "90": 0.025, "240": 0.01, "480": 0.0}
            stoploss = -0.08
            trailing_stop = False

            process_only_new_candles = True
            use_exit_signal = True
            exit_profit_only = False
            ignore_roi_if_entry_signal = False

            rsi_period = 14
            oversold = 30.0
            overbought = 70.0
            # Wilder's smoothing is an EMA with alpha 1/14: about 100 candles make its start-up
            # error negligible.
            startup_candle_count = 100

            # What the portal's candle chart draws over the candles (Freqtrade's /plot_config).
            plot_config = {"main_plot": {}, "subplots": {"RSI": {"rsi": {"color": "#9b51e0"}}}}

            def populate_indicators(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
                dataframe["rsi"] = wilder_rsi(dataframe["close"], self.rsi_period)
                return dataframe

            def populate_entry_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
                rsi = dataframe["rsi"]
                leaving_oversold = (rsi > self.oversold) & (rsi.shift(1) <= self.oversold)
                dataframe.loc[leaving_oversold & (dataframe["volume"] > 0), ["enter_long", "enter_tag"]] = (
                    1,
                    "rsi_oversold_exit",
                )
                return dataframe

            def populate_exit_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
                overbought = dataframe["rsi"] > self.overbought
                dataframe.loc[overbought & (dataframe["volume"] > 0), ["exit_long", "exit_tag"]] = (
                    1,
                    "rsi_overbought",
                )
                return dataframe
        """#

    private static let bollingerSource = #"""
        # FtaBollinger: a strategy shipped by fta (dry-run only). Generated; do not edit in a bot.
        from pandas import DataFrame

        from freqtrade.strategy import IStrategy


        class FtaBollinger(IStrategy):
            """Bollinger bands rebound, spot, long only.

            Enters when a close comes back inside the lower band after closing below it; exits
            when the close reaches the middle band (the moving average), on ROI or on the
            stoploss.
            """

            INTERFACE_VERSION = 3
            can_short = False
            timeframe = "5m"

            # Minutes held -> minimum profit to take.
            minimal_roi = {"0": 0.04, "60": 0.02, "120": 0.01, "240": 0.0}
            stoploss = -0.05
            trailing_stop = False

            process_only_new_candles = True
            use_exit_signal = True
            exit_profit_only = False
            ignore_roi_if_entry_signal = False

            window = 20
            deviations = 2.0
            # A rolling window is exact once it is full; a few more candles give the first
            # crossing a previous candle to compare with.
            startup_candle_count = 30

            # What the portal's candle chart draws over the candles (Freqtrade's /plot_config).
            plot_config = {
                "main_plot": {"bb_upper": {"color": "#828282"}, "bb_middle": {"color": "#2f80ed"}, "bb_lower": {"color": "#828282"}},
            }

            def populate_indicators(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
                close = dataframe["close"]
                middle = close.rolling(self.window).mean()
                spread = close.rolling(self.window).std(ddof=0) * self.deviations
                dataframe["bb_middle"] = middle
                dataframe["bb_lower"] = middle - spread
                dataframe["bb_upper"] = middle + spread
                return dataframe

            def populate_entry_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
                close, lower = dataframe["close"], dataframe["bb_lower"]
                back_inside = (close > lower) & (close.shift(1) < lower.shift(1))
                dataframe.loc[back_inside & (dataframe["volume"] > 0), ["enter_long", "enter_tag"]] = (
                    1,
                    "bb_lower_rebound",
                )
                return dataframe

            def populate_exit_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
                at_middle = dataframe["close"] >= dataframe["bb_middle"]
                dataframe.loc[at_middle & (dataframe["volume"] > 0), ["exit_long", "exit_tag"]] = (
                    1,
                    "bb_middle_reached",
                )
                return dataframe
        """#

    private static let quickTestSource = #"""
        # FtaQuickTest: a test strategy shipped by fta (dry-run only). Generated; do not edit in a bot.
        from datetime import datetime, timedelta

        from pandas import DataFrame

        from freqtrade.exchange import timeframe_to_minutes
        from freqtrade.persistence import Trade
        from freqtrade.strategy import IStrategy


        class FtaQuickTest(IStrategy):
            """Test only, not a trading strategy: proves that a bot trades end to end.

            Signals entry on every candle, so the first analysis of a fresh bot opens a trade
            (within about a minute of start-up on a live or simulated market), and exits each
            trade after `hold_candles` candles; the next candle enters again.
            """

            INTERFACE_VERSION = 3
            can_short = False
            timeframe = "1m"

            # ROI and stoploss far away: trades end on the hold time, whatever the market does.
            minimal_roi = {"0": 10.0}
            stoploss = -0.5
            trailing_stop = False

            process_only_new_candles = True
            use_exit_signal = True
            exit_profit_only = False
            ignore_roi_if_entry_signal = False

            hold_candles = 3
            startup_candle_count = 1

            # What the portal's candle chart draws over the candles (Freqtrade's /plot_config).
            plot_config = {"main_plot": {"sma_3": {"color": "#2f80ed"}}}

            def populate_indicators(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
                # One indicator, for the chart only (no signal uses it): the tests see the chart
                # draw a strategy's line within a minute of start-up.
                dataframe["sma_3"] = dataframe["close"].rolling(3, min_periods=1).mean()
                return dataframe

            def populate_entry_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
                dataframe.loc[dataframe["volume"] > 0, ["enter_long", "enter_tag"]] = (1, "quick_test")
                return dataframe

            def populate_exit_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
                dataframe["exit_long"] = 0
                return dataframe

            def custom_exit(
                self,
                pair: str,
                trade: Trade,
                current_time: datetime,
                current_rate: float,
                current_profit: float,
                **kwargs,
            ) -> str | None:
                held = current_time - trade.open_date_utc
                if held >= timedelta(minutes=timeframe_to_minutes(self.timeframe) * self.hold_candles):
                    return "quick_test_hold_time"
                return None
        """#
}
