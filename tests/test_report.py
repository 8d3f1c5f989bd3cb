"""The weekly cost report: every format, and the HTML opened in headless Chromium."""

from __future__ import annotations

import csv
import io
import json
from datetime import date

import pytest
from click.testing import CliRunner
from selenium.webdriver.common.by import By

from advisor.cli import main
from advisor.report.weekly import last_full_week, parse_week, weekly_report
from advisor.report.weekly_html import render
from advisor.store import Store
from tests.browser import chrome, console_errors, requested_urls, wait  # noqa: F401 (fixture)
from tests.conftest import SAMPLE


@pytest.fixture(scope="module")
def db(analysed_sample_db):
    return analysed_sample_db


def week_sums(db: str, start: str, end: str) -> tuple[float, float, int]:
    row = (
        Store(db)
        .db.execute(
            "select sum(c.cost_usd), sum(c.dpu_hours), count(*) from job_runs r "
            "left join run_costs c on c.run_id = r.id where r.started_on >= ? and r.started_on < ?",
            [start, end],
        )
        .fetchone()
    )
    return row[0] or 0.0, row[1] or 0.0, row[2]


def test_default_week_is_the_last_full_one_and_totals_are_the_stores(db):
    store = Store(db)
    report = weekly_report(store)
    newest = store.latest_run_start()[:10]
    assert report["end"][:10] <= newest  # a full week before the newest run's
    assert parse_week(report["week"]) == last_full_week(store)
    usd, dpu, runs = week_sums(db, report["start"], report["end"])
    totals = report["totals"]
    assert totals["usd"] == pytest.approx(usd, abs=0.01)
    assert totals["dpu_hours"] == pytest.approx(dpu, abs=1e-3)
    assert totals["runs"] == runs
    assert sum(j["usd"] for j in report["jobs"]) == pytest.approx(usd, abs=0.05)
    assert report["weekly"][-1]["usd"] == pytest.approx(usd, abs=0.01)
    previous = report["weekly"][-2]["usd"]
    assert totals["change_vs_previous"] == pytest.approx(usd / previous - 1, abs=1e-3)
    assert (
        len(report["top_jobs"]) == 10
        and report["top_jobs"][0]["usd"] >= report["top_jobs"][1]["usd"]
    )
    ranked = [s["usd_month"] for s in report["savings"]]
    assert ranked == sorted(ranked, reverse=True) and ranked
    # overlapping findings are not added up: the total is the jobs' best compatible sets
    assert 0 < report["savings_total_usd_month"] <= sum(ranked) + 0.01


def test_savings_on_crawlers_sessions_and_endpoints_are_named_beside_the_jobs(db):
    """The jobs' savings total leaves out crawlers, sessions and endpoints (the sample's dev
    endpoint alone bills more than every job fix saves): the report says how many findings
    they have and what they save, per resource the largest of its overlapping findings."""
    store = Store(db)
    report = weekly_report(store)
    found = store.resource_findings()
    best: dict[tuple, float] = {}
    for f in found:
        key = (f["kind"], f["account"], f["region"], f["name"])
        best[key] = max(best.get(key, 0.0), f["savings_usd_month"] or 0.0)
    assert report["resource_savings"]["findings"] == len(found) > 0
    assert report["resource_savings"]["usd_month"] == pytest.approx(sum(best.values()), abs=0.01)
    assert len(best) < len(found)  # a session with two findings is counted once
    markdown = CliRunner().invoke(main, ["report", "--db", db, "--format", "markdown"]).output
    said = f"{len(found)} more findings on crawlers, sessions and development endpoints"
    assert markdown.count(said) == 2  # beside the savings total and the findings' headline
    assert f"${report['resource_savings']['usd_month']:,.2f} a month" in markdown
    # an account with none of them says nothing of them
    elsewhere = weekly_report(store, account="999999999999")
    assert elsewhere["resource_savings"] == {"findings": 0, "usd_month": 0.0}


def test_week_parsing():
    assert parse_week("2026-W47") == date(2026, 11, 16)
    for bad in ("2026-47", "2026-W54", ""):
        with pytest.raises(ValueError):
            parse_week(bad)


