"""What the density benchmarks (scripts/bench-density, scripts/bench-vm-density) share: the
portal's latency, sampled while the bots run, and its percentiles."""

from __future__ import annotations

import threading
import time
from typing import Callable


def percentile(values: list[float], fraction: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


class LatencySampler(threading.Thread):
    """GET /bots, /bots/{id} and /bots/{id}/profit every `every` seconds, rotating through the
    bots. `get(path)` does one GET of the portal's API and returns its HTTP status (599 when the
    connection failed)."""

    KEYS = ("GET /bots", "GET /bots/{id}", "GET /bots/{id}/profit")

    def __init__(self, get: Callable[[str], int], bots: list[str], every: float = 1.0) -> None:
        super().__init__(daemon=True)
        self.get, self.bots, self.every = get, bots, every
        self.samples: dict[str, list[float]] = {key: [] for key in self.KEYS}
        # When each error happened (seconds into the run) and its status: a bot's own API is not
        # up during its first half minute, and the portal then answers 502 for its profit.
        self.error_times: dict[str, list[tuple[float, int]]] = {key: [] for key in self.KEYS}
        self.started = time.monotonic()
        self.stopping = threading.Event()

    def timed(self, key: str, path: str) -> None:
        started = time.monotonic()
        try:
            status = self.get(path)
        except OSError:
            status = 599
        self.samples[key].append((time.monotonic() - started) * 1000)
        if status >= 500:
            self.error_times[key].append((round(time.monotonic() - self.started), status))

    def run(self) -> None:
        index = 0
        while not self.stopping.wait(self.every):
            bot = self.bots[index % len(self.bots)] if self.bots else None
            index += 1
            self.timed("GET /bots", "/bots")
            if bot:
                self.timed("GET /bots/{id}", f"/bots/{bot}")
                self.timed("GET /bots/{id}/profit", f"/bots/{bot}/profit")

    def summary(self) -> dict[str, dict]:
        """p50/p99 (ms), count and errors per request, for the benchmarks' JSON and tables."""
        return {key: {"n": len(v), "p50": percentile(v, 0.5), "p99": percentile(v, 0.99),
                      "errors": len(self.error_times[key]),
                      "last_error_s": max((t for t, _ in self.error_times[key]), default=None),
                      "error_statuses": sorted({code for _, code in self.error_times[key]})}
                for key, v in self.samples.items()}
