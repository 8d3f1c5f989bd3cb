"""The Dash app on a store holding the same jobs in three places (the sample fleet imported as
account 123456789012 in us-east-1, again in eu-west-1, and again as account 210987654321), in
headless Chromium: cost by place, the account and region filters, each copy of a job in the
jobs table, job pages by place, and a name several places share listed, never guessed. Job
names with '/', spaces, unicode, markup and a spreadsheet formula open by URL and stay text."""

from __future__ import annotations

import csv
import io
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from urllib.parse import quote, unquote, urlparse

import orjson
import pytest
from selenium.common.exceptions import (
    ElementClickInterceptedException,
    NoAlertPresentException,
    StaleElementReferenceException,
)
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait
from werkzeug.serving import make_server

from advisor.identity import job_key
from advisor.report.labels import money
from advisor.store import Store
from dashboards.app import create_app, filter_findings, findings_csv, job_href
from dashboards.data import findings as findings_frame
from tests.browser import (  # noqa: F401 (fixture)
    chrome,
    console_errors,
    grid_cells,
    grid_headers,
    text_lines,
    wait,
)
from tests.conftest import ROOT, SAMPLE
from tests.test_dashboard import CAPTURE_RESPONSES, exported

HOME, EU = ("123456789012", "us-east-1"), ("123456789012", "eu-west-1")
OTHER = ("210987654321", "us-east-1")
# in us-east-1 and eu-west-1 of account 123456789012: markup, a '/', spaces and unicode
SHARED_ODD = "<script>window.pwned=1</script> nightly/ünïcode job"
# in us-east-1 only: a spreadsheet formula, a '/', spaces and unicode
FORMULA = '=HYPERLINK("http://evil.example","x") team/é job'


def _odd_fleet(folder, names: list[str]) -> None:
    """An export of copies of orders_daily_etl under `names` (their runs too)."""
    jobs = orjson.loads((SAMPLE / "jobs.json").read_bytes())
    source = next(j for j in jobs["Jobs"] if j["Name"] == "orders_daily_etl")
    runs = orjson.loads((SAMPLE / "job-runs" / "orders_daily_etl.json").read_bytes())["JobRuns"]
    (folder / "job-runs").mkdir(parents=True)
    (folder / "jobs.json").write_bytes(
        orjson.dumps({"Jobs": [{**source, "Name": name} for name in names]})
    )
    for index, name in enumerate(names):
        copied = [{**r, "Id": f"{r['Id']}_{index}", "JobName": name} for r in runs]
        (folder / "job-runs" / f"odd{index}.json").write_bytes(orjson.dumps({"JobRuns": copied}))


def _advisor(*args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "advisor", *args], check=True, cwd=ROOT, capture_output=True
    )


@pytest.fixture(scope="module")
def places(tmp_path_factory):
    root = tmp_path_factory.mktemp("dash-places")
    db = str(root / "advisor.db")
    shared, single = root / "shared", root / "single"
    _odd_fleet(shared, [SHARED_ODD])
    _odd_fleet(single, [FORMULA])
    _advisor("import", str(SAMPLE), "--db", db)
    _advisor("import", str(SAMPLE), "--db", db, "--region", "eu-west-1")
    _advisor("import", str(SAMPLE), "--db", db, "--account", "210987654321")
    _advisor("import", str(shared), "--db", db)
    _advisor("import", str(shared), "--db", db, "--region", "eu-west-1")
    _advisor("import", str(single), "--db", db)
    _advisor("analyze", "--db", db)
    http = make_server("127.0.0.1", 0, create_app(db).server, threaded=True)
    threading.Thread(target=http.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{http.server_port}", db
    http.shutdown()
    shutil.rmtree(root, ignore_errors=True)


def key(place: tuple[str, str], name: str) -> str:
    return job_key(*place, name)


def open_page(chrome, url: str, ready_css: str) -> None:  # noqa: F811
    chrome.get(url)
    wait(chrome, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, ready_css))


