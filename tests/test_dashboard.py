"""The Dash app on the sample fleet, in headless Chromium: every page, a click, a filter, and a
job whose name is an HTML injection. (tests/test_dashboard_places.py: the same jobs in several
accounts and regions.)"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import threading
import time
import warnings
from urllib.parse import quote

import pytest
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from werkzeug.serving import make_server

from advisor.analysis.findings import analyze
from advisor.collect.importer import import_directory
from advisor.identity import job_key
from advisor.report.labels import money
from advisor.store import Store
from dashboards.app import (
    EXPORTS,
    RANKED,
    clicked_job,
    create_app,
    filter_findings,
    findings_csv,
    findings_page,
    findings_rows,
    jobs_page,
    overview,
    savings_page,
)
from dashboards.data import findings as findings_frame
from dashboards.data import telemetry
from dashboards.gridrows import shown_rows, sort_rules
from tests.browser import (  # noqa: F401 (fixture)
    boxes,
    chrome,
    console_errors,
    grid_cells,
    grid_headers,
    overlap,
    requested_urls,
    text_lines,
    wait,
)
from tests.conftest import ROOT, SAMPLE

EVIL = "<img src=x onerror=alert(1)>"
ACCOUNT, REGION = "123456789012", "us-east-1"  # the sample fleet's (its roles' account)


def key(name: str) -> str:
    return job_key(ACCOUNT, REGION, name)


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
    wait(chrome, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, ready_css))


def test_every_page_loads_with_data_and_no_console_errors(server, chrome):  # noqa: F811
    base, db = server
    store = Store(db)
    pages = {
        "/": "#overview-cost .main-svg .bars",
        "/jobs": "#jobs-table .ag-cell",
        "/job/marketing_attribution": "#job-runs .main-svg .scatterlayer",
        "/findings": "#findings-table .ag-cell",
    }
    for path, ready in pages.items():
        console_errors(chrome)  # drop what came before
        open_page(chrome, base + path, ready)
        assert console_errors(chrome) == [], path
    open_page(chrome, base + "/", "#kpi-week")
    week = chrome.find_element(By.ID, "kpi-week").text
    assert week.startswith("$") and week != "$0.00"
    open_page(chrome, base + "/jobs", "#jobs-table .ag-cell")
    assert chrome.find_element(By.CSS_SELECTOR, "#jobs-table").text.count("marketing_attribution")
    open_page(chrome, base + "/job/marketing_attribution", ".finding-card")
    titles = chrome.find_elements(By.CSS_SELECTOR, ".finding-card h5")
    assert len(titles) == len(store.open_findings(key("marketing_attribution")))
    # one account and region: no place filters, no cost by place, no place columns
    for path, ready in (
        ("/", "#overview-savings .ag-cell"),
        ("/jobs", "#jobs-table .ag-cell"),
        ("/findings", "#findings-table .ag-cell"),
    ):
        open_page(chrome, base + path, ready)
        # the dropdowns are async components: they may mount after the grid's cells
        places = wait(chrome, 30).until(
            lambda d: d.find_elements(
                By.CSS_SELECTOR, "[id$=-account], [id$=-region], [id$=-places]"
            )
        )
        assert places and not [e for e in places if e.is_displayed()], path
        headers = [h.text for h in chrome.find_elements(By.CSS_SELECTOR, ".ag-header-cell-text")]
        assert headers, path
        assert "account" not in headers and "region" not in headers, path


def test_a_click_on_a_job_opens_its_page(server, chrome):  # noqa: F811
    base, _ = server
    open_page(chrome, base + "/jobs", "#jobs-table .ag-cell")
    cell = next(
        c
        for c in chrome.find_elements(By.CSS_SELECTOR, "#jobs-table .ag-cell[col-id=job]")
        if c.text == "marketing_attribution"
    )
    cell.click()
    # the app links a job by its full place, /job/<account>/<region>/<name>
    wait(chrome, 30).until(
        lambda d: d.current_url.endswith(f"/job/{ACCOUNT}/{REGION}/marketing_attribution")
    )
    wait(chrome, 30).until(
        lambda d: (
            d.find_elements(By.ID, "job-title")
            and d.find_element(By.ID, "job-title").text == "marketing_attribution"
        )
    )
    assert chrome.find_element(By.ID, "job-place").text == (f"Account {ACCOUNT}, region {REGION}.")


def test_a_filter_narrows_the_findings(server, chrome):  # noqa: F811
    base, db = server
    open_page(chrome, base + "/findings", "#findings-table .ag-cell")
    everything = findings_frame(Store(db))
    total = chrome.find_element(By.ID, "findings-count").text
    assert total == f"{len(everything)} findings"
    chrome.find_element(By.ID, "filter-severity").click()
    search = chrome.switch_to.active_element  # the dropdown's search box, in its pop-over
    search.send_keys("high")
    option = wait(chrome, 10).until(
        lambda d: [o for o in d.find_elements(By.CSS_SELECTOR, "[role=option]") if o.text == "high"]
    )[0]
    option.click()
    chrome.switch_to.active_element.send_keys(Keys.ESCAPE)
    expected = len(filter_findings(everything, {"severity": ["high"]}))
    assert 0 < expected < len(everything)
    wait(chrome, 30).until(
        lambda d: d.find_element(By.ID, "findings-count").text == f"{expected} findings"
    )
    wait(chrome, 30).until(lambda d: set(grid_cells(d, "findings-table", "severity")) == {"high"})


def test_an_html_job_name_is_shown_as_text_and_runs_nothing(server, chrome):  # noqa: F811
    base, _ = server
    open_page(chrome, base + "/jobs", "#jobs-table .ag-cell")
    cells = grid_cells(chrome, "jobs-table", "job")
    if EVIL not in cells:  # not on the first page: filter the table to it
        box = chrome.find_element(
            By.CSS_SELECTOR, "#jobs-table .ag-floating-filter[col-id=job] input"
        )
        box.send_keys("img")
        box.send_keys(Keys.ENTER)
        time.sleep(1)
        cells = grid_cells(chrome, "jobs-table", "job")
    assert EVIL in cells
    assert chrome.find_elements(By.CSS_SELECTOR, "img[src=x]") == []
    for path in (quote(EVIL, safe=""), f"{ACCOUNT}/{REGION}/" + quote(EVIL, safe="")):
        open_page(chrome, base + "/job/" + path, "#job-title")
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
    rows = list(csv.DictReader(io.StringIO(findings_csv(high))))
    assert len(rows) == len(high) and {r["severity"] for r in rows} == {"high"}
    # each row names its job by its label, with its key, account and region
    assert {(r["account"], r["region"]) for r in rows} == {(ACCOUNT, REGION)}
    assert all(r["job_key"] == key(r["job_name"]) for r in rows)


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
    # today's configuration, marked once (as "now and pick" when it is the pick too)
    assert re.search(r"now( and pick)?: 2 x G\.1X", labels), labels
    assert console_errors(chrome) == []


# ---- what the pages show, read from the rendered page --------------------------------------

SEVERITY_RANK = {"critical": 0, "high": 1, "medium": 2, "low": 3, "info": 4}
MONEY_CELL = re.compile(r"^\$\d{1,3}(,\d{3})*\.\d\d$")


def _column_texts(chrome, table_id: str, column: str) -> list[str]:  # noqa: F811
    return grid_cells(chrome, table_id, column)


def _ranks(severities: list[str]) -> list[int]:
    return [SEVERITY_RANK[s] for s in severities]


def test_findings_and_jobs_tables_show_money_percentages_and_severity_order(server, chrome):  # noqa: F811
    base, db = server
    everything = findings_frame(Store(db))
    open_page(chrome, base + "/findings", "#findings-table .ag-cell")
    headers = grid_headers(chrome, "findings-table")
    assert "saving / month" in headers and "job" in headers
    assert not [h for h in headers if "_" in h], headers  # no raw field names
    savings = _column_texts(chrome, "findings-table", "savings_usd_month")
    assert money(everything["savings_usd_month"].max()) in savings  # e.g. $237.57
    assert all(MONEY_CELL.match(s) or s == "—" for s in savings), savings
    shown = _column_texts(chrome, "findings-table", "severity")
    assert _ranks(shown) == sorted(_ranks(shown))  # critical first, never alphabetical
    # the severity filter lists critical first too
    chrome.find_element(By.ID, "filter-severity").click()
    options = wait(chrome, 10).until(
        lambda d: [o.text for o in d.find_elements(By.CSS_SELECTOR, "[role=option]")]
    )
    chrome.switch_to.active_element.send_keys(Keys.ESCAPE)
    present = set(everything["severity"])
    assert options == [s for s in SEVERITY_RANK if s in present]
    # a click on the severity header sorts by rank (least severe first), not by letters
    chrome.find_element(
        By.CSS_SELECTOR, "#findings-table .ag-header-cell[col-id=severity] .ag-header-cell-label"
    ).click()
    wait(chrome, 30).until(lambda d: _column_texts(d, "findings-table", "severity")[0] != shown[0])
    resorted = _column_texts(chrome, "findings-table", "severity")
    assert _ranks(resorted) == sorted(_ranks(resorted), reverse=True)
    open_page(chrome, base + "/jobs", "#jobs-table .ag-cell")
    rates = _column_texts(chrome, "jobs-table", "failure_rate")
    assert rates and all(re.match(r"^\d+\.\d%$", r) or r == "—" for r in rates), rates
    assert any(r != "0.0%" for r in rates)
    costs = _column_texts(chrome, "jobs-table", "cost_last_7d")
    assert all(MONEY_CELL.match(c) or c == "unpriced" for c in costs), costs


def test_tables_are_ag_grids_holding_numbers_shown_as_money(server, chrome):  # noqa: F811
    """Dash's DataTable is deprecated: no page builds one (nor warns of a deprecated
    component), the grids come from dash-ag-grid's own bundle with nothing fetched from
    elsewhere, and a money cell shows dollars while the grid's row holds a number."""
    for path in (ROOT / "dashboards").rglob("*.py"):
        assert not re.search(r"\bdash_table\b|\bDataTable\b", path.read_text()), path
    _, db = server
    store = Store(db)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for page in (overview, jobs_page, findings_page, savings_page):
            page(store)
    store.close()
    deprecated = [w for w in caught if issubclass(w.category, DeprecationWarning)]
    assert not [w for w in deprecated if "dash" in w.filename], [str(w.message) for w in deprecated]

    base, _ = server
    requested_urls(chrome)  # drop what came before
    open_page(chrome, base + "/jobs", "#jobs-table .ag-cell[col-id=cost_last_7d]")
    assert chrome.find_elements(By.CSS_SELECTOR, "#jobs-table .ag-root")
    assert not chrome.find_elements(By.CSS_SELECTOR, ".dash-spreadsheet")
    shown, held = chrome.execute_script(
        "const api = dash_ag_grid.getApi('jobs-table');"
        "const row = api.getDisplayedRowAtIndex(0).data;"
        "const cell = document.querySelector(`#jobs-table .ag-row[row-index='0'] "
        ".ag-cell[col-id=cost_last_7d]`);"
        "return [cell.innerText.trim(), row.cost_last_7d];"
    )
    assert isinstance(held, int | float) and not isinstance(held, bool), held
    assert MONEY_CELL.match(shown) and shown == money(held), (shown, held)
    urls = [u for u in requested_urls(chrome) if not u.startswith("data:")]
    assert urls and all(u.startswith(base) for u in urls), urls  # no outside request
    assert any("/_dash-component-suites/dash_ag_grid/" in u for u in urls), urls


