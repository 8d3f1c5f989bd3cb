"""A store written by the release before job identity is carried to (account, region, name)
keys without losing a row or a finding's history (tests/fixtures/previous-release/make.py
made it with that release's own import and analyze)."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from advisor.analysis.findings import analyze
from advisor.cli import main
from advisor.identity import job_key, run_key
from advisor.store import Store, stable_hash

OLD = Path(__file__).parent / "fixtures" / "previous-release" / "advisor.db"
ACCOUNT = "123456789012"  # in the role ARNs of two of its three jobs


def _rows(path: Path, sql: str) -> list[tuple]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


@pytest.fixture
def old_store(tmp_path) -> Path:
    path = tmp_path / "advisor.db"
    shutil.copy(OLD, path)
    return path


def test_the_fixture_is_an_older_release(old_store):
    applied = {name for (name,) in _rows(old_store, "select name from _sqlite_migrations")}
    assert "m011_app_attempts" in applied and "m014_job_identity" not in applied


def test_every_row_is_carried_to_its_key(old_store):
    before = {
        table: _rows(old_store, f"select count(*) from [{table}]")[0][0]
        for table in ("jobs", "job_runs", "run_metrics", "run_costs", "spark_apps", "findings")
    }
    old_runs = dict(_rows(old_store, "select id, job_name from job_runs"))
    old_findings = {
        (rule, job): (status, first)
        for rule, job, status, first in _rows(
            old_store, "select rule_id, job_name, status, first_seen from findings"
        )
    }
    store = Store(old_store)
    for table, count in before.items():
        assert store.db[table].count == count, table
    jobs = {j["glue_name"]: j for j in store.jobs()}
    # the account from each job's role ARN; a bare role name says none
    assert jobs["orders_daily_etl"]["name"] == job_key(ACCOUNT, "us-east-1", "orders_daily_etl")
    assert jobs["legacy_billing_export"]["name"] == "unknown/us-east-1/legacy_billing_export"
    assert {(j["account"], j["region"]) for j in jobs.values()} == {
        (ACCOUNT, "us-east-1"),
        ("unknown", "us-east-1"),
    }
    runs = {r["glue_run_id"]: r for r in store.db["job_runs"].rows}
    assert set(runs) == set(old_runs)
    for glue_id, job in old_runs.items():
        assert runs[glue_id]["id"] == run_key(ACCOUNT, "us-east-1", glue_id)
        assert runs[glue_id]["job_name"] == jobs[job]["name"]
    keys = set(r["id"] for r in runs.values())
    for table in ("run_metrics", "run_costs", "eventlog_locations", "run_anomalies"):
        orphans = {r["run_id"] for r in store.db[table].rows} - keys
        assert not orphans, (table, orphans)
    linked = [a for a in store.db["spark_apps"].rows]
    assert linked and all(
        a["run_id"] in keys and a["job_name"] in {j["name"] for j in jobs.values()} for a in linked
    )
    # findings keep their history under ids made from the key; savings name the new ids
    findings = {(f["rule_id"], f["job_name"]): f for f in store.db["findings"].rows}
    assert len(findings) == len(old_findings)
    for (rule, job), (status, first) in old_findings.items():
        row = findings[(rule, jobs[job]["name"])]
        assert (row["status"], row["first_seen"]) == (status, first)
        assert row["id"] == stable_hash([rule, jobs[job]["name"]])
    ids = set(f["id"] for f in findings.values())
    for saving in store.db["job_savings"].rows:
        assert set(json.loads(saving["finding_ids"])) <= ids
    # collectors' state follows the runs: a collect does not fetch their metrics again
    state = {r["key"] for r in store.db["collect_state"].rows_where("source = 'cloudwatch'")}
    assert state and state <= keys
    store.close()


def test_the_account_a_user_gives_goes_to_jobs_that_do_not_say(old_store):
    store = Store(old_store, account="111111111111")
    names = {j["name"] for j in store.jobs()}
    assert "111111111111/us-east-1/legacy_billing_export" in names
    assert job_key(ACCOUNT, "us-east-1", "orders_daily_etl") in names  # its ARN wins
    store.close()


def test_the_next_analysis_is_full_and_opens_nothing_again(old_store):
    store = Store(old_store)
    open_before = {f["id"] for f in store.open_findings()}
    report = analyze(store)
    assert report.mode == "full"
    assert report.findings.get("new", 0) == 0 and report.findings.get("resolved", 0) == 0
    assert {f["id"] for f in store.open_findings()} == open_before
    store.close()
    result = CliRunner().invoke(
        main, ["recommend", "orders_daily_etl", "--db", str(old_store), "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    job = json.loads(result.stdout)["job"]
    assert (job["account"], job["region"]) == (ACCOUNT, "us-east-1")
