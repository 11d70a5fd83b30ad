"""The portal in a real browser, as its three kinds of users meet it.

One scenario, steps in file order sharing `scenario`: the operator creates a client with an owner
and a viewer; the owner creates a bot, sees it run, reads its logs and stops it; the viewer sees
it and is offered no control; the owner deletes it. Every page is screenshotted at 1280x900 and
360x780, and any console error or CSP violation fails the step.
"""
from __future__ import annotations

import os
import secrets

import pytest

if os.environ.get("CI") != "true":  # under CI a missing selenium is a collection error, never a skip
    pytest.importorskip("selenium", reason="selenium is not installed (pip install -r Tests/system/requirements.txt)")

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from webportal import wait_until

BOT_RUNNING_TIMEOUT = 90
CONTROL_WORDS = {"start", "stop", "restart", "delete", "delete bot", "new bot", "create bot", "create your first bot"}


def bot_state(driver) -> str | None:
    badges = driver.find_elements(By.CSS_SELECTOR, "#bot-state [data-state]")
    return badges[0].get_attribute("data-state") if badges else None


def assert_no_controls(b) -> None:
    """A viewer is offered nothing that changes anything: the controls are not rendered at all."""
    assert not b.all("[data-action]"), "a viewer was given bot controls"
    assert not b.all('a[href="/bot-new.html"]'), "a viewer was offered to create a bot"
    offered = {e.text.strip().lower() for e in b.all("button, a, input[type=submit]") if e.text.strip()}
    assert not offered & CONTROL_WORDS, f"a viewer was offered {sorted(offered & CONTROL_WORDS)}"


def test_signed_out_visitor_gets_sign_in_with_clear_messages(browser, scenario):
    b = browser("visitor")
    b.open("/")
    b.wait_path("/login.html")
    b.visible("#login-form")
    b.shot("login")

    # A protected page without a session goes to sign-in, remembering where it was.
    b.open("/dashboard.html")
    path = b.wait_path("/login.html")
    assert "next=%2Fdashboard.html" in path and "expired=1" in path, path
    b.text_in("#login-notice", "expired")

    # Wrong credentials are said in words (an unknown user answers exactly like a wrong password).
    b.type_into("#username", f"nobody-{scenario['suffix']}")
    b.type_into("#password", "not-the-password")
    b.css("#login-submit").click()
    b.text_in("#login-error", "Wrong username or password")
    b.shot("login-wrong-password")

    missing = f"/no-such-page-{scenario['suffix']}"
    b.expected_missing.add(b.url(missing))
    b.open(missing)
    b.text_in("h1", "Page not found")
    b.shot("not-found")
    b.assert_clean_console()


