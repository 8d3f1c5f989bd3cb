"""Regenerate the sample fleet in the import layout (deterministic: same seed, same bytes).

    python sample_metrics/generate_fleet.py [--out DIR]   # writes jobs.json, job-runs/, metrics/
                                                          # and MANIFEST.yaml (default: here)
Event logs come from real PySpark runs: see generate_eventlogs.py (run it after this script).
The what-if flagship, fraud_features_build, has a log of its own configuration (3 x G.1X, run on
Spark's local-cluster); its runtime_s in fleet_spec.py is that log's duration, so that its runs'
median stands for the logged run. After regenerating that log
(`python sample_metrics/generate_eventlogs.py --only fraud_features`, which prints the duration),
set runtime_s to it and run this script again: its runs keep their ids (it has no retries), so
the log stays linked.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import random
import shutil
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from fleet_spec import (  # noqa: E402
    ACCOUNT,
    FLEET_DAYS,
    FLEET_END,
    OOM,
    SCRIPTS,
    JobSpec,
    fleet,
)

SEED = 20261128
DPU = {
    "Standard": 1,
    "G.025X": 0.25,
    "G.1X": 1,
    "G.2X": 2,
    "G.4X": 4,
    "G.8X": 8,
    "R.1X": 1,
    "Z.2X": 2,
}
MAX_POINTS = 15


def ts(dt: datetime) -> str:
    """The AWS CLI's timestamp form."""
    return dt.isoformat(timespec="microseconds")


def run_id(job: str, when: datetime, attempt: int) -> str:
    digest = hashlib.sha256(f"{job}|{when.isoformat()}|{attempt}".encode()).hexdigest()
    return f"jr_{digest}"


def schedule(spec: JobSpec, start: datetime, end: datetime = FLEET_END) -> list[datetime]:
    if spec.schedule == "stopped":
        return []
    step = {
        "hourly": timedelta(hours=1),
        "every4h": timedelta(hours=4),
        "daily": timedelta(days=1),
        "continuous": timedelta(days=1),
        "weekly": timedelta(days=7),
    }[spec.schedule]
    first = start.replace(hour=0, minute=0)
    if spec.schedule == "hourly":
        first = first.replace(minute=5)
    elif spec.schedule == "every4h":
        first = first.replace(minute=15)
    elif spec.schedule in ("daily", "weekly"):
        first = first.replace(hour=spec.hour)
        if spec.schedule == "weekly":  # Sundays
            first += timedelta(days=(6 - first.weekday()) % 7)
    times, t = [], first
    while t < end:
        if t >= start:
            times.append(t)
        t += step
    return times


def config_at(spec: JobSpec, when: datetime) -> tuple[str | None, int | None, float]:
    if spec.change and when >= spec.change.at:
        return spec.change.worker_type, spec.change.workers, spec.change.runtime_factor
    return spec.worker_type, spec.workers, 1.0


def volume_at(spec: JobSpec, when: datetime) -> float:
    """How many times its first volume the job reads at `when` (data can grow at a change)."""
    if spec.change and when >= spec.change.at:
        return spec.change.volume_factor
    return 1.0


def capacity(worker_type: str | None, workers: int | None, spec: JobSpec) -> float:
    if worker_type and workers and worker_type != "Standard":
        return workers * DPU[worker_type]
    return spec.max_capacity or 0.0


def job_definition(spec: JobSpec, start: datetime) -> dict[str, Any]:
    created = start - timedelta(days=200)
    job: dict[str, Any] = {
        "Name": spec.name,
        "JobMode": "SCRIPT",
        "Description": spec.description,
        "Role": f"arn:aws:iam::{ACCOUNT}:role/GlueJobRole",
        "CreatedOn": ts(created),
        "LastModifiedOn": ts(spec.change.at if spec.change else created + timedelta(days=30)),
        "ExecutionProperty": {"MaxConcurrentRuns": 1},
        "Command": {
            "Name": spec.command,
            "ScriptLocation": f"{SCRIPTS}/{spec.name}.py",
            "PythonVersion": "3.9" if spec.command == "pythonshell" else "3",
        },
        "DefaultArguments": spec.args,
        "MaxRetries": spec.max_retries,
        "GlueVersion": spec.glue_version,
    }
    if spec.command == "glueray":
        job["Command"]["Runtime"] = "Ray2.4"
        del job["Command"]["PythonVersion"]
    if spec.timeout_min:
        job["Timeout"] = spec.timeout_min
    worker_type, workers, _ = config_at(spec, FLEET_END)
    if worker_type and workers:
        job["WorkerType"], job["NumberOfWorkers"] = worker_type, workers
        job["MaxCapacity"] = capacity(worker_type, workers, spec)
    else:
        job["MaxCapacity"] = spec.max_capacity
        if worker_type:
            job["WorkerType"] = worker_type
    if spec.execution_class:
        job["ExecutionClass"] = spec.execution_class
    return job


