"""The Dash app on the sample fleet, in headless Chromium: every page, a click, a filter, and a
job whose name is an HTML injection."""

from __future__ import annotations

import json
import shutil
import threading
import time
from urllib.parse import quote

import pytest
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait
from werkzeug.serving import make_server

from advisor.analysis.findings import analyze
from advisor.collect.importer import import_directory
from advisor.store import Store
from dashboards.app import create_app, filter_findings
from dashboards.data import findings as findings_frame
from tests.browser import chrome, console_errors  # noqa: F401 (fixture)
from tests.conftest import SAMPLE

EVIL = "<img src=x onerror=alert(1)>"


def _add_evil_job(fleet) -> None:
    """A copy of one sample job under a name that is an HTML injection."""
    jobs = json.loads((fleet / "jobs.json").read_text())
    source = next(j for j in jobs["Jobs"] if j["Name"] == "orders_daily_etl")
    jobs["Jobs"].append({**source, "Name": EVIL})
    (fleet / "jobs.json").write_text(json.dumps(jobs))
    runs = json.loads((fleet / "job-runs" / "orders_daily_etl.json").read_text())
    copied = [{**r, "Id": r["Id"] + "_evil", "JobName": EVIL} for r in runs["JobRuns"]]
    (fleet / "job-runs" / "evil.json").write_text(json.dumps({"JobRuns": copied}))


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("dash")
    fleet = root / "fleet"
    shutil.copytree(SAMPLE, fleet, ignore=shutil.ignore_patterns("eventlogs"))
    _add_evil_job(fleet)
    store = Store(root / "advisor.db")
    import_directory(store, fleet)
    analyze(store)
    store.close()
    app = create_app(root / "advisor.db")
    http = make_server("127.0.0.1", 0, app.server, threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{http.server_port}", root / "advisor.db"
    http.shutdown()


def open_page(chrome, url: str, ready_css: str) -> None:  # noqa: F811
    chrome.get(url)
    WebDriverWait(chrome, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, ready_css))


def table_rows(chrome, table_id: str) -> list:  # noqa: F811
    return chrome.find_elements(By.CSS_SELECTOR, f"#{table_id} tr td:first-child")


def test_every_page_loads_with_data_and_no_console_errors(server, chrome):  # noqa: F811
    base, db = server
    store = Store(db)
    pages = {
        "/": "#overview-cost .main-svg .bars",
        "/jobs": "#jobs-table td",
        "/job/marketing_attribution": "#job-runs .main-svg .scatterlayer",
        "/findings": "#findings-table td",
    }
    for path, ready in pages.items():
        console_errors(chrome)  # drop what came before
        open_page(chrome, base + path, ready)
        assert console_errors(chrome) == [], path
    open_page(chrome, base + "/", "#kpi-week")
    week = chrome.find_element(By.ID, "kpi-week").text
    assert week.startswith("$") and week != "$0.00"
    open_page(chrome, base + "/jobs", "#jobs-table td")
    assert chrome.find_element(By.CSS_SELECTOR, "#jobs-table").text.count("marketing_attribution")
    open_page(chrome, base + "/job/marketing_attribution", ".finding-card")
    titles = chrome.find_elements(By.CSS_SELECTOR, ".finding-card h5")
    assert len(titles) == len(store.open_findings("marketing_attribution"))


def test_a_click_on_a_job_opens_its_page(server, chrome):  # noqa: F811
    base, _ = server
    open_page(chrome, base + "/jobs", "#jobs-table td")
    cell = next(
        c
        for c in chrome.find_elements(By.CSS_SELECTOR, "#jobs-table td[data-dash-column=job]")
        if c.text == "marketing_attribution"
    )
    cell.click()
    WebDriverWait(chrome, 30).until(lambda d: d.current_url.endswith("/job/marketing_attribution"))
    WebDriverWait(chrome, 30).until(
        lambda d: (
            d.find_elements(By.ID, "job-title")
            and d.find_element(By.ID, "job-title").text == "marketing_attribution"
        )
    )


