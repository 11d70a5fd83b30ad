# HostileFork: a valid Freqtrade strategy whose import tries to start 1000 processes.
# NEVER RUN ON A HOST: only inside a lab job container (the system tests' business).
#
# Each child sleeps for 30 s and exits; the parent counts how many it could start, prints
#   FTA-HOSTILE fork started=<n>/1000 -> ALL STARTED | LIMITED <error>
# to stderr, then kills and reaps them (FTA-HOSTILE fork reaped=<n>) and lets the import finish,
# so a job with a process limit goes on to load the strategy.
import os
import signal
import sys
import time

from pandas import DataFrame

from freqtrade.strategy import IStrategy


WANTED = 1000


def attack() -> None:
    children: list[int] = []
    outcome = "ALL STARTED"
    for _ in range(WANTED):
        try:
            pid = os.fork()
        except OSError as err:
            outcome = f"LIMITED {err!r}"
            break
        if pid == 0:  # the child: never returns into the importing code
            try:
                time.sleep(30)
            finally:
                os._exit(0)
        children.append(pid)
    print(f"FTA-HOSTILE fork started={len(children)}/{WANTED} -> {outcome}", file=sys.stderr, flush=True)
    for pid in children:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    reaped = 0
    for pid in children:
        try:
            os.waitpid(pid, 0)
            reaped += 1
        except OSError:
            pass
    print(f"FTA-HOSTILE fork reaped={reaped}", file=sys.stderr, flush=True)


class HostileFork(IStrategy):
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
