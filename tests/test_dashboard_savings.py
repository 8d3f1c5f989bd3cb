"""Configuration changes on the dashboard (issue 14), on the sample fleet's five changes: each
job page marks its changes on the runtime and cost charts with their realised effect and lists
them; /savings is the ledger of every change, with the realised savings and what changes cost
a month. Each page asks changes_in_store once."""

from __future__ import annotations

import csv
import io
import threading
import time

import pytest
from selenium.webdriver.common.by import By
from werkzeug.serving import make_server

from advisor.analysis.changes import changes_in_store
from advisor.identity import job_key
from advisor.store import Store
from dashboards import changes as config_changes
from dashboards.app import EXPORTS, PAGE_PATHS, create_app, job_page, savings_page, savings_rows
from tests.browser import chrome, console_errors, grid_cells, wait  # noqa: F401 (fixture)
from tests.test_dashboard import CAPTURE_RESPONSES, _grids, click, exported, open_page

ACCOUNT, REGION = "123456789012", "us-east-1"
CHANGED = {
    "product_catalog_sync",
    "ad_impressions_rollup",
    "shipment_tracking_etl",
    "supplier_scorecard_build",
    "pricing_history_rebuild",
}


def key(name: str) -> str:
    return job_key(ACCOUNT, REGION, name)


@pytest.fixture
def sample(analysed_sample_db):
    store = Store(analysed_sample_db)
    yield store
    store.close()


def _figure(component, graph_id: str):
    """The figure of the graph `graph_id` in a page's component tree."""
    if getattr(component, "id", None) == graph_id:
        return component.figure
    children = getattr(component, "children", None)
    for child in children if isinstance(children, list | tuple) else [children]:
        if child is not None and hasattr(child, "to_plotly_json"):
            found = _figure(child, graph_id)
            if found is not None:
                return found
    return None


def test_the_ledger_is_every_change_with_what_it_realised(sample):
    rows = savings_rows(sample)
    assert {r["job"] for r in rows} == CHANGED and len(rows) == 5
    assert [r["changed_at"] for r in rows] == sorted((r["changed_at"] for r in rows), reverse=True)
    by_job = {r["job"]: r for r in rows}
    product = by_job["product_catalog_sync"]
    assert product["changed_at"] == "2026-11-02 10:30"
    assert product["fields"] == "NumberOfWorkers 5 -> 20; WorkerType G.1X -> G.2X"
    assert (product["status"], product["realised_usd_month"]) == ("costing", -92.38)
    assert product["interval"] == "-$98.02 to -$86.74"
    assert (product["realised_low_usd_month"], product["realised_high_usd_month"]) == (
        -98.02,
        -86.74,
    )
    assert (
        product["basis"] == "per run" and by_job["ad_impressions_rollup"]["basis"] == "per GB read"
    )
    # what changes_in_store judged, row for row
    for change in changes_in_store(sample):
        row = by_job[change.as_dict()["job"]]
        assert row["realised_usd_month"] == change.realised_usd_month
        assert row["status"] == change.status.replace("_", " ")
    head = config_changes.ledger_headline(rows)
    judged = [c.as_dict() for c in changes_in_store(sample)]
    assert head["saving_usd_month"] == pytest.approx(
        sum(c["realised_usd_month"] for c in judged if c["status"] == "saving")
    )
    assert head["costing_usd_month"] == pytest.approx(
        sum(c["realised_usd_month"] for c in judged if c["status"] == "costing")
    )
    assert (head["saving_changes"], head["costing_changes"]) == (3, 2)


def test_a_prediction_names_the_finding_or_the_what_if_that_made_it():
    change = {
        "finding": {
            "rule_id": "overprovisioned_workers",
            "title": "Job has more workers than it needs",
            "status": "resolved",
            "predicted_usd_month": 120.0,
            "as_predicted": True,
        },
        "whatif": None,
    }
    assert config_changes.predicted(change) == (
        120.0,
        "overprovisioned_workers: Job has more workers than it needs (resolved, borne out)",
    )
    whatif = {"finding": None, "whatif": {"predicted_usd_month": 40.5, "config": "6 x W"}}
    assert config_changes.predicted(whatif) == (40.5, "the what-if (6 x W)")
    assert config_changes.predicted({"finding": None, "whatif": None}) == (None, "")


def test_a_marks_label_is_the_realised_effect_or_too_early():
    judged = {"status": "costing", "realised_usd_month": -92.38}
    assert config_changes.effect(judged) == "-$92.38/mo, costing"
    assert config_changes.effect({"status": "saving", "realised_usd_month": 51.5}) == (
        "+$51.50/mo, saving"
    )
    assert config_changes.effect({"status": "too_early", "realised_usd_month": None}) == (
        "too early"
    )