def test_a_filter_narrows_the_findings(server, chrome):  # noqa: F811
    base, db = server
    open_page(chrome, base + "/findings", "#findings-table td")
    everything = findings_frame(Store(db))
    total = chrome.find_element(By.ID, "findings-count").text
    assert total == f"{len(everything)} findings"
    chrome.find_element(By.ID, "filter-severity").click()
    search = chrome.switch_to.active_element  # the dropdown's search box, in its pop-over
    search.send_keys("high")
    option = WebDriverWait(chrome, 10).until(
        lambda d: [o for o in d.find_elements(By.CSS_SELECTOR, "[role=option]") if o.text == "high"]
    )[0]
    option.click()
    chrome.switch_to.active_element.send_keys(Keys.ESCAPE)
    expected = len(filter_findings(everything, {"severity": ["high"]}))
    assert 0 < expected < len(everything)
    WebDriverWait(chrome, 30).until(
        lambda d: d.find_element(By.ID, "findings-count").text == f"{expected} findings"
    )
    severities = {
        c.text
        for c in chrome.find_elements(
            By.CSS_SELECTOR, "#findings-table td[data-dash-column=severity]"
        )
    }
    assert severities == {"high"}


def test_an_html_job_name_is_shown_as_text_and_runs_nothing(server, chrome):  # noqa: F811
    base, _ = server
    open_page(chrome, base + "/jobs", "#jobs-table td")
    cells = [
        c.text
        for c in chrome.find_elements(By.CSS_SELECTOR, "#jobs-table td[data-dash-column=job]")
    ]
    if EVIL not in cells:  # not on the first page: filter the table to it
        box = chrome.find_element(By.CSS_SELECTOR, "#jobs-table th[data-dash-column=job] input")
        box.send_keys("img")
        box.send_keys(Keys.ENTER)
        time.sleep(1)
        cells = [
            c.text
            for c in chrome.find_elements(By.CSS_SELECTOR, "#jobs-table td[data-dash-column=job]")
        ]
    assert EVIL in cells
    assert chrome.find_elements(By.CSS_SELECTOR, "img[src=x]") == []
    open_page(chrome, base + "/job/" + quote(EVIL, safe=""), "#job-title")
    assert chrome.find_element(By.ID, "job-title").text == EVIL
    assert chrome.find_elements(By.CSS_SELECTOR, "img[src=x]") == []
    with pytest.raises(NoAlertPresentException):
        chrome.switch_to.alert.text  # noqa: B018
    assert console_errors(chrome) == []


def test_findings_export_is_the_filtered_table(server):
    _, db = server
    everything = findings_frame(Store(db))
    high = filter_findings(everything, {"severity": ["high"], "status": None})
    assert set(high["severity"]) == {"high"}
    assert filter_findings(everything, {"severity": None}).equals(everything)


@pytest.fixture(scope="module")
def sim_server(tmp_path_factory):
    """A one-job store whose job ran with a real event log of its own configuration."""
    from advisor.analysis.whatif import load_eventlog_model
    from tests.test_whatif import _fleet_with_log, log_of

    root = tmp_path_factory.mktemp("dash-sim")
    log = log_of("wide_shuffle", 4)
    _fleet_with_log(root / "fleet", log, load_eventlog_model(log).duration_ms / 1000)
    store = Store(root / "advisor.db")
    import_directory(store, root / "fleet")
    analyze(store)
    store.close()
    http = make_server("127.0.0.1", 0, create_app(root / "advisor.db").server, threaded=True)
    threading.Thread(target=http.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{http.server_port}"
    http.shutdown()


def test_the_job_page_shows_a_trusted_what_if_frontier(sim_server, chrome):  # noqa: F811
    console_errors(chrome)
    open_page(chrome, sim_server + "/job/sim_job", "#job-whatif .main-svg")
    labels = chrome.find_element(By.ID, "job-whatif").text
    assert "now: 2 x G.1X" in labels
    assert console_errors(chrome) == []
