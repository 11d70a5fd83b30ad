"""Helpers for the portal's browser tests: a Chromium session that records console problems,
takes screenshots at phone and desktop sizes, and knows how to sign in."""
from __future__ import annotations

import json
import os
import pathlib
import re
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field

from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

DESKTOP = (1280, 900)
PHONE = (360, 780)

# API answers the UI handles and shows in words (401 before sign-in, a bot API that is still
# starting...) are logged by Chromium as failed resource loads; they are not page errors.
_API_RESOURCE = re.compile(r"^\S+/api/v1/\S*")


def chromium_paths() -> tuple[str, str]:
    return (os.environ.get("FTA_TEST_CHROMIUM", "/usr/bin/chromium"),
            os.environ.get("FTA_TEST_CHROMEDRIVER", "/usr/bin/chromedriver"))


@dataclass
class ConsoleEntry:
    page: str
    level: str
    source: str
    message: str

    def __str__(self) -> str:
        return f"[{self.level} {self.source}] on {self.page}: {self.message}"


@dataclass
class Browser:
    """One Chromium session. `problems` collects console errors and CSP violations."""
    base_url: str
    artifacts: pathlib.Path
    name: str
    driver: webdriver.Chrome = field(init=False)
    problems: list = field(default_factory=list)
    expected_missing: set = field(default_factory=set)
    reported: bool = False

    def __post_init__(self) -> None:
        binary, driver_path = chromium_paths()
        options = webdriver.ChromeOptions()
        options.binary_location = binary
        for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                    f"--window-size={DESKTOP[0]},{DESKTOP[1]}", "--lang=en-US", "--no-first-run",
                    "--disable-extensions", "--disable-background-networking"):
            options.add_argument(arg)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        self.driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
        self.driver.set_page_load_timeout(30)
        self.downloads = self.artifacts / "downloads" / self.name
        self.downloads.mkdir(parents=True, exist_ok=True)
        self.driver.execute_cdp_cmd("Browser.setDownloadBehavior",
                                    {"behavior": "allow", "downloadPath": str(self.downloads.resolve())})

    # ---------- navigation ----------

    def url(self, path: str) -> str:
        return self.base_url + path

    def open(self, path: str) -> None:
        self.driver.get(self.url(path))
        self.wait_for(lambda d: d.execute_script("return document.readyState") == "complete")

    def path(self) -> str:
        current = self.driver.current_url
        assert current.startswith(self.base_url + "/"), f"left the portal: {current}"
        return current[len(self.base_url):]

    def wait_for(self, condition, timeout: float = 15, message: str = ""):
        return WebDriverWait(self.driver, timeout, poll_frequency=0.25).until(condition, message)

    def wait_path(self, prefix: str, timeout: float = 15) -> str:
        self.wait_for(lambda d: d.current_url.startswith(self.url(prefix)), timeout,
                      f"expected to reach {prefix}, still on {self.driver.current_url}")
        return self.path()

    def wait_ready(self, timeout: float = 15) -> None:
        """Signed-in pages mark <body class="is-ready"> once /me has loaded and the header is drawn."""
        self.wait_for(lambda d: "is-ready" in (d.find_element(By.TAG_NAME, "body").get_attribute("class") or ""),
                      timeout, f"page {self.driver.current_url} never became ready")

    def css(self, selector: str):
        return self.driver.find_element(By.CSS_SELECTOR, selector)

    def all(self, selector: str):
        return self.driver.find_elements(By.CSS_SELECTOR, selector)

    def visible(self, selector: str, timeout: float = 15):
        return self.wait_for(EC.visibility_of_element_located((By.CSS_SELECTOR, selector)), timeout,
                             f"{selector} never became visible on {self.driver.current_url}")

    def text_in(self, selector: str, needle: str, timeout: float = 15):
        return self.wait_for(EC.text_to_be_present_in_element((By.CSS_SELECTOR, selector), needle), timeout,
                             f"{needle!r} never appeared in {selector} on {self.driver.current_url}")

    def type_into(self, selector: str, text: str) -> None:
        element = self.css(selector)
        element.clear()
        element.send_keys(text)

    def button(self, text: str, scope: str = "body"):
        for b in self.all(f"{scope} button"):
            if b.text.strip() == text and b.is_displayed():
                return b
        raise AssertionError(f"no visible button {text!r} in {scope} on {self.driver.current_url}")

    # ---------- session ----------

    def sign_in(self, username: str, password: str, *, expect: str = "/dashboard.html", query: str = "") -> None:
        if not self.driver.current_url.startswith(self.url("/login.html")) or query:
            self.open("/login.html" + query)
        self.visible("#username")
        self.type_into("#username", username)
        self.type_into("#password", password)
        self.css("#login-submit").click()
        self.wait_path(expect, timeout=20)

    def sign_out(self) -> None:
        self.css('[data-testid="sign-out"]').click()
        self.wait_path("/login.html")

    # ---------- console ----------

    def collect_console(self) -> list:
        page = self.driver.current_url
        for entry in self.driver.get_log("browser"):
            message = entry.get("message", "")
            level = entry.get("level", "")
            source = entry.get("source", "")
            csp = "Content Security Policy" in message or "Refused to" in message
            if not csp and level != "SEVERE":
                continue
            if not csp and source == "network":
                resource = message.split(" ", 1)[0]
                if _API_RESOURCE.match(resource) or resource in self.expected_missing:
                    continue
            self.problems.append(ConsoleEntry(page, level, source, message))
        return self.problems

    def assert_clean_console(self) -> None:
        self.collect_console()
        self.reported = bool(self.problems)
        assert not self.problems, "console errors or CSP violations:\n" + "\n".join(map(str, self.problems))

    # ---------- screenshots ----------

    def shot(self, name: str, *, check_overflow: bool = True, keep_scroll: bool = False) -> None:
        """Screenshots at 1280x900 and 360x780 (exact viewports), from the top of the page unless
        `keep_scroll`; at 360 px the page itself must not scroll sideways (tables scroll inside
        their own container)."""
        folder = self.artifacts / "screenshots"
        folder.mkdir(parents=True, exist_ok=True)
        if not keep_scroll:
            self.driver.execute_script("window.scrollTo(0, 0)")
        try:
            for width, height in (DESKTOP, PHONE):
                self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
                    "width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600})
                time.sleep(0.4)  # layout settles, ResizeObserver redraws the chart
                self.driver.save_screenshot(str(folder / f"{self.name}-{name}-{width}x{height}.png"))
                if check_overflow and width == PHONE[0]:
                    scroll, client = self.driver.execute_script(
                        "return [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
                    assert scroll <= client, f"{name}: the page scrolls sideways at {width} px ({scroll} > {client})"
        finally:
            self.driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
        self.collect_console()

    def quit(self) -> None:
        try:
            self.collect_console()
        finally:
            self.driver.quit()


class ApiClient:
    """Plain HTTP client for set-up checks and clean-up (not what the tests assert on)."""

    def __init__(self, base_url: str):
        self.base_url = base_url
        self.cookie = None

    def call(self, method: str, path: str, body=None):
        data = None if method == "GET" else json.dumps(body if body is not None else {}).encode()
        request = urllib.request.Request(self.base_url + "/api/v1" + path, data=data, method=method)
        request.add_header("Accept", "application/json")
        request.add_header("Origin", self.base_url)
        request.add_header("Sec-Fetch-Site", "same-origin")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if self.cookie:
            request.add_header("Cookie", self.cookie)
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                cookie = response.headers.get("Set-Cookie")
                if cookie:
                    self.cookie = cookie.split(";", 1)[0]
                raw = response.read()
                return response.status, (json.loads(raw) if raw else None)
        except urllib.error.HTTPError as error:
            raw = error.read()
            try:
                return error.code, json.loads(raw)
            except ValueError:
                return error.code, None

    def sign_in(self, username: str, password: str) -> None:
        status, body = self.call("POST", "/auth/login", {"username": username, "password": password})
        assert status == 200, f"API sign-in as {username} failed: {status} {body}"


def wait_until(predicate, timeout: float, interval: float = 0.5, message: str = ""):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutException(message or "condition not met in time")
        time.sleep(interval)
