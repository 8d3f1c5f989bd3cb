"""The bill and the other Glue costs on the dashboard (issue 13), on the sample fleet and its
November billing export: the bill by category with computed beside billed, the jobs whose bill
differs flagged on the jobs grid and on their pages, the crawlers, sessions and endpoint with
their findings; and, without billing data, one line saying where a bill comes from."""

from __future__ import annotations

import csv
import io
import shutil
import sqlite3
import threading

import pytest
from selenium.webdriver.common.by import By
from werkzeug.serving import make_server

from advisor.analysis.bill import priced_up_to
from advisor.analysis.other_costs import costs_by_resource
from advisor.analysis.reconcile import reconcile
from advisor.identity import job_key
from advisor.report.reconcile_cli import period
from advisor.report.resources_cli import resources_report
from advisor.store import Store
from dashboards import bill as billing
from dashboards import figures
from dashboards.app import (
    EXPORTS,
    bill_section,
    create_app,
    export_csv,
    job_page,
    jobs_rows,
    overview,
    resources_section,
)
from dashboards.resources import resource_rows
from tests.browser import chrome, console_errors, grid_cells, wait  # noqa: F401 (fixture)
from tests.test_dashboard import _grids, _ids, open_page

ACCOUNT, REGION = "123456789012", "us-east-1"


def key(name: str) -> str:
    return job_key(ACCOUNT, REGION, name)


@pytest.fixture
def sample(analysed_sample_db):
    store = Store(analysed_sample_db)
    yield store
    store.close()


@pytest.fixture(scope="module")
def unbilled_db(analysed_sample_db, tmp_path_factory):
    """The analysed sample without its billing lines."""
    path = tmp_path_factory.mktemp("unbilled") / "advisor.db"
    shutil.copy(analysed_sample_db, path)
    with sqlite3.connect(path) as db:
        db.execute("delete from billing_lines")
    return str(path)


def _by_category(store: Store) -> dict[str, dict]:
    return {row["category"]: row for row in billing.categories(billing.newest_month(store))}


def test_the_bill_splits_the_newest_month_by_category_with_computed_beside_billed(sample):
    bill = billing.newest_month(sample)
    assert (bill.since, bill.until) == ("2026-11-01", "2026-12-01")
    rows = _by_category(sample)
    assert list(rows) == [
        "job runs",
        "jobs not in the store",
        "crawler",
        "data_catalog",
        "dev_endpoint",
        "interactive_session",
        "Credit",
    ]
    assert rows["job runs"]["difference_usd"] == 1.76
    assert "marketing_attribution +$1.76" in rows["job runs"]["detail"]
    unknown = rows["jobs not in the store"]
    assert unknown["billed_usd"] == 13.20 and unknown["computed_usd"] is None
    assert "legacy_orders_export" in unknown["detail"]
    assert rows["crawler"]["difference_usd"] == 0.55
    assert "raw_events_crawler +$0.55" in rows["crawler"]["detail"]
    assert (
        rows["data_catalog"]["computed_usd"] is None and rows["data_catalog"]["billed_usd"] == 1.5
    )
    assert rows["Credit"] == {
        "category": "Credit",
        "label": "Credit",
        "computed_usd": None,
        "billed_usd": -25.0,
        "difference_usd": None,
        "detail": billing.ADJUSTMENT,
    }
    assert rows["dev_endpoint"]["difference_usd"] == 0.0


def test_the_bill_is_the_reconciliation_advisor_reconcile_prints(sample):
    """The same calls as reconcile_cli: every dollar of its result is in a category."""
    _first, last = sample.billing_days()
    since, until = period(None, None, None, last)
    result = reconcile(
        sample.priced_runs_between(since, until),
        sample.billing_lines_between(since, until),
        {j["name"] for j in sample.jobs()},
        since,
        until,
        (None, None),
        costs_by_resource(sample.resource_usage(), since, until, priced_up_to(until, last)),
    )
    rows = billing.categories(billing.newest_month(sample))
    totals = result["totals"]
    billed = totals["billed_usd"] + totals["other_usd"] + totals["adjustments_usd"]
    assert sum(r["billed_usd"] for r in rows) == pytest.approx(billed, abs=0.05)
    computed = totals["computed_usd"] + totals["other_computed_usd"]
    assert sum(r["computed_usd"] or 0 for r in rows) == pytest.approx(computed, abs=0.05)