def make_run(
    spec: JobSpec,
    rng: random.Random,
    started: datetime,
    attempt: int,
    previous: str | None,
    anomaly: bool,
) -> dict[str, Any]:
    worker_type, workers, factor = config_at(spec, started)
    runtime = spec.runtime_s * factor * math.exp(rng.gauss(0, spec.runtime_sigma))
    if anomaly:
        runtime *= 4.0
    state, message = "SUCCEEDED", None
    roll = rng.random()
    for failure in spec.failures:
        if roll < failure.probability:
            state, message = failure.state, failure.message
            runtime *= rng.uniform(0.25, 0.9)
            break
        roll -= failure.probability
    if spec.timeout_min and runtime > spec.timeout_min * 60:
        state, message, runtime = "TIMEOUT", "Job run timed out", spec.timeout_min * 60
    execution_s = max(1, int(runtime))
    startup = rng.uniform(6, 25)
    completed = started + timedelta(seconds=execution_s + startup)
    rid = run_id(spec.name, started, attempt)
    run: dict[str, Any] = {
        "Id": rid,
        "Attempt": attempt,
        "TriggerName": f"{spec.name}-{spec.schedule}" if attempt == 0 else None,
        "JobName": spec.name,
        "JobMode": "SCRIPT",
        "StartedOn": ts(started),
        "LastModifiedOn": ts(completed),
        "CompletedOn": ts(completed),
        "JobRunState": state,
        "Arguments": {"--run_date": started.date().isoformat()},
        "PredecessorRuns": [],
        "ExecutionTime": execution_s,
        "LogGroupName": "/aws-glue/jobs",
        "GlueVersion": spec.glue_version,
    }
    if spec.name == "finance_gl_export":
        run["Arguments"]["--db-password"] = "example-not-a-real-password"
    if previous:
        run["PreviousRunId"] = previous
    if run["TriggerName"] is None:
        del run["TriggerName"]
    if message:
        run["ErrorMessage"] = message
    if spec.timeout_min:
        run["Timeout"] = spec.timeout_min
    dpus = capacity(worker_type, workers, spec)
    run["MaxCapacity"] = dpus
    if dpus >= 1:
        run["AllocatedCapacity"] = int(dpus)
    if worker_type and workers:
        run["WorkerType"], run["NumberOfWorkers"] = worker_type, workers
    if spec.execution_class:
        run["ExecutionClass"] = spec.execution_class
    if spec.autoscaling:
        run["DPUSeconds"] = round(
            execution_s * dpus * spec.busy_fraction * rng.uniform(0.85, 1.1), 1
        )
    elif spec.execution_class == "FLEX":
        run["DPUSeconds"] = round(execution_s * dpus * rng.uniform(0.9, 1.0), 1)
    return run


def runs_for(
    spec: JobSpec, rng: random.Random, start: datetime, end: datetime = FLEET_END
) -> tuple[list[dict], list[dict]]:
    """The runs of [start, end), newest first (as GetJobRuns returns them), and the anomalies."""
    runs, anomalies = [], []
    anomaly_dates = {(start + timedelta(days=d)).date() for d in spec.anomaly_days}
    for started in schedule(spec, start, end):
        started += timedelta(seconds=rng.randint(0, 90))
        anomaly = started.date() in anomaly_dates
        run = make_run(spec, rng, started, 0, None, anomaly)
        runs.append(run)
        if anomaly:
            anomalies.append({"job": spec.name, "run_id": run["Id"], "runtime_factor": 4.0})
        attempt = 0
        while run["JobRunState"] == "FAILED" and attempt < spec.max_retries:
            attempt += 1
            retry_start = datetime.fromisoformat(run["CompletedOn"]) + timedelta(
                seconds=rng.randint(30, 90)
            )
            run = make_run(spec, rng, retry_start, attempt, run["Id"], False)
            runs.append(run)
    runs.sort(key=lambda r: r["StartedOn"], reverse=True)  # GetJobRuns: newest first
    return runs, anomalies


# ---- CloudWatch metric files ---------------------------------------------------------------