def texts(chrome, css: str) -> list[str]:  # noqa: F811
    """The text of every element `css` selects, read at once (Dash redraws them at will)."""
    return chrome.execute_script(
        "return Array.from(document.querySelectorAll(arguments[0]), "
        "e => (e.innerText ?? e.textContent).trim())",
        css,
    )


def cells(chrome, table: str, column: str) -> list[str]:  # noqa: F811
    return grid_cells(chrome, table, column)


def first_cell(table: str, column: str) -> str:
    """The CSS of a grid's first shown cell of `column`."""
    return f"#{table} .ag-row[row-index='0'] .ag-cell[col-id={column}]"


def filter_box(table: str, column: str) -> str:
    """The CSS of the filter box under a grid column's header."""
    return f"#{table} .ag-floating-filter[col-id={column}] input"


def traces(chrome, graph: str) -> list[str]:  # noqa: F811
    """The names of a chart's traces."""
    return chrome.execute_script(
        "const p = document.querySelector(`#${arguments[0]} .js-plotly-plot`);"
        "return p && p.data ? p.data.map(t => t.name) : [];",
        graph,
    )


def places_shown(chrome, table: str) -> list[tuple[str, str]]:  # noqa: F811
    accounts, regions = cells(chrome, table, "account"), cells(chrome, table, "region")
    return list(zip(accounts, regions, strict=True))


def click(chrome, css: str) -> None:  # noqa: F811
    """Click the first element `css` selects once it is in view and nothing covers it (a chart
    may still be settling, and Dash redraws a table's cells as the page moves)."""

    def attempt(driver) -> bool:
        element = driver.find_element(By.CSS_SELECTOR, css)
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
        element.click()
        return True

    WebDriverWait(
        chrome,
        10,
        ignored_exceptions=(ElementClickInterceptedException, StaleElementReferenceException),
    ).until(attempt)


def choose(chrome, dropdown: str, value: str) -> None:  # noqa: F811
    """Pick `value` in a (multi) dropdown, as a user would."""
    chrome.find_element(By.ID, dropdown).click()
    chrome.switch_to.active_element.send_keys(value)
    option = wait(chrome, 10).until(
        lambda d: [o for o in d.find_elements(By.CSS_SELECTOR, "[role=option]") if o.text == value]
    )[0]
    option.click()
    chrome.switch_to.active_element.send_keys(Keys.ESCAPE)


def window_cost(db: str, days: int, place: tuple[str, str] | None = None) -> str:
    """The cost of the last `days` days (of one place) as the overview prints it, read from
    daily_costs here rather than through the app."""
    with sqlite3.connect(db) as conn:
        newest = conn.execute("select max(day) from daily_costs").fetchone()[0]
        where, params = "day > date(?, ?)", [newest, f"-{days} days"]
        if place:
            where += " and job_name like ?"
            params.append("/".join(place) + "/%")
        usd, unpriced, runs = conn.execute(
            "select coalesce(sum(usd), 0), coalesce(sum(unpriced_runs), 0), sum(runs) "
            f"from daily_costs where {where}",
            params,
        ).fetchone()
    return money(usd if unpriced < runs else None, unpriced)


