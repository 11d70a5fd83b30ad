"""A portal configured for the ECS/Fargate runtime, against moto in server mode (issue 17, part 2).

moto is AWS's closest local stand-in: it answers ECS, EFS, EC2 and CloudWatch Logs with the
real APIs' shapes, but runs no container (its tasks start RUNNING). So this proves the portal's
side of the Fargate runtime through its HTTP API: a bot's whole lifecycle (create, start, status,
stop, delete) as AWS calls, tenant isolation (another client's bot is a 404, and its owner's
objects carry its own client's tags), dry-run unchanged (the registered task definition's
environment carries the rendered config with dry_run true, and the start script's
`--dry-run`), and that a deleted bot leaves nothing in the account. What only a real account
shows is in docs/aws.md.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import time
import urllib.request

import pytest

from fta_portal_support import login, request
from fta_system_support import fta_binary, missing, wait_until

try:
    import boto3
    from moto.server import ThreadedMotoServer
except ImportError:  # pragma: no cover - the venv without moto
    boto3 = None

REGION = "eu-west-1"
KEYS = {"aws_access_key_id": "fta-test", "aws_secret_access_key": "fta-test-secret"}


@pytest.fixture(scope="module")
def moto():
    """moto_server's application on a free loopback port, with a VPC, a subnet, the portal's and
    the storage's security groups, an encrypted EFS file system and a cluster."""
    if boto3 is None:
        missing("moto[server] is not installed in the test venv (Tests/system/requirements.txt)")
    # moto gives a task's interface a random 10.x.x.x address, where something on this machine
    # may answer: the portal would then send a bot's API login there. Addresses from TEST-NET-1
    # (RFC 5737) are never routed, so the portal's look at the bot's API finds nothing.
    import moto.ecs.models
    moto.ecs.models.random_private_ip = lambda *args, **kwargs: f"192.0.2.{secrets.randbelow(254) + 1}"
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    # moto moves a task one state towards STOPPED at each DescribeTasks by default (for
    # waiters); a bot's task stays RUNNING until it is stopped.
    urllib.request.urlopen(urllib.request.Request(url + "/moto-api/state-manager/set-transition", method="POST", data=json.dumps(
        {"model_name": "ecs::task", "transition": {"progression": "manual", "times": 1_000_000_000}}).encode())).read()
    clients = {name: boto3.client(name, endpoint_url=url, region_name=REGION, **KEYS) for name in ("ec2", "efs", "ecs", "logs")}
    ec2 = clients["ec2"]
    vpc = ec2.create_vpc(CidrBlock="10.42.0.0/16")["Vpc"]["VpcId"]
    # As ECS wants a VPC (and moto's awsvpc tasks need, to name their interface).
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
    fixture = {
        "url": url, "clients": clients, "vpc": vpc,
        "subnet": ec2.create_subnet(VpcId=vpc, CidrBlock="10.42.1.0/24")["Subnet"]["SubnetId"],
        "portal_group": ec2.create_security_group(GroupName="fta-portal", Description="portal", VpcId=vpc)["GroupId"],
        "storage_group": ec2.create_security_group(GroupName="fta-storage", Description="EFS", VpcId=vpc)["GroupId"],
        "fs": clients["efs"].create_file_system(CreationToken="fta-portal-test", Encrypted=True)["FileSystemId"],
    }
    clients["ecs"].create_cluster(clusterName="fta-bots")
    yield fixture
    server.stop()


