# HostileStall: a valid Freqtrade strategy that passes validation, then never finishes its import
# where it has a network: the evasion a loop at import would try once it learnt that validation
# runs it first. NEVER RUN ON A HOST: only inside a lab job or bot container.
#
# Validation runs with no network at all (its /proc/net/route has no default route): there the
# import returns at once. In a bot, or a backtest, it prints `FTA-HOSTILE stall -> STARTED` to
# stderr and spins forever, before Freqtrade ever starts its API: nothing ends it but its
# container. What must hold: it costs its CPU share and no more, and the portal shows the bot as
# stuck (its health check fails) instead of running.
import sys

from pandas import DataFrame

from freqtrade.strategy import IStrategy


def has_default_route() -> bool:
    try:
        with open("/proc/net/route") as routes:
            return any(line.split()[1] == "00000000" for line in routes.readlines()[1:])
    except OSError:
        return False


class HostileStall(IStrategy):
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


if has_default_route():
    print("FTA-HOSTILE stall -> STARTED", file=sys.stderr, flush=True)
    while True:
        pass
