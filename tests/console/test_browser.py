"""The console in a real Chromium against a real connector (``billrun-connector serve`` with its
in-process worker) on loopback: sign in, subscribe a local receiver, fire an event and see it
delivered, see a failing delivery and retry it, revoke a key, sign out; the browser console stays
free of errors throughout. Each page is photographed (``BILLRUN_CONNECTOR_SCREENSHOTS`` names the
folder; ``scripts/screenshots`` refreshes the pictures kept in docs/images)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
import standardwebhooks
from delivery.receiver import Received, Receiver, Reply
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException, WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from connector.catalog import get_catalog

from .browser import chromium, console_messages, require_browser

pytestmark = pytest.mark.slow

CLI = [sys.executable, "-c", "from connector.cli import main; main()"]
SCREENSHOTS_ENV = "BILLRUN_CONNECTOR_SCREENSHOTS"
WAIT = 20.0  # seconds any one thing may take to show up
TRAFFIC = ("accounts.create", "subscribers.update", "subscribers.update", "bills.afterChargeSuccess", "plans.create")


@dataclass
class Connector:
    url: str
    env: dict[str, str]

    def cli(self, *args: str) -> str:
        done = subprocess.run([*CLI, *args], env=self.env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        return done.stdout


@pytest.fixture
def connector(tmp_path: Path, serve_cli: Callable[[dict[str, str]], str]) -> Connector:
    """``billrun-connector serve`` on a free loopback port, with a two-attempt retry schedule."""
    env = {
        **os.environ,
        "BILLRUN_CONNECTOR_DATABASE_URL": f"sqlite:///{tmp_path / 'connector.db'}",
        "BILLRUN_CONNECTOR_ALLOWED_NETWORKS": "127.0.0.0/8",
        "BILLRUN_CONNECTOR_RETRY_SCHEDULE": "0,0.5",
        "BILLRUN_CONNECTOR_SECRET_KEY": "browser-test-secret",
    }
    return Connector(serve_cli(env), env)


@dataclass
class Browser:
    driver: WebDriver
    base: str
    shots: Path
    messages: list[dict[str, Any]] = field(default_factory=list)

    def open(self, path: str) -> None:
        self.driver.get(self.base + path)
        self.collect()

    def collect(self) -> None:
        self.messages += console_messages(self.driver)

    def find(self, css: str) -> Any:
        return WebDriverWait(self.driver, WAIT).until(
            expected_conditions.presence_of_element_located((By.CSS_SELECTOR, css))
        )

    def click(self, css: str) -> None:
        self.find(css).click()
        self.collect()

    def text(self) -> str:
        """The page's text; empty while the page is being replaced by the next one."""
        try:
            return str(self.driver.find_element(By.TAG_NAME, "body").text)
        except (StaleElementReferenceException, NoSuchElementException):
            return ""
        except WebDriverException as exc:  # Chromium's word for the same race, now and then
            if "does not belong to the document" in str(exc):
                return ""
            raise

    def wait_text(self, text: str, reload: bool = False) -> None:
        """Until the page shows *text*; with *reload*, reloading the page twice a second meanwhile."""
        deadline = time.monotonic() + WAIT
        while text not in self.text():
            assert time.monotonic() < deadline, f"{text!r} not shown on {self.driver.current_url}:\n{self.text()}"
            time.sleep(0.5)
            if reload:
                self.driver.refresh()
        self.collect()

    def shot(self, name: str) -> None:
        self.collect()
        self.driver.save_screenshot(str(self.shots / f"{name}.png"))

    def confirm(self) -> None:
        """Accept the page's confirm() dialog."""
        WebDriverWait(self.driver, WAIT).until(expected_conditions.alert_is_present()).accept()


@pytest.fixture
def browser(tmp_path: Path, connector: Connector) -> Iterator[Browser]:
    require_browser()
    shots = Path(os.environ.get(SCREENSHOTS_ENV) or tmp_path / "screenshots")
    shots.mkdir(parents=True, exist_ok=True)
    driver = chromium(tmp_path / "profile", tmp_path / "chromedriver.log")
    try:
        yield Browser(driver, connector.url, shots)
    finally:
        driver.quit()


class Switch:
    """The receiver's answers: 200 for /ok; 503 for /flaky until it is healed."""

    def __init__(self) -> None:
        self.healed = False

    def __call__(self, request: Received) -> Reply:
        if request.path.endswith("/flaky") and not self.healed:
            return Reply(503, body=b"maintenance window")
        return Reply(200, body=b"thanks")


def _publish_traffic(connector: Connector, key: str) -> None:
    """A few events of several types through the integrator API, for the overview's chart."""
    catalog = get_catalog()
    for event_type in TRAFFIC:
        answer = requests.post(
            f"{connector.url}/api/v1/events",
            json={"type": event_type, "data": catalog.samples(event_type)[0]["data"]},
            headers={"Authorization": f"Bearer {key}"},
            timeout=30,
        )
        assert answer.status_code == 202, answer.text