def test_cli_formats(db, tmp_path):
    runner = CliRunner()
    week = weekly_report(Store(db))["week"]
    as_json = runner.invoke(main, ["report", "--db", db, "--week", week, "--format", "json"])
    assert as_json.exit_code == 0, as_json.output
    data = json.loads(as_json.stdout)
    assert data["week"] == week and set(data["totals"]) >= {"usd", "dpu_hours", "runs"}
    # one account and region: JSON still totals it, and every job row says where it is
    assert data["filter"] == {"account": None, "region": None}
    [place] = data["by_place"]
    assert (place["account"], place["region"]) == ("123456789012", "us-east-1")
    assert place["runs"] == data["totals"]["runs"] and place["jobs"] == len(data["jobs"])
    assert place["usd"] == pytest.approx(data["totals"]["usd"], abs=0.01)
    for job in data["jobs"]:
        assert job["job_key"] == f"123456789012/us-east-1/{job['job_name']}"
        assert (job["account"], job["region"]) == ("123456789012", "us-east-1")
    as_csv = runner.invoke(main, ["report", "--db", db, "--week", week, "--format", "csv"])
    rows = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert len(rows) == len(data["jobs"]) and {r["week"] for r in rows} == {week}
    assert {(r["account"], r["region"], r["level"]) for r in rows} == {
        ("123456789012", "us-east-1", "job")
    }
    assert sum(float(r["usd"]) for r in rows) == pytest.approx(data["totals"]["usd"], abs=0.05)
    markdown = runner.invoke(main, ["report", "--db", db, "--week", week, "--format", "markdown"])
    assert markdown.stdout.startswith(f"# Glue cost report, {week}")
    assert "Cost by account and region" not in markdown.stdout  # one place: nothing to split
    target = tmp_path / "r.html"
    html = runner.invoke(main, ["report", "--db", db, "--week", week, "--out", str(target)])
    assert html.exit_code == 0 and target.read_text().startswith("<!DOCTYPE html>")
    assert 'id="by-place"' not in target.read_text()
    bad = runner.invoke(main, ["report", "--db", db, "--week", "2026-W99"])
    assert bad.exit_code == 2
    Store(tmp_path / "empty.db").close()  # a store without runs
    empty = runner.invoke(main, ["report", "--db", str(tmp_path / "empty.db")])
    assert empty.exit_code == 1 and "no runs" in empty.output
    missing = runner.invoke(main, ["report", "--db", str(tmp_path / "nowhere.db")])
    assert missing.exit_code == 2 and not (tmp_path / "nowhere.db").exists()


def test_html_escapes_what_it_shows():
    report = weekly_report_stub()
    page = render(report)
    assert "<img src=x onerror=alert(1)>" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page


def weekly_report_stub() -> dict:
    evil = "<img src=x onerror=alert(1)>"
    job = {
        "job_name": evil,
        "job_type": "Spark",
        "workers": "2 x G.1X",
        "execution_class": "STANDARD",
        "runs": 1,
        "failed_runs": 0,
        "dpu_hours": 1.0,
        "usd": 0.44,
        "unpriced_runs": 0,
        "weekly_usd": [0.44] * 8,
    }
    group = {"runs": 1, "dpu_hours": 1.0, "usd": 0.44, "unpriced_runs": 0}
    return {
        "week": "2026-W47",
        "start": "2026-11-16T00:00:00.000+00:00",
        "end": "2026-11-23T00:00:00.000+00:00",
        "totals": {
            "usd": 0.44,
            "dpu_hours": 1.0,
            "runs": 1,
            "failed_runs": 0,
            "previous_week_usd": 0.0,
            "change_vs_previous": None,
            "four_week_average_usd": 0.0,
            "change_vs_average": None,
            "history_weeks": 4,
            "partial_week": False,
            "data_from": None,
            "data_through": None,
            "unpriced_runs": 0,
        },
        "weekly": [{"week": f"2026-W{40 + i}", "usd": 0.44, "dpu_hours": 1.0} for i in range(8)],
        "top_jobs": [job],
        "jobs": [job],
        "by_job_type": [{"job_type": "Spark", **group}],
        "by_worker_type": [{"worker_type": "G.1X", **group}],
        "by_execution_class": [{"execution_class": "STANDARD", **group}],
        "failures": {
            "usd": 0,
            "unpriced_runs": 0,
            "dpu_hours": 0,
            "by_cause": {},
            "retry_runs": 0,
            "retry_usd": 0,
            "retry_unpriced_runs": 0,
        },
        "savings": [
            {
                "job_name": evil,
                "rule_id": "r",
                "problem": "p",
                "severity": "high",
                "title": evil,
                "fix": evil,
                "usd_month": 1.0,
                "dpu_hours_month": 2.0,
            }
        ],
        "savings_total_usd_month": 1.0,
        "compared_with_earlier_analysis": False,
        "new_findings": [],
        "resolved_findings": [],
        "open_findings": [
            {"job_name": evil, "severity": "high", "title": evil, "rule_id": "r", "problem": "p"}
        ],
        "anomalies": [
            {"job_name": evil, "run_id": "jr", "ratio": 3.0, "extra_usd": 1.0, "reasons": [evil]}
        ],
        "coverage": [{"job_name": evil, "missing": [evil]}],
    }