def test_jobs_whose_bill_differs_on_a_day_are_flagged(sample):
    rows = {r["job_key"]: r["billed_vs_computed"] for r in jobs_rows(sample)}
    assert rows[key("marketing_attribution")] == 1.76
    flagged = {job for job, usd in rows.items() if usd}
    assert flagged == {key("marketing_attribution")}
    # the rest agree to the cent every day; a job that neither ran nor was billed in the
    # month has nothing to compare ("—")
    idle = {key("legacy_billing_export"), key("legacy_crm_sync")}
    assert all(rows[job] is None for job in idle)
    assert all(usd == 0.0 for job, usd in rows.items() if job not in flagged | idle)
    said, is_flagged = billing.job_line(billing.newest_month(sample), key("marketing_attribution"))
    assert is_flagged and "on 2026-11-12" in said and "(+$1.76)" in said
    said, is_flagged = billing.job_line(billing.newest_month(sample), key("orders_daily_etl"))
    assert not is_flagged and "agrees" in said


def test_a_job_no_bill_covers_shows_a_dash(sample):
    """A job of a place the bill does not cover has no figure ("—"), not $0.00."""
    bill = billing.newest_month(sample)
    bill.billed_places = set()
    assert billing.job_differences(bill) == {}
    assert billing.job_line(bill, key("marketing_attribution")) is None


def test_a_category_from_the_export_is_text_on_the_chart():
    """A line type or category comes from the billing export: plotly shows it, never runs it."""
    row = {"category": "<b>x</b>", "computed_usd": None, "billed_usd": -1.5, "difference_usd": None}
    figure = figures.bill_by_category([row], "2026-11")
    assert {tuple(trace.y) for trace in figure.data} == {("&lt;b&gt;x&lt;/b&gt;",)}
    assert list(figure.data[0].text) == ["-$1.50"]


def test_the_other_glue_costs_are_what_advisor_resources_shows(sample):
    report = resources_report(sample)
    as_of, rows = resource_rows(sample)
    assert as_of == report["as_of"]
    assert [(r["name"], r["cost_30d"]) for r in rows] == [
        (r["name"], round(r["cost_usd_30d"], 2)) for r in report["resources"]
    ]
    endpoint = next(r for r in rows if r["name"] == "legacy-dev-endpoint")
    assert endpoint["kind"] == "development endpoint"
    assert endpoint["findings"] == "critical: Development endpoint left provisioned"
    assert endpoint["saving_month"] == 1606.0
    assert endpoint["fix"].startswith("aws glue delete-dev-endpoint")
    crawler = next(r for r in rows if r["name"] == "orders_crawler")
    assert crawler["findings"] == "" and crawler["saving_month"] is None
    assert resource_rows(sample, frozenset({"999999999999/us-east-1"}))[1] == []


def test_the_overview_grids_export_from_the_store(sample, analysed_sample_db):
    layout = overview(sample)
    ids = _ids(layout)
    assert {"overview-bill", "overview-resources", "overview-bill-chart"} <= ids
    assert {"overview-bill", "overview-resources"} <= {g.id for g in _grids(layout)}
    rows = EXPORTS["overview-bill"].rows(sample, None, None)
    state = [{"colId": "billed_usd", "sort": "asc", "sortIndex": 0}]
    exported = list(csv.DictReader(io.StringIO(export_csv(rows, None, state))))
    assert exported[0]["category"] == "Credit" and float(exported[0]["billed_usd"]) == -25.0
    rows = EXPORTS["overview-resources"].rows(sample, None, None)
    assert {r["name"] for r in rows} >= {"legacy-dev-endpoint", "raw_events_crawler"}


def test_without_billing_data_one_line_says_where_it_comes_from(unbilled_db):
    store = Store(unbilled_db)
    try:
        section = bill_section(store)
        assert [p.children for p in section] == [billing.WHERE_FROM]
        assert section[0].className == "text-muted"
        layout = overview(store)
        assert "overview-bill" not in {g.id for g in _grids(layout)}
        assert "overview-bill-chart" not in _ids(layout)
        assert all(r["billed_vs_computed"] is None for r in jobs_rows(store))
        assert "job-bill" not in _ids(job_page(store, key("marketing_attribution")))
        assert resources_section(store)  # the other costs come from the store, not the bill
    finally:
        store.close()