CAPTURE_RESPONSES = """
window.capturedResponses = [];
const fetchFirst = window.fetch;
window.fetch = async (...args) => {
    const response = await fetchFirst(...args);
    response.clone().text().then(text => window.capturedResponses.push(text));
    return response;
};
"""


def exported(chrome, grid: str) -> dict:  # noqa: F811
    """Click a grid's Export CSV button and return the download the server answered with
    ({"content", "filename"}); CAPTURE_RESPONSES must be installed on the page first."""
    click(chrome, f"#{grid}-export")
    answer = wait(chrome, 30).until(
        lambda d: [
            t
            for t in d.execute_script("return window.capturedResponses")
            if f'"{grid}-download"' in t
        ]
    )[-1]
    return json.loads(answer)["response"][f"{grid}-download"]["data"]


def click(chrome, css: str) -> None:  # noqa: F811
    """Click an element once it is in view and nothing covers it (a grid may be redrawing
    under the pointer; Bootstrap scrolls smoothly, so the scroll is made instant)."""
    from selenium.common.exceptions import (
        ElementClickInterceptedException,
        StaleElementReferenceException,
    )
    from selenium.webdriver.support.ui import WebDriverWait

    def attempt(driver) -> bool:
        element = driver.find_element(By.CSS_SELECTOR, css)
        driver.execute_script(
            "arguments[0].scrollIntoView({block: 'center', behavior: 'instant'})", element
        )
        element.click()
        return True

    WebDriverWait(
        chrome,
        10,
        ignored_exceptions=(ElementClickInterceptedException, StaleElementReferenceException),
    ).until(attempt)


