"""Helpers of the operations tests (issue 14): fta's CLI beside a test's portal, and a bot body.

The portal itself comes from fta_system_support (start_portal, stop_portal), shared with the
other folders.
"""

from __future__ import annotations

import subprocess

from fta_system_support import REPO, fta_binary as binary, start_portal, stop_portal  # noqa: F401 (re-exported)


def fta(portal: dict, *args: str, extra: dict | None = None, timeout: int = 120) -> subprocess.CompletedProcess:
    """Runs `fta ARGS` with the portal's configuration (plus `extra`)."""
    return subprocess.run([str(binary()), *args], capture_output=True, text=True, timeout=timeout,
                          env={**portal["env"], **(extra or {})})


def bot_body(bot_id: str, client: str, start: bool = False, name: str | None = None) -> dict:
    """POST /api/v1/bots as an admin sends it: a small FtaEmaCross bot of `client`."""
    return {"id": bot_id, "clientId": client, "name": name or bot_id, "exchange": "binance", "pairs": ["BTC/USDT"],
            "stakeCurrency": "USDT", "stakeAmount": "10", "dryRunWallet": 1000, "maxOpenTrades": 1, "timeframe": "5m",
            "strategy": "FtaEmaCross", "size": "small", "start": start}