def test_operator_creates_a_client_with_an_owner_and_a_viewer(browser, scenario, admin_credentials):
    suffix = scenario["suffix"]
    b = browser("admin")
    # An off-site `next` is ignored: sign-in lands on the dashboard of this portal.
    b.sign_in(*admin_credentials, query="?next=%2F%2Fevil.example%2Fsteal")
    b.wait_ready()
    b.text_in("#app-header", "Clients")
    b.shot("dashboard")

    b.open("/admin-clients.html")
    b.wait_ready()
    client_id = f"web-{suffix}"
    client_name = f"Web test {suffix}"
    b.type_into("#c-id", client_id)
    b.type_into("#c-name", client_name)
    b.type_into("#c-maxBots", "2")
    b.css("#client-submit").click()
    b.text_in("#new-client-msg", "created")
    b.text_in("#h-users", client_name)
    scenario["client_id"] = client_id

    for role in ("owner", "viewer"):
        username = f"{role}-{suffix}"
        password = f"Pw-{secrets.token_urlsafe(15)}"
        b.type_into("#u-username", username)
        Select(b.css("#u-role")).select_by_value(role)
        b.type_into("#u-password", password)
        b.css("#user-submit").click()
        b.text_in("#users-msg", f"{username} added")
        b.visible(f'[data-username="{username}"]')
        scenario[role] = (username, password)
    b.shot("clients")

    # The reset dialog offers a generated password; cancelling changes nothing.
    viewer_row = b.css(f'[data-username="{scenario["viewer"][0]}"]')
    b.button("Reset password", scope=f'[data-username="{scenario["viewer"][0]}"]').click()
    b.visible("#reset-dialog[open]")
    assert len(b.css("#r-password").get_attribute("value")) >= 16
    b.shot("reset-password-dialog")
    b.css("#reset-cancel").click()
    b.wait_for(lambda d: not b.all("#reset-dialog[open]"))
    assert viewer_row.is_displayed()

    b.open("/admin-bots.html")
    b.wait_ready()
    b.text_in("#ab-summary", "bot")
    b.shot("all-bots")

    b.open("/admin-system.html")
    b.wait_ready()
    b.visible("#sys-checks li")
    # What runs, and the backups (none yet on the test portal: it says how to take one).
    b.text_in("#sys-stats", "Version")
    b.text_in("#sys-stats", "Backups")
    b.shot("system")

    b.open("/admin-audit.html")
    b.wait_ready()
    b.text_in("#audit-status", "newest first")
    rows = b.all("#audit-table tbody tr")
    assert rows, "the audit trail is empty after the operator signed in and created a client"
    actor = rows[0].find_elements(By.TAG_NAME, "td")[1].text.strip()
    b.type_into("#a-actor", actor)
    b.css('#audit-filters button[type="submit"]').click()
    b.text_in("#audit-status", "matching the filters")
    actors = {r.find_elements(By.TAG_NAME, "td")[1].text.strip() for r in b.all("#audit-table tbody tr")}
    assert actors == {actor}, f"filtering on actor {actor!r} showed {actors}"
    b.shot("audit")

    b.sign_out()
    b.assert_clean_console()


def test_owner_creates_a_bot_sees_it_run_reads_logs_and_stops_it(browser, scenario):
    owner, password = scenario.need("owner")
    suffix = scenario["suffix"]
    b = browser("owner")
    b.sign_in(owner, password)
    b.wait_ready()

    # First visit: an empty state that explains how to create the first bot.
    b.text_in("#bots-empty", "No bots yet")
    assert b.all('#bots-empty a[href="/bot-new.html"]')
    b.shot("dashboard-empty")

    b.css('[data-testid="new-bot"]').click()
    b.wait_path("/bot-new.html")
    b.visible("#bot-form")
    assert "dry-run" in b.css("#dry-run-statement").text.lower()
    strategies = b.driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "fetch('/api/v1/catalog', {credentials: 'same-origin'}).then(r => r.json())"
        ".then(c => done(c.strategies.map(s => s.id)), e => done(String(e)));")
    assert isinstance(strategies, list) and strategies, f"catalog has no strategies: {strategies}"
    b.css(f'input[name="strategy"][value="{strategies[0]}"]').click()
    b.type_into("#f-name", f"Web bot {suffix}")
    bot_id = b.css("#f-id").get_attribute("value")
    assert bot_id == f"web-bot-{suffix}", bot_id
    scenario["bot_id"] = bot_id
    b.shot("new-bot")

    b.css("#create-submit").click()
    b.wait_for(lambda d: d.current_url.startswith(b.url("/bot.html"))
               or d.find_element(By.ID, "create-progress").text.strip(), 15, "no progress shown while creating")
    b.wait_path(f"/bot.html?id={bot_id}", timeout=120)
    b.visible("#bot-view")
    b.wait_for(lambda d: bot_state(d) == "running", BOT_RUNNING_TIMEOUT,
               f"the bot did not reach running within {BOT_RUNNING_TIMEOUT} s")
    b.text_in("#bot-state", "Running")

    # Logs: follow mode polls until lines arrive; the download is a real file.
    b.css("#log-follow").click()
    b.wait_for(lambda d: d.find_element(By.ID, "log").text.strip() not in ("", "(no log lines yet)"), 60,
               "no log lines arrived")
    b.text_in("#log-status", "following")
    b.css("#log-follow").click()
    b.css("#log-download").click()
    wait_until(lambda: list(b.downloads.glob(f"fta-bot-{bot_id}-logs-*.txt")), 15, message="log download not written")
    b.shot("bot-running")

    b.open("/dashboard.html")
    b.wait_ready()
    card = f'[data-bot-id="{bot_id}"]'
    b.visible(card)
    b.text_in(card, "Running")
    b.shot("dashboard-with-bot")

    b.open(f"/bot.html?id={bot_id}")
    b.visible("#bot-view")
    b.wait_for(lambda d: d.find_element(By.CSS_SELECTOR, '[data-action="stop"]').is_enabled(), 15)
    b.css('[data-action="stop"]').click()
    b.wait_for(lambda d: bot_state(d) == "stopped", 90, "the bot did not stop within 90 s")
    b.wait_for(lambda d: d.find_element(By.CSS_SELECTOR, '[data-action="start"]').is_enabled(), 15)
    b.shot("bot-stopped")
    b.sign_out()
    b.assert_clean_console()


