"""install.sh --dry-run prints the plan and changes nothing; --help and bad flags behave."""

import pytest

from fta_install_support import WATCHED, run_install, snapshot


@pytest.mark.parametrize("flags", [
    [],
    ["--domain", "portal.example.org", "--email", "ops@example.org"],
    ["--binary", "/bin/true", "--admin-user", "operator", "--nginx-port", "9443"],
    ["--uninstall"],
    ["--uninstall", "--purge"],
])
def test_dry_run_changes_nothing_and_prints_the_plan(flags):
    before = snapshot()
    result = run_install("--dry-run", "--non-interactive", *flags, env={"FTA_ADMIN_PASSWORD": "not-printed-Secret-1"})
    after = snapshot()
    changed = [path for path in WATCHED if before[path] != after[path]]
    assert not changed, f"--dry-run changed {changed}"
    out = result.stdout
    total = 6 if "--uninstall" in flags else 14
    for n in range(1, total + 1):
        assert f"[{n}/{total}] " in out, f"step {n} missing:\n{out}"
    assert "Dry run" in out and "nothing was changed" in out.lower()
    assert "not-printed-Secret-1" not in out + result.stderr


def test_dry_run_plan_names_the_main_actions():
    out = run_install("--dry-run", "--non-interactive").stdout
    for expected in ("/etc/fta/fta.env", "FTA_SECRET_KEY (fresh random secret)", "/etc/nginx/conf.d/fta.conf",
                     "fta migrate", "fta doctor", "admin 'admin'"):
        assert expected in out, expected
    # A dry run never prints a secret value, generated or not.
    assert "FTA_SECRET_KEY=" not in out


def test_dry_run_in_tls_mode_plans_certbot():
    out = run_install("--dry-run", "--domain", "portal.example.org", "--email", "ops@example.org").stdout
    assert "certbot" in out
    assert "FTA_PUBLIC_URL=https://portal.example.org" in out


def test_help_lists_the_flags():
    out = run_install("--help").stdout
    for flag in ("--dry-run", "--uninstall", "--purge", "--binary", "--admin-user", "--domain", "--email",
                 "--nginx-port", "--bot-image", "--build-bot-image", "--non-interactive", "FTA_ADMIN_PASSWORD"):
        assert flag in out, flag


@pytest.mark.parametrize("flags", [["--no-such-flag"], ["--purge"], ["--binary"], ["--nginx-port", "http"],
                                   ["--domain", "a.example", "--loopback"], ["--proxy-mode", "magic"]])
def test_bad_flags_exit_2(flags):
    result = run_install("--dry-run", *flags, check=False)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "install.sh:" in result.stderr
