"""The weekly report reads right: findings by severity and job with new ones marked, coverage
that says what is really missing, no percentage against a partial week or a week the store has
no data of, and wording, labels, plurals and a page that fits a narrow window."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By

from advisor.analysis.runstats import SEVERITIES
from advisor.report.weekly import (
    CAUSE_LABELS,
    last_full_week,
    parse_week,
    to_markdown,
    weekly_report,
)
from advisor.report.weekly_html import render
from advisor.store import Store
from advisor.timeutil import iso, parse_ts
from tests.browser import chrome, wait  # noqa: F401 (fixture)
from tests.conftest import SAMPLE

PARTIAL_WEEK = "2026-W48"  # the sample's newest run is on Thu 26 Nov
FIRST_WEEK = "2026-W39"  # the sample's first run is on Sat 26 Sep
# jobs whose CloudWatch metrics the sample has only for runs after 2026-W47
METRICS_LATER = ("clickstream_sessions_hourly", "partner_feed_ingest", "payments_cdc_merge")


@pytest.fixture(scope="module")
def store(analysed_sample_db):
    opened = Store(analysed_sample_db)
    yield opened
    opened.close()


@pytest.fixture(scope="module")
def twice_analysed(tmp_path_factory) -> Path:
    """The sample fleet analysed as of 2026-11-12, then again up to its newest run: the
    report of the last full week has an earlier analysis to tell new findings from old."""
    from advisor.analysis.findings import analyze
    from advisor.collect.importer import import_directory

    path = tmp_path_factory.mktemp("twice") / "advisor.db"
    opened = Store(path)
    import_directory(opened, SAMPLE)
    analyze(opened, as_of="2026-11-12")
    analyze(opened)
    opened.close()
    return path


def _order(finding: dict) -> tuple[int, str, str]:
    return (-SEVERITIES.index(finding["severity"]), finding["job_name"], finding["title"])


# ---- findings ------------------------------------------------------------------------------


def test_after_an_earlier_analysis_every_open_finding_is_listed_by_severity_new_ones_marked(
    twice_analysed,
):
    opened = Store(twice_analysed)
    report = weekly_report(opened)
    everything = opened.open_findings()
    opened.close()
    assert report["compared_with_earlier_analysis"] is True
    listed = report["open_findings"]
    assert len(listed) == len(everything)  # still-open findings are not dropped
    assert [_order(f) for f in listed] == sorted(_order(f) for f in listed)
    new = [f for f in listed if f["new"]]
    assert new and len(new) < len(listed)
    assert report["new_findings"] == new  # the same order: severity, then job
    ranks = [SEVERITIES.index(f["severity"]) for f in report["new_findings"]]
    assert ranks == sorted(ranks, reverse=True)

    markdown = to_markdown(report)
    section = markdown.split("## Findings", 1)[1].split("## Anomalous runs", 1)[0]
    headings = re.findall(r"^### (\w+) \((\d+)\)$", section, re.MULTILINE)
    shown = [h for h, _count in headings if h != "Resolved"]
    assert shown == [
        s.capitalize() for s in reversed(SEVERITIES) if s in {f["severity"] for f in listed}
    ]
    assert sum(int(c) for h, c in headings if h != "Resolved") == len(listed)
    assert section.count("- **new** ") == len(new)
    assert f"{len(new)} new and 0 resolved since the week began" in section

    page = render(report)
    table = page.split('id="finding-changes"', 1)[1].split("</table>", 1)[0]
    marks = re.findall(r"<tr><td[^>]*>(new|open|resolved)</td>", table)
    assert marks.count("new") == len(new)
    assert marks.count("open") == len(listed) - len(new)


def test_the_first_report_marks_nothing_new_but_lists_every_open_finding(store):
    report = weekly_report(store)
    assert report["compared_with_earlier_analysis"] is False
    assert not any(f["new"] for f in report["open_findings"])
    assert len(report["open_findings"]) == len(store.open_findings())
    assert "**new**" not in to_markdown(report)


# ---- coverage ------------------------------------------------------------------------------


def test_coverage_names_metrics_the_store_has_only_for_other_weeks(store):
    """Metrics in the store for runs after the week are not "none collected": what is missing
    is this week's."""
    report = weekly_report(store)
    coverage = {c["job_name"]: c["missing"] for c in report["coverage"]}
    for job in METRICS_LATER:
        metrics = [m for m in coverage[job] if m.startswith("CloudWatch metrics")]
        assert len(metrics) == 1, coverage[job]
        assert re.fullmatch(
            r"CloudWatch metrics: none for this week's runs \(the store has them for [\d,]+ "
            r"later runs?\)",
            metrics[0],
        ), metrics[0]
    measured = {r["job_name"] for r in store.db.query("select distinct job_name from run_metrics")}
    for entry in report["coverage"]:
        if any(m == "CloudWatch metrics: none collected" for m in entry["missing"]):
            assert entry["job_key"] not in measured, entry