def test_the_overview_breaks_cost_down_by_place_and_filters_to_a_region(places, chrome):  # noqa: F811
    base, db = places
    console_errors(chrome)
    open_page(chrome, base + "/", "#overview-places .ag-cell")
    rows = places_shown(chrome, "overview-places")
    assert sorted(rows) == sorted([HOME, EU, OTHER])
    # each place's 30 days, as daily_costs has them
    by_place = dict(zip(rows, cells(chrome, "overview-places", "cost_30d"), strict=True))
    for place in (HOME, EU, OTHER):
        assert by_place[place] == window_cost(db, 30, place).split(" + ")[0], place
    assert chrome.find_element(By.ID, "kpi-week").text == window_cost(db, 7)
    assert chrome.find_element(By.ID, "overview-region").is_displayed()
    assert chrome.find_element(By.ID, "overview-account").is_displayed()
    everywhere = chrome.find_element(By.ID, "kpi-month").text
    for table in ("overview-places", "overview-savings"):  # an account id is never broken
        shown = text_lines(chrome, f"#{table} .ag-cell[col-id=account]")
        assert shown and not [c for c in shown if c[1] != 1], (table, shown)

    choose(chrome, "overview-region", "eu-west-1")
    week = window_cost(db, 7, EU)
    assert week != window_cost(db, 7)
    wait(chrome, 30).until(lambda d: d.find_element(By.ID, "kpi-week").text == week)
    month = window_cost(db, 30, EU)
    assert month != everywhere
    wait(chrome, 30).until(lambda d: d.find_element(By.ID, "kpi-month").text == month)
    # every table and chart of the page is of eu-west-1 only, and so are their exports
    wait(chrome, 30).until(lambda d: cells(d, "overview-places", "region") == ["eu-west-1"])
    assert set(cells(chrome, "overview-savings", "region")) == {"eu-west-1"}
    chrome.execute_script(CAPTURE_RESPONSES)
    chrome.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "deny"})
    try:
        for grid in ("overview-places", "overview-savings"):
            download = exported(chrome, grid)
            rows = list(csv.DictReader(io.StringIO(download["content"])))
            assert rows and {r["region"] for r in rows} == {"eu-west-1"}, grid
            assert len(rows) == len(cells(chrome, grid, "region")), grid
    finally:
        chrome.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "default"})
    wait(chrome, 30).until(
        lambda d: (
            (names := traces(d, "overview-cost"))
            and all(n == "other" or n.startswith("123456789012/eu-west-1/") for n in names)
        )
    )
    # the cost chart splits by place too
    chrome.find_element(By.CSS_SELECTOR, "#overview-by input[value=place]").click()
    wait(chrome, 30).until(lambda d: traces(d, "overview-cost") == ["123456789012/eu-west-1"])
    assert console_errors(chrome) == []
    # a top saving's job opens that job, by its place
    job = cells(chrome, "overview-savings", "job")[0]
    assert job.startswith("123456789012/eu-west-1/")
    click(chrome, first_cell("overview-savings", "job"))
    wait(chrome, 30).until(lambda d: urlparse(d.current_url).path == job_href(job))
    wait(chrome, 30).until(lambda d: texts(d, "#job-title") == [job])


def test_the_jobs_table_lists_each_copy_with_its_place(places, chrome):  # noqa: F811
    base, _ = places
    open_page(chrome, base + "/jobs", "#jobs-table .ag-cell")
    headers = grid_headers(chrome, "jobs-table")
    assert "account" in headers and "region" in headers
    # a job's key, an account id, a region: each on one line, never broken mid-word
    for table, column in (
        ("jobs-table", "job"),
        ("jobs-table", "account"),
        ("jobs-places", "account"),
    ):
        shown = text_lines(chrome, f"#{table} .ag-cell[col-id={column}]")
        assert shown and not [c for c in shown if c[1] != 1], (table, column, shown)
    assert sorted(places_shown(chrome, "jobs-places")) == sorted([HOME, EU, OTHER])
    box = chrome.find_element(By.CSS_SELECTOR, filter_box("jobs-table", "job"))
    box.send_keys("orders_daily_etl")
    box.send_keys(Keys.ENTER)
    wait(chrome, 30).until(lambda d: len(cells(d, "jobs-table", "job")) == 3)
    shown = list(
        zip(
            cells(chrome, "jobs-table", "job"),
            cells(chrome, "jobs-table", "account"),
            cells(chrome, "jobs-table", "region"),
            strict=True,
        )
    )
    # a name three places share is shown as account/region/name, beside its place
    assert sorted(shown) == sorted(
        (key(place, "orders_daily_etl"), *place) for place in (HOME, EU, OTHER)
    )
    # the region filter narrows the table and the breakdown
    choose(chrome, "jobs-region", "eu-west-1")
    wait(chrome, 30).until(lambda d: cells(d, "jobs-table", "region") == ["eu-west-1"])
    assert cells(chrome, "jobs-places", "region") == ["eu-west-1"]
    # a click opens that copy, by its place
    assert cells(chrome, "jobs-table", "job") == [key(EU, "orders_daily_etl")]
    click(chrome, first_cell("jobs-table", "job"))
    wait(chrome, 30).until(
        lambda d: d.current_url.endswith("/job/123456789012/eu-west-1/orders_daily_etl")
    )
    wait(chrome, 30).until(lambda d: d.find_elements(By.ID, "job-place"))
    assert "region eu-west-1" in chrome.find_element(By.ID, "job-place").text