def test_viewer_sees_the_bot_and_is_offered_no_control(browser, scenario):
    viewer, password = scenario.need("viewer")
    bot_id = scenario.need("bot_id")
    b = browser("viewer")

    # A deep link while signed out returns to the same page after sign-in.
    b.open(f"/bot.html?id={bot_id}")
    path = b.wait_path("/login.html")
    assert "expired=1" in path, path
    b.sign_in(viewer, password, expect=f"/bot.html?id={bot_id}")
    b.visible("#bot-view")
    b.text_in("#bot-state", "Stopped")
    b.text_in("#log-status", "line")
    assert_no_controls(b)
    b.shot("bot")

    b.open("/dashboard.html")
    b.wait_ready()
    b.visible(f'[data-bot-id="{bot_id}"]')
    assert_no_controls(b)
    b.shot("dashboard")

    for page in ("/bot-new.html", "/admin-clients.html", "/admin-bots.html", "/admin-system.html", "/admin-audit.html"):
        b.open(page)
        b.wait_path("/dashboard.html")
    b.assert_clean_console()


def test_owner_deletes_the_bot_after_confirming(browser, scenario):
    owner, password = scenario.need("owner")
    bot_id = scenario.need("bot_id")
    b = browser("owner")
    b.sign_in(owner, password)
    b.open(f"/bot.html?id={bot_id}")
    b.visible("#bot-view")

    b.css('[data-action="delete"]').click()
    b.visible("dialog[open]")
    b.shot("delete-dialog")
    b.button("Cancel", scope="dialog[open]").click()
    b.wait_for(lambda d: not b.all("dialog[open]"))
    assert bot_state(b.driver) is not None

    b.css('[data-action="delete"]').click()
    b.visible("dialog[open]")
    b.button("Delete bot", scope="dialog[open]").click()
    b.wait_path("/dashboard.html", timeout=120)
    scenario["bot_deleted"] = True
    b.wait_ready()
    b.wait_for(lambda d: not b.all(f'[data-bot-id="{bot_id}"]'), 15)
    b.text_in("#bots-empty", "No bots yet")
    b.shot("dashboard-after-delete")
    b.assert_clean_console()


def test_viewer_changes_password_and_has_nothing_to_create(browser, scenario):
    viewer, password = scenario.need("viewer")
    b = browser("viewer")
    b.sign_in(viewer, password)
    b.wait_ready()
    b.text_in("#bots-empty", "No bots yet")
    assert_no_controls(b)
    b.shot("dashboard-empty")

    new_password = f"Pw-{secrets.token_urlsafe(15)}"
    b.button("Change password").click()
    b.visible("dialog[open] #pw-current")
    b.type_into("#pw-current", password)
    b.type_into("#pw-new", new_password)
    b.type_into("#pw-confirm", new_password)
    b.shot("change-password")
    b.button("Change password", scope="dialog[open]").click()
    b.wait_for(lambda d: not b.all("dialog[open]"), 15, "the password dialog did not close")
    scenario["viewer"] = (viewer, new_password)
    b.sign_out()
    b.sign_in(viewer, new_password)
    b.assert_clean_console()