def test_coverage_asks_for_job_metrics_only_of_spark_jobs(store):
    """Python shell and Ray jobs send none of Glue's job metrics: asking for them is noise."""
    report = weekly_report(store)
    types = {j["name"]: j["command_name"] for j in store.jobs()}
    asked = {
        c["job_key"] for c in report["coverage"] if any("CloudWatch" in m for m in c["missing"])
    }
    assert asked
    assert {types[job] for job in asked} <= {"glueetl", "gluestreaming"}
    ran = {
        r["job_name"]
        for r in store.db.query(
            "select distinct job_name from job_runs where started_on >= ? and started_on < ?",
            [report["start"], report["end"]],
        )
    }
    # the sample's Python shell jobs run this week without metrics, and are not asked
    assert {job for job in ran if types[job] == "pythonshell"}


# ---- comparisons ---------------------------------------------------------------------------


def _usd(store: Store, start: str, end: str) -> float:
    row = store.db.execute(
        "select coalesce(sum(c.cost_usd), 0) from job_runs r join run_costs c on c.run_id = r.id "
        "where r.started_on >= ? and r.started_on < ?",
        [start, end],
    ).fetchone()
    return round(row[0], 2)


def test_a_partial_week_says_so_and_is_compared_with_the_same_days(store):
    report = weekly_report(store, parse_week(PARTIAL_WEEK))
    totals = report["totals"]
    assert totals["partial_week"] is True
    assert (totals["data_from"], totals["data_through"]) == (None, "2026-11-26")
    # the week before over the same span: Monday to just after the newest run's time of week
    newest = parse_ts(store.latest_run_start()) + timedelta(seconds=1)
    monday = parse_ts(report["start"])
    before = monday - timedelta(weeks=1)
    same_days = _usd(store, iso(before), iso(newest - timedelta(weeks=1)))
    assert totals["previous_week_usd"] == pytest.approx(same_days, abs=0.01)
    assert same_days < _usd(store, iso(before), iso(monday))  # not the whole week before
    assert totals["change_vs_previous"] == pytest.approx(totals["usd"] / same_days - 1)

    markdown = to_markdown(report)
    assert "Partial week: the store has data through Thu 26 Nov (UTC)." in markdown
    assert "on the same days of the week before" in markdown
    assert "on the 4-week average of the same days, $" in markdown
    page = render(report)
    assert 'id="partial-week"' in page and "through Thu 26 Nov" in page
    assert "on the same days of the week before" in page
    assert f"{PARTIAL_WEEK} (partial)" in page


def test_a_whole_week_is_not_called_partial(store):
    report = weekly_report(store)
    totals = report["totals"]
    assert parse_week(report["week"]) == last_full_week(store)
    assert (totals["partial_week"], totals["data_from"], totals["data_through"]) == (
        False,
        None,
        None,
    )
    assert totals["history_weeks"] == 4
    assert "Partial week" not in to_markdown(report)
    assert 'id="partial-week"' not in render(report)


