"""The commands install.sh asks fta instead of reading its database: `migrate` and
`migrate --check`, `admin exists`, `admin create --if-none` and `client list`. Each runs the
real binary against its own database file, and the read-only ones must never create it."""
import json
import os
import re
import sqlite3
import subprocess

from fta_portal_support import run

PASSWORD = "a long cli passphrase"


def cli_env(tmp_path):
    """A configuration of only a database path (below a directory that does not exist yet)."""
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path),
            "FTA_DATABASE": str(tmp_path / "data" / "fta.sqlite")}


def fta(binary, env, *args, stdin=None):
    result = run([binary, *args], env=env, stdin=stdin)
    return result.returncode, result.stdout, result.stderr


def migration_count(binary, tmp_path):
    """How many migrations this binary has: what it applies to a new database."""
    env = cli_env(tmp_path / "count")
    code, out, err = fta(binary, env, "migrate")
    assert code == 0, err
    match = re.fullmatch(r"database created, (\d+) migrations applied\n", out)
    assert match, out
    return int(match.group(1))


def test_questions_never_create_the_database(binary, tmp_path):
    env = cli_env(tmp_path)
    database = env["FTA_DATABASE"]
    assert fta(binary, env, "migrate", "--check")[:2] == (3, "no database\n")
    assert fta(binary, env, "admin", "exists")[:2] == (3, "")
    assert fta(binary, env, "client", "list")[:2] == (0, "")
    code, out, _ = fta(binary, env, "client", "list", "--json")
    assert (code, json.loads(out)) == (0, [])
    assert not os.path.exists(database) and not os.path.exists(os.path.dirname(database))


def test_migrate_says_what_it_did_and_check_counts_what_is_pending(binary, tmp_path):
    count = migration_count(binary, tmp_path)
    assert count >= 1
    env = cli_env(tmp_path)
    assert fta(binary, env, "migrate")[:2] == (0, f"database created, {count} migrations applied\n")
    assert fta(binary, env, "migrate")[:2] == (0, "schema up to date\n")
    assert fta(binary, env, "migrate", "--check")[:2] == (0, "schema up to date\n")

    # A database file with no schema yet: --check counts every migration and writes nothing.
    empty = tmp_path / "empty.sqlite"
    empty.touch()
    env_empty = dict(env, FTA_DATABASE=str(empty))
    assert fta(binary, env_empty, "migrate", "--check")[:2] == (3, f"{count} migrations pending\n")
    assert empty.stat().st_size == 0
    assert fta(binary, env_empty, "migrate")[:2] == (0, f"{count} migrations applied\n")
    assert fta(binary, env_empty, "migrate", "--check")[:2] == (0, "schema up to date\n")


def test_errors_are_exit_1_not_a_no(binary, tmp_path):
    env = dict(cli_env(tmp_path), FTA_PORT="not-a-port")
    for args in (["migrate", "--check"], ["admin", "exists"], ["client", "list"]):
        code, out, err = fta(binary, env, *args)
        assert code == 1 and out == "" and "FTA_PORT" in err, args
    # A file that is not a database at all.
    garbage = tmp_path / "garbage.sqlite"
    garbage.write_bytes(b"\x42" * 8192)
    env = dict(cli_env(tmp_path), FTA_DATABASE=str(garbage))
    for args in (["migrate", "--check"], ["admin", "exists"], ["client", "list"]):
        code, _, err = fta(binary, env, *args)
        assert code == 1 and err.strip(), args


def admins(env):
    with sqlite3.connect(env["FTA_DATABASE"]) as db:
        return [row[0] for row in db.execute("SELECT username FROM users WHERE role = 'admin' ORDER BY username")]