def test_a_job_page_by_place_and_a_shared_name_listing_its_places(places, chrome):  # noqa: F811
    base, db = places
    console_errors(chrome)
    open_page(chrome, base + "/job/123456789012/eu-west-1/orders_daily_etl", "#job-place")
    assert chrome.find_element(By.ID, "job-title").text == key(EU, "orders_daily_etl")
    place = chrome.find_element(By.ID, "job-place").text
    assert place.startswith("Account 123456789012, region eu-west-1.")
    also = {
        urlparse(a.get_attribute("href")).path
        for a in chrome.find_elements(By.CSS_SELECTOR, "#job-place a")
    }
    assert also == {
        "/job/123456789012/us-east-1/orders_daily_etl",
        "/job/210987654321/us-east-1/orders_daily_etl",
    }
    wait(chrome, 30).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, "#job-runs .main-svg .scatterlayer")
    )
    # its findings are its own: as many as the store holds for this place's job
    store = Store(db)
    assert len(chrome.find_elements(By.CSS_SELECTOR, ".finding-card")) == len(
        store.open_findings(key(EU, "orders_daily_etl"))
    )
    store.close()

    open_page(chrome, base + "/job/orders_daily_etl", "#job-places")
    assert chrome.find_element(By.ID, "job-ambiguous").text == "orders_daily_etl"
    assert not chrome.find_elements(By.ID, "job-title")  # no job is guessed
    links = chrome.find_elements(By.CSS_SELECTOR, "#job-places a")
    assert [a.text for a in links] == [
        "123456789012 / eu-west-1",
        "123456789012 / us-east-1",
        "210987654321 / us-east-1",
    ]
    assert [urlparse(a.get_attribute("href")).path for a in links] == [
        f"/job/{account}/{region}/orders_daily_etl" for account, region in (EU, HOME, OTHER)
    ]
    links[2].click()
    wait(chrome, 30).until(lambda d: d.find_elements(By.ID, "job-title"))
    assert chrome.find_element(By.ID, "job-title").text == key(OTHER, "orders_daily_etl")
    assert chrome.current_url.endswith("/job/210987654321/us-east-1/orders_daily_etl")
    # a place that has no such job is not found, never another place's job
    for path in ("/job/123456789012/ap-south-1/orders_daily_etl", "/job/no_such_job"):
        open_page(chrome, base + path, "#not-found")
        assert chrome.find_element(By.ID, "not-found").text == "Unknown job"
    assert console_errors(chrome) == []