def test_report_in_headless_chromium(db, tmp_path, chrome):  # noqa: F811 (fixture)
    report = weekly_report(Store(db))
    page = tmp_path / "report.html"
    page.write_text(render(report), encoding="utf-8")
    requested_urls(chrome)  # drop what came before
    chrome.get(page.as_uri())
    wait(chrome, 30).until(
        lambda d: (
            d.find_elements(By.CSS_SELECTOR, "#trend .main-svg")
            and d.find_elements(By.CSS_SELECTOR, "#by-worker-type-chart .main-svg")
        )
    )
    assert console_errors(chrome) == []
    outside = [u for u in requested_urls(chrome) if not u.startswith(("file:", "data:"))]
    assert outside == [], f"the report asked the network for {outside}"
    usd, dpu, runs = week_sums(db, report["start"], report["end"])
    shown = chrome.find_element(By.ID, "total-usd")
    assert float(shown.get_attribute("data-usd")) == pytest.approx(usd, abs=0.01)
    assert shown.text == f"${usd:,.2f}"
    assert float(chrome.find_element(By.ID, "total-dpu").get_attribute("data-dpu")) == (
        pytest.approx(dpu, abs=1e-3)
    )
    assert int(chrome.find_element(By.ID, "total-runs").get_attribute("data-runs")) == runs
    rows = chrome.find_elements(By.CSS_SELECTOR, "#top-jobs tbody tr")
    assert len(rows) == len(report["top_jobs"])
    assert rows[0].find_element(By.TAG_NAME, "td").text == report["top_jobs"][0]["job_name"]