def test_admin_create_if_none_creates_once_and_then_reads_no_password(binary, tmp_path):
    env = cli_env(tmp_path)
    assert fta(binary, env, "migrate")[0] == 0
    assert fta(binary, env, "admin", "exists")[:2] == (3, "")
    code, out, err = fta(binary, env, "admin", "create", "--username", "root", "--password-stdin", "--if-none", stdin=PASSWORD + "\n")
    assert (code, out) == (0, "created\n"), err
    assert PASSWORD not in out + err
    assert fta(binary, env, "admin", "exists")[:2] == (0, "")

    # With an admin there, --if-none must answer without reading standard input: a pipe that is
    # never written to nor closed would block a read forever, so the command must end on its own.
    read_end, write_end = os.pipe()
    try:
        process = subprocess.Popen([binary, "admin", "create", "--username", "second", "--password-stdin", "--if-none"],
                                   env=env, stdin=read_end, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        os.close(read_end)
        try:
            out, err = process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            raise AssertionError("admin create --if-none read standard input although an admin exists")
    finally:
        os.close(write_end)
    assert (process.returncode, out) == (0, "exists\n"), err
    assert admins(env) == ["root"]

    # Without --if-none, a second admin is created as before.
    code, out, err = fta(binary, env, "admin", "create", "--username", "second", "--password-stdin", stdin=PASSWORD + "\n")
    assert (code, out) == (0, "created\n"), err
    assert admins(env) == ["root", "second"]


def test_admin_create_if_none_on_a_new_installation_creates_the_database(binary, tmp_path):
    env = cli_env(tmp_path)
    code, out, err = fta(binary, env, "admin", "create", "--username", "root", "--password-stdin", "--if-none", stdin=PASSWORD + "\n")
    assert (code, out) == (0, "created\n"), err
    assert admins(env) == ["root"]
    # A weak password is refused before anything is written.
    other = cli_env(tmp_path / "other")
    code, _, err = fta(binary, other, "admin", "create", "--username", "root", "--password-stdin", "--if-none", stdin="short\n")
    assert code != 0 and "password" in err
    assert not os.path.exists(other["FTA_DATABASE"])


def test_client_list_prints_sorted_ids_or_json(binary, tmp_path):
    env = cli_env(tmp_path)
    for args in (["zeta"], ["alpha", "--name", "Alpha Ltd"]):
        code, _, err = fta(binary, env, "client", "create", *args)
        assert code == 0, err
    assert fta(binary, env, "client", "list")[:2] == (0, "alpha\nzeta\n")
    code, out, _ = fta(binary, env, "client", "list", "--json")
    listed = json.loads(out)
    assert code == 0 and [(c["id"], c["name"]) for c in listed] == [("alpha", "Alpha Ltd"), ("zeta", "zeta")]
    assert all(set(c) == {"id", "name", "maxBots"} and isinstance(c["maxBots"], int) and c["maxBots"] >= 1 for c in listed)
    # The same client id twice is refused with the CLI's message, and the list is unchanged.
    code, _, err = fta(binary, env, "client", "create", "alpha")
    assert code != 0 and "a client with the id alpha exists" in err
    assert fta(binary, env, "client", "list")[1] == "alpha\nzeta\n"


REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def test_config_example_is_the_repository_env_example(binary, tmp_path):
    """fta owns its defaults: `.env.example` is exactly what `fta config example` prints, so a
    default changed in the binary and not in the file (or the reverse) fails here."""
    code, out, err = fta(binary, cli_env(tmp_path), "config", "example")
    assert code == 0, err
    with open(os.path.join(REPO, ".env.example"), encoding="utf-8") as f:
        assert out == f.read(), "regenerate it: fta config example > .env.example"
    # It needs no configuration and no database.
    assert not os.path.exists(tmp_path / "data")


def test_config_example_loads_as_a_configuration(binary, tmp_path):
    """The example, with only its placeholder secret replaced, is a configuration fta accepts."""
    code, out, _ = fta(binary, cli_env(tmp_path), "config", "example")
    assert code == 0
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path)}
    for line in out.splitlines():
        if line and not line.startswith("#"):
            key, value = line.split("=", 1)
            env[key] = value
    env["FTA_SECRET_KEY"] = "ab" * 32
    env["FTA_DATABASE"] = str(tmp_path / "db" / "fta.sqlite")
    code, out, err = fta(binary, env, "migrate")
    assert code == 0, err
    assert out.startswith("database created")
