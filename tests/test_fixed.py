"""The loop between findings and changes (advisor/analysis/fixed.py): a finding whose change was
carried out is resolved and marked fixed by that change, with the realised saving beside the
predicted one; one whose change was not made stays resolved without a mark; one that fires
again loses it."""

from __future__ import annotations

import json

import pytest

from advisor.analysis.findings import analyze
from advisor.collect.importer import import_directory
from advisor.store import Store
from tests.conftest import SAMPLE
from tests.keys import sample_job


def finding(job: str, change: dict, usd_month: float, as_of: str) -> dict:
    """A finding as an analysis before the change would have stored it."""
    return {
        "id": f"planted-{job}",
        "rule_id": "over_provisioned",
        "problem": "over_provisioned",
        "job_name": sample_job(job),
        "severity": "medium",
        "score": 1.0,
        "title": "Job has more workers than it needs",
        "message": "",
        "advice": "[]",
        "remediation": "{}",
        "evidence": "{}",
        "savings_dpu_hours_month": None,
        "savings_usd_month": usd_month,
        "change": json.dumps(change),
        "status": "open",
        "fixed_by": None,
    }


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    path = tmp_path_factory.mktemp("fixed") / "a.db"
    store = Store(path)
    import_directory(store, SAMPLE)
    analyze(store, as_of="2026-11-09")  # before the sample's right-sizings
    store.save_findings(
        [
            # what shipment_tracking_etl then did (20 -> 8 G.1X), predicted at $70 a month
            finding("shipment_tracking_etl", {"WorkerType": "G.1X", "NumberOfWorkers": 8}, 70.0,
                    "2026-11-09"),
            # a fix nobody made (it went to 8 workers, not 4)
            finding("supplier_scorecard_build", {"NumberOfWorkers": 4}, 40.0, "2026-11-09"),
        ],
        [],
        as_of="2026-11-09",
        jobs=set(),
    )  # fmt: skip
    report = analyze(store)
    return store, report


def test_a_finding_carried_out_by_a_change_is_marked_fixed_with_its_realised_saving(store):
    store, report = store
    rows = {r["id"]: r for r in store.db.query("select * from findings where id like 'planted-%'")}
    fixed = rows["planted-shipment_tracking_etl"]
    assert fixed["status"] == "resolved"  # no rule fires it now
    mark = json.loads(fixed["fixed_by"])
    assert mark["changed_at"].startswith("2026-11-10")
    assert mark["fields"]["NumberOfWorkers"] == [20, 8]
    assert mark["predicted_usd_month"] == 70.0
    low, high = mark["interval_usd_month"]
    assert mark["status"] == "saving" and low <= mark["realised_usd_month"] <= high
    assert rows["planted-supplier_scorecard_build"]["fixed_by"] is None
    # the analysis as of 2026-11-09 found both right-sizings itself (over_provisioned, from
    # CloudWatch); a change is matched to one finding (the planted one, for shipment)
    fixed = {
        (r["rule_id"], r["job_name"], r["id"].startswith("planted-"))
        for r in store.db.query("select * from findings where fixed_by is not null")
    }
    assert fixed == {
        ("over_provisioned", sample_job("shipment_tracking_etl"), True),
        ("over_provisioned", sample_job("supplier_scorecard_build"), False),
    }
    assert report.findings_fixed == len(fixed)


def test_a_finding_that_fires_again_is_no_longer_fixed(store):
    store, _report = store
    again = finding("shipment_tracking_etl", {"NumberOfWorkers": 8}, 70.0, "2026-11-27")
    store.save_findings([again], [], as_of="2026-11-27", jobs=set())
    row = store.db.execute(
        "select status, fixed_by from findings where id = 'planted-shipment_tracking_etl'"
    ).fetchone()
    assert row == ("open", None)