# ---- in the browser -------------------------------------------------------------------------


def _serve(db: str):
    http = make_server("127.0.0.1", 0, create_app(db).server, threaded=True)
    threading.Thread(target=http.serve_forever, daemon=True).start()
    return http


@pytest.fixture(scope="module")
def billed_server(analysed_sample_db):
    http = _serve(analysed_sample_db)
    yield f"http://127.0.0.1:{http.server_port}"
    http.shutdown()


@pytest.fixture(scope="module")
def unbilled_server(unbilled_db):
    http = _serve(unbilled_db)
    yield f"http://127.0.0.1:{http.server_port}"
    http.shutdown()


def test_the_overview_draws_the_bill_and_the_other_costs(billed_server, chrome):  # noqa: F811
    console_errors(chrome)
    open_page(chrome, billed_server + "/", "#overview-bill .ag-cell")
    bars = chrome.find_elements(By.CSS_SELECTOR, "#overview-bill-chart .main-svg .bars path")
    assert len(bars) >= 7  # billed and computed per category
    labels = [t.text for t in chrome.find_elements(By.CSS_SELECTOR, "#overview-bill-chart .ytick")]
    # the categories as a reader says them, not reconcile's JSON names
    assert {"job runs", "crawlers", "Credit", "development endpoints"} <= set(labels)
    assert not {"crawler", "dev_endpoint", "interactive_session"} & set(labels)
    categories = grid_cells(chrome, "overview-bill", "label")
    billed = dict(zip(categories, grid_cells(chrome, "overview-bill", "billed_usd"), strict=True))
    differences = grid_cells(chrome, "overview-bill", "difference_usd")
    difference = dict(zip(categories, differences, strict=True))
    assert billed["Credit"] == "-$25.00" and billed["jobs not in the store"] == "$13.20"
    assert difference["job runs"] == "+$1.76" and difference["crawlers"] == "+$0.55"
    assert difference["Credit"] == "—"
    wait(chrome, 30).until(lambda d: grid_cells(d, "overview-resources", "name"))
    names = grid_cells(chrome, "overview-resources", "name")
    costs = dict(zip(names, grid_cells(chrome, "overview-resources", "cost_30d"), strict=True))
    assert costs["legacy-dev-endpoint"] == "$1,584.00"  # 30 days x 24 h x 5 DPUs x $0.44
    findings = grid_cells(chrome, "overview-resources", "findings")
    assert "critical: Development endpoint left provisioned" in findings
    assert console_errors(chrome) == []


def test_the_jobs_grid_and_a_flagged_jobs_page_say_where_the_bill_differs(billed_server, chrome):  # noqa: F811
    open_page(chrome, billed_server + "/jobs", "#jobs-table .ag-cell")
    jobs = grid_cells(chrome, "jobs-table", "job")
    shown = dict(zip(jobs, grid_cells(chrome, "jobs-table", "billed_vs_computed"), strict=True))
    assert shown["marketing_attribution"] == "+$1.76"
    assert shown["orders_daily_etl"] == "$0.00"
    headers = [
        h.text for h in chrome.find_elements(By.CSS_SELECTOR, "#jobs-table .ag-header-cell-text")
    ]
    assert "billed vs\ncomputed" in headers or "billed vs computed" in headers
    open_page(chrome, billed_server + "/job/marketing_attribution", "#job-bill")
    line = chrome.find_element(By.ID, "job-bill").text
    assert "2026-11-12" in line and "+$1.76" in line


def test_without_billing_the_overview_says_where_a_bill_comes_from(unbilled_server, chrome):  # noqa: F811
    open_page(chrome, unbilled_server + "/", "#overview-bill-none")
    assert chrome.find_element(By.ID, "overview-bill-none").text == billing.WHERE_FROM
    assert not chrome.find_elements(By.CSS_SELECTOR, "#overview-bill-chart, #overview-bill")
    open_page(chrome, unbilled_server + "/jobs", "#jobs-table .ag-cell")
    assert set(grid_cells(chrome, "jobs-table", "billed_vs_computed")) == {"—"}
