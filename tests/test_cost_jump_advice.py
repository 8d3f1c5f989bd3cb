"""A cost jump claims a saving only when there is a change to revert (the advice comes first:
a saving with no fix behind it is advice a user cannot act on)."""

from __future__ import annotations

import orjson
import pytest

from advisor.analysis.features import cost_jump_features, derive
from advisor.analysis.rules import load_rules
from advisor.store import Store

ACCOUNT_REGION = "123456789012/us-east-1/"


def _finding(db: str, job: str, rule: str) -> dict:
    store = Store(db)
    try:
        rows = [r for r in store.open_findings(ACCOUNT_REGION + job) if r["rule_id"] == rule]
    finally:
        store.close()
    assert len(rows) == 1, rows
    return rows[0]


def test_slow_runs_alone_claim_no_saving_and_no_fix(analysed_sample_db):
    finding = _finding(analysed_sample_db, "orders_daily_etl", "cost_anomaly")
    assert not finding["savings_usd_month"]
    assert orjson.loads(finding["change"] or "{}") == {}
    advice = " ".join(orjson.loads(finding["advice"]))
    assert "nothing to revert" in advice
    assert "all of it" in advice
    assert "revert it" not in advice


@pytest.mark.parametrize(
    ("job", "workers", "worker_type"),
    [("product_catalog_sync", 5, "G.1X"), ("pricing_history_rebuild", 10, "G.1X")],
)
def test_a_change_of_workers_is_the_fix_and_its_saving(
    analysed_sample_db, job, workers, worker_type
):
    finding = _finding(analysed_sample_db, job, "cost_anomaly")
    assert finding["savings_usd_month"] > 0
    assert orjson.loads(finding["change"]) == {
        "NumberOfWorkers": workers,
        "WorkerType": worker_type,
    }
    assert "revert it" in " ".join(orjson.loads(finding["advice"]))


def test_every_rule_that_offers_a_change_claims_a_saving_only_with_one(analysed_sample_db):
    """The general rule on the whole sample: a finding of a rule that fixes by changing the
    job never claims a saving while its change is empty."""
    changing = {r.id for r in load_rules() if r.spec.get("change")}
    store = Store(analysed_sample_db)
    try:
        rows = list(store.db["findings"].rows_where("status = 'open'"))
    finally:
        store.close()
    offenders = [
        (r["rule_id"], r["job_name"])
        for r in rows
        if r["rule_id"] in changing
        and (r["savings_usd_month"] or 0) > 0
        and not orjson.loads(r["change"] or "{}")
    ]
    assert offenders == []


@pytest.mark.parametrize(
    ("increase", "slow", "revert", "expected"),
    [
        (4.57, 10.2, None, {"cost_jump_from_slow_runs": "all"}),
        (
            40.0,
            9.0,
            ("G.1X", 10),
            {"cost_revert_usd_month": 40.0, "cost_jump_from_slow_runs": "part"},
        ),
        (40.0, 0.0, ("G.1X", 10), {"cost_revert_usd_month": 40.0}),
        (0.0, 0.0, ("G.1X", 10), {}),  # a change that did not raise the cost: nothing to claim
    ],
)
def test_cost_jump_features(increase, slow, revert, expected):
    f = {"cost_increase_usd_month": increase, "anomaly_extra_usd_month": slow}
    if revert:
        f["revert_worker_type"], f["revert_workers"] = revert
    assert cost_jump_features(f) == expected


def test_rule_on_derived_features_of_a_slow_run_jump():
    """Through derive(): the rule sees the same features analysis gives it."""
    rule = next(r for r in load_rules() if r.id == "cost_anomaly")
    features = {
        "job_name": "orders",
        "cost_per_run_before_usd": 1.56,
        "cost_per_run_recent_usd": 1.71,
        "cost_per_run_ratio": 1.1,
        "cost_increase_usd_month": 4.57,
        "anomaly_extra_usd_month": 10.2,
        "cost_anomaly_usd_month": 10.2,
        "cost_anomaly_basis": "what its slow runs cost beyond usual ones",
        "dpu_hours_month": 129.4,
        "cost_usd_month": 56.9,
        "minimum_excess_dpu_hours_month": 0.0,
    }
    outcome = rule.evaluate(derive(features))
    assert outcome.fired
    assert outcome.savings_usd_month is None
    assert outcome.change == {}