def _subscribe(browser: Browser, target: str, filter_words: str, event_type: str) -> str:
    """Create a subscription of *target* to *event_type* through the form; returns its secret."""
    browser.open("/subscriptions")
    browser.click("#new-subscription")
    browser.find("#target_url").send_keys(target)
    browser.find(".picker-filter").send_keys(filter_words)  # the picker's filter (console.js)
    box = browser.find(f"input[name=events][value='{event_type}']")
    assert box.is_displayed()
    hidden = browser.driver.find_elements(By.CSS_SELECTOR, ".picker li[hidden]")
    assert hidden, "the filter hid nothing"
    box.click()
    browser.click("#subscription-form button[type=submit]")
    browser.wait_text("Signing secret")
    return str(browser.find("#secret").text)


def test_console_end_to_end_in_chromium(connector: Connector, browser: Browser, tmp_path: Path) -> None:
    switch = Switch()
    receiver = Receiver(switch)
    try:
        key = connector.cli("keys", "create", "--tenant", "acme", "--label", "operator").strip().splitlines()[-1]
        other = connector.cli("keys", "create", "--tenant", "acme", "--label", "zapier").strip().splitlines()[-1]

        # Sign in: the console sends a stranger to the sign-in page first.
        browser.open("/")
        browser.find("#api_key")
        browser.shot("sign-in")
        browser.find("#api_key").send_keys(key)
        browser.click(".signin button[type=submit]")
        browser.wait_text("Overview")

        # A subscription to a local receiver, made in the form; then an event fired as BillRun would.
        ok_url = receiver.url.replace("/hook", "/ok")
        secret = _subscribe(browser, ok_url, "subscriber updated", "subscribers.update")
        browser.shot("subscription-created")
        assert secret.startswith("whsec_")
        browser.open("/ingest-urls")
        browser.click("#ingest-form button[type=submit]")
        ingest_url = browser.find("#ingest-url").text
        assert "webhook_action=${pair#*/}" in browser.find("#commands").text
        browser.shot("ingest-urls")
        connector.cli("fire", "subscribers.update", "--url", ingest_url)
        (delivered,) = receiver.wait_for(1, timeout=WAIT)
        envelope = standardwebhooks.Webhook(secret).verify(delivered.body, delivered.headers)
        assert envelope["type"] == "subscribers.update"

        # The delivery log shows it delivered, with its attempt.
        browser.open("/deliveries")
        browser.wait_text("succeeded", reload=True)
        browser.shot("deliveries")
        browser.click("table.deliveries tbody a")
        browser.wait_text("HTTP 200")
        assert envelope["id"] in browser.text()
        browser.shot("delivery-succeeded")

        # A failing endpoint: a test event fails twice (the retry schedule here has two attempts).
        _subscribe(browser, receiver.url.replace("/hook", "/flaky"), "subscriber updated", "subscribers.update")
        browser.click("#send-test")
        browser.wait_text("queued for this subscription")
        browser.open("/deliveries?status=failed")
        browser.wait_text("HTTP 503", reload=True)
        browser.click("table.deliveries tbody a")
        browser.wait_text("maintenance window")
        browser.shot("delivery-failed")
        assert "failed" in browser.find("h1").text
        delivery_page = browser.driver.current_url

        # The overview: the failing endpoint, and the last day's events per type.
        _publish_traffic(connector, key)
        browser.open("/")
        browser.find("svg.chart rect.bar")
        assert "/flaky" in browser.text()
        browser.wait_text("0 due now", reload=True)  # the traffic's deliveries were all attempted
        browser.shot("overview")

        # Retry it once the endpoint is back.
        switch.healed = True
        browser.driver.get(delivery_page)
        browser.click("#retry")
        browser.wait_text("Retry queued")
        browser.wait_text("succeeded", reload=True)
        assert "HTTP 200" in browser.text()

        # The events and the samples.
        browser.open("/events")
        browser.click("table.list tbody a")
        browser.wait_text("Normalised payload")
        browser.shot("event")
        browser.open("/samples?type=subscribers.trackchanges")
        browser.wait_text("Any Subscriber Change")
        browser.shot("samples")
        browser.open("/subscriptions")
        browser.shot("subscriptions")

        # Revoke the zapier key; the API refuses it from then on.
        assert requests.get(f"{connector.url}/api/v1/me", headers={"X-API-Key": other}, timeout=30).ok
        browser.open("/keys")
        browser.find("#keys tbody tr")
        row = next(r for r in browser.driver.find_elements(By.CSS_SELECTOR, "#keys tbody tr") if "zapier" in r.text)
        row.find_element(By.CSS_SELECTOR, "button.danger").click()
        browser.confirm()
        browser.wait_text("revoked: requests with it are refused")
        browser.shot("keys")
        refused = requests.get(f"{connector.url}/api/v1/me", headers={"X-API-Key": other}, timeout=30)
        assert refused.status_code == 401

        # Sign out: the console asks for a key again.
        browser.click("#sign-out")
        browser.wait_text("Signed out.")
        browser.open("/deliveries")
        browser.find("#api_key")
    finally:
        receiver.close()

    errors = [entry for entry in browser.messages if entry.get("level") in ("SEVERE", "WARNING")]
    assert not errors, errors
