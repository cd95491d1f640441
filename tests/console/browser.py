"""Debian's Chromium driven by Selenium: headless, offline, a fresh profile, every console message kept.

``scripts/test`` installs ``chromium`` and ``chromium-driver``; without them the browser tests are
skipped, unless ``BILLRUN_CONNECTOR_REQUIRE_BROWSER`` is set (as ``scripts/test`` sets it), where a
missing browser fails them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
REQUIRE_ENV = "BILLRUN_CONNECTOR_REQUIRE_BROWSER"
WINDOW = (1280, 860)
FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
    "--disable-default-apps",
    "--disable-extensions",
    "--hide-scrollbars",
)


def require_browser() -> None:
    """Skip (or, where the browser is required, fail) when Chromium or its driver is missing."""
    missing = [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not path.exists()]
    if not missing:
        return
    message = f"{', '.join(missing)} missing: apt-get install chromium chromium-driver (scripts/test does)"
    if os.environ.get(REQUIRE_ENV):
        pytest.fail(message)
    pytest.skip(message)


def chromium(profile: Path, log_file: Path) -> webdriver.Chrome:
    """A headless Chromium with a fresh profile in *profile*, its driver logging to *log_file*.

    The driver's path is given, so Selenium Manager never looks for (or downloads) one.
    """
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*FLAGS, f"--user-data-dir={profile}", f"--window-size={WINDOW[0]},{WINDOW[1]}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = Service(executable_path=str(CHROMEDRIVER), log_output=str(log_file))
    driver = webdriver.Chrome(options=options, service=service)
    driver.set_page_load_timeout(30)
    driver.set_script_timeout(10)
    return driver


def console_messages(driver: webdriver.Chrome) -> list[dict[str, Any]]:
    """What the page logged to the browser console since the last call (errors, CSP refusals, ...)."""
    return list(driver.get_log("browser"))
