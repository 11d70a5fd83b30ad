"""Helpers for the strategy lab's runner tests: the runner and launcher texts read out of
LabRunnerSource.swift, the runner's stdout decoded as the portal decodes it, and lab jobs run on the
host in a directory laid out like the job container's tmpfs.

The runner reads its paths from FTA_LAB_ROOT (default /tmp/fta) and FTA_LAB_DATADIR (default: the
config's `datadir`), so a job runs here exactly as in its container, only rooted elsewhere.
"""

from __future__ import annotations

import base64
import binascii
import itertools
import json
import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import fta_freqtrade_support as support

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
SWIFT_FILE = REPO / "Sources" / "FTAPortal" / "Lab" / "LabRunnerSource.swift"
STRATEGIES = HERE / "lab_strategies"

# A raw multi-line literal: its value is the lines between the delimiters with the closing
# delimiter's indentation removed (no escapes, no interpolation in a raw string).
_LITERAL = re.compile(r'static let (runner|launcher) = #"""\n(.*?)\n([ \t]*)"""#', re.S)
_PART = re.compile(r"FTA-RESULT-PART (\d+) (\d+) (\S*)$")
CHUNK = 8000


def lab_sources(swift: str | None = None) -> dict[str, str]:
    """{"runner": ..., "launcher": ...}, each found exactly once in the Swift file."""
    swift = SWIFT_FILE.read_text() if swift is None else swift
    found: dict[str, str] = {}
    for name, body, indent in _LITERAL.findall(swift):
        if name in found:
            raise ValueError(f"two `static let {name}` raw literals in {SWIFT_FILE.name}")
        lines = []
        for line in body.split("\n"):
            if line.strip() and not line.startswith(indent):
                raise ValueError(f"{name}: a line less indented than the closing delimiter: {line!r}")
            lines.append(line[len(indent):] if line.strip() else "")
        found[name] = "\n".join(lines)
    missing = {"runner", "launcher"} - set(found)
    if missing:
        raise ValueError(f"no raw literal for {sorted(missing)} in {SWIFT_FILE.name}")
    return found


def decode_result(stdout: str) -> dict:
    """The result JSON from the FTA-RESULT-PART lines, checked the way a strict reader would:
    parts numbered 1..n in order, one n, chunks of at most 8000 base64 characters, strict JSON."""
    parts = []
    for line in stdout.splitlines():
        if line.startswith("FTA-RESULT-PART "):
            match = _PART.match(line)
            assert match, f"malformed result line: {line[:120]!r}"
            parts.append((int(match[1]), int(match[2]), match[3]))
    assert parts, "no FTA-RESULT-PART line on stdout"
    total = parts[0][1]
    assert [(i, n) for i, n, _ in parts] == [(i, total) for i in range(1, total + 1)], \
        f"parts out of order or incomplete: {[(i, n) for i, n, _ in parts][:10]}"
    assert all(0 < len(chunk) <= CHUNK for _, _, chunk in parts), "a chunk is empty or longer than 8000"
    try:
        raw = base64.b64decode("".join(chunk for _, _, chunk in parts), validate=True)
    except binascii.Error as err:
        raise AssertionError(f"the result is not base64: {err}") from None

    def no_constants(name: str):
        raise AssertionError(f"the result JSON holds {name}, which is not JSON")

    return json.loads(raw.decode("utf-8"), parse_constant=no_constants)


def progress_lines(stdout: str) -> list[dict]:
    return [json.loads(line[len("FTA-PROGRESS "):]) for line in stdout.splitlines() if line.startswith("FTA-PROGRESS ")]


def lab_config(*, exchange_url: str, pairs: list[str], datadir: Path, timeframe: str = "5m") -> dict:
    """A job config like fta's renderLabConfig (FreqtradeConfig.swift): the bot's trading settings,
    dry-run, no keys, no API server, trade database or log file; the container's user and
    strategy directories (the runner overrides both) and the data directory given."""
    config = support.bot_config(exchange=support.sim_exchange_block(exchange_url, pairs), strategy="FtaEmaCross",
                                timeframe=timeframe, credentials=support.api_credentials())
    for key in ("api_server", "db_url"):
        config.pop(key)
    config.update(bot_name="fta-lab", user_data_dir="/tmp/fta/user_data", strategy_path="/tmp/fta/strategies",
                  datadir=str(datadir))
    return config


@dataclass
class JobRun:
    kind: str
    strategy: str
    returncode: int
    stdout: str
    stderr: str
    root: Path
    result: dict = field(default_factory=dict)
    progress: list[dict] = field(default_factory=list)

    @property
    def log(self) -> str:
        """Freqtrade's log with whitespace folded: its console handler wraps long lines anywhere."""
        return " ".join(self.stderr.split())

    def explain(self) -> str:
        return f"{self.kind} {self.strategy}: rc={self.returncode}\nstdout:\n{self.stdout[-1500:]}\nstderr:\n{self.stderr[-4000:]}"


class Lab:
    """Runs lab jobs on the host: each in its own copy of the container's /tmp/fta, written the
    way the job's fixed start script writes it, with the data directory shared like the volume."""

    _ids = itertools.count(1)

    def __init__(self, python: str, base: Path, config: dict) -> None:
        self.python = python
        self.base = base
        self.config = config
        self.runner = lab_sources()["runner"]

    def run(self, kind: str, strategy: str, source: str | None = None, *, args: dict | None = None,
            params: dict | None = None, protections: list | None = None, config: dict | None = None,
            timeout: float = 240) -> JobRun:
        root = self.base / f"job{next(self._ids)}-{kind}-{strategy}"
        (root / "strategies").mkdir(parents=True)
        (root / "user_data").mkdir()
        (root / "fta_lab.py").write_text(self.runner)
        # fta renders the strategy's class name into the config, as Freqtrade's own field.
        (root / "config.json").write_text(json.dumps(dict(config or self.config, strategy=strategy)))
        if source is None:
            source = (STRATEGIES / f"{strategy}.py").read_text()
        (root / "strategies" / f"{strategy}.py").write_text(source)
        if params is not None:
            (root / "strategies" / f"{strategy}.json").write_text(json.dumps(params))
        # The job's environment, nothing inherited: a FREQTRADE__ variable of the host would
        # change Freqtrade's config, and the container has none.
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(root), "PYTHONDONTWRITEBYTECODE": "1",
               "FTA_JOB_KIND": kind, "FTA_STRATEGY": strategy, "FTA_LAB_ARGS": json.dumps(args or {}),
               "FTA_LAB_ROOT": str(root)}
        if protections is not None:
            env["FTA_PROTECTIONS"] = json.dumps(protections)
        proc = subprocess.run([self.python, str(root / "fta_lab.py"), kind], env=env, cwd=root,
                              capture_output=True, text=True, timeout=timeout)
        run = JobRun(kind, strategy, proc.returncode, proc.stdout, proc.stderr, root)
        # Stdout is the protocol: every line is a progress line or a result part, nothing else.
        stray = [line for line in proc.stdout.splitlines() if not line.startswith(("FTA-PROGRESS ", "FTA-RESULT-PART "))]
        assert not stray, f"stray lines on stdout: {stray[:5]}\n{run.explain()}"
        assert proc.returncode == 0, run.explain()
        run.result = decode_result(proc.stdout)
        run.progress = progress_lines(proc.stdout)
        return run
