"""`advisor analyze`: idempotent findings, resolution, mutes, isolation and not-evaluated rules."""

from __future__ import annotations

import copy
import json

import pytest
import yaml
from click.testing import CliRunner

from advisor.analysis.findings import analyze
from advisor.analysis.rules import Rule, load_rules
from advisor.cli import main
from advisor.collect.importer import import_directory
from advisor.store import Store
from tests.conftest import SAMPLE, snapshot
from tests.keys import sample_job


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    path = tmp_path_factory.mktemp("find") / "advisor.db"
    store = Store(path)
    import_directory(store, SAMPLE)
    store.close()
    return path


def fresh(imported, tmp_path) -> Store:
    copy_path = tmp_path / "copy.db"
    copy_path.write_bytes(imported.read_bytes())
    return Store(copy_path)


def test_analyze_twice_changes_nothing(imported, tmp_path):
    store = fresh(imported, tmp_path)
    first = analyze(store)
    before = snapshot(store)
    second = analyze(store)
    assert first.findings["new"] > 0 and first.rule_errors == []
    assert second.findings == {"new": 0, "open": first.findings["new"], "resolved": 0}
    assert snapshot(store) == before


def test_first_seen_is_the_earliest_analysis_that_saw_the_finding(imported, tmp_path):
    """Re-analysing at an earlier --as-of moves an open finding's first_seen back; a
    resolved finding that fires again is new from that analysis on."""
    store = fresh(imported, tmp_path)
    analyze(store)
    late = {f["id"]: f for f in store.open_findings(include_muted=True)}
    analyze(store, as_of="2026-11-12")
    early = {f["id"]: f for f in store.open_findings(include_muted=True)}
    both = set(late) & set(early)
    assert both
    for finding_id in both:
        assert early[finding_id]["first_seen"] <= late[finding_id]["first_seen"]
        assert early[finding_id]["first_seen"].startswith("2026-11-12")
    flex = [f for f in store.open_findings() if f["rule_id"] == "flex_candidate"]
    assert flex
    analyze(store, config={"rules": {"flex_candidate": {"params": {"max_runs_month": 0}}}})
    again = analyze(store)
    assert again.findings["new"] >= len(flex)
    reopened = {f["id"]: f for f in store.open_findings() if f["rule_id"] == "flex_candidate"}
    latest = max(f["last_seen"] for f in reopened.values())
    assert all(f["first_seen"] == latest for f in reopened.values())


def test_job_features_are_stored_for_the_outputs(imported, tmp_path):
    """recommend, report and dashboard read features from the store, never recompute them."""
    from advisor.analysis.features import job_features

    store = fresh(imported, tmp_path)
    analyze(store)
    computed = job_features(store)
    assert store.db["job_features"].count == len(computed) > 0
    for job, values in computed.items():
        stored = store.stored_job_features(job)
        assert stored == json.loads(json.dumps(values, default=str))
    assert store.stored_job_features("no_such_job") is None


def test_findings_resolve_when_the_rule_stops_firing_and_mutes_hide(imported, tmp_path):
    store = fresh(imported, tmp_path)
    analyze(store)
    flex = [f for f in store.open_findings() if f["rule_id"] == "flex_candidate"]
    assert flex
    stricter = {"rules": {"flex_candidate": {"params": {"max_runs_month": 0}}}}
    report = analyze(store, config=stricter)
    assert report.findings["resolved"] == len(flex)
    assert not [f for f in store.open_findings() if f["rule_id"] == "flex_candidate"]
    muted = {"mute": [{"rule": "legacy_glue_version", "job": "legacy_billing_export"}]}
    analyze(store, config=muted)
    visible = {(f["rule_id"], f["job_name"]) for f in store.open_findings()}
    everything = {(f["rule_id"], f["job_name"]) for f in store.open_findings(include_muted=True)}
    # a mute names the job as AWS does (or by its key): every place with that name
    assert ("legacy_glue_version", sample_job("legacy_billing_export")) in everything - visible


def test_a_failing_rule_is_recorded_and_the_rest_go_on(imported, tmp_path):
    store = fresh(imported, tmp_path)
    rules = load_rules()
    broken = copy.deepcopy(rules[0].spec)
    broken["id"], broken["message"] = "broken_rule", "{no_such_feature}"
    broken["when"] = {"feature": "runs_month", "op": "gte", "value": 0}
    needs_logs = copy.deepcopy(rules[0].spec)
    needs_logs["id"], needs_logs["requires"] = "needs_event_logs", ["eventlog"]
    report = analyze(store, rules=[*rules, Rule(broken), Rule(needs_logs)])
    assert {e["rule"] for e in report.rule_errors} == {"broken_rule"}
    assert report.findings["new"] > 0
    rows = store.db["rule_status"].rows_where("rule_id = ?", ["needs_event_logs"])
    statuses = {r["job_name"]: r["status"] for r in rows}
    manifest = yaml.safe_load((SAMPLE / "MANIFEST.yaml").read_text())
    with_logs = {sample_job(e["job"]) for e in manifest["eventlogs"]}
    assert {job for job, status in statuses.items() if status == "evaluated"} == with_logs
    assert {s for job, s in statuses.items() if job not in with_logs} == {"not_evaluated"}


def test_findings_are_ranked_and_carry_their_fix(imported, tmp_path):
    store = fresh(imported, tmp_path)
    analyze(store)
    rows = store.open_findings()
    assert [r["score"] for r in rows] == sorted((r["score"] for r in rows), reverse=True)
    shell = next(r for r in rows if r["rule_id"] == "python_shell_oversized")
    assert any("MaxCapacity to 0.0625" in a for a in json.loads(shell["advice"]))
    assert "py_shell_report_mailer" in json.loads(shell["remediation"])["cli"]


def test_analyze_cli_json(imported, tmp_path):
    copy_path = tmp_path / "cli.db"
    copy_path.write_bytes(imported.read_bytes())
    result = CliRunner().invoke(main, ["analyze", "--db", str(copy_path), "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["rules"] == len(load_rules()) and data["findings"]["new"] > 0