def test_export_csv_is_the_findings_in_the_grids_order(server, chrome):  # noqa: F811
    """The Export button's CSV (built on the server) holds every finding shown, in the order
    the grid sorts them: severity by rank after a click on its header."""
    base, db = server
    total = len(findings_frame(Store(db)))
    chrome.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "deny"})  # no file
    try:
        open_page(chrome, base + "/findings", "#findings-table .ag-cell")
        chrome.execute_script(CAPTURE_RESPONSES)
        shown = _column_texts(chrome, "findings-table", "severity")
        chrome.find_element(
            By.CSS_SELECTOR,
            "#findings-table .ag-header-cell[col-id=severity] .ag-header-cell-label",
        ).click()
        wait(chrome, 30).until(lambda d: _column_texts(d, "findings-table", "severity") != shown)
        download = exported(chrome, "findings-table")
    finally:
        chrome.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "default"})
    assert download["filename"] == "glue-advisor-findings.csv"
    rows = list(csv.DictReader(io.StringIO(download["content"])))
    assert len(rows) == total
    ranks = _ranks([r["severity"] for r in rows])
    assert ranks == sorted(ranks, reverse=True)  # least severe first, as the grid shows them
    shown = _column_texts(chrome, "findings-table", "severity")
    assert [r["severity"] for r in rows][: len(shown)] == shown


