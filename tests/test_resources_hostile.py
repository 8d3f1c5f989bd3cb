"""Crawlers and sessions with fields of the wrong type: skipped at the door with a reason
(exit 4), and never stored to crash `analyze`, `resources` or the dashboard later."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from click.testing import CliRunner

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