@pytest.mark.parametrize("week", [FIRST_WEEK, "2026-W40"])
def test_no_history_is_said_never_compared_with_zero_dollars(store, week):
    """2026-W39 holds the first runs (from Saturday); 2026-W40's weeks before are not whole."""
    report = weekly_report(store, parse_week(week))
    totals = report["totals"]
    assert totals["history_weeks"] == 0
    assert totals["previous_week_usd"] is None and totals["four_week_average_usd"] is None
    assert totals["change_vs_previous"] is None and totals["change_vs_average"] is None
    markdown = to_markdown(report)
    assert "no earlier week in the store to compare with" in markdown
    assert "average of $0.00" not in markdown and "4-week average" not in markdown
    page = render(report)
    assert "no earlier week in the store to compare with" in page
    assert "4-week average" not in page
    if week == FIRST_WEEK:
        assert totals["data_from"] == "2026-09-26"
        assert "Partial week: the store has data from Sat 26 Sep (UTC)." in markdown


# ---- wording -------------------------------------------------------------------------------


def test_week_range_savings_causes_workers_and_plurals_read_right(store):
    report = weekly_report(store)
    markdown, page = to_markdown(report), render(report)
    last = (parse_ts(report["end"]) - timedelta(days=1)).date().isoformat()
    assert f"{report['start'][:10]} to {last} (UTC)" in markdown
    assert f"{report['start'][:10]} to {last} (UTC)" in page
    assert f"to {report['end'][:10]}" not in markdown + page  # the Monday after is not in it

    assert "do not all add up" not in page
    assert "the best set of fixes that combine, per job" in page
    assert "the best set of fixes that combine, per job" in markdown

    causes = report["failures"]["by_cause"]
    assert causes and any(v["runs"] == 1 for v in causes.values())
    burned = markdown.split("## Money burned by failed runs", 1)[1].split("##", 1)[0]
    assert not re.search(r"\b1 runs\b", markdown)
    assert "(1 run)" in burned
    table = page.split('id="failure-causes"', 1)[1].split("</table>", 1)[0]
    for cause, value in causes.items():
        assert value["label"] == CAUSE_LABELS[cause]
        assert f"- {value['label']}: " in burned and value["label"] in table
        assert cause not in burned.replace(value["label"], "") and f">{cause}<" not in table

    kinds = page.split('id="by-worker-type"', 1)[1].split("</table>", 1)[0]
    assert ">none<" not in kinds and "no worker type (sized in DPU)" in kinds
    shells = [j for j in report["jobs"] if j["job_type"] == "Python shell"]
    assert shells and all(re.fullmatch(r"[\d.]+ DPU", j["workers"]) for j in shells)


def test_the_page_fits_a_700_pixel_window(store, tmp_path, chrome):  # noqa: F811 (fixture)
    """Wide tables scroll inside their own box; the page never scrolls sideways."""
    page = tmp_path / "report.html"
    page.write_text(render(weekly_report(store, parse_week("2026-W47"))), encoding="utf-8")
    size = chrome.get_window_size()
    chrome.set_window_size(700, 1000)
    try:
        chrome.get(page.as_uri())
        wait(chrome, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#trend .main-svg"))
        assert chrome.execute_script("return window.innerWidth") <= 700
        page_width = chrome.execute_script("return document.documentElement.scrollWidth")
        view_width = chrome.execute_script("return document.documentElement.clientWidth")
        assert page_width <= view_width
        jobs = chrome.find_element(By.ID, "top-jobs")
        assert jobs.find_element(By.XPATH, "..").get_attribute("class") == "scroll"
    finally:
        chrome.set_window_size(size["width"], size["height"])


def test_markdown_carries_the_loop_and_the_bill(analysed_sample_db):
    """Chat and email readers get what the HTML page has: savings realised beside their
    predictions, why costs moved, billed vs computed and the other Glue costs."""
    from advisor.report.weekly import to_markdown

    sample = Store(analysed_sample_db)
    try:
        report = weekly_report(sample)
    finally:
        sample.close()
    text = to_markdown(report)
    for heading in (
        "Savings realised",
        "Why costs moved",
        "Billed vs computed",
        "Other Glue costs",
    ):
        assert f"\n## {heading}\n" in text
    assert "product\\_catalog\\_sync | 2026-11-02" in text
    assert "| development endpoints | 1 |" in text