def series(total_points: int, shape: str, level: float, rng: random.Random) -> list[float]:
    values = []
    for i in range(total_points):
        x = (i + 1) / total_points
        base = {"flat": 1.0, "ramp": 0.4 + 0.6 * x, "front": 1.6 if x < 0.7 else 0.2}[shape]
        values.append(max(0.0, level * base * rng.uniform(0.9, 1.1)))
    return values


def metric_files(spec: JobSpec, run: dict, rng: random.Random) -> dict[str, dict]:
    profile = spec.metrics
    assert profile is not None
    started = datetime.fromisoformat(run["StartedOn"])
    runtime = run["ExecutionTime"]
    period = 60 * max(1, math.ceil(runtime / 60 / MAX_POINTS))
    points = max(1, math.ceil(runtime / period))
    samples = period / 30  # Glue reports every 30 s
    failed = run["JobRunState"] != "SUCCEEDED"
    oom = failed and "OutOfMemoryError" in (run.get("ErrorMessage") or "")
    workers = run.get("NumberOfWorkers") or int(2 * (run.get("MaxCapacity") or 2) - 2)
    executors = max(1, workers - 1)
    # a slower run than its configuration's usual read a little more (runtime ** 0.2); the
    # job's volume scales it as a whole (a change's runtime factor reads no more data)
    usual = spec.runtime_s * (
        spec.change.runtime_factor if spec.change and started >= spec.change.at else 1.0
    )
    total_bytes = profile.bytes_read_gb * 1e9 * (runtime / usual) ** 0.2 * volume_at(spec, started)
    tasks = int(total_bytes / 128e6) + 200
    out: dict[str, dict] = {}

    def put(name: str, unit: str, values: list[float], count: bool) -> None:
        datapoints = []
        for i, v in enumerate(values):
            stamp = started + timedelta(seconds=i * period)
            if count:
                point = {
                    "Sum": round(v, 3),
                    "Average": round(v / samples, 3),
                    "Maximum": round(1.4 * v / samples, 3),
                }
            else:
                point = {
                    "Sum": round(v * samples, 4),
                    "Average": round(v, 4),
                    "Maximum": round(min(v * 1.06, 1.0) if unit == "Percent" else v * 1.06, 4),
                }
            datapoints.append({"Timestamp": ts(stamp), **point, "Unit": unit})
        out[name] = {"Label": name, "Datapoints": datapoints}

    if profile.classic:
        put(
            "glue.driver.aggregate.bytesRead",
            "Bytes",
            [x / points for x in series(points, "front", total_bytes, rng)],
            True,
        )
        put(
            "glue.driver.aggregate.recordsRead",
            "Count",
            [x / points for x in series(points, "front", total_bytes / 180, rng)],
            True,
        )
        put("glue.driver.aggregate.elapsedTime", "Milliseconds", [period * 1000.0] * points, True)
        put(
            "glue.driver.aggregate.numCompletedTasks",
            "Count",
            [x / points for x in series(points, "flat", tasks, rng)],
            True,
        )
        put(
            "glue.driver.aggregate.numFailedTasks",
            "Count",
            [4.0 if failed and i == points - 1 else 0.0 for i in range(points)],
            True,
        )
        driver_heap = series(points, "ramp", profile.driver_heap, rng)
        executor_heap = series(points, "ramp", profile.executor_heap, rng)
        if oom:
            executor_heap[-1] = 0.985
        put("glue.driver.jvm.heap.usage", "Percent", [min(v, 0.99) for v in driver_heap], False)
        put("glue.ALL.jvm.heap.usage", "Percent", [min(v, 0.99) for v in executor_heap], False)
        put(
            "glue.driver.ExecutorAllocationManager.executors.numberAllExecutors",
            "Count",
            [float(executors)] * points,
            False,
        )
        needed = (
            min(executors, profile.needed_executors)
            if profile.needed_executors is not None
            else executors * profile.needed_executors_ratio
        )
        put(
            "glue.driver.ExecutorAllocationManager.executors.numberMaxNeededExecutors",
            "Count",
            [round(v) for v in series(points, "front", needed, rng)],
            False,
        )
        put(
            "glue.driver.BlockManager.disk.diskSpaceUsed_MB",
            "Megabytes",
            series(points, "ramp", profile.disk_used_mb, rng),
            False,
        )
    if profile.observability:
        put(
            "glue.driver.workerUtilization",
            "Percent",
            [min(v, 1.0) for v in series(points, "flat", profile.utilization, rng)],
            False,
        )
        put(
            "glue.driver.skewness.job",
            "Count",
            series(points, "flat", profile.skewness, rng),
            False,
        )
        put("glue.driver.filesRead", "Count", [float(profile.files_read)] * points, False)
    return out


