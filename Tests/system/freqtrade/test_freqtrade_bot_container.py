"""A real Freqtrade bot, run the way fta runs one, opens a dry-run trade on the simulated market.

The container gets fta's hardened spec (read-only root, noexec tmpfs at /tmp, no capabilities,
no-new-privileges, uid 1000, init, pids/memory/CPU limits, one volume at /freqtrade/user_data),
`/bin/sh -c` as entrypoint, and its config and strategy through the environment only. Its network
is an internal bridge: the simulator listens on the bridge's gateway address, and nothing else,
the internet included, is reachable from the bot.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from pathlib import Path

import fta_freqtrade_support as support
import pytest
import shipped_strategies
from fta_freqtrade_support import docker

# Start-up (imports, markets, first candles) takes 5-10 s on an idle 2-core machine; the bound
# leaves room for a loaded CI machine without letting a stuck bot pass unnoticed.
FIRST_TRADE_TIMEOUT = 180
PAIRS = ["BTC/USDT", "ETH/USDT"]


@pytest.fixture
def bot_network(docker_engine):
    name = f"fta-test-ft-{secrets.token_hex(3)}"
    docker("network", "create", "--internal", "--label", "fta.test=freqtrade",
           "-o", "com.docker.network.bridge.enable_icc=false", name)
    yield name
    docker("network", "rm", name, check=False)


@pytest.fixture
def bot_volume(docker_engine):
    name = f"fta-test-ft-{secrets.token_hex(3)}"
    docker("volume", "create", "--label", "fta.test=freqtrade", name)
    yield name
    docker("volume", "rm", "-f", name, check=False)


def save_artifact(name: str, text: str) -> None:
    folder = os.environ.get("FTA_TEST_ARTIFACTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        (Path(folder) / name).write_text(text)


def test_hardened_freqtrade_container_opens_a_dry_run_trade(freqtrade_image, bot_network, bot_volume):
    gateway = docker("network", "inspect", "-f", "{{(index .IPAM.Config 0).Gateway}}", bot_network).stdout.strip()
    assert gateway, f"network {bot_network} has no gateway address"
    sim = support.MarketSim(host=gateway)
    credentials = support.api_credentials()
    config = support.bot_config(exchange=support.sim_exchange_block(sim.url, PAIRS), strategy="FtaQuickTest",
                                timeframe="1m", credentials=credentials)
    strategy_source = shipped_strategies.sources()["FtaQuickTest"]
    container = bot_network.replace("fta-test-ft-", "fta-test-ft-bot-")
    started = time.monotonic()
    try:
        docker(
            "run", "-d", "--name", container, "--label", "fta.test=freqtrade",
            "--network", bot_network,
            "--read-only", "--tmpfs", "/tmp:rw,noexec,nosuid,nodev,size=64m",
            "--cap-drop", "ALL", "--security-opt", "no-new-privileges:true", "--user", "1000:1000",
            "--init", "--pids-limit", "256", "--memory", "320m", "--memory-swap", "320m", "--cpus", "0.5",
            "--mount", f"type=volume,source={bot_volume},target=/freqtrade/user_data",
            "-e", "FTA_CONFIG=" + json.dumps(config, separators=(",", ":")),
            "-e", "FTA_STRATEGY=FtaQuickTest",
            "-e", "FTA_STRATEGY_SOURCE=" + strategy_source,
            "-e", "HOME=/tmp", "-e", "PYTHONDONTWRITEBYTECODE=1",
            "--entrypoint", "/bin/sh", freqtrade_image, "-c", support.START_SCRIPT,
        )
        ip = docker("inspect", "-f", f'{{{{(index .NetworkSettings.Networks "{bot_network}").IPAddress}}}}',
                    container).stdout.strip()
        api = support.BotAPI(f"http://{ip}:8080", credentials["username"], credentials["password"])

        def running() -> bool:
            return docker("inspect", "-f", "{{.State.Running}}", container, check=False).stdout.strip() == "true"

        try:
            trades, _ = support.wait_for_open_trade(api, FIRST_TRADE_TIMEOUT, alive=running)
        except AssertionError as err:
            logs = docker("logs", "--tail", "120", container, check=False)
            save_artifact("freqtrade-bot-container.log", logs.stdout + logs.stderr)
            raise AssertionError(f"{err}\n--- bot log (tail) ---\n{(logs.stdout + logs.stderr)[-6000:]}") from None
        seconds = time.monotonic() - started
        print(f"first dry-run trade {seconds:.1f} s after docker run")

        trade = next(t for t in trades if t["is_open"])
        assert trade["pair"] in PAIRS
        assert trade["strategy"] == "FtaQuickTest"
        assert trade["exchange"].lower() == "binance"
        shown = api.get("show_config")
        assert shown["dry_run"] is True
        assert shown["runmode"] == "dry_run"
        # The bot really traded on the simulator, not anywhere else.
        requests = sim.stats()
        assert requests.get("/api/v3/exchangeInfo", 0) >= 1, requests
        assert requests.get("/api/v3/klines", 0) >= len(PAIRS), requests

        inspect = json.loads(docker("inspect", container).stdout)[0]
        host = inspect["HostConfig"]
        assert host["ReadonlyRootfs"] is True
        assert host["CapDrop"] == ["ALL"]
        assert inspect["Config"]["User"] == "1000:1000"
    finally:
        docker("rm", "-f", container, check=False)
        sim.stop()
