"""Crawlers and sessions with fields of the wrong type: skipped at the door with a reason
(exit 4), and never stored to crash `analyze`, `resources` or the dashboard later."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner

from advisor.analysis.other_costs import rate_usd
from advisor.analysis.resource_features import resource_features
from advisor.cli import main

S3 = {"S3Targets": [{"Path": "s3://lake/raw/"}]}


def test_wrong_types_are_skipped_and_the_rest_is_judged(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    crawlers = [
        # CreateCrawler's shape: the schedule as its expression alone, read as GetCrawlers'
        {"Name": "text_schedule", "Schedule": "cron(0 * * * ? *)", "Targets": S3},
        {"Name": "text_policy", "RecrawlPolicy": "CRAWL_EVERYTHING", "Targets": S3},
        {"Name": "text_targets", "Targets": "s3://x"},
        {"Name": "fine", "Targets": S3},
    ]
    sessions = [
        {"Id": "text_idle", "IdleTimeout": "2880", "Status": "STOPPED", "NumberOfWorkers": 5,
         "WorkerType": "G.1X", "CreatedOn": "2026-11-01T00:00:00Z",
         "CompletedOn": "2026-11-03T00:00:00Z"},
        {"Id": "list_idle", "IdleTimeout": [1], "Status": "STOPPED"},
        {"Id": "number_type", "WorkerType": 5, "Status": "STOPPED"},
    ]  # fmt: skip
    (folder / "crawlers.json").write_text(json.dumps({"Crawlers": crawlers}))
    (folder / "sessions.json").write_text(json.dumps({"Sessions": sessions}))
    db = str(tmp_path / "a.db")
    runner = CliRunner()
    imported = runner.invoke(main, ["import", str(folder), "--db", db])
    assert imported.exit_code == 4
    for skipped in ("text_policy", "text_targets", "list_idle", "number_type"):
        assert skipped in imported.output, skipped
    for command in (["analyze"], ["resources", "--format", "json"]):
        result = runner.invoke(main, [*command, "--db", db])
        assert result.exit_code == 0, (command, result.output)
        assert "Traceback" not in result.output
    shown = json.loads(runner.invoke(main, ["resources", "--db", db, "--format", "json"]).stdout)
    assert {r["name"] for r in shown["resources"]} == {"text_schedule", "fine", "text_idle"}
    [idle] = [f for f in shown["findings"] if f["name"] == "text_idle"]
    assert idle["rule_id"] == "session_idle_timeout"


def test_a_definition_stored_before_the_checks_is_passed_over():
    stored = {"kind": "crawler", "name": "old", "account": "1", "region": "us-east-1",
              "state": "READY", "definition": {"Schedule": "cron(0 * * * ? *)"}}  # fmt: skip
    assert resource_features([stored], [], datetime(2026, 11, 26, tzinfo=UTC)) == {}


def test_an_endpoint_created_after_the_data_ends_costs_nothing_yet(tmp_path):
    """A creation time after the last moment the data covers is no age: the endpoint bills
    nothing in the last 30 days and no rule calls it long provisioned."""
    folder = tmp_path / "in"
    folder.mkdir()
    role = "arn:aws:iam::123456789012:role/R"
    endpoints = [
        {"EndpointName": "later", "RoleArn": role, "Status": "READY", "GlueVersion": "1.0",
         "NumberOfNodes": 5, "CreatedTimestamp": "2998-08-03T00:00:00Z"},
        {"EndpointName": "old", "RoleArn": role, "Status": "READY", "GlueVersion": "1.0",
         "NumberOfNodes": 5, "CreatedTimestamp": "2026-06-01T00:00:00Z"},
    ]  # fmt: skip
    (folder / "dev-endpoints.json").write_text(json.dumps({"DevEndpoints": endpoints}))
    db = str(tmp_path / "a.db")
    runner = CliRunner()
    runner.invoke(main, ["import", str(folder), "--db", db])
    runner.invoke(main, ["analyze", "--db", db])
    shown = json.loads(runner.invoke(main, ["resources", "--db", db, "--format", "json"]).stdout)
    cost = {r["name"]: r["cost_usd_30d"] for r in shown["resources"]}
    assert cost["later"] == 0
    assert cost["old"] == pytest.approx(5 * 30 * 24 * rate_usd("dev_endpoint", "us-east-1"))
    assert {f["name"] for f in shown["findings"]} == {"old"}