def test_a_click_finds_its_row_by_id_and_the_export_follows_the_grid_sort(server):
    rows = [
        {"id": "a1", "job_key": key("x"), "job_name": "x"},
        {"id": "b2", "job_key": key("a/b"), "job_name": "a/b"},
    ]
    cell = {"colId": "job_name", "rowId": "b2", "rowIndex": 0, "value": "a/b"}
    assert clicked_job(cell, rows, "job_name", "id") == f"/job/{ACCOUNT}/{REGION}/a%2Fb"
    assert clicked_job({**cell, "colId": "severity"}, rows, "job_name", "id") is None
    assert clicked_job({**cell, "rowId": "gone"}, rows, "job_name", "id") is None
    # the grid's columnState: severity ascending (least severe first), by rank
    state = [
        {"colId": "job_name", "sort": None, "sortIndex": None},
        {"colId": "severity", "sort": "asc", "sortIndex": 0},
    ]
    assert sort_rules(state) == [{"column_id": "severity", "direction": "asc"}]
    assert sort_rules(None) == []
    _, db = server
    everything = findings_rows(Store(db), {})
    ranks = [SEVERITY_RANK[r["severity"]] for r in shown_rows(everything, None, state, RANKED)]
    assert ranks == sorted(ranks, reverse=True)
    ranks = [SEVERITY_RANK[r["severity"]] for r in shown_rows(everything, None, [], RANKED)]
    assert ranks == sorted(ranks)  # most severe first by default


def _line_xs(path: str) -> list[float]:
    """The x of every point of an SVG line path (M x,y L x,y ...)."""
    return [float(x) for x, _y in re.findall(r"[ML]\s*(-?[\d.]+)[ ,](-?[\d.]+)", path)]


def test_cloudwatch_lines_run_in_time_order_and_name_their_series(server, chrome):  # noqa: F811
    base, _ = server
    open_page(chrome, base + "/job/marketing_attribution", "#job-cloudwatch-heap .js-line")
    for panel in ("heap", "executors"):
        lines = chrome.find_elements(
            By.CSS_SELECTOR, f"#job-cloudwatch-{panel} .scatterlayer path.js-line"
        )
        assert len(lines) == 2, panel
        # (plotly draws a flat stretch as its two ends, so a line may have only two points)
        points = [_line_xs(line.get_attribute("d")) for line in lines]
        assert max(len(xs) for xs in points) > 2, panel
        for xs in points:
            assert xs == sorted(xs), (panel, xs)  # left to right: no zig-zag
    legend = {
        t.text for t in chrome.find_elements(By.CSS_SELECTOR, "#job-cloudwatch-heap .legendtext")
    }
    assert legend == {"driver heap", "executors heap"}  # no CloudWatch metric name
    hovers = chrome.execute_script(
        "return document.querySelector('#job-cloudwatch-heap .js-plotly-plot').data"
        ".map(t => t.hovertemplate)"
    )
    assert any("glue.ALL.jvm.heap.usage" in h for h in hovers)  # the metric, on a hover


def test_every_definition_change_is_a_dotted_line(server, chrome):  # noqa: F811
    """product_catalog_sync has one stored version, changed (LastModifiedOn) on 2026-11-02,
    in the middle of its runs: that first change is drawn too."""
    base, _ = server
    open_page(chrome, base + "/job/product_catalog_sync", "#job-runs .main-svg .scatterlayer")
    shapes = chrome.execute_script(
        "return document.querySelector('#job-runs .js-plotly-plot').layout.shapes || []"
    )
    assert shapes and {s["x0"][:10] for s in shapes} == {"2026-11-02"}
    assert all(s["line"]["dash"] == "dot" for s in shapes)
    assert chrome.find_elements(By.CSS_SELECTOR, "#job-runs .shapelayer path")


