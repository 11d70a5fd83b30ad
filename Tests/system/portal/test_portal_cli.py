"""The CLI refuses bad input with a clear message and creates nothing."""
import secrets

from fta_portal_support import login, request, run, portal_env


def test_cli_refuses_smuggled_options_and_bad_ids(portal, binary):
    env = portal_env(portal)
    for args in (["client", "create", "Bad Id"], ["client", "create", "ok1", "--dry-run", "false"],
                 ["client", "create", "ok2", "--api-server", "0.0.0.0"], ["admin", "create", "--username", "x"]):
        result = run([binary] + args, env=env)
        assert result.returncode != 0, args
        assert result.stderr.strip(), args
    cookie = login(portal)
    _, _, body = request(portal["url"] + "/api/v1/clients", cookie=cookie)
    assert not {"ok1", "ok2"} & {client["id"] for client in body["clients"]}


def test_admin_create_reads_the_password_from_stdin_and_enforces_the_policy(portal, binary):
    env = portal_env(portal)
    weak = run([binary, "admin", "create", "--username", "weakadmin", "--password-stdin"], env=env, stdin="carter\n")
    assert weak.returncode != 0 and "password" in weak.stderr
    username = "cliadmin" + secrets.token_hex(3)
    strong = run([binary, "admin", "create", "--username", username, "--password-stdin"], env=env, stdin="a long cli passphrase\n")
    assert strong.returncode == 0, strong.stderr
    assert "a long cli passphrase" not in strong.stdout + strong.stderr
    login(portal, username, "a long cli passphrase")
