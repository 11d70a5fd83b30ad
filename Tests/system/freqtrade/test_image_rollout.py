"""A new bot image rolled out bot by bot, each verified, rolled back on failure (issue 14, part 1;
docs/operations.md, "Upgrade").

A real `fta serve` runs three bots of two clients, plus one stopped bot, on an image derived from
the real Freqtrade image whose `freqtrade` serves the part of Freqtrade's REST API the portal
talks to (token login, ping, show_config) at once, instead of Freqtrade's 30 s start: the same
wrapper as the dry-run guard's test, reporting `dry_run: true`. Then `fta rollout`, as an
operator runs it beside the serving portal:

1. to an image whose `freqtrade` crashes at start: the first bot is restarted on it, fails, is
   put back on its image and verified again; the rollout stops with exit status 1 and says so;
   the two other running bots were never touched (same container, same start time); the audit
   trail has the failure;
2. to an image that reports `dry_run: false`: the same, and that container never keeps running;
3. to a good new image (the first one under a new tag): every running bot is restarted on it and
   verified, one at a time; the stopped bot takes it for its next start; exit status 0.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import subprocess
import time

import pytest

from fta_freqtrade_support import docker
from test_freqtrade_e2e_portal import (LIAR_DOCKERFILE, LIAR_WRAPPER, container_state, create_client_and_owner,  # noqa: F401
                                       fta_binary, socket_proxy,  # fixtures, used by name
                                       new_bot, running_portal)

HONEST = LIAR_WRAPPER.replace('config["dry_run"] = False', 'config["dry_run"] = True')
assert HONEST != LIAR_WRAPPER
CRASH = "#!/bin/sh\necho 'fta test: this freqtrade cannot start' >&2\nexit 3\n"


def build(base: str, wrapper: str, tmp_path, name: str) -> str:
    context = tmp_path / name
    context.mkdir()
    (context / "Dockerfile").write_text(LIAR_DOCKERFILE.format(base=base).replace("dry-run-liar", name))
    (context / "freqtrade").write_text(wrapper)
    base_id = docker("image", "inspect", "-f", "{{.Id}}", base).stdout.strip()
    tag = f"fta-local/rollout-{name}:{hashlib.sha256((base_id + wrapper).encode()).hexdigest()[:12]}"
    env = dict(os.environ, DOCKER_HOST=os.environ.get("FTA_TEST_DOCKER_HOST", "unix:///run/fta-test/docker.sock"), DOCKER_BUILDKIT="0")
    built = subprocess.run(["docker", "build", "--force-rm", "-q", "-t", tag, str(context)], capture_output=True, text=True, timeout=300, env=env)
    assert built.returncode == 0, f"building {name} failed:\n{built.stderr[-3000:]}"
    return tag


@pytest.fixture
def images(freqtrade_image, tmp_path):
    honest = build(freqtrade_image, HONEST, tmp_path, "honest")
    made = {"old": honest, "crash": build(freqtrade_image, CRASH, tmp_path, "crash"),
            "liar": build(freqtrade_image, LIAR_WRAPPER, tmp_path, "liar"), "new": honest.replace(":", ":next-")}
    docker("tag", honest, made["new"])
    yield made
    for tag in made.values():
        docker("image", "rm", "-f", tag, check=False)


def rollout(portal, binary: str, image: str) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    with open(portal.dir / "env") as handle:
        env.update(line.rstrip("\n").split("=", 1) for line in handle if "=" in line)
    started = time.monotonic()
    done = subprocess.run([binary, "rollout", "--image", image, "--timeout", "30"], capture_output=True, text=True, timeout=600, env=env)
    print(f"fta rollout --image {image}: exit {done.returncode} after {time.monotonic() - started:.1f} s\n{done.stdout}{done.stderr}")
    return done


def containers(bots: list[str]) -> dict:
    found = {}
    for bot in bots:
        info = container_state(f"fta-bot-{bot}")
        found[bot] = info and (info["Config"]["Image"], info["Id"], info["State"]["StartedAt"], info["State"]["Running"])
    return found


def test_a_bad_image_is_rolled_back_on_the_first_bot_and_a_good_one_reaches_every_bot(images, socket_proxy, fta_binary):
    suffix = secrets.token_hex(3)
    clients = [f"roll-{suffix}-a", f"roll-{suffix}-b"]
    running = [f"{clients[0]}-1", f"{clients[0]}-2", f"{clients[1]}-1"]
    stopped = f"{clients[1]}-2"
    with running_portal("rollout", fta_binary, FTA_BOT_IMAGE=images["old"], FTA_EXCHANGE_OVERRIDE="") as portal:
        owners = {client: create_client_and_owner(portal, client)[1] for client in clients}
        for bot in running + [stopped]:
            client = bot.rsplit("-", 1)[0]
            status, body = portal.call("POST", "/bots", owners[client], {**new_bot(bot), "start": bot != stopped})
            assert status == 201, body

        def all_running():
            return all(portal.call("GET", f"/bots/{bot}", owners[bot.rsplit("-", 1)[0]])[1]["bot"]["state"] == "running" for bot in running)

        deadline = time.monotonic() + 120
        while not all_running():
            assert time.monotonic() < deadline, portal.log_tail()
            time.sleep(1)
        before = containers(running)
        assert all(c and c[0] == images["old"] and c[3] for c in before.values()), before

        for bad in ("crash", "liar"):
            done = rollout(portal, fta_binary, images[bad])
            assert done.returncode == 1, done.stdout + done.stderr
            assert f"{running[0]}: rolled back" in done.stdout and "rollout stopped" in done.stderr, done.stdout + done.stderr
            after = containers(running)
            first = after[running[0]]
            assert first and first[0] == images["old"] and first[3], f"{running[0]} is not back on its image: {first}"
            assert after[running[1]] == before[running[1]] and after[running[2]] == before[running[2]], \
                f"a bot after the failed one was touched by the {bad} rollout"
            status, body = portal.call("GET", f"/bots/{running[0]}", owners[clients[0]])
            assert body["bot"]["state"] == "running", body
            before = after

        done = rollout(portal, fta_binary, images["new"])
        assert done.returncode == 0, done.stdout + done.stderr
        after = containers(running)
        for bot in running:
            assert after[bot][0] == images["new"] and after[bot][3], (bot, after[bot])
            assert after[bot][1] != before[bot][1], f"{bot} was not restarted"
        assert f"{stopped}: pinned" in done.stdout, done.stdout
        assert container_state(f"fta-bot-{stopped}") is None or not container_state(f"fta-bot-{stopped}")["State"]["Running"]
        # The stopped bot starts on the new image.
        status, body = portal.call("POST", f"/bots/{stopped}/start", owners[clients[1]])
        assert status == 200, body
        assert container_state(f"fta-bot-{stopped}")["Config"]["Image"] == images["new"]

        admin = portal.login()
        status, body = portal.call("GET", "/audit?action=bot.image_rollout&limit=50", admin)
        outcomes = [(e["target"], e["outcome"]) for e in body["entries"]]
        assert outcomes.count((running[0], "failure")) == 2 and (running[2], "success") in outcomes, outcomes
        print(f"audit: {len(outcomes)} bot.image_rollout entries")
        for bot in running + [stopped]:
            portal.call("DELETE", f"/bots/{bot}", owners[bot.rsplit("-", 1)[0]])