def test_panels_and_hints_fit_the_job_type_and_its_metrics(server, chrome):  # noqa: F811
    base, _ = server
    # Python shell: no Spark panels, no metrics hint
    open_page(chrome, base + "/job/py_shell_notify", "#job-not-spark")
    page = chrome.find_element(By.ID, "page").text
    assert "--enable-metrics" not in page
    assert not chrome.find_elements(By.CSS_SELECTOR, "#job-cloudwatch-heap, #job-stages")
    # metrics on (--enable-metrics), no observability metrics: only that one is missing
    open_page(chrome, base + "/job/product_catalog_sync", "#job-cloudwatch-heap .js-line")
    page = chrome.find_element(By.ID, "page").text
    assert "enable --enable-metrics" not in page
    assert "--enable-observability-metrics" in (
        chrome.find_element(By.ID, "job-cloudwatch-utilization").text
    )
    # metrics on but none stored: not told to enable them
    open_page(chrome, base + "/job/dq_checks_hourly", "#job-cloudwatch-heap .main-svg")
    heap = chrome.find_element(By.ID, "job-cloudwatch-heap").text
    assert "metrics are on" in heap and "enable --enable-metrics" not in heap
    # a streaming job without the flag is told
    open_page(chrome, base + "/job/iot_stream_enrich", "#job-cloudwatch-heap .main-svg")
    assert "enable --enable-metrics" in chrome.find_element(By.ID, "job-cloudwatch-heap").text


def test_an_unknown_url_is_a_not_found_page_with_a_way_back(server, chrome):  # noqa: F811
    base, _ = server
    open_page(chrome, base + "/no/such/page", "#not-found")
    assert chrome.find_element(By.ID, "not-found").text == "Page not found"
    assert not chrome.find_elements(By.ID, "kpi-week")  # not the overview in disguise
    chrome.find_element(By.ID, "not-found-home").click()
    wait(chrome, 30).until(lambda d: d.find_elements(By.ID, "kpi-week"))
    assert chrome.current_url.rstrip("/") == base
    open_page(chrome, base + "/job/no_such_job", "#not-found")
    assert chrome.find_element(By.ID, "not-found").text == "Unknown job"


def _overlap(a: dict, b: dict) -> bool:
    return not (
        a["right"] <= b["left"]
        or b["right"] <= a["left"]
        or a["bottom"] <= b["top"]
        or b["bottom"] <= a["top"]
    )


def test_chart_toolbars_leave_the_titles_readable(server, chrome):  # noqa: F811
    base, _ = server
    open_page(chrome, base + "/job/product_catalog_sync", "#job-cloudwatch-executors .js-line")
    checked = 0
    for plot in chrome.find_elements(By.CSS_SELECTOR, ".js-plotly-plot"):
        ActionChains(chrome).move_to_element(plot).perform()  # the toolbar shows on hover
        rects = chrome.execute_script(
            "const p = arguments[0], r = e => e && e.getBoundingClientRect().toJSON();"
            "return [r(p.querySelector('.modebar')), r(p.querySelector('.gtitle'))];",
            plot,
        )
        toolbar, title = rects
        if toolbar and title and toolbar["width"]:
            checked += 1
            assert not _overlap(toolbar, title), (toolbar, title)
    assert checked >= 4


def test_a_stage_panel_says_no_spill_and_draws_no_empty_chart(sim_server, chrome):  # noqa: F811
    open_page(chrome, sim_server + "/job/sim_job", "#job-stages .main-svg")
    assert "no spill" in chrome.find_element(By.ID, "job-stages").text
    assert not chrome.find_elements(By.CSS_SELECTOR, "#job-stages .barlayer .point")


def test_a_stage_of_one_duration_is_a_labelled_point_not_a_lone_box():
    from dashboards.figures import stage_panel

    stage = {
        "attempt": 0,
        "disk_bytes_spilled": 0,
        **{f"task_ms_{q}": 534.0 for q in ("min", "p25", "median", "p75", "max")},
    }
    fig = stage_panel([{**stage, "stage_id": 0, "tasks": 1}])
    assert [t.type for t in fig.data] == ["scatter"]
    assert list(fig.data[0].text) == ["0.53 s"]
    spread = {**stage, "stage_id": 1, "tasks": 4, "task_ms_max": 900.0}
    fig = stage_panel([{**stage, "stage_id": 0, "tasks": 1}, spread])
    assert sorted(t.type for t in fig.data) == ["box", "scatter"]
    assert list(fig.layout.xaxis.categoryarray) == ["0.0", "1.0"]


def test_telemetry_reads_the_job_type_and_its_metrics_flags(server):
    _, db = server
    store = Store(db)
    shell = telemetry(store, store.job(key("py_shell_notify")))
    assert not shell["spark"] and not shell["metrics_on"]
    catalog = telemetry(store, store.job(key("product_catalog_sync")))
    assert catalog["spark"] and catalog["metrics_on"] and not catalog["observability_on"]
    flagged = {
        **store.job(key("iot_stream_enrich")),
        "default_arguments": '{"--enable-metrics": "TRUE"}',
    }
    assert telemetry(store, flagged)["metrics_on"]