def main(out: Path = HERE) -> None:
    start = FLEET_END - timedelta(days=FLEET_DAYS)
    for sub in ("job-runs", "metrics"):
        shutil.rmtree(out / sub, ignore_errors=True)
        (out / sub).mkdir(parents=True)
    specs = fleet()
    jobs = [job_definition(s, start) for s in specs]
    (out / "jobs.json").write_text(json.dumps({"Jobs": jobs}, indent=1) + "\n")
    manifest_runs, anomalies, eventlogs = 0, [], []
    metric_runs = 0
    for spec in specs:
        rng = random.Random(
            f"{SEED}:{spec.name}"
        )  # one stream per job: jobs never reshuffle each other
        runs, planted = runs_for(spec, rng, start)
        anomalies += planted
        manifest_runs += len(runs)
        path = out / "job-runs" / f"{spec.name}.json"
        if spec.schedule == "hourly":  # several CLI pages concatenated as a JSON list
            pages = [{"JobRuns": runs[i : i + 200]} for i in range(0, len(runs), 200)]
            path.write_text(json.dumps(pages, separators=(",", ":")) + "\n")
        else:
            path.write_text(json.dumps({"JobRuns": runs}, separators=(",", ":")) + "\n")
        if spec.metrics:
            horizon = FLEET_END - timedelta(days=spec.metrics_days)
            for run in runs:
                if datetime.fromisoformat(run["StartedOn"]) < horizon:
                    continue
                metric_runs += 1
                run_dir = out / "metrics" / run["Id"]
                run_dir.mkdir()
                for name, doc in metric_files(spec, run, rng).items():
                    (run_dir / f"{name}.json").write_text(json.dumps(doc, separators=(",", ":")))
        if spec.eventlog:
            target = next(r for r in runs if r["JobRunState"] == "SUCCEEDED" and r["Attempt"] == 0)
            eventlogs.append({"job": spec.name, "run_id": target["Id"], "scenario": spec.eventlog})
    write_manifest(out, specs, start, manifest_runs, metric_runs, anomalies, eventlogs)
    print(f"{len(specs)} jobs, {manifest_runs} runs, metric files for {metric_runs} runs")


def write_manifest(
    out: Path,
    specs: list[JobSpec],
    start: datetime,
    runs: int,
    metric_runs: int,
    anomalies: list[dict],
    eventlogs: list[dict],
) -> None:
    manifest = {
        "generated_by": "sample_metrics/generate_fleet.py and generate_eventlogs.py",
        "seed": SEED,
        "region": "us-east-1",
        "window": {"start": start.isoformat(), "end": FLEET_END.isoformat(), "days": FLEET_DAYS},
        "totals": {"jobs": len(specs), "runs": runs, "runs_with_metric_files": metric_runs},
        "jobs": {
            s.name: {
                "type": s.command,
                "glue_version": s.glue_version,
                "worker_type": (s.change.worker_type if s.change else s.worker_type),
                "number_of_workers": (s.change.workers if s.change else s.workers),
                "max_capacity": s.max_capacity,
                "execution_class": s.execution_class,
                "schedule": s.schedule,
                "auto_scaling": s.autoscaling,
                "problems": list(s.problems),
                "description": s.description,
            }
            for s in specs
        },
        "healthy_jobs": sorted(s.name for s in specs if not s.problems),
        "problems": [{"problem": p, "job": s.name} for s in specs for p in s.problems],
        "definition_changes": [
            {
                "job": s.name,
                "at": s.change.at.isoformat(),
                "to": f"{s.change.workers} x {s.change.worker_type}",
                "from": f"{s.workers} x {s.worker_type}",
                "runtime_factor": s.change.runtime_factor,
                "volume_factor": s.change.volume_factor,
            }
            for s in specs
            if s.change
        ],
        "anomalous_runs": anomalies,
        "eventlogs": eventlogs,
        # jobs whose event log is a run of their own configuration: a trusted what-if
        "whatif_flagships": [s.name for s in specs if s.whatif_flagship],
        "planted_secrets": ["example-not-a-real-password", "example-pass-9", "example-token-0000"],
        "error_messages": {"oom": OOM[:60]},
    }
    (out / "MANIFEST.yaml").write_text(
        "# What is planted where in the sample fleet; tests assert the advisor finds it.\n"
        + yaml.safe_dump(manifest, sort_keys=False, width=100)
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=HERE, help="folder to write (default: here)")
    main(parser.parse_args().out)