def test_a_job_page_marks_its_change_on_the_charts_and_lists_it(sample):
    page = job_page(sample, key("product_catalog_sync"))
    figure = _figure(page, "job-runs")
    labels = [a.text for a in figure.layout.annotations if a.name == "change"]
    assert labels == ["-$92.38/mo, costing"]
    marks = [s for s in figure.layout.shapes if str(s.x0).startswith("2026-11-02 10:30")]
    assert {s.yref for s in marks} == {"y domain", "y2 domain"}  # runtime and cost charts
    text = str(page.to_plotly_json())
    assert "NumberOfWorkers 5 -> 20; WorkerType G.1X -> G.2X. Costing, -$92.38 a month" in text
    unchanged = _figure(job_page(sample, key("orders_daily_etl")), "job-runs")
    assert not [a for a in unchanged.layout.annotations if a.name == "change"]


def test_each_page_asks_for_the_changes_once(sample, monkeypatch):
    calls = []

    def counted(store, jobs=None, since=None):
        calls.append(jobs)
        return changes_in_store(store, jobs, since)

    monkeypatch.setattr(config_changes, "changes_in_store", counted)
    savings_page(sample)
    assert calls == [None]
    calls.clear()
    job_page(sample, key("product_catalog_sync"))
    assert calls == [[key("product_catalog_sync")]]


def test_the_savings_page_is_a_page_with_an_exportable_grid(sample):
    assert "/savings" in PAGE_PATHS
    assert [g.id for g in _grids(savings_page(sample))] == ["savings-table"]
    assert EXPORTS["savings-table"].dropdowns == ("savings-account", "savings-region")
    rows = EXPORTS["savings-table"].rows(sample, None, None)
    assert len(rows) == 5
    assert EXPORTS["savings-table"].rows(sample, ["999999999999"], None) == []


# ---- in the browser -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(analysed_sample_db):
    http = make_server("127.0.0.1", 0, create_app(analysed_sample_db).server, threaded=True)
    threading.Thread(target=http.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{http.server_port}"
    http.shutdown()


def test_the_savings_page_shows_the_ledger_and_its_headline(server, chrome):  # noqa: F811
    console_errors(chrome)
    open_page(chrome, server + "/", "#overview-summary")
    chrome.find_element(By.LINK_TEXT, "Savings").click()
    wait(chrome, 30).until(lambda d: grid_cells(d, "savings-table", "job"))
    assert chrome.current_url.endswith("/savings")
    assert chrome.find_element(By.ID, "kpi-saved").text == "+$131.56/month"  # 49.84+65.10+16.62
    assert chrome.find_element(By.ID, "kpi-changes-cost").text == "-$132.02/month"
    jobs = grid_cells(chrome, "savings-table", "job")
    assert set(jobs) == CHANGED
    realised = dict(
        zip(jobs, grid_cells(chrome, "savings-table", "realised_usd_month"), strict=True)
    )
    assert realised["product_catalog_sync"] == "-$92.38"
    assert realised["shipment_tracking_etl"] == "+$65.10"
    assert set(grid_cells(chrome, "savings-table", "predicted_usd_month")) == {"—"}
    chrome.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "deny"})
    try:
        chrome.execute_script(CAPTURE_RESPONSES)
        click(
            chrome,
            "#savings-table .ag-header-cell[col-id=realised_usd_month] .ag-header-cell-label",
        )
        wait(chrome, 30).until(
            lambda d: grid_cells(d, "savings-table", "realised_usd_month")[0] == "-$92.38"
        )
        time.sleep(0.5)  # the grid reports its sort to Dash
        download = exported(chrome, "savings-table")
    finally:
        chrome.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "default"})
    assert download["filename"] == "glue-advisor-changes.csv"
    rows = list(csv.DictReader(io.StringIO(download["content"])))
    assert [r["job"] for r in rows] == grid_cells(chrome, "savings-table", "job")
    assert [float(r["realised_usd_month"]) for r in rows] == sorted(
        float(r["realised_usd_month"]) for r in rows
    )
    assert console_errors(chrome) == []
    # a job cell opens its page, its change marked on the chart and listed under it
    cell = next(
        c
        for c in chrome.find_elements(By.CSS_SELECTOR, "#savings-table .ag-cell[col-id=job]")
        if c.text == "product_catalog_sync"
    )
    cell.click()
    wait(chrome, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#job-runs .annotation"))
    assert chrome.current_url.endswith(f"/job/{ACCOUNT}/{REGION}/product_catalog_sync")
    notes = [a.text for a in chrome.find_elements(By.CSS_SELECTOR, "#job-runs .annotation")]
    assert "-$92.38/mo, costing" in notes
    [item] = chrome.find_elements(By.CSS_SELECTOR, "#job-changes li")
    assert item.text.startswith("2026-11-02 10:30 UTC: NumberOfWorkers 5 -> 20")
