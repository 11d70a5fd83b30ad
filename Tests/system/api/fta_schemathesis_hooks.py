"""Schemathesis hooks for fuzzing the fta portal, loaded by `schemathesis run` through
SCHEMATHESIS_HOOKS. The test (test_api_schemathesis.py) configures them by environment:

- FTA_FUZZ_PROTECTED_USERS: ids of users that existed before the run (the admin first) and of
  the accounts the test signs in with. A generated `userId` naming one of them is replaced by
  FTA_FUZZ_SPARE_USER, a throwaway user, so the fuzzer never resets their password or disables
  them. Every other time, any generated `userId` becomes the spare user, so that the operations
  on users get past their 404.
- FTA_FUZZ_PROTECTED_BOTS: ids of bots that existed before the run; a generated `botId` naming
  one becomes a bot that does not exist, so the fuzzer never stops or deletes them.
- FTA_FUZZ_PROTECTED_USERNAMES: usernames the login fuzzing must not fail against (a failure
  counts toward that account's lockout): replaced by a throwaway name.
- FTA_FUZZ_CLIENT: an existing client. Every other time, a valid generated `clientId` (path, or
  in a new bot, whose pairs are then quoted in its stake currency) becomes this client, so that
  users and bots are really created, listed, started, stopped and deleted, not only refused.
- A wallet reset must name the bot it resets (`confirm`): half the time (a stable coin flip on
  the generated value) a valid generated `confirm` is replaced by the path's bot id, so that
  resets really happen on the fuzzer's own bots instead of all ending in the 400 for a wrong
  `confirm`.
- FTA_FUZZ_STATUS_LOG: a file where each answer is noted (operation, status, request sent).
- FTA_FUZZ_FORWARDED_FOR=1: each request says it comes from its own TEST-NET address through
  nginx (`X-Forwarded-For`, honoured from loopback peers), so login failures land on addresses
  nobody else uses instead of locking out 127.0.0.1 for the other test suites.
"""
from __future__ import annotations

import itertools
import os
import re
import zlib

import schemathesis

ID = re.compile(r"[a-z0-9][a-z0-9-]{0,30}")  # used with fullmatch: "$" would allow a trailing newline


def _set(name: str) -> set[str]:
    return {part.strip() for part in os.environ.get(name, "").split(",") if part.strip()}


PROTECTED_USERS = _set("FTA_FUZZ_PROTECTED_USERS")
# Without a spare user, a protected id becomes one that cannot exist.
SPARE_USER = int(os.environ.get("FTA_FUZZ_SPARE_USER") or 2**62)
PROTECTED_BOTS = _set("FTA_FUZZ_PROTECTED_BOTS")
PROTECTED_USERNAMES = {name.lower() for name in _set("FTA_FUZZ_PROTECTED_USERNAMES")}
FUZZ_CLIENT = os.environ.get("FTA_FUZZ_CLIENT", "")
FORWARDED_FOR = os.environ.get("FTA_FUZZ_FORWARDED_FOR") == "1"
# 198.51.100.0/24 and 203.0.113.0/24 (TEST-NET-2/3): never a real peer.
_addresses = itertools.cycle([f"198.51.100.{n}" for n in range(1, 255)] + [f"203.0.113.{n}" for n in range(1, 255)])


def _stable_bit(value: object) -> bool:
    """A deterministic coin flip, so a failing case replays identically."""
    return zlib.crc32(repr(value).encode()) % 2 == 0


@schemathesis.hook
def before_call(context, case, kwargs):
    parameters = case.path_parameters
    if parameters:
        user = parameters.get("userId")
        # The server reads the id as Swift's Int64(String) does: "+1" and "001" are user 1 too.
        if user is not None and re.fullmatch(r"[+-]?[0-9]+", str(user)) and str(int(str(user))) in PROTECTED_USERS:
            parameters["userId"] = SPARE_USER
        elif user is not None and re.fullmatch(r"[1-9][0-9]{0,17}", str(user)) and _stable_bit(user):
            parameters["userId"] = SPARE_USER
        bot = parameters.get("botId")
        if isinstance(bot, str) and bot in PROTECTED_BOTS:
            parameters["botId"] = "fuzz-protected-bot"
        client = parameters.get("clientId")
        if FUZZ_CLIENT and isinstance(client, str) and ID.fullmatch(client) and _stable_bit(client):
            parameters["clientId"] = FUZZ_CLIENT

    body = case.body if isinstance(case.body, dict) else None
    operation = case.operation
    if body is not None and operation.method.upper() == "POST":
        if operation.path == "/auth/login":
            username = body.get("username")
            if isinstance(username, str) and username[:64].lower() in PROTECTED_USERNAMES:
                body["username"] = "fuzz-nobody"
        elif operation.path == "/bots" and FUZZ_CLIENT:
            client = body.get("clientId")
            if isinstance(client, str) and ID.fullmatch(client) and _stable_bit(body.get("id")):
                body["clientId"] = FUZZ_CLIENT
                stake = body.get("stakeCurrency")
                pairs = body.get("pairs")
                if isinstance(stake, str) and isinstance(pairs, list):
                    quoted = []
                    for pair in pairs:
                        if isinstance(pair, str) and "/" in pair:
                            pair = pair.split("/", 1)[0] + "/" + stake
                        if pair not in quoted:
                            quoted.append(pair)
                    body["pairs"] = quoted

    if body is not None and operation.method.upper() == "POST" and operation.path == "/bots/{botId}/wallet/reset":
        bot = parameters.get("botId") if parameters else None
        # Only a body that is valid as it is (one string `confirm`) and a valid bot id: a negative
        # case stays negative, as negative_data_rejection expects it to be refused.
        if (set(body) == {"confirm"} and isinstance(body["confirm"], str) and isinstance(bot, str) and ID.fullmatch(bot)
                and _stable_bit(body["confirm"])):
            body["confirm"] = bot

    if FORWARDED_FOR:
        case.headers = {**(case.headers or {}), "X-Forwarded-For": next(_addresses)}


STATUS_LOG = os.environ.get("FTA_FUZZ_STATUS_LOG")


@schemathesis.hook
def after_call(context, case, response):
    """Appends `METHOD /path/template status SENT-METHOD url` per request, for the test's coverage summary."""
    if STATUS_LOG:
        with open(STATUS_LOG, "a") as log:
            log.write(f"{case.operation.method.upper()} {case.operation.path} {response.status_code} {response.request.method} {response.request.url}\n")
