"""A job whose only news is newer runs takes them in from what its last analysis kept (its
anomaly reference, its newest priced runs), and the store then holds what a full analysis
gives; anything that changes the reference or the history's order reads the job whole."""

from __future__ import annotations

import itertools
import json
import random
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from advisor.analysis.anomaly import training_size
from advisor.analysis.findings import AnalysisReport, analyze
from advisor.collect.importer import import_directory
from advisor.store import Store
from tests.conftest import snapshot

ACCOUNT = "123456789012"
START = datetime(2026, 9, 1, tzinfo=UTC)
HOURLY, BYTES = "hourly_no_metrics", "daily_with_bytes"


class Fleet:
    """Two jobs exported to an import folder: one hourly without CloudWatch metrics (judged on
    runtime), one daily with bytes read for every run (judged on runtime per GB too)."""

    def __init__(self, root: Path):
        self.root = root
        self.rng = random.Random(7)
        self.runs: dict[str, list[dict]] = {HOURLY: [], BYTES: []}
        (root / "job-runs").mkdir(parents=True)
        (root / "metrics").mkdir()
        (root / "jobs.json").write_text(
            json.dumps(
                {
                    "Jobs": [
                        {
                            "Name": name,
                            "Role": f"arn:aws:iam::{ACCOUNT}:role/glue",
                            "GlueVersion": "4.0",
                            "Command": {"Name": "glueetl", "ScriptLocation": "s3://b/x.py"},
                            "WorkerType": "G.1X",
                            "NumberOfWorkers": 10,
                            "DefaultArguments": {"--enable-metrics": "true"},
                        }
                        for name in self.runs
                    ]
                }
            )
        )

    def add(
        self,
        job: str,
        count: int,
        slow: float = 1.0,
        bytes_read: bool | None = None,
        at: datetime | None = None,
    ) -> list[str]:
        """`count` runs after the job's newest (or at `at`), the last `slow` times slower."""
        step = timedelta(hours=1 if job == HOURLY else 24)
        ids = []
        for k in range(count):
            n = len(self.runs[job])
            started = at or START + step * n
            runtime = int(900 * self.rng.lognormvariate(0, 0.1) * (slow if k == count - 1 else 1))
            run_id = f"jr_{job}_{n:04d}"
            self.runs[job].append(
                {
                    "Id": run_id,
                    "JobName": job,
                    "Attempt": 0,
                    "StartedOn": started.isoformat(),
                    "CompletedOn": (started + timedelta(seconds=runtime)).isoformat(),
                    "JobRunState": "SUCCEEDED",
                    "ExecutionTime": runtime,
                    "WorkerType": "G.1X",
                    "NumberOfWorkers": 10,
                    "GlueVersion": "4.0",
                }
            )
            if bytes_read if bytes_read is not None else job == BYTES:
                folder = self.root / "metrics" / run_id
                folder.mkdir()
                point = {"Timestamp": started.isoformat(), "Sum": 5e9, "Unit": "Bytes"}
                (folder / "glue.driver.aggregate.bytesRead.json").write_text(
                    json.dumps({"Label": "glue.driver.aggregate.bytesRead", "Datapoints": [point]})
                )
            ids.append(f"{ACCOUNT}/us-east-1/{run_id}")
        for name, runs in self.runs.items():
            (self.root / "job-runs" / f"{name}.json").write_text(json.dumps({"JobRuns": runs}))
        return ids


@pytest.fixture()
def fleet(tmp_path) -> tuple[Fleet, Store]:
    fleet = Fleet(tmp_path / "fleet")
    fleet.add(HOURLY, 200)
    fleet.add(BYTES, 40)
    store = Store(tmp_path / "advisor.db")
    import_directory(store, fleet.root)
    assert analyze(store).mode == "full"
    yield fleet, store
    store.close()


def step(fleet: Fleet, store: Store, tmp_path: Path, name: str) -> AnalysisReport:
    """Import the folder again and analyse; the store must equal a full analysis of a copy."""
    import_directory(store, fleet.root)
    target = sqlite3.connect(tmp_path / f"{name}.db")
    store.db.conn.backup(target)
    target.close()
    report = analyze(store)
    copy = Store(tmp_path / f"{name}.db")
    analyze(copy, full=True)
    assert snapshot(store) == snapshot(copy), name
    copy.close()
    return report


def anomalous(store: Store) -> set[str]:
    return {row["run_id"] for row in store.db["run_anomalies"].rows}


def test_new_runs_are_judged_against_the_kept_reference(fleet, tmp_path):
    fleet, store = fleet
    before = anomalous(store)
    slow = fleet.add(HOURLY, 5, slow=5.0)[-1]
    fleet.add(BYTES, 2)
    report = step(fleet, store, tmp_path, "new")
    assert (report.mode, report.jobs_changed, report.histories_read) == ("incremental", 2, 0)
    # a forest fitted on the kept reference's runs calls the slow one an outlier
    assert anomalous(store) == before | {slow}


def test_what_the_reference_cannot_take_reads_the_job_whole(fleet, tmp_path):
    fleet, store = fleet
    # a run without bytes read: runtime per GB is no longer a column of that job
    fleet.add(BYTES, 1, bytes_read=False)
    assert step(fleet, store, tmp_path, "no-bytes").histories_read == 1
    # a run older than the job's newest arrives late
    fleet.add(HOURLY, 1, at=START + timedelta(minutes=30))
    assert step(fleet, store, tmp_path, "late").histories_read == 1
    # enough new runs that the reference is fitted again, on more of them
    judged = len(fleet.runs[HOURLY])
    assert training_size(judged + 30) > training_size(judged)
    fleet.add(HOURLY, 30)
    assert step(fleet, store, tmp_path, "grown").histories_read == 1
    # and from there, new runs extend it again
    fleet.add(HOURLY, 1)
    assert step(fleet, store, tmp_path, "after").histories_read == 0


def test_the_reference_grows_by_a_quarter():
    sizes = sorted({training_size(n) for n in range(1, 1100)})
    assert sizes[:6] == [0, 8, 10, 13, 17, 22]
    assert all(b / a <= 1.25 + 1 / a for a, b in itertools.pairwise(sizes[1:]))
    assert all(training_size(n) <= n for n in range(1, 1100))