# ---- every grid: its export and its filters ------------------------------------------------


def _grids(component) -> list:
    """Every AG Grid in a page's component tree."""
    import dash_ag_grid as dag

    found = [component] if isinstance(component, dag.AgGrid) else []
    children = getattr(component, "children", None)
    for child in children if isinstance(children, list | tuple) else [children]:
        if child is not None and hasattr(child, "to_plotly_json"):
            found += _grids(child)
    return found


def _ids(component) -> set[str]:
    own = {component.id} if getattr(component, "id", None) else set()
    children = getattr(component, "children", None)
    for child in children if isinstance(children, list | tuple) else [children]:
        if child is not None and hasattr(child, "to_plotly_json"):
            own |= _ids(child)
    return own


def test_every_grid_has_filters_and_a_csv_export_the_server_answers(server):
    _, db = server
    store = Store(db)
    app = create_app(db)
    answered = {key.split(".")[0] for key in app.callback_map}
    seen = []
    for page in (overview, jobs_page, findings_page, savings_page):
        layout = page(store)
        ids = _ids(layout)
        for table in _grids(layout):
            seen.append(table.id)
            assert table.defaultColDef["filter"] and table.defaultColDef["floatingFilter"]
            assert {f"{table.id}-export", f"{table.id}-download"} <= ids, table.id
            assert table.id in EXPORTS and f"{table.id}-download" in answered, table.id
    store.close()
    assert set(seen) == set(EXPORTS)  # overview (4), jobs (2), findings (1), savings (1)


def test_export_rows_follow_ag_grids_filters_and_sort():
    rows = [
        {"job": "b_etl", "p50": 20.0, "worst": "low: x"},
        {"job": "A_etl", "p50": None, "worst": "critical: y"},
        {"job": "c", "p50": 5.0, "worst": ""},
        {"job": "d_etl", "p50": 31.5, "worst": "medium: z"},
    ]
    contains = {"job": {"filterType": "text", "type": "contains", "filter": "ETL"}}
    assert [r["job"] for r in shown_rows(rows, contains, None)] == ["b_etl", "A_etl", "d_etl"]
    over = {"p50": {"filterType": "number", "type": "greaterThan", "filter": 10}}
    assert [r["job"] for r in shown_rows(rows, over, None)] == ["b_etl", "d_etl"]
    either = {
        "p50": {
            "filterType": "number",
            "operator": "OR",
            "conditions": [
                {"filterType": "number", "type": "lessThan", "filter": 10},
                {"filterType": "number", "type": "blank"},
            ],
        }
    }
    assert [r["job"] for r in shown_rows(rows, either, None)] == ["A_etl", "c"]
    by_rank = [{"colId": "worst", "sort": "asc", "sortIndex": 0}]
    worst = [r["worst"] for r in shown_rows(rows, None, by_rank, {"worst"})]
    assert worst == ["", "low: x", "medium: z", "critical: y"]  # by rank, not by letters
    by_p50 = [{"colId": "p50", "sort": "desc", "sortIndex": 0}]
    assert [r["p50"] for r in shown_rows(rows, None, by_p50)] == [31.5, 20.0, 5.0, None]


def test_the_jobs_table_sorts_its_worst_finding_by_severity_and_exports_what_it_shows(
    server,
    chrome,  # noqa: F811
):
    """A click on "worst open finding" sorts by severity rank (never critical, high, low,
    medium); the Export CSV is the table as filtered and sorted, on the server."""
    base, _ = server
    chrome.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "deny"})
    try:
        open_page(chrome, base + "/jobs", "#jobs-table .ag-cell")
        chrome.execute_script(CAPTURE_RESPONSES)
        header = "#jobs-table .ag-header-cell[col-id=worst_finding] .ag-header-cell-label"
        first = _column_texts(chrome, "jobs-table", "worst_finding")
        click(chrome, header)  # ascending: least severe first
        wait(chrome, 30).until(lambda d: _column_texts(d, "jobs-table", "worst_finding") != first)
        shown = _column_texts(chrome, "jobs-table", "worst_finding")
        ranks = [_finding_rank(w) for w in shown]
        assert ranks == sorted(ranks, reverse=True), shown
        assert len(set(ranks)) > 2  # several severities, so letters would order them otherwise
        click(chrome, header)  # descending: critical first
        wait(chrome, 30).until(
            lambda d: _column_texts(d, "jobs-table", "worst_finding")[0].startswith("critical")
        )
        # narrowed by a job filter typed in its box and a number filter set on the grid
        box = chrome.find_element(
            By.CSS_SELECTOR, "#jobs-table .ag-floating-filter[col-id=job] input"
        )
        box.send_keys("a")
        chrome.execute_script(
            "const api = dash_ag_grid.getApi('jobs-table');"
            "api.setColumnFilterModel('p50_min', "
            "{filterType: 'number', type: 'greaterThan', filter: 10})"
            ".then(() => api.onFilterChanged());"
        )

        def narrowed(d) -> bool:
            p50 = _column_texts(d, "jobs-table", "p50_min")
            names = _column_texts(d, "jobs-table", "job")
            over = all(v != "—" and float(v.replace(",", "")) > 10 for v in p50)
            return bool(p50) and over and all("a" in name.lower() for name in names)

        wait(chrome, 30).until(narrowed)
        jobs = _column_texts(chrome, "jobs-table", "job")
        count = chrome.execute_script(
            "return dash_ag_grid.getApi('jobs-table').getDisplayedRowCount()"
        )
        time.sleep(0.5)  # the grid reports its filter model to Dash
        download = exported(chrome, "jobs-table")
    finally:
        chrome.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "default"})
    assert download["filename"] == "glue-advisor-jobs.csv"
    rows = list(csv.DictReader(io.StringIO(download["content"])))
    assert len(rows) == count and [r["job"] for r in rows][: len(jobs)] == jobs  # in its order
    worst = _column_texts(chrome, "jobs-table", "worst_finding")
    assert [r["worst_finding"] for r in rows][: len(worst)] == worst
    assert all(r["job_key"] == key(r["job"]) for r in rows)  # and each job's key