def test_escaped_names_run_nothing_in_the_browser(tmp_path, chrome):  # noqa: F811 (fixture)
    page = tmp_path / "evil.html"
    page.write_text(render(weekly_report_stub()), encoding="utf-8")
    chrome.get(page.as_uri())
    wait(chrome, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#trend .main-svg"))
    assert chrome.find_elements(By.CSS_SELECTOR, "img") == []
    cell = chrome.find_element(By.CSS_SELECTOR, "#top-jobs tbody td")
    assert cell.text == "<img src=x onerror=alert(1)>"
    assert console_errors(chrome) == []


def test_daily_costs_add_up_to_the_runs(db):
    """The dashboard's pre-aggregate must hold exactly what the runs cost."""
    store = Store(db)
    by_job = dict(
        store.db.execute(
            "select job_name, round(sum(coalesce(cost_usd, 0)), 6) from run_costs "
            "where started_on is not null group by job_name"
        ).fetchall()
    )
    daily = dict(
        store.db.execute(
            "select job_name, round(sum(usd), 6) from daily_costs group by job_name"
        ).fetchall()
    )
    assert daily == pytest.approx(by_job)
    failed = store.db.execute(
        "select sum(c.cost_usd), count(*) from run_costs c join job_runs r on r.id = c.run_id "
        "where r.state in ('FAILED', 'TIMEOUT', 'ERROR')"
    ).fetchone()
    assert store.db.execute(
        "select sum(failed_usd), sum(failed_runs) from daily_costs"
    ).fetchone() == (pytest.approx(failed[0]), failed[1])


def test_runs_at_an_unknown_rate_are_unpriced_never_zero_dollars(tmp_path):
    """A region the facts registry has no rate for: every output names the runs unpriced,
    with their count, and none shows $0.00 for them."""
    from advisor.analysis.findings import analyze
    from advisor.collect.importer import import_directory
    from advisor.report.weekly import to_csv, to_markdown, weekly_report
    from advisor.report.weekly_html import render
    from advisor.store import Store

    store = Store(tmp_path / "u.db")
    import_directory(store, SAMPLE, region="xx-nowhere-1")
    analyze(store)
    report = weekly_report(store)
    assert report["totals"]["usd"] is None
    assert report["totals"]["unpriced_runs"] == report["totals"]["runs"] > 0
    markdown = to_markdown(report)
    assert f"unpriced ({report['totals']['runs']:,} runs)" in markdown
    html = render(report)
    assert "$0.00" not in markdown and "$0.00" not in html
    rows = list(csv.DictReader(io.StringIO(to_csv(report))))
    assert rows and all(r["usd"] == "" and int(r["unpriced_runs"]) == int(r["runs"]) for r in rows)
    store.close()


def test_the_dashboard_shows_unpriced_runs_not_zero_dollars(tmp_path):
    from advisor.analysis.findings import analyze
    from advisor.collect.importer import import_directory
    from dashboards import data

    store = Store(tmp_path / "u.db")
    import_directory(store, SAMPLE, region="xx-nowhere-1")
    analyze(store)
    kpis = data.kpis(store)
    assert kpis["week_usd"] is None and kpis["week_unpriced_runs"] > 0
    ran = [r for r in data.jobs_table(store) if r["unpriced_runs_7d"]]
    assert ran and all(r["cost_last_7d"] is None for r in ran)
    store.close()


def test_csv_cells_that_would_start_a_formula_are_neutralised():
    from advisor.report.labels import csv_safe
    from advisor.report.weekly import to_csv

    report = weekly_report_stub()
    for row in report["jobs"]:
        row["job_name"] = '=HYPERLINK("http://evil","x")'
        row["workers"] = "@SUM(A1)"
    rows = list(csv.DictReader(io.StringIO(to_csv(report))))
    assert rows[0]["job_name"].startswith("'=") and rows[0]["workers"].startswith("'@")
    assert [csv_safe(v) for v in ("-x", "+x", "\tx", "\rx", "ok", -1)] == [
        "'-x",
        "'+x",
        "'\tx",
        "'\rx",
        "ok",
        -1,
    ]


def test_chart_labels_show_tags_instead_of_following_them():
    """plotly renders <a href> and <b> in trace names and hover text: a job name holding a
    link became a live link in the dashboard's legend."""
    import pandas as pd

    from dashboards import figures

    evil = '<a href="https://evil.example">click</a>'
    series = pd.DataFrame({"day": ["2026-11-01"], "group": [evil], "usd": [1.0]})
    fig = figures.stacked_cost(series, "job")
    assert fig.data[0].name == '&lt;a href="https://evil.example"&gt;click&lt;/a&gt;'
    runs = pd.DataFrame(
        {
            "id": [evil],
            "state": [evil],
            "started_on": ["2026-11-01T00:00:00+00:00"],
            "execution_time_s": [60.0],
            "cost_usd": [1.0],
            "anomaly": [None],
            "anomaly_reasons": [None],
        }
    )
    fig = figures.runs_over_time(runs, [])
    assert all("<a " not in (t.name or "") for t in fig.data)
    assert all("<a " not in str(list(t.text or [])) for t in fig.data)


def test_markdown_outputs_carry_no_raw_html_or_links_from_data():
    from advisor.report.weekly import to_markdown

    page = to_markdown(weekly_report_stub())
    assert "<img" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    from advisor.report.labels import md_text

    assert md_text("[x](http://evil)") == "\\[x\\](http://evil)"
    assert md_text("a\nb|c") == "a b\\|c"


def test_tables_never_cut_a_number_on_a_narrow_terminal():
    """Piped or narrow, cost tables showed `1,5…`: numbers are kept whole, text wraps."""
    from rich.console import Console

    from advisor.report.text import cost_table

    rows = [
        {
            "job_name": "a_rather_long_job_name_that_needs_room",
            "command_name": "glueetl",
            "number_of_workers": 40,
            "worker_type": "G.2X",
            "runs": 12345,
            "failed_runs": 1234,
            "dpu_hours": 1234567.8,
            "cost_usd": 543210.98,
            "unpriced_runs": 0,
        }
    ]
    console = Console(width=60, record=True, force_terminal=False)
    console.print(cost_table(rows, "cost"))
    text = console.export_text()
    assert "…" not in text
    for number in ("12,345", "1,234", "1,234,567.8", "$543,210.98"):
        assert number in text


def test_the_first_report_marks_nothing_new_and_lists_open_findings_by_severity(db):
    """On the first report every finding was "new": with no analysis from before the week,
    nothing is new or resolved, and the open findings are grouped by severity and job."""
    from advisor.analysis.runstats import SEVERITIES
    from advisor.report.weekly import to_markdown, weekly_report
    from advisor.store import Store

    store = Store(db)
    report = weekly_report(store)
    store.close()
    assert report["compared_with_earlier_analysis"] is False
    assert report["new_findings"] == [] and report["resolved_findings"] == []
    ranks = [SEVERITIES.index(f["severity"]) for f in report["open_findings"]]
    assert ranks and ranks == sorted(ranks, reverse=True)
    assert "nothing is marked new or resolved" in to_markdown(report)


def test_an_empty_week_warns_instead_of_writing_a_free_report(db, tmp_path):
    out = tmp_path / "r.html"
    result = CliRunner().invoke(
        main, ["report", "--db", db, "--week", "2026-W30", "--out", str(out)]
    )
    assert result.exit_code == 1
    assert "no runs in 2026-W30" in result.stderr and not out.exists()


def test_coverage_does_not_call_logs_of_later_weeks_missing(db):
    """A job whose event logs are in the store for other runs is not "none collected"."""
    from advisor.report.weekly import weekly_report
    from advisor.store import Store

    store = Store(db)
    with_logs = {a["job_name"] for a in store.db.query("select job_name from spark_apps")}
    report = weekly_report(store)
    store.close()
    for entry in report["coverage"]:
        if entry["job_key"] in with_logs:
            assert not any("event logs: none collected" in m for m in entry["missing"])