def test_odd_names_open_by_place_and_stay_text(places, chrome):  # noqa: F811
    base, _ = places
    console_errors(chrome)
    # a name two places share: listed, each link the full form with its '/' encoded
    open_page(chrome, base + "/job/" + quote(SHARED_ODD, safe=""), "#job-places")
    assert chrome.find_element(By.ID, "job-ambiguous").text == SHARED_ODD
    links = chrome.find_elements(By.CSS_SELECTOR, "#job-places a")
    hrefs = [urlparse(a.get_attribute("href")).path for a in links]
    assert hrefs == [job_href(key(EU, SHARED_ODD)), job_href(key(HOME, SHARED_ODD))]
    assert hrefs[0].startswith("/job/123456789012/eu-west-1/") and hrefs[0].count("/") == 4
    links[0].click()
    wait(chrome, 30).until(lambda d: d.find_elements(By.ID, "job-title"))
    assert chrome.find_element(By.ID, "job-title").text == key(EU, SHARED_ODD)
    assert "region eu-west-1" in chrome.find_element(By.ID, "job-place").text
    assert unquote(urlparse(chrome.current_url).path) == "/job/" + key(EU, SHARED_ODD)
    # a name one place has: by its name or by its place; shown as its name
    for path in (
        quote(FORMULA, safe=""),
        f"123456789012/us-east-1/{quote(FORMULA, safe='')}",
        "123456789012/us-east-1/" + FORMULA,  # typed unencoded, '/' and all
    ):
        open_page(chrome, base + "/job/" + path, "#job-title")
        assert chrome.find_element(By.ID, "job-title").text == FORMULA, path
    # in the jobs table too, as text
    open_page(chrome, base + "/jobs", "#jobs-table .ag-cell")
    box = chrome.find_element(By.CSS_SELECTOR, filter_box("jobs-table", "job"))
    box.send_keys("script")
    box.send_keys(Keys.ENTER)
    wait(chrome, 30).until(lambda d: len(cells(d, "jobs-table", "job")) == 2)
    assert sorted(cells(chrome, "jobs-table", "job")) == sorted(
        [key(HOME, SHARED_ODD), key(EU, SHARED_ODD)]
    )
    time.sleep(0.5)
    assert chrome.execute_script("return window.pwned") is None  # the markup never ran
    with pytest.raises(NoAlertPresentException):
        chrome.switch_to.alert.text  # noqa: B018
    assert console_errors(chrome) == []


def test_findings_filter_by_region_and_export_their_places(places, chrome):  # noqa: F811
    base, db = places
    with sqlite3.connect(db) as conn:
        in_eu = conn.execute(
            "select count(*) from findings where job_name like '123456789012/eu-west-1/%'"
        ).fetchone()[0]
        total = conn.execute("select count(*) from findings").fetchone()[0]
    assert 0 < in_eu < total
    open_page(chrome, base + "/findings", "#findings-table .ag-cell")
    assert chrome.find_element(By.ID, "findings-count").text == f"{total} findings"
    headers = grid_headers(chrome, "findings-table")
    assert "account" in headers and "region" in headers
    choose(chrome, "filter-region", "eu-west-1")
    wait(chrome, 30).until(
        lambda d: d.find_element(By.ID, "findings-count").text == f"{in_eu} findings"
    )
    assert set(cells(chrome, "findings-table", "region")) == {"eu-west-1"}
    # a click on a job opens its page by its place
    click(chrome, first_cell("findings-table", "job_name"))
    wait(chrome, 30).until(lambda d: "/job/123456789012/eu-west-1/" in d.current_url)
    # the CSV: each finding's job by label and key, its account and region; no formula runs
    store = Store(db)
    everything = findings_frame(store)
    store.close()
    rows = list(csv.DictReader(io.StringIO(findings_csv(everything))))
    assert len(rows) == total
    assert {(r["account"], r["region"]) for r in rows} == {HOME, EU, OTHER}
    eu = filter_findings(everything, {"region": ["eu-west-1"]})
    eu_rows = list(csv.DictReader(io.StringIO(findings_csv(eu))))
    assert len(eu_rows) == in_eu and {r["region"] for r in eu_rows} == {"eu-west-1"}
    odd = [r for r in rows if r["job_key"] == key(HOME, FORMULA)]
    assert odd and all(r["job_name"] == "'" + FORMULA for r in odd)  # text, not a formula
    shared = {r["job_name"] for r in rows if r["job_key"].endswith("/orders_daily_etl")}
    assert shared == {key(place, "orders_daily_etl") for place in (HOME, EU, OTHER)}
