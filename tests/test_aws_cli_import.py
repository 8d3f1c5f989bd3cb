"""What the real AWS CLI writes (awscli from PyPI, against moto's server over HTTP) imports into
the store `advisor collect` builds: both timestamp formats, shell-joined pages, cut-off output,
a job name holding "/", metrics fetched with the Type and statistic each metric needs."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from advisor.collect.importer import import_directory
from advisor.collect.metrics import CLASSIC_RUN_METRICS
from advisor.store import Store
from tests.awsfake import REGION
from tests.conftest import ROOT
from tests.test_collect import run_collect

pytest.importorskip("awscli")

SCRIPT = ROOT / "scripts" / "export_with_aws_cli.py"
AWS = [sys.executable, "-m", "awscli"]
RUN_COLUMNS = (
    "id, job_name, attempt, state, started_on, completed_on, execution_time_s, dpu_seconds, "
    "worker_type, number_of_workers, max_capacity, glue_version, error_message, arguments"
)


def _env(tmp_path: Path, timestamps: str | None) -> dict[str, str]:
    config = tmp_path / f"aws-config-{timestamps}"
    lines = ["[default]", f"region = {REGION}"]
    if timestamps:
        lines.append(f"cli_timestamp_format = {timestamps}")
    config.write_text("\n".join(lines) + "\n")
    return {
        **os.environ,
        "AWS_CONFIG_FILE": str(config),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-credentials"),
        "AWS_CLI": shlex.join(AWS),
        "TZ": "Asia/Kolkata",  # the CLI prints ISO times in the local offset
    }


def _export(fleet, folder: Path, env: dict[str, str], runs_per_job: int) -> None:
    done = subprocess.run(
        [
            *(sys.executable, str(SCRIPT), str(folder)),
            *("--runs-per-job", str(runs_per_job), "--", "--endpoint-url", fleet.endpoint),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr


def _rows(store: Store, sql: str) -> list[tuple]:
    return sorted(tuple(r.values()) for r in store.db.query(sql))


@pytest.fixture
def cli_fleet(fleet):
    fleet.create_job("team/orders_daily", {"--enable-metrics": "true"})
    fleet.create_job("clicks, hourly=yes", {"--enable-metrics": "true"})
    for name in fleet.runs:
        fleet.add_runs(name, 3, spacing=timedelta(hours=2))
        fleet.put_metrics(name, fleet.runs[name][-1:])  # the newest run's, as Glue emits them
    return fleet


@pytest.mark.parametrize("timestamps", [None, "iso8601"])
def test_what_the_cli_writes_imports_as_collect_stores_it(cli_fleet, tmp_path, timestamps):
    env = _env(tmp_path, timestamps)
    folder = tmp_path / "export"
    _export(cli_fleet, folder, env, runs_per_job=1 if timestamps is None else 0)
    sample = json.loads((folder / "job-runs" / "job-1.json").read_text())["JobRuns"][0]
    # CLI v1 prints epoch seconds unless told otherwise, ISO 8601 in the local offset if so
    assert isinstance(sample["StartedOn"], (int, float) if timestamps is None else str)
    imported = Store(tmp_path / "imported.db")
    report = import_directory(imported, folder, region=REGION)
    assert report.errors == []
    collected = Store(tmp_path / "collected.db")
    run_collect(collected, cli_fleet)
    assert _rows(imported, f"select {RUN_COLUMNS} from job_runs") == _rows(
        collected, f"select {RUN_COLUMNS} from job_runs"
    )
    assert _rows(imported, "select name, definition from job_versions") == _rows(
        collected, "select name, definition from job_versions"
    )
    assert {j["glue_name"] for j in imported.jobs()} == {"team/orders_daily", "clicks, hourly=yes"}
    if timestamps is None:  # metrics of the runs exported, point for point
        # to the minute: moto answers get-metric-statistics with each point's own time, where
        # CloudWatch (and moto's GetMetricData, which the collector calls) gives the period's
        metric_sql = (
            "select run_id, metric, stat, substr(ts, 1, 16), value from run_metrics "
            "order by 1, 2, 3, 4"
        )
        points = _rows(imported, metric_sql)
        assert {p[1] for p in points} == {
            "glue.driver.jvm.heap.usage",
            "glue.driver.aggregate.bytesRead",
        }
        exported = {p[0] for p in points}
        assert points == [p for p in _rows(collected, metric_sql) if p[0] in exported]


def test_shell_joined_pages_and_cut_off_output(cli_fleet, tmp_path):
    env = _env(tmp_path, None)
    folder = tmp_path / "export"
    _export(cli_fleet, folder, env, runs_per_job=0)
    whole = Store(tmp_path / "whole.db")
    import_directory(whole, folder, region=REGION)

    def page(token: str | None) -> str:
        args = ["glue", "get-job-runs", "--job-name", "team/orders_daily", "--max-items", "2"]
        args += ["--starting-token", token] if token else []
        done = subprocess.run(
            [*AWS, *args, "--endpoint-url", cli_fleet.endpoint, "--output", "json"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout

    first = page(None)
    token = json.loads(first)["NextToken"]
    (folder / "job-runs" / "job-1.json").write_text(first + page(token))  # `>>` in a loop
    joined = Store(tmp_path / "joined.db")
    report = import_directory(joined, folder, region=REGION)
    assert [e["reason"] for e in report.errors] == []
    assert _rows(joined, "select * from job_runs") == _rows(whole, "select * from job_runs")

    (folder / "job-runs" / "job-1.json").write_text(first)  # one page, more to come
    (folder / "job-runs" / "nested").mkdir()
    (folder / "job-runs" / "notes.txt").write_text("runs of the week")
    cut = Store(tmp_path / "cut.db")
    report = import_directory(cut, folder, region=REGION)
    reasons = {e["item"]: e["reason"] for e in report.errors}
    assert (
        "cut off" in reasons["job-runs/job-1.json"]
        and "NextToken" in reasons["job-runs/job-1.json"]
    )
    assert "a folder here is not read" in reasons["job-runs/nested"]
    assert "not a .json file" in reasons["job-runs/notes.txt"]
    assert cut.db["job_runs"].count == whole.db["job_runs"].count - 1


def test_the_script_asks_for_the_metrics_the_collector_reads():
    """The export script stands alone (it runs where the credentials are): its metric list and
    Type dimensions must stay the collector's."""
    namespace: dict = {}
    exec(compile(SCRIPT.read_text(), str(SCRIPT), "exec"), namespace)
    assert namespace["METRICS"] == CLASSIC_RUN_METRICS
