"""The sample fleet is realistic, regenerable, small, and its MANIFEST matches its files."""

from __future__ import annotations

import filecmp
import json
import subprocess
import sys
from datetime import datetime

import yaml

from tests.conftest import SAMPLE

MANIFEST = yaml.safe_load((SAMPLE / "MANIFEST.yaml").read_text())
JOBS = {j["Name"]: j for j in json.loads((SAMPLE / "jobs.json").read_text())["Jobs"]}


def all_runs():
    for path in (SAMPLE / "job-runs").glob("*.json"):
        doc = json.loads(path.read_text())
        for page in doc if isinstance(doc, list) else [doc]:
            yield from page["JobRuns"]


def test_fleet_size_span_and_variety():
    runs = list(all_runs())
    assert len(JOBS) >= 25
    starts = [datetime.fromisoformat(r["StartedOn"]) for r in runs]
    assert (max(starts) - min(starts)).days >= 60
    assert {j["Command"]["Name"] for j in JOBS.values()} == {
        "glueetl",
        "pythonshell",
        "gluestreaming",
        "glueray",
    }
    worker_types = {j.get("WorkerType") for j in JOBS.values()}
    assert {"Standard", "G.025X", "G.1X", "G.2X", "G.4X", "R.1X"} <= worker_types
    shell_dpus = {j["MaxCapacity"] for j in JOBS.values() if j["Command"]["Name"] == "pythonshell"}
    assert shell_dpus == {0.0625, 1.0}
    assert {j.get("ExecutionClass") for j in JOBS.values()} >= {"FLEX", "STANDARD"}
    assert {m["schedule"] for m in MANIFEST["jobs"].values()} >= {"hourly", "daily", "weekly"}


def test_failures_retries_and_billing_fields_are_present():
    runs = list(all_runs())
    states = {r["JobRunState"] for r in runs}
    assert {"SUCCEEDED", "FAILED", "TIMEOUT"} <= states
    messages = " ".join(r.get("ErrorMessage", "") for r in runs)
    for needle in (
        "OutOfMemoryError",
        "Container killed by YARN for exceeding memory limits",
        "No space left on device",
    ):
        assert needle in messages
    retries = [r for r in runs if r["Attempt"] > 0]
    assert retries and all(r["PreviousRunId"] for r in retries)
    autoscaled = [r for r in runs if r["JobName"] == "sessionize_autoscale"]
    assert all("DPUSeconds" in r for r in autoscaled)
    assert all("DPUSeconds" in r for r in runs if r.get("ExecutionClass") == "FLEX")


def test_manifest_names_real_jobs_runs_and_files():
    run_ids = {r["Id"] for r in all_runs()}
    needed = {
        "over_provisioned",
        "under_provisioned",
        "small_files_read",
        "spill",
        "cost_anomaly",
        "oom_risk",
        "disk_full_risk",
        "retry_waste",
        "failed_run_waste",
    }
    assert needed <= {p["problem"] for p in MANIFEST["problems"]}
    for planted in MANIFEST["problems"]:
        assert planted["job"] in JOBS
    for run in MANIFEST["anomalous_runs"]:
        assert run["run_id"] in run_ids
    assert len(MANIFEST["eventlogs"]) >= 5
    for entry in MANIFEST["eventlogs"]:
        folder = SAMPLE / "eventlogs" / entry["run_id"]
        assert entry["run_id"] in run_ids and any(p.is_file() for p in folder.rglob("*"))
    change = MANIFEST["definition_changes"][0]
    assert JOBS[change["job"]]["LastModifiedOn"].startswith(change["at"][:10])


def test_eventlogs_come_in_several_codecs_and_the_rolling_layout():
    names = [p.name for p in (SAMPLE / "eventlogs").rglob("*") if p.is_file()]
    assert {n.rsplit(".", 1)[-1] for n in names if "." in n} >= {"zstd", "lz4", "snappy", "lzf"}
    assert any(p.name.startswith("eventlog_v2_") for p in (SAMPLE / "eventlogs").rglob("*"))
    assert any(n.startswith("appstatus_") for n in names)


def test_folder_stays_small():
    size = sum(p.stat().st_size for p in SAMPLE.rglob("*") if p.is_file())
    assert size < 20 * 1024 * 1024


def test_generator_reproduces_the_committed_fleet(tmp_path):
    subprocess.run(
        [sys.executable, str(SAMPLE / "generate_fleet.py"), "--out", str(tmp_path)],
        check=True,
        capture_output=True,
    )
    for name in ("jobs.json", "MANIFEST.yaml"):
        assert filecmp.cmp(tmp_path / name, SAMPLE / name, shallow=False), name
    for sub in ("job-runs", "metrics"):
        comparison = filecmp.dircmp(tmp_path / sub, SAMPLE / sub)
        assert not comparison.left_only and not comparison.right_only
    for path in (tmp_path / "job-runs").iterdir():
        assert filecmp.cmp(path, SAMPLE / "job-runs" / path.name, shallow=False), path.name
