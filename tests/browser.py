"""Headless Chromium (Debian's chromium + chromium-driver) driven by Selenium, for the report and
dashboard tests. Without the browser the tests skip, unless ADVISOR_REQUIRE_BROWSER is set (CI
sets it, so a missing browser fails there instead of passing silently)."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")


def _missing(reason: str) -> None:
    if os.environ.get("ADVISOR_REQUIRE_BROWSER"):
        pytest.fail(f"{reason}, and ADVISOR_REQUIRE_BROWSER is set")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def chrome() -> Iterator[Any]:
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        _missing("selenium is not installed")
    if not CHROMIUM or not CHROMEDRIVER:
        _missing(
            "chromium and chromedriver are not installed (apt-get install chromium chromium-driver)"
        )
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-dev-shm-usage",
        "--window-size=1400,1000",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def console_errors(driver: Any) -> list[dict[str, Any]]:
    return [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def requested_urls(driver: Any) -> list[str]:
    """Every URL the page asked for since the last call (from Chrome's performance log)."""
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def wait(driver: Any, timeout: float = 30) -> Any:
    """A WebDriverWait that reads again when Dash redraws what it was reading: a stale element
    is a page still settling, not a failure."""
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout, ignored_exceptions=(StaleElementReferenceException,))


def grid_cells(driver: Any, grid: str, column: str) -> list[str]:
    """The text of an AG Grid column's cells (`column` is its field), in the order the grid
    shows its rows (by row-index: AG Grid need not keep its row elements in that order), read
    at once (Dash redraws a grid at will)."""
    return driver.execute_script(
        "return Array.from(document.querySelectorAll(`#${arguments[0]} .ag-row`))"
        ".sort((a, b) => a.getAttribute('row-index') - b.getAttribute('row-index'))"
        ".map(r => r.querySelector(`.ag-cell[col-id='${arguments[1]}']`))"
        ".filter(c => c).map(c => (c.innerText ?? c.textContent).trim())",
        grid,
        column,
    )


def grid_headers(driver: Any, grid: str) -> list[str]:
    """The header texts of an AG Grid, left to right."""
    return driver.execute_script(
        "return Array.from(document.querySelectorAll(`#${arguments[0]} .ag-header-cell-text`),"
        " e => (e.innerText ?? e.textContent).trim())",
        grid,
    )


def text_lines(driver: Any, css: str) -> list[tuple[str, int]]:
    """For each element `css` selects: its text and on how many lines the browser laid it out
    (the distinct tops of its text's line boxes), read at once."""
    return [
        (text, lines)
        for text, lines in driver.execute_script(
            "return Array.from(document.querySelectorAll(arguments[0]), e => {"
            "  const walk = document.createTreeWalker(e, NodeFilter.SHOW_TEXT), tops = [];"
            "  for (let n = walk.nextNode(); n; n = walk.nextNode()) {"
            "    const r = document.createRange(); r.selectNodeContents(n);"
            "    for (const box of r.getClientRects()) if (box.width) tops.push(box.top);"
            "  }"
            "  tops.sort((a, b) => a - b);"
            "  const lines = tops.filter((t, i) => i === 0 || t - tops[i - 1] > 3).length;"
            "  return [(e.innerText ?? e.textContent).trim(), lines];"
            "})",
            css,
        )
    ]


def boxes(driver: Any, css: str) -> list[dict[str, float]]:
    """The bounding box (left, top, right, bottom, width, height, text) of each element `css`
    selects, read at once."""
    return driver.execute_script(
        "return Array.from(document.querySelectorAll(arguments[0]), e => ({"
        "...e.getBoundingClientRect().toJSON(), text: (e.textContent || '').trim()}))",
        css,
    )


def overlap(a: dict[str, float], b: dict[str, float]) -> bool:
    """Whether two boxes share any area."""
    return not (
        a["right"] <= b["left"]
        or b["right"] <= a["left"]
        or a["bottom"] <= b["top"]
        or b["bottom"] <= a["top"]
    )