@pytest.fixture(scope="module")
def portal(moto, tmp_path_factory):
    """fta serve with FTA_RUNTIME=fargate against moto: its own directory, database and admin."""
    binary = fta_binary()
    directory = tmp_path_factory.mktemp("fargate-portal")
    port = free_port()
    password = secrets.token_urlsafe(18)
    env = {key: value for key, value in os.environ.items() if not key.startswith(("FTA_", "AWS_"))}
    env.update({
        "FTA_PORT": str(port), "FTA_DATABASE": str(directory / "fta.sqlite"), "FTA_WEB_ROOT": str(binary.parents[2] / "web"),
        "FTA_SECRET_KEY": secrets.token_hex(32), "FTA_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "FTA_BOT_IMAGE": "freqtradeorg/freqtrade:2026.9", "FTA_MEMORY_BUDGET_MB": "4096", "FTA_RECONCILE_SECONDS": "2",
        "FTA_LOGIN_MAX_FAILURES": "50",
        "FTA_RUNTIME": "fargate", "FTA_AWS_REGION": REGION, "FTA_AWS_ENDPOINT": moto["url"], "FTA_AWS_CLUSTER": "fta-bots",
        "FTA_AWS_VPC": moto["vpc"], "FTA_AWS_SUBNETS": moto["subnet"], "FTA_AWS_EFS_FILE_SYSTEM": moto["fs"],
        "FTA_AWS_PORTAL_SECURITY_GROUP": moto["portal_group"], "FTA_AWS_STORAGE_SECURITY_GROUP": moto["storage_group"],
        "FTA_AWS_EXECUTION_ROLE_ARN": "arn:aws:iam::123456789012:role/fta-bot-execution",
        # The standard chain's first link: moto accepts any key.
        "AWS_ACCESS_KEY_ID": KEYS["aws_access_key_id"], "AWS_SECRET_ACCESS_KEY": KEYS["aws_secret_access_key"],
    })
    subprocess.run([str(binary), "migrate"], env=env, check=True, capture_output=True, timeout=60)
    subprocess.run([str(binary), "admin", "create", "--username", "admin", "--password-stdin"], input=password, text=True,
                   env=env, check=True, capture_output=True, timeout=60)
    log = open(directory / "fta.log", "w")
    process = subprocess.Popen([str(binary), "serve"], env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: healthy(url), "the Fargate portal's health check", timeout=60)
        yield {"url": url, "admin": "admin", "password": password, "log": directory / "fta.log", "env": env}
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def healthy(url: str) -> bool:
    try:
        urllib.request.urlopen(url + "/api/v1/health", timeout=2).close()
        return True
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False


def bot_body(bot: str, name: str) -> dict:
    return {"id": bot, "name": name, "exchange": "binance", "pairs": ["BTC/USDT"], "stakeCurrency": "USDT", "stakeAmount": "10",
            "dryRunWallet": 1000, "maxOpenTrades": 1, "timeframe": "5m", "strategy": "FtaEmaCross", "size": "small"}


def family_tasks(ecs, family: str, desired: str) -> list[dict]:
    arns = ecs.list_tasks(cluster="fta-bots", family=family, desiredStatus=desired)["taskArns"]
    return ecs.describe_tasks(cluster="fta-bots", tasks=arns, include=["TAGS"])["tasks"] if arns else []


def tagged(objects, key: str, value: str, tag_key="Key", tag_value="Value") -> list:
    return [o for o in objects if any(t[tag_key] == key and t[tag_value] == value for t in o.get("Tags", o.get("tags", [])))]