def _finding_rank(worst: str) -> int:
    """A worst-finding cell's severity rank as the test counts it (critical 0); none last."""
    return SEVERITY_RANK.get(worst.split(":")[0], len(SEVERITY_RANK))


# ---- what the jobs page reads as ------------------------------------------------------------


def test_jobs_page_cells_stay_on_one_line_and_read_as_the_cli(server, chrome):  # noqa: F811
    base, db = server
    for width in (1400, 800):
        chrome.set_window_size(width, 1000)
        try:
            open_page(chrome, base + "/jobs", "#jobs-table .ag-cell")
            time.sleep(0.5)  # the grid sizes its columns to the window
            for column in ("job", "trend"):
                cells = text_lines(chrome, f"#jobs-table .ag-cell[col-id={column}]")
                assert cells, column
                broken = [(text, lines) for text, lines in cells if lines != 1]
                assert not broken, (width, column, broken)
        finally:
            chrome.set_window_size(1400, 1000)
    open_page(chrome, base + "/findings", "#findings-table .ag-cell")
    for column in ("job_name", "problem"):  # a job name, a rule id: never broken mid-word
        cells = text_lines(chrome, f"#findings-table .ag-cell[col-id={column}]")
        assert cells and not [c for c in cells if c[1] != 1], (column, cells)
    # no saving is "—", as on the findings page; workers as `advisor costs` prints them
    open_page(chrome, base + "/jobs", "#jobs-table .ag-cell")
    shown = dict(
        zip(
            _column_texts(chrome, "jobs-table", "job"),
            zip(
                _column_texts(chrome, "jobs-table", "workers"),
                _column_texts(chrome, "jobs-table", "saving_month"),
                strict=True,
            ),
            strict=True,
        )
    )
    savings = Store(db).job_savings()
    for job, (_workers, saving) in shown.items():
        usd = (savings.get(key(job)) or {}).get("usd_month")
        assert saving == (money(usd) if usd else "—"), job
    assert "$0.00" not in {saving for _w, saving in shown.values()}
    printed = _cli_workers(db)
    shells = [job for job in shown if job in printed and job.startswith("py_shell")]
    assert shells
    for job in shown:
        if job in printed:
            assert shown[job][0] == printed[job], job


def _cli_workers(db) -> dict[str, str]:
    """The workers column of `advisor costs`, by job."""
    from click.testing import CliRunner

    from advisor.cli import main

    result = CliRunner(env={"COLUMNS": "250"}).invoke(main, ["costs", "--db", str(db)])
    assert result.exit_code == 0, result.output
    out = {}
    for line in result.output.splitlines():
        cells = [c.strip() for c in line.split("│")]
        if len(cells) > 4 and cells[1] and cells[1] not in ("job", "total"):
            out[cells[1]] = cells[3]
    return out


def test_the_overview_cards_keep_their_figures_whole_on_a_narrow_screen(server, chrome):  # noqa: F811
    base, _ = server
    chrome.set_window_size(800, 1000)
    try:
        open_page(chrome, base + "/", "#kpi-savings")
        for card in ("kpi-week", "kpi-month", "kpi-failed", "kpi-savings"):
            [(text, lines)] = text_lines(chrome, f"#{card}")
            assert lines == 1, (card, text)
    finally:
        chrome.set_window_size(1400, 1000)


