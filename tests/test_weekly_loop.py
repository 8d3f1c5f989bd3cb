"""The weekly report closes the loop: the savings configuration changes realised, why the
week's cost moved (causes that add up to the move), and what the resource rules found."""

from __future__ import annotations

from datetime import date

import pytest

from advisor.report.weekly import weekly_report
from advisor.report.weekly_html import render
from advisor.store import Store


@pytest.fixture(scope="module")
def report(analysed_sample_db):
    return weekly_report(Store(analysed_sample_db), date(2026, 11, 9))  # 2026-W46


def test_the_report_lists_the_changes_and_what_they_realised(report):
    section = report["changes"]
    by_job = {c["job"]: c for c in section["changes"]}
    assert {"shipment_tracking_etl", "pricing_history_rebuild", "ad_impressions_rollup"} <= set(
        by_job
    )
    assert by_job["shipment_tracking_etl"]["status"] == "saving"
    assert by_job["pricing_history_rebuild"]["status"] == "costing"
    saving = [c["realised_usd_month"] for c in section["changes"] if c["status"] == "saving"]
    assert section["realised_usd_month"] == pytest.approx(sum(saving))
    html = render(report)
    assert "<h2>Savings realised</h2>" in html and 'id="changes"' in html


def test_why_costs_moved_adds_up_to_the_move(report):
    why = report["changes"]["why"]
    assert why["week"] == "2026-W46"
    assert sum(c["usd"] for c in why["causes"]) == pytest.approx(why["change_usd"], abs=0.005)
    assert why["change_usd"] == pytest.approx(why["this_usd"] - why["previous_usd"], abs=0.01)
    configuration = next(c for c in why["causes"] if c["cause"] == "configuration")
    assert "shipment_tracking_etl" in configuration["detail"]  # its change fell in this week
    assert 'id="why-costs-moved"' in render(report)


def test_the_report_shows_what_the_resource_rules_found(report):
    found = {f["name"]: f for f in report["bill"]["findings"]}
    assert found["legacy-dev-endpoint"]["severity"] == "critical"
    assert 'id="resource-findings"' in render(report)


def test_recommend_shows_the_jobs_past_changes_and_what_they_did(analysed_sample_db):
    from advisor.report.recommend import recommendation
    from advisor.report.recommend_markdown import render as render_markdown
    from tests.keys import sample_job

    rec = recommendation(Store(analysed_sample_db), sample_job("supplier_scorecard_build"))
    [change] = rec["changes"]
    assert change["fields"]["NumberOfWorkers"] == [16, 8]
    assert change["status"] == "saving" and change["realised_usd_month"] > 0
    text = render_markdown(rec)
    assert "## Past changes" in text and "NumberOfWorkers 16 → 8" in text
    none = recommendation(Store(analysed_sample_db), sample_job("orders_daily_etl"))
    assert none["changes"] == [] and "Past changes" not in render_markdown(none)