def test_a_fargate_portal_runs_a_bots_whole_lifecycle_with_isolation_and_dry_run(portal, moto):
    ecs, efs, ec2, logs = (moto["clients"][n] for n in ("ecs", "efs", "ec2", "logs"))
    suffix = secrets.token_hex(3)
    client, other, bot = f"aws{suffix}", f"awso{suffix}", f"awsbot{suffix}"
    family = f"fta-bot-{bot}"
    admin = login(portal)
    for cid in (client, other):
        status, _, body = request(portal["url"] + "/api/v1/clients", "POST", {"id": cid, "name": f"Fargate {cid}"}, cookie=admin)
        assert status == 201, body
    users = {}
    for cid in (client, other):
        username, password = f"owner{cid}", secrets.token_urlsafe(16)
        status, _, body = request(portal["url"] + f"/api/v1/clients/{cid}/users", "POST",
                                  {"username": username, "password": password, "role": "owner"}, cookie=admin)
        assert status in (200, 201), body
        users[cid] = login(portal, username, password)
    owner, stranger = users[client], users[other]

    # Create, then start: the runtime registers a task definition and runs one task.
    status, _, body = request(portal["url"] + "/api/v1/bots", "POST", bot_body(bot, "On Fargate"), cookie=owner)
    assert status == 201, body
    status, _, body = request(portal["url"] + f"/api/v1/bots/{bot}/start", "POST", cookie=owner)
    assert status in (200, 202), body
    running = wait_until(lambda: family_tasks(ecs, family, "RUNNING"), "the bot's task to run", timeout=60)
    assert len(running) == 1
    task = running[0]
    assert {t["key"]: t["value"] for t in task["tags"]} == {"fta.managed": "true", "fta.client": client, "fta.bot": bot}

    # Status through the API: the reconciler sees the task RUNNING and says so.
    def state():
        code, _, answer = request(portal["url"] + f"/api/v1/bots/{bot}", cookie=owner)
        assert code == 200, answer
        return answer["bot"]["state"] == "running"
    wait_until(state, "the bot to be running in the portal", timeout=60)

    # Dry-run unchanged: the task definition's environment carries the rendered config with
    # dry_run true, and the start script passes --dry-run; no exchange key anywhere.
    definition = ecs.describe_task_definition(taskDefinition=task["taskDefinitionArn"], include=["TAGS"])
    container = definition["taskDefinition"]["containerDefinitions"][0]
    environment = {e["name"]: e["value"] for e in container["environment"]}
    config = json.loads(environment["FTA_CONFIG"])
    assert config["dry_run"] is True
    assert config["exchange"].get("key", "") == "" and config["exchange"].get("secret", "") == ""
    assert "trade --dry-run" in container["command"][0]
    # The hardened facts, as registered in the account.
    assert container["user"] == "1000:1000" and container["readonlyRootFilesystem"] is True
    assert container["linuxParameters"]["capabilities"]["drop"] == ["ALL"] and container["linuxParameters"]["initProcessEnabled"] is True
    assert container.get("portMappings", []) == [] and container["memory"] == 320
    assert definition["taskDefinition"].get("taskRoleArn") in (None, "")
    assert container["logConfiguration"]["options"]["awslogs-group"] == f"/fta/bots/{bot}"
    group = logs.describe_log_groups(logGroupNamePrefix=f"/fta/bots/{bot}")["logGroups"]
    assert len(group) == 1 and group[0]["retentionInDays"] == 7
    # The bot's API credentials never reach the portal's log.
    api_password = config["api_server"]["password"]
    assert api_password and api_password not in portal["log"].read_text()

    # Tenant isolation: another client's owner sees a 404 for every verb, and its objects carry only its own client.
    for method, path in (("GET", ""), ("POST", "/stop"), ("POST", "/start"), ("DELETE", ""), ("GET", "/logs?tail=5")):
        code, _, answer = request(portal["url"] + f"/api/v1/bots/{bot}{path}", method, cookie=stranger)
        assert code == 404, (method, path, code, answer)
    assert family_tasks(ecs, family, "RUNNING"), "another client's request touched the task"
    points = tagged(efs.describe_access_points(FileSystemId=moto["fs"])["AccessPoints"], "fta.bot", bot)
    assert len(points) == 1 and points[0]["RootDirectory"]["Path"] == f"/fta/bots/{bot}"
    assert tagged(efs.describe_access_points(FileSystemId=moto["fs"])["AccessPoints"], "fta.client", client) == points
    groups = ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": [f"fta-client-{client}"]}])["SecurityGroups"]
    assert len(groups) == 1
    sources = [p["GroupId"] for rule in groups[0]["IpPermissions"] for p in rule.get("UserIdGroupPairs", [])]
    assert sources == [moto["portal_group"]] and all(not rule.get("IpRanges") for rule in groups[0]["IpPermissions"])

    # Logs through the API: moto's task never wrote any (it runs no container), so none, not an error.
    code, _, answer = request(portal["url"] + f"/api/v1/bots/{bot}/logs?tail=10", cookie=owner)
    assert code == 200, answer

    # Stop: the task is stopped with fta's reason, the bot reports stopped, its definition stays.
    code, _, answer = request(portal["url"] + f"/api/v1/bots/{bot}/stop", "POST", cookie=owner)
    assert code in (200, 202), answer
    wait_until(lambda: not family_tasks(ecs, family, "RUNNING"), "the task to stop", timeout=60)
    stopped = family_tasks(ecs, family, "STOPPED")
    assert stopped and all(t["lastStatus"] == "STOPPED" for t in stopped)
    assert wait_until(lambda: request(portal["url"] + f"/api/v1/bots/{bot}", cookie=owner)[2]["bot"]["state"] == "stopped",
                      "the bot to be stopped in the portal", timeout=30)
    assert ecs.list_task_definitions(familyPrefix=family, status="ACTIVE")["taskDefinitionArns"]

    # Delete: nothing of the bot is left in the account (no active revision, no running task, no
    # access point, no log group), and its client's group goes with its last bot.
    code, _, answer = request(portal["url"] + f"/api/v1/bots/{bot}", "DELETE", cookie=owner)
    assert code in (200, 202, 204), answer

    def gone():
        code, _, _ = request(portal["url"] + f"/api/v1/bots/{bot}", cookie=owner)
        return code == 404
    wait_until(gone, "the bot to be deleted", timeout=60)
    wait_until(lambda: not ecs.list_task_definitions(familyPrefix=family, status="ACTIVE")["taskDefinitionArns"],
               "the bot's task definition to be deregistered", timeout=30)
    assert not family_tasks(ecs, family, "RUNNING")
    assert not tagged(efs.describe_access_points(FileSystemId=moto["fs"])["AccessPoints"], "fta.bot", bot)
    assert not logs.describe_log_groups(logGroupNamePrefix=f"/fta/bots/{bot}")["logGroups"]
    assert not ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": [f"fta-client-{client}"]}])["SecurityGroups"]