# ---- charts: nothing drawn over anything else -------------------------------------------------


def test_cloudwatch_dates_do_not_collide_on_a_narrow_screen(server, chrome):  # noqa: F811
    """A third of an 800 px page: the dates lie flat, apart from each other and the legend."""
    base, _ = server
    chrome.set_window_size(800, 1000)
    try:
        for job in ("orders_daily_etl", "marketing_attribution"):
            open_page(chrome, f"{base}/job/{job}", "#job-cloudwatch-executors .js-line")
            time.sleep(1)  # plotly redraws for the window's width
            for panel in ("heap", "utilization", "executors"):
                ticks = boxes(chrome, f"#job-cloudwatch-{panel} .xtick text")
                legend = boxes(chrome, f"#job-cloudwatch-{panel} .legend .traces")
                assert len(ticks) >= 2, (job, panel)
                for index, tick in enumerate(ticks):
                    assert tick["width"] > tick["height"], (job, panel, tick)  # not rotated
                    for other in ticks[index + 1 :] + legend:
                        assert not overlap(tick, other), (job, panel, tick, other)
    finally:
        chrome.set_window_size(1400, 1000)


@pytest.fixture(scope="module")
def sample_server(analysed_sample_db):
    """The whole sample fleet, event logs and all (stage panels, a trusted what-if)."""
    http = make_server("127.0.0.1", 0, create_app(analysed_sample_db).server, threaded=True)
    threading.Thread(target=http.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{http.server_port}"
    http.shutdown()


@pytest.mark.parametrize("job", ["orders_daily_etl", "marketing_attribution"])
def test_a_single_duration_and_its_label_sit_inside_the_stage_plot(sample_server, chrome, job):  # noqa: F811
    open_page(chrome, f"{sample_server}/job/{job}", "#job-stages .main-svg")
    [plot] = boxes(chrome, "#job-stages .draglayer .xy .nsewdrag")
    [title] = [a for a in boxes(chrome, "#job-stages .annotation") if "task duration" in a["text"]]
    labels = boxes(chrome, "#job-stages .textpoint")
    marks = boxes(chrome, "#job-stages .scatterlayer .point")
    assert labels and marks
    for label in labels:
        assert label["top"] >= plot["top"] and label["bottom"] <= plot["bottom"], label
        assert not overlap(label, title), (label, title)
    for mark in marks:  # (one near zero may sit on the axis: the axis starts at zero)
        middle = (mark["top"] + mark["bottom"]) / 2
        assert mark["top"] >= plot["top"] and middle <= plot["bottom"], mark


def test_a_pick_that_is_todays_configuration_is_one_mark(sample_server, chrome):  # noqa: F811
    open_page(chrome, sample_server + "/job/fraud_features_build", "#job-whatif .main-svg")
    labels = boxes(chrome, "#job-whatif .textpoint")
    assert [label["text"] for label in labels] == ["now and pick: 3 x G.1X"]
    assert "123456789012" not in chrome.find_element(By.CSS_SELECTOR, "#job-whatif .gtitle").text


def test_the_what_if_marks_now_and_pick_apart_when_they_differ():
    from advisor.report.whatif_figure import whatif_figure

    def candidate(workers: int, runtime: float, now: bool) -> dict:
        return {
            "autoscaling": False,
            "current": now,
            "dpu_hours": workers * runtime / 3600,
            "feasible": True,
            "label": f"{workers} x G.1X",
            "note": "",
            "runtime_s": runtime,
            "usd": workers * runtime / 3600 * 0.44,
        }

    now, pick = candidate(10, 600, True), candidate(6, 700, False)
    result = {
        "job_name": key("orders_daily_etl"),
        "app_id": "app-1",
        "candidates": [now, pick],
        "frontier": [pick, now],
        "current": now,
        "best": pick,
        "trusted": True,
    }
    marks = {t.name: list(t.text) for t in whatif_figure(result).data if t.mode == "markers+text"}
    assert marks == {"now": ["now: 10 x G.1X"], "pick": ["pick: 6 x G.1X"]}
    same = whatif_figure({**result, "best": now})
    marks = {t.name: list(t.text) for t in same.data if t.mode == "markers+text"}
    assert marks == {"now and pick": ["now and pick: 10 x G.1X"]}
    # named as every output names the job: its Glue name, not its key
    assert same.layout.title.text == "What-if: orders_daily_etl"


def test_an_unknown_page_is_http_404_and_the_pages_are_200(server):
    import requests

    base, _ = server
    assert requests.get(base + "/no/such/page", timeout=30).status_code == 404
    for path in ("/", "/jobs", "/findings", "/job/marketing_attribution", "/assets/grid.css"):
        assert requests.get(base + path, timeout=30).status_code == 200, path
