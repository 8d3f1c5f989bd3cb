"""A job failing for memory is fixed on memory-optimised workers, which bill at a higher rate:
failed_run_waste's saving is what the failures cost less what those workers add for the runs
that succeed, and oom_risk says what they add."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from advisor.analysis.advice_features import failure_features, memory_features
from advisor.analysis.pricing import lookup_rate
from advisor.cli import main


def oom_job(**extra: object) -> dict:
    f = {
        "region": "us-east-1",
        "command_name": "glueetl",
        "worker_type": "G.1X",
        "number_of_workers": 10,
        "execution_class": "STANDARD",
        "memory_failures_executor": 11,
        "memory_optimized_type": "R.1X",
        "dpu_hours_month": 160.0,
        "failed_dpu_hours_month": 40.0,
        "failed_usd_month": 17.6,
        "top_failure_cause": "out_of_memory",
        "failure_rate": 0.25,
    }
    f["job_rate_usd"] = lookup_rate("us-east-1", "etl").usd
    f.update(extra)
    f.update(memory_features(f))
    f.update(failure_features(f))
    return f


def test_the_saving_is_net_of_the_costlier_workers():
    f = oom_job()
    g = lookup_rate("us-east-1", "etl").usd
    r = lookup_rate("us-east-1", "memory_optimized").usd
    extra = 120.0 * (r - g)  # the runs that succeed, on as many R.1X as G.1X workers
    assert f["memory_fix_extra_usd_month"] == pytest.approx(extra)
    assert f["failed_saving_usd_month"] == pytest.approx(max(0.0, 17.6 - extra))
    # never below nothing, and gross when the cause is not memory
    assert oom_job(failed_usd_month=1.0)["failed_saving_usd_month"] == 0.0
    timeout = oom_job(top_failure_cause="timeout")
    assert timeout["failed_saving_usd_month"] == 17.6
    assert timeout["failed_fix_extra_usd_month"] is None


def test_the_sample_job_failing_for_memory_claims_the_net_saving(analysed_sample_db):
    shown = CliRunner().invoke(
        main, ["recommend", "ledger_reconcile", "--db", analysed_sample_db, "--format", "json"]
    )
    findings = {f["rule_id"]: f for f in json.loads(shown.output)["findings"]}
    waste, oom = findings["failed_run_waste"], findings["oom_risk"]
    gross = waste["evidence"]["failed_usd_month"]
    advice = " ".join(waste["advice"])
    assert "Moving to R.1X adds about $" in advice
    assert 0 < waste["savings"]["usd_month"] < gross
    assert any("adds about $" in a for a in oom["advice"])
