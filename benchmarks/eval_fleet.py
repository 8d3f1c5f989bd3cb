"""A labelled evaluation fleet, different from sample_metrics/, to measure the advisor's findings.

    python benchmarks/eval_fleet.py [OUT] [--seed N] [--jobs 100] [--days 35] [--end ISO-DATE]

Writes the offline import layout (jobs.json, job-runs/, metrics/<run id>/, eventlogs/<run id>/)
and LABELS.yaml: the problems a careful Glue engineer would see in each job's data. The run
history and CloudWatch files come from sample_metrics/generate_fleet.py (make_run, metric_files,
job_definition); the Spark event logs are small synthetic JSON-lines logs written here (no
pyspark), shaped like Glue's: one executor per worker, the Glue run id in the Spark properties.

Every planted problem has its real symptom: failures with Glue's error texts, heap near the limit,
spill in the event log's task metrics, thousands of files in glue.driver.filesRead or in the
event log's SQL scan metrics, BlockManager disk use summed over executors, and so on. About two
thirds of the jobs are healthy, of every kind, so that precision means something. The window ends
by default on 2026-03-28, a few days before Glue 0.9/1.0/2.0 reach end of life (2026-04-01).
"""

from __future__ import annotations

import argparse
import json
import math
import random
import shutil
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "sample_metrics"))
import fleet_spec as fs  # noqa: E402
import generate_fleet as gf  # noqa: E402
from fleet_spec import ConfigChange, Failure, JobSpec, MetricProfile, spark_args  # noqa: E402

DEFAULT_END = datetime(2026, 3, 28, tzinfo=UTC)
DEFAULT_SEED = 7
MB = 1_000_000
# generate_fleet.DPU lacks the bigger memory-optimised types (used here only in this process)
gf.DPU.setdefault("R.2X", 2)
CORES = {"G.025X": 2, "G.1X": 4, "G.2X": 8, "G.4X": 16, "G.8X": 32, "R.1X": 4, "R.2X": 8}
SPARK_VERSION = {
    "2.0": "2.4.3",
    "3.0": "3.1.1-amzn-0",
    "4.0": "3.3.0-amzn-1",
    "5.0": "3.5.2-amzn-1",
}
NOUNS = (
    "orders", "billing", "clicks", "sessions", "ledger", "invoices", "shipments", "catalog",
    "leads", "crm", "payments", "refunds", "inventory", "pricing", "ads", "telemetry", "sensors",
    "audit", "users", "accounts", "claims", "policies", "trades", "quotes", "stores", "returns",
)  # fmt: skip
VERBS = ("load", "merge", "export", "rollup", "dedup", "enrich", "sync", "compact", "snapshot")


# ---- synthetic Spark event logs ------------------------------------------------------------


@dataclass
class StagePlan:
    """One stage: its tasks and what each task read, wrote and spilled (sizes in MB per task)."""

    name: str
    tasks: int
    task_s: float = 20.0  # median task time before the run is fitted to its runtime
    scalable: bool = True  # False: keep task_s as is (tiny tasks stay tiny)
    skew: float = 1.0  # the slowest task over the median
    input_mb: float = 0.0
    shuffle_read_mb: float = 0.0
    shuffle_write_mb: float = 0.0
    output_mb: float = 0.0
    spill_mem_mb: float = 0.0
    spill_disk_mb: float = 0.0
    gc: float = 0.03  # GC time over run time
    peak_mem_mb: float = 200.0


@dataclass
class LogPlan:
    stages: list[StagePlan]
    driver_share: float = 0.4  # part of the runtime outside any stage (planning, listing, commit)
    files_read: int = 0
    files_read_mb: float = 0.0
    files_written: int = 0
    written_mb: float = 0.0
    conf: dict[str, str] = field(default_factory=dict)


def _one_wave(slots: int, *, input_mb: float = 96, out_files: int | None = None) -> LogPlan:
    """A healthy three-stage job: scan, aggregate, write, each one wave of the job's slots."""
    files = out_files if out_files is not None else min(slots, 48)
    return LogPlan(
        stages=[
            StagePlan("parquet at NativeMethodAccessorImpl.java:0", slots, 30, input_mb=input_mb,
                      shuffle_write_mb=input_mb / 3, peak_mem_mb=300),
            StagePlan("save at NativeMethodAccessorImpl.java:0", slots, 20,
                      shuffle_read_mb=input_mb / 3, output_mb=input_mb / 4, peak_mem_mb=400),
        ],
        files_read=slots * 3,
        files_read_mb=slots * input_mb,
        files_written=files,
        written_mb=slots * input_mb / 4,
    )  # fmt: skip


def _lognormal(rng: random.Random, median: float, sigma: float, n: int) -> list[float]:
    return [median * math.exp(rng.gauss(0, sigma)) for _ in range(n)]


def _schedule(durations: list[float], slots: int) -> tuple[float, list[tuple[int, float]]]:
    """Greedy FIFO onto `slots`: (makespan, [(slot, start)])."""
    free = [0.0] * slots
    placed = []
    for d in durations:
        slot = min(range(slots), key=free.__getitem__)
        placed.append((slot, free[slot]))
        free[slot] += d
    return max(free, default=0.0), placed


def write_eventlog(
    folder: Path,
    spec: JobSpec,
    run: dict[str, Any],
    plan: LogPlan,
    rng: random.Random,
) -> None:
    """One Spark application for `run`, as Glue would log it, uncompressed."""
    worker_type, workers = run.get("WorkerType") or "G.1X", run.get("NumberOfWorkers") or 2
    executors, cores = max(1, workers - 1), CORES[worker_type]
    slots = executors * cores
    start = datetime.fromisoformat(run["StartedOn"]).timestamp() * 1000 + 4000
    total = run["ExecutionTime"] * 1000 * 0.97
    stage_durations = []
    for stage in plan.stages:
        ds = _lognormal(rng, stage.task_s * 1000, 0.2, stage.tasks)
        if stage.skew > 1 and ds:
            ds[rng.randrange(len(ds))] = stage.task_s * 1000 * stage.skew
        stage_durations.append(ds)
    fixed = sum(_schedule(d, slots)[0] for d, s in zip(stage_durations, plan.stages, strict=True)
                if not s.scalable)  # fmt: skip
    scalable = sum(_schedule(d, slots)[0] for d, s in zip(stage_durations, plan.stages, strict=True)
                   if s.scalable)  # fmt: skip
    budget = total * (1 - plan.driver_share) - fixed
    factor = budget / scalable if scalable and budget > 0 else 1.0
    for ds, stage in zip(stage_durations, plan.stages, strict=True):
        if stage.scalable:
            ds[:] = [d * factor for d in ds]
    busy = sum(_schedule(d, slots)[0] for d in stage_durations)
    gap = max(500.0, (total - busy) / (len(plan.stages) + 1))

    events: list[dict[str, Any]] = []
    app_id = f"spark-application-{int(start)}"
    glue_version = spec.glue_version
    props = {
        "spark.app.name": f"nativespark-{spec.name}-{run['Id']}",
        "spark.master": "jes",
        "spark.executor.cores": str(cores),
        "spark.executor.memory": f"{cores * 5 // 2}g",
        "spark.driver.memory": "10g",
        "spark.dynamicAllocation.enabled": "false",
        "spark.glue.JOB_NAME": spec.name,
        "spark.glue.JOB_RUN_ID": run["Id"],
        "spark.glue.GLUE_VERSION": glue_version,
        **plan.conf,
    }
    events += [
        {"Event": "SparkListenerLogStart",
         "Spark Version": SPARK_VERSION.get(glue_version, "3.5.4")},
        {"Event": "SparkListenerApplicationStart", "App Name": props["spark.app.name"],
         "App ID": app_id, "Timestamp": int(start), "User": "spark"},
        {"Event": "SparkListenerEnvironmentUpdate", "JVM Information": {},
         "Spark Properties": props, "Hadoop Properties": {}, "System Properties": {},
         "Metrics Properties": {}, "Classpath Entries": {}},
    ]  # fmt: skip
    hosts = {
        str(i): f"172.35.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
        for i in range(1, 1 + executors)
    }
    for eid, host in hosts.items():
        events.append({"Event": "SparkListenerExecutorAdded", "Timestamp": int(start) + 1500,
                       "Executor ID": eid, "Executor Info": {"Host": host, "Total Cores": cores,
                       "Log Urls": {}, "Attributes": {}, "Resources": {},
                       "Resource Profile Id": 0}})  # fmt: skip
        events.append({"Event": "SparkListenerBlockManagerAdded", "Block Manager ID":
                       {"Executor ID": eid, "Host": host, "Port": 40000},
                       "Maximum Memory": cores * 1_400_000_000, "Timestamp": int(start) + 1600,
                       "Maximum Onheap Memory": cores * 1_400_000_000,
                       "Maximum Offheap Memory": 0})  # fmt: skip
    sql = "org.apache.spark.sql.execution.ui."
    plan_info = {
        "nodeName": "Execute InsertIntoHadoopFsRelationCommand", "simpleString": "", "metadata": {},
        "metrics": [{"name": "number of written files", "accumulatorId": 9003, "metricType": "sum"},
                    {"name": "written output", "accumulatorId": 9004, "metricType": "size"}],
        "children": [{"nodeName": "Scan parquet", "simpleString": "", "metadata": {},
                      "children": [],
                      "metrics": [{"name": "number of files read", "accumulatorId": 9001,
                                   "metricType": "sum"},
                                  {"name": "size of files read", "accumulatorId": 9002,
                                   "metricType": "size"}]}],
    }  # fmt: skip
    t = start + gap
    events.append({"Event": f"{sql}SparkListenerSQLExecutionStart", "executionId": 0,
                   "rootExecutionId": 0, "description": f"{spec.name} main", "details": "",
                   "physicalPlanDescription": "", "sparkPlanInfo": plan_info, "time": int(t),
                   "modifiedConfigs": {}})  # fmt: skip
    if plan.files_read or plan.files_written:
        events.append({"Event": f"{sql}SparkListenerDriverAccumUpdates", "executionId": 0,
                       "accumUpdates": [[9001, plan.files_read],
                                        [9002, int(plan.files_read_mb * MB)],
                                        [9003, plan.files_written],
                                        [9004, int(plan.written_mb * MB)]]})  # fmt: skip
    task_id = 0
    for sid, (stage, ds) in enumerate(zip(plan.stages, stage_durations, strict=True)):
        info = {"Stage ID": sid, "Stage Attempt ID": 0, "Stage Name": stage.name,
                "Number of Tasks": stage.tasks, "RDD Info": [],
                "Parent IDs": [sid - 1] if sid else [], "Details": "", "Accumulables": [],
                "Resource Profile Id": 0}  # fmt: skip
        events.append({"Event": "SparkListenerJobStart", "Job ID": sid, "Submission Time": int(t),
                       "Stage Infos": [info], "Stage IDs": [sid],
                       "Properties": {"spark.sql.execution.id": "0"}})  # fmt: skip
        events.append(
            {
                "Event": "SparkListenerStageSubmitted",
                "Stage Info": {**info, "Submission Time": int(t)},
                "Properties": {},
            }
        )
        span, placed = _schedule(ds, slots)
        tasks = []
        for index, (d, (slot, offset)) in enumerate(zip(ds, placed, strict=True)):
            eid = str(slot // cores + 1)
            launch, finish = int(t + offset), int(t + offset + d)
            scale = d / (stage.task_s * 1000 * (factor if stage.scalable else 1.0))
            run_ms = int(d * 0.95)
            task_info = {"Task ID": task_id, "Index": index, "Attempt": 0, "Partition ID": index,
                         "Launch Time": launch, "Executor ID": eid, "Host": hosts[eid],
                         "Locality": "PROCESS_LOCAL", "Speculative": False,
                         "Getting Result Time": 0, "Finish Time": finish, "Failed": False,
                         "Killed": False, "Accumulables": []}  # fmt: skip
            metrics = {
                "Executor Deserialize Time": 10, "Executor Deserialize CPU Time": 5_000_000,
                "Executor Run Time": run_ms, "Executor CPU Time": int(run_ms * 0.8e6),
                "Peak Execution Memory": int(stage.peak_mem_mb * MB * min(scale, 3)),
                "Result Size": 2000, "JVM GC Time": int(run_ms * stage.gc),
                "Result Serialization Time": 0,
                "Memory Bytes Spilled": int(stage.spill_mem_mb * MB * scale),
                "Disk Bytes Spilled": int(stage.spill_disk_mb * MB * scale),
                "Shuffle Read Metrics": {"Remote Blocks Fetched": 0, "Local Blocks Fetched": 0,
                                         "Fetch Wait Time": 0,
                                         "Remote Bytes Read":
                                             int(stage.shuffle_read_mb * MB * scale),
                                         "Remote Bytes Read To Disk": 0, "Local Bytes Read": 0,
                                         "Total Records Read": 0},
                "Shuffle Write Metrics": {"Shuffle Bytes Written": int(stage.shuffle_write_mb * MB),
                                          "Shuffle Write Time": 0, "Shuffle Records Written": 0},
                "Input Metrics": {"Bytes Read": int(stage.input_mb * MB * scale),
                                  "Records Read": int(stage.input_mb * 5000)},
                "Output Metrics": {"Bytes Written": int(stage.output_mb * MB),
                                   "Records Written": int(stage.output_mb * 4000)},
                "Updated Blocks": [],
            }  # fmt: skip
            start_event = {"Event": "SparkListenerTaskStart", "Stage ID": sid,
                           "Stage Attempt ID": 0, "Task Info": task_info}  # fmt: skip
            end_event = {"Event": "SparkListenerTaskEnd", "Stage ID": sid, "Stage Attempt ID": 0,
                         "Task Type": "ResultTask", "Task End Reason": {"Reason": "Success"},
                         "Task Info": task_info,
                         "Task Executor Metrics": {"JVMHeapMemory": int(cores * 1.2e9)},
                         "Task Metrics": metrics}  # fmt: skip
            tasks.append((launch, 0, start_event))
            tasks.append((finish, 1, end_event))
            task_id += 1
        events += [e for _, _, e in sorted(tasks, key=lambda x: (x[0], x[1]))]
        t += span
        done = {**info, "Submission Time": int(t - span), "Completion Time": int(t)}
        events.append({"Event": "SparkListenerStageCompleted", "Stage Info": done})
        events.append({"Event": "SparkListenerJobEnd", "Job ID": sid, "Completion Time": int(t),
                       "Job Result": {"Result": "JobSucceeded"}})  # fmt: skip
        t += gap
    events.append({"Event": f"{sql}SparkListenerSQLExecutionEnd", "executionId": 0, "time": int(t)})
    events.append({"Event": "SparkListenerApplicationEnd", "Timestamp": int(start + total)})
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / app_id).open("w") as out:
        for event in events:
            out.write(json.dumps(event, separators=(",", ":")) + "\n")


# ---- the jobs ------------------------------------------------------------------------------


@dataclass
class Planted:
    spec: JobSpec
    log: LogPlan | None = None
    notes: str = ""


Maker = Callable[[random.Random, str], Planted]


def _tight_timeout(runtime_s: float, factor: float = 4.0) -> int:
    return max(15, math.ceil(runtime_s * factor / 60 / 5) * 5)


def _default_timeout(version: str) -> int:
    return 480 if version >= "5.0" else 2880


def _spark(
    rng: random.Random,
    name: str,
    *,
    version: str | None = None,
    worker_type: str | None = None,
    workers: int | None = None,
    runtime_s: float | None = None,
    schedule: str = "daily",
    observability: bool | None = None,
    metrics: bool = True,
    ui: bool = True,
    extra: dict[str, str] | None = None,
    profile: dict[str, Any] | None = None,
    **kw: Any,
) -> JobSpec:
    """A healthy Spark ETL job unless told otherwise (tight timeout, metrics, Spark UI on)."""
    version = version or rng.choice(["3.0", "4.0", "4.0", "5.0", "5.1"])
    worker_type = worker_type or rng.choice(["G.1X", "G.1X", "G.2X"])
    if workers is None:
        # 2-5 G.2X would cost 10-25 % more than G.1X at the same task slots (the driver's worker
        # is half the bill): that is the planted worker_type_mismatch, never a healthy job
        choices = [6, 8, 10, 12, 16] if worker_type == "G.2X" else [2, 3, 4, 5, 6, 8, 10, 12, 16]
        workers = rng.choice(choices)
    runtime_s = runtime_s or rng.uniform(240, 2400)
    obs = version >= "4.0" and (observability if observability is not None else rng.random() < 0.6)
    values = {
        "observability": obs,
        "driver_heap": rng.uniform(0.2, 0.5),
        "executor_heap": rng.uniform(0.3, 0.6),
        "utilization": rng.uniform(0.58, 0.8),
        "needed_executors_ratio": rng.uniform(0.7, 1.0),
        "bytes_read_gb": (gb := workers * dpu_gb(worker_type) * rng.uniform(1, 4)),
        "files_read": max(8, int(gb * 1000 / rng.uniform(64, 256))),  # 64-256 MB files
        "disk_used_mb": max(1, workers - 1) * rng.uniform(500, 6000),
        **(profile or {}),
    }
    kw.setdefault("timeout_min", _tight_timeout(runtime_s))
    kw.setdefault("hour", rng.randint(0, 23))
    kw.setdefault("metrics_days", 2 if schedule == "hourly" else 7)
    return JobSpec(
        name,
        glue_version=version,
        worker_type=worker_type,
        workers=workers,
        runtime_s=runtime_s,
        schedule=schedule,
        args=spark_args(metrics=metrics, observability=obs, ui=ui, extra=extra),
        metrics=MetricProfile(**values) if metrics else None,
        **kw,
    )


def dpu_gb(worker_type: str) -> float:
    """GB a worker of this type typically reads per run in this fleet."""
    return 3.0 * gf.DPU.get(worker_type, 1)


# healthy makers ---------------------------------------------------------------------------


def healthy_etl(rng: random.Random, name: str) -> Planted:
    spec = _spark(rng, name, schedule=rng.choice(["daily", "daily", "every4h"]))
    if rng.random() < 0.3:
        spec.max_retries = 1
        spec.failures = [Failure(0.012, "FAILED", fs.PY_EXCEPTION)]
    return Planted(spec, _one_wave(CORES[spec.worker_type] * (spec.workers - 1))
                   if rng.random() < 0.55 else None)  # fmt: skip


def healthy_hourly_cheap(rng: random.Random, name: str) -> Planted:
    spec = _spark(rng, name, workers=rng.choice([2, 2, 3]), worker_type="G.1X",
                  runtime_s=rng.uniform(100, 360), schedule="hourly")  # fmt: skip
    return Planted(spec, _one_wave(4 * (spec.workers - 1), input_mb=40)
                   if rng.random() < 0.5 else None)  # fmt: skip


def healthy_metrics_empty_flag(rng: random.Random, name: str) -> Planted:
    """`--enable-metrics ""`: on, per AWS ("only specify the key"); not missing_observability."""
    spec = _spark(rng, name, version=rng.choice(["3.0", "4.0"]), observability=False)
    spec.args["--enable-metrics"] = ""
    return Planted(spec, notes='--enable-metrics "" is on')


def healthy_big_summed_disk(rng: random.Random, name: str) -> Planted:
    """40 workers x ~4 GB local disk each: the summed BlockManager metric reads ~150 GB."""
    workers = rng.choice([32, 40, 48])
    spec = _spark(rng, name, worker_type="G.1X", workers=workers, runtime_s=rng.uniform(1500, 2400),
                  profile={"disk_used_mb": (workers - 1) * 4200 / 1.17,
                           "bytes_read_gb": workers * 8.0})  # fmt: skip
    return Planted(spec, notes="BlockManager disk summed over executors, ~4 GB per worker")


def healthy_weekly_flex(rng: random.Random, name: str) -> Planted:
    spec = _spark(rng, name, version=rng.choice(["4.0", "5.0", "5.1"]), schedule="weekly",
                  workers=rng.choice([10, 16, 20]), runtime_s=rng.uniform(1800, 4000),
                  execution_class="FLEX")  # fmt: skip
    return Planted(spec)


def healthy_autoscaling(rng: random.Random, name: str) -> Planted:
    spec = _spark(rng, name, version=rng.choice(["4.0", "5.0"]), workers=rng.choice([10, 20, 30]),
                  extra={"--enable-auto-scaling": "true"}, autoscaling=True,
                  busy_fraction=rng.uniform(0.4, 0.7),
                  profile={"needed_executors_ratio": 0.6})  # fmt: skip
    return Planted(spec)


def healthy_r1x(rng: random.Random, name: str) -> Planted:
    spec = _spark(rng, name, version=rng.choice(["4.0", "5.0"]), worker_type="R.1X",
                  profile={"executor_heap": rng.uniform(0.55, 0.7)})  # fmt: skip
    return Planted(spec, notes="memory-optimised workers that use their memory")


def healthy_g4x(rng: random.Random, name: str) -> Planted:
    spec = _spark(rng, name, version=rng.choice(["4.0", "5.0"]), worker_type="G.4X",
                  workers=rng.choice([4, 6, 8]), runtime_s=rng.uniform(1200, 3000),
                  profile={"executor_heap": rng.uniform(0.5, 0.65)})  # fmt: skip
    return Planted(spec)


def _pyshell(rng: random.Random, name: str, dpu: float, runtime_s: float, **kw: Any) -> JobSpec:
    kw.setdefault("timeout_min", _tight_timeout(runtime_s))
    return JobSpec(
        name,
        command="pythonshell",
        glue_version="3.0",
        worker_type=None,
        workers=None,
        max_capacity=dpu,
        execution_class=None,
        runtime_s=runtime_s,
        runtime_sigma=0.25,
        metrics=None,
        args={"--job-language": "python"},
        **kw,
    )


def healthy_pyshell_small(rng: random.Random, name: str) -> Planted:
    return Planted(_pyshell(rng, name, 0.0625, rng.uniform(20, 300),
                            schedule=rng.choice(["hourly", "daily", "every4h"]),
                            hour=rng.randint(0, 23)))  # fmt: skip


def healthy_pyshell_pandas(rng: random.Random, name: str) -> Planted:
    spec = _pyshell(rng, name, 1.0, rng.uniform(1500, 3000), hour=rng.randint(0, 23))
    spec.args["--additional-python-modules"] = "pandas==2.2.2,pyarrow==15.0.0"
    return Planted(spec, notes="1 DPU for 25-50 minutes of pandas: needs the 16 GB")


def _streaming(rng: random.Random, name: str, worker_type: str, workers: int, **kw: Any) -> JobSpec:
    return JobSpec(
        name,
        command="gluestreaming",
        glue_version=kw.pop("version", "4.0"),
        worker_type=worker_type,
        workers=workers,
        execution_class=None,
        schedule="continuous",
        runtime_s=86100,
        runtime_sigma=0.0,
        timeout_min=None,
        metrics_days=4,
        **kw,
    )


def healthy_streaming(rng: random.Random, name: str) -> Planted:
    wt = rng.choice(["G.025X", "G.025X", "G.1X"])
    version = rng.choice(["3.0", "4.0", "5.0"])
    obs = version >= "4.0"
    spec = _streaming(rng, name, wt, rng.choice([2, 3, 4]), version=version,
                      args=spark_args(observability=obs),
                      metrics=MetricProfile(observability=obs, utilization=rng.uniform(0.55, 0.75),
                                            bytes_read_gb=30, files_read=0,
                                            disk_used_mb=300))  # fmt: skip
    return Planted(spec)


HEALTHY: list[tuple[Maker, float]] = [
    (healthy_etl, 10),
    (healthy_hourly_cheap, 2.5),
    (healthy_metrics_empty_flag, 1),
    (healthy_big_summed_disk, 1),
    (healthy_weekly_flex, 1),
    (healthy_autoscaling, 1.2),
    (healthy_r1x, 1),
    (healthy_g4x, 0.8),
    (healthy_pyshell_small, 1.5),
    (healthy_pyshell_pandas, 0.8),
    (healthy_streaming, 1.2),
]


# problem makers (each sets spec.problems) --------------------------------------------------


def oom_heavy(rng: random.Random, name: str) -> Planted:
    spec = _spark(rng, name, version=rng.choice(["4.0", "5.0"]), workers=rng.choice([8, 12, 20]),
                  runtime_s=rng.uniform(1500, 2700), max_retries=1,
                  failures=[Failure(0.2, "FAILED", fs.OOM)],
                  profile={"executor_heap": 0.93})  # fmt: skip
    spec.problems = ("oom_risk", "failed_run_waste", "retry_waste")
    return Planted(spec)


def oom_cheap_container(rng: random.Random, name: str) -> Planted:
    spec = _spark(rng, name, version="4.0", worker_type="G.1X", workers=2, runtime_s=240,
                  schedule="every4h", failures=[Failure(0.3, "FAILED", fs.CONTAINER_KILLED)],
                  profile={"executor_heap": 0.9})  # fmt: skip
    spec.problems = ("oom_risk", "failed_run_waste")
    return Planted(spec, notes="2 workers, 4 minutes, 30 % of runs killed for memory")


def cheap_flaky(rng: random.Random, name: str) -> Planted:
    retries = rng.choice([0, 2])
    spec = _spark(
        rng,
        name,
        version=rng.choice(["4.0", "5.1"]),
        worker_type="G.1X",
        workers=2,
        runtime_s=rng.uniform(150, 240),
        max_retries=retries,
        failures=[Failure(0.3, "FAILED", rng.choice([fs.PY_EXCEPTION, fs.S3_SLOWDOWN]))],
    )
    spec.problems = ("failed_run_waste", "retry_waste") if retries else ("failed_run_waste",)
    return Planted(spec, notes="cheap job failing ~30 % of its runs")


def spill_cheap_eventlog(rng: random.Random, name: str) -> Planted:
    spec = _spark(
        rng, name, version="4.0", worker_type="G.1X", workers=2, runtime_s=300, observability=False
    )
    spec.metrics = None  # no CloudWatch collected: the event log is the only witness
    log = LogPlan([
        StagePlan("scan", 4, 15, input_mb=75, shuffle_write_mb=75),
        StagePlan("sortWithinPartitions", 4, 40, shuffle_read_mb=75, spill_mem_mb=400,
                  spill_disk_mb=110, output_mb=20, peak_mem_mb=900),
    ], files_read=12, files_read_mb=300, files_written=4, written_mb=80)  # fmt: skip
    spec.problems = ("spill",)
    return Planted(spec, log, notes="spills 0.44 GB to disk for 0.3 GB read (+0.3 GB shuffle)")


def spill_big(rng: random.Random, name: str) -> Planted:
    spec = _spark(
        rng,
        name,
        version="4.0",
        worker_type="G.1X",
        workers=10,
        runtime_s=2700,
        profile={"executor_heap": 0.74, "disk_used_mb": 9 * 20000 / 1.17},
    )
    log = LogPlan([
        StagePlan("scan", 36, 40, input_mb=1100, shuffle_write_mb=600),
        StagePlan("aggregate", 36, 80, shuffle_read_mb=600, spill_mem_mb=2500,
                  spill_disk_mb=900, output_mb=100, peak_mem_mb=2400),
    ], files_read=300, files_read_mb=36 * 1100, files_written=36, written_mb=3600)  # fmt: skip
    spec.problems = ("spill", "large_partitions")
    return Planted(spec, log, notes="1.1 GB per scan task; 32 GB spilled")


def small_files_cw(rng: random.Random, name: str) -> Planted:
    files = rng.randint(30000, 150000)
    spec = _spark(rng, name, version=rng.choice(["4.0", "5.0"]), workers=10, observability=True,
                  runtime_s=rng.uniform(1500, 2500),
                  extra={"--input_format": "json", "--source_path": "s3://acme-raw/events/"},
                  profile={"files_read": files, "bytes_read_gb": files * 0.03 / 1000,
                           "driver_heap": 0.6})  # fmt: skip
    spec.problems = ("small_files_read", "input_format")
    return Planted(spec, notes=f"{files} JSON objects of ~30 KB a run")


def small_files_eventlog(rng: random.Random, name: str) -> Planted:
    spec = _spark(rng, name, version="3.0", worker_type="G.1X", workers=6, runtime_s=1500)
    log = LogPlan([
        StagePlan("scan", 400, 3, input_mb=4, shuffle_write_mb=1),
        StagePlan("save", 20, 10, shuffle_read_mb=20, output_mb=60),
    ], files_read=24000, files_read_mb=1600, files_written=20, written_mb=1200)  # fmt: skip
    spec.problems = ("small_files_read",)
    return Planted(spec, log, notes="24,000 files of 67 KB, seen in the event log only")


def small_files_write(rng: random.Random, name: str) -> Planted:
    spec = _spark(rng, name, version=rng.choice(["4.0", "5.0"]), workers=5)
    log = _one_wave(CORES[spec.worker_type] * 4, out_files=0)
    log.files_written, log.written_mb = 3600, 1100
    spec.problems = ("small_files_write",)
    return Planted(spec, log, notes="3,600 files of 0.3 MB a run (partitionBy on a wide key)")


def over_prov_obs(rng: random.Random, name: str) -> Planted:
    spec = _spark(rng, name, version=rng.choice(["4.0", "5.0"]), worker_type="G.2X",
                  workers=rng.choice([30, 40]), observability=True, runtime_s=1200,
                  profile={"utilization": 0.12, "needed_executors_ratio": 0.12,
                           "executor_heap": 0.25})  # fmt: skip
    spec.problems = ("over_provisioned",)
    return Planted(spec, notes="~5 of 30-40 workers ever busy")


def over_prov_no_obs(rng: random.Random, name: str) -> Planted:
    spec = _spark(
        rng,
        name,
        version="3.0",
        worker_type="G.1X",
        workers=20,
        runtime_s=900,
        profile={"needed_executors_ratio": 0.1, "executor_heap": 0.2},
    )
    spec.problems = ("over_provisioned",)
    return Planted(spec, notes="Glue 3.0: numberMaxNeededExecutors ~2 of 19, no observability")


def over_prov_eventlog(rng: random.Random, name: str) -> Planted:
    spec = _spark(
        rng,
        name,
        version="4.0",
        worker_type="G.1X",
        workers=16,
        runtime_s=1000,
        observability=False,
        profile={"needed_executors_ratio": 0.15},
    )
    spec.metrics = None
    log = LogPlan([StagePlan("scan", 6, 60, input_mb=100, shuffle_write_mb=20),
                   StagePlan("save", 4, 40, shuffle_read_mb=30, output_mb=30)],
                  files_read=6, files_read_mb=600, files_written=4, written_mb=120)  # fmt: skip
    spec.problems = ("over_provisioned",)
    return Planted(spec, log, notes="60 task slots, never more than 6 tasks at once")


def under_prov(rng: random.Random, name: str) -> Planted:
    spec = _spark(rng, name, version="4.0", worker_type="G.1X", workers=3, runtime_s=9000,
                  observability=True, timeout_min=720,
                  profile={"utilization": 0.97, "needed_executors_ratio": 12.0,
                           "executor_heap": 0.7, "bytes_read_gb": 250})  # fmt: skip
    spec.problems = ("under_provisioned",)
    return Planted(spec, notes="3 workers grinding through 250 GB")


def skew_obs(rng: random.Random, name: str) -> Planted:
    spec = _spark(
        rng,
        name,
        version="4.0",
        workers=10,
        observability=True,
        profile={"skewness": 12.0, "utilization": 0.4},
    )
    slots = CORES[spec.worker_type] * 9
    log = LogPlan([StagePlan("scan", slots, 20, input_mb=100, shuffle_write_mb=40),
                   StagePlan("join", slots * 2, 10, skew=30, shuffle_read_mb=20, output_mb=10)],
                  files_read=slots, files_read_mb=slots * 100, files_written=30,
                  written_mb=slots * 20)  # fmt: skip
    # the straggler tail leaves most executors idle: Auto Scaling would release them
    spec.problems = ("skew", "autoscaling_candidate")
    return Planted(spec, log, notes="one join task 30x the median, utilisation 40 %")


def skew_eventlog_only(rng: random.Random, name: str) -> Planted:
    spec = _spark(rng, name, version="4.0", workers=6, worker_type="G.1X", observability=False)
    spec.metrics = None
    log = LogPlan([StagePlan("scan", 20, 20, input_mb=100, shuffle_write_mb=40),
                   StagePlan("join", 40, 5, skew=40, shuffle_read_mb=20, output_mb=10)],
                  files_read=20, files_read_mb=2000, files_written=20,
                  written_mb=400)  # fmt: skip
    spec.problems = ("skew",)
    return Planted(spec, log, notes="one join task 40x the median; no CloudWatch files")


def disk_full_failing(rng: random.Random, name: str) -> Planted:
    spec = _spark(rng, name, version="4.0", worker_type="G.1X", workers=4, runtime_s=1800,
                  failures=[Failure(0.12, "FAILED", fs.NO_SPACE)],
                  profile={"disk_used_mb": 3 * 86000 / 1.17})  # fmt: skip
    spec.problems = ("disk_full_risk", "failed_run_waste")
    return Planted(spec, notes="~86 GB of 94 GB per G.1X worker; 12 % No space left on device")


def disk_full_quiet(rng: random.Random, name: str) -> Planted:
    spec = _spark(
        rng,
        name,
        version="5.0",
        worker_type="G.2X",
        workers=6,
        runtime_s=2000,
        profile={"disk_used_mb": 5 * 124000 / 1.17},
    )
    spec.problems = ("disk_full_risk",)
    return Planted(spec, notes="~124 GB of 138 GB per G.2X worker, no failure yet")


def gc_pressure(rng: random.Random, name: str) -> Planted:
    spec = _spark(rng, name, version="4.0", workers=8, profile={"executor_heap": 0.68})
    log = _one_wave(CORES[spec.worker_type] * 7)
    for stage in log.stages:
        stage.gc = 0.27
    spec.problems = ("gc_pressure",)
    return Planted(spec, log, notes="27 % of executor time in GC")


def small_tasks(rng: random.Random, name: str) -> Planted:
    spec = _spark(rng, name, version="4.0", worker_type="G.1X", workers=2, runtime_s=200,
                  schedule=rng.choice(["hourly", "daily"]))  # fmt: skip
    log = LogPlan([StagePlan("scan", 4, 10, input_mb=5, shuffle_write_mb=0.5),
                   StagePlan("aggregate", 400, 0.04, scalable=False, shuffle_read_mb=0.005),
                   StagePlan("save", 4, 3, shuffle_read_mb=0.5, output_mb=1)],
                  files_read=4, files_read_mb=20, files_written=4, written_mb=4,
                  conf={"spark.sql.shuffle.partitions": "400",
                        "spark.sql.adaptive.coalescePartitions.enabled": "false"})  # fmt: skip
    spec.problems = ("small_tasks",)
    return Planted(spec, log, notes="400 shuffle partitions of 5 KB, 40 ms tasks")


def spark_conf_aqe_off(rng: random.Random, name: str) -> Planted:
    spec = _spark(
        rng,
        name,
        version=rng.choice(["4.0", "5.0"]),
        workers=6,
        extra={"--conf": "spark.sql.adaptive.enabled=false"},
    )
    log = _one_wave(CORES[spec.worker_type] * 5)
    log.conf = {"spark.sql.adaptive.enabled": "false"}
    spec.problems = ("spark_conf",)
    return Planted(spec, log)


def flex_weekly(rng: random.Random, name: str) -> Planted:
    spec = _spark(
        rng,
        name,
        version=rng.choice(["3.0", "4.0", "5.0"]),
        schedule="weekly",
        workers=rng.choice([10, 16, 20]),
        runtime_s=rng.uniform(1800, 3600),
    )
    spec.problems = ("flex_candidate",)
    return Planted(spec)


def flex_weekly_51(rng: random.Random, name: str) -> Planted:
    spec = _spark(rng, name, version="5.1", schedule="weekly", workers=16, runtime_s=3000)
    spec.problems = ("flex_candidate",)
    return Planted(spec, notes="Flex supports Glue 3.0 and later, 5.1 included")


def autoscale_batch(rng: random.Random, name: str) -> Planted:
    spec = _spark(
        rng,
        name,
        version=rng.choice(["4.0", "5.0"]),
        workers=20,
        observability=True,
        runtime_s=2400,
        profile={"utilization": 0.3, "needed_executors_ratio": 0.75},
    )
    spec.problems = ("autoscaling_candidate",)
    return Planted(spec, notes="bursts need all 19 executors, the rest of the run ~30 %")


def autoscale_streaming(rng: random.Random, name: str) -> Planted:
    spec = _streaming(rng, name, "G.1X", 10, version="4.0",
                      args=spark_args(observability=True),
                      metrics=MetricProfile(observability=True, utilization=0.15,
                                            needed_executors_ratio=0.6, bytes_read_gb=40,
                                            files_read=0, disk_used_mb=2000))  # fmt: skip
    spec.problems = ("autoscaling_candidate",)
    return Planted(spec, notes="streaming, 10 fixed G.1X at 15 % utilisation")


def legacy(version: str) -> Maker:
    def make(rng: random.Random, name: str) -> Planted:
        if version == "2.0":
            spec = _spark(rng, name, version="2.0", worker_type="G.1X",
                          workers=rng.choice([2, 5, 10]))  # fmt: skip
        else:
            runtime = rng.uniform(200, 1200)
            spec = JobSpec(name, glue_version=version, worker_type="Standard", workers=None,
                           max_capacity=float(rng.choice([2, 5, 10])), execution_class=None,
                           runtime_s=runtime, hour=rng.randint(0, 23),
                           timeout_min=_tight_timeout(runtime, 6), args=spark_args(),
                           metrics=MetricProfile(utilization=0.5))  # fmt: skip
        spec.problems = ("legacy_glue_version",)
        return Planted(spec, notes=f"Glue {version}: end of life on 2026-04-01")

    make.__name__ = f"legacy_{version.replace('.', '')}"
    return make


def pyshell_oversized(rng: random.Random, name: str) -> Planted:
    spec = _pyshell(
        rng,
        name,
        1.0,
        rng.uniform(30, 150),
        schedule=rng.choice(["hourly", "daily"]),
        hour=rng.randint(0, 23),
    )
    spec.problems = ("python_shell_oversized",)
    return Planted(spec)


def timeout_hit(rng: random.Random, name: str) -> Planted:
    spec = _spark(rng, name, version="4.0", workers=8, runtime_s=3000, timeout_min=55)
    spec.problems = ("timeout_risk", "failed_run_waste")
    return Planted(spec, notes="median 50 min against a 55-minute timeout")


def loose_timeout(rng: random.Random, name: str) -> Planted:
    version = rng.choice(["3.0", "4.0", "5.0"])
    spec = _spark(rng, name, version=version, timeout_min=_default_timeout(version),
                  runtime_s=rng.uniform(300, 1500))  # fmt: skip
    spec.problems = ("timeout_risk",)
    return Planted(spec, notes="default timeout, 20-100x the runtime: a hung run bills for hours")


def missing_metrics(rng: random.Random, name: str) -> Planted:
    spec = _spark(rng, name, metrics=False, observability=False)
    spec.problems = ("missing_observability",)
    return Planted(spec)


def missing_ui(rng: random.Random, name: str) -> Planted:
    spec = _spark(rng, name, ui=False)
    spec.problems = ("missing_observability",)
    return Planted(spec)


def missing_all(rng: random.Random, name: str) -> Planted:
    spec = _spark(rng, name, metrics=False, ui=False, observability=False)
    spec.problems = ("missing_observability",)
    return Planted(spec)


def streaming_no_metrics(rng: random.Random, name: str) -> Planted:
    spec = _streaming(rng, name, "G.025X", 2, args={"--job-language": "python"}, metrics=None)
    spec.problems = ("missing_observability",)
    return Planted(spec)


def cost_change(rng: random.Random, name: str, end: datetime = DEFAULT_END) -> Planted:
    spec = _spark(rng, name, version="4.0", worker_type="G.1X", workers=5, runtime_s=900)
    spec.change = ConfigChange(end - timedelta(days=12, hours=3), "G.2X", 20, 0.8)
    spec.problems = ("cost_anomaly",)
    return Planted(spec, notes="5 G.1X -> 20 G.2X twelve days before the end: cost x6")


def anomaly_expensive(rng: random.Random, name: str) -> Planted:
    spec = _spark(rng, name, version="4.0", workers=12, runtime_s=1800, anomaly_days=(9, 20, 30))
    spec.timeout_min = _tight_timeout(1800, 8)
    spec.problems = ("runtime_anomaly", "cost_anomaly")
    return Planted(spec, notes="three runs 4x slower")


def anomaly_cheap(rng: random.Random, name: str) -> Planted:
    spec = _spark(
        rng,
        name,
        version="4.0",
        worker_type="G.1X",
        workers=2,
        runtime_s=240,
        anomaly_days=(11, 24, 31),
    )
    spec.timeout_min = _tight_timeout(240, 8)
    spec.problems = ("runtime_anomaly",)
    return Planted(spec, notes="three runs 4x slower, on a $2-a-month job")


def mismatch_r2x(rng: random.Random, name: str) -> Planted:
    spec = _spark(
        rng,
        name,
        version="4.0",
        worker_type="R.2X",
        workers=8,
        runtime_s=1800,
        profile={"executor_heap": 0.15, "driver_heap": 0.15},
    )
    spec.problems = ("worker_type_mismatch",)
    return Planted(spec, notes="memory-optimised R.2X using 15 % of its heap")


def mismatch_r1x(rng: random.Random, name: str) -> Planted:
    spec = _spark(
        rng,
        name,
        version="5.0",
        worker_type="R.1X",
        workers=10,
        runtime_s=1800,
        profile={"executor_heap": 0.18, "driver_heap": 0.18},
    )
    spec.problems = ("worker_type_mismatch",)
    return Planted(spec, notes="R.1X (32 GB) using under 6 GB: G.1X would do, cheaper")


def mismatch_small_g2x(rng: random.Random, name: str) -> Planted:
    """2-3 G.2X: one executor's 8 slots for 4-6 DPU, where 3-5 G.1X give the same slots for
    3-5 DPU (same heap per task on Glue 3.0+); the memory use shows G.1X is enough."""
    workers = rng.choice([2, 3])
    spec = _spark(rng, name, version=rng.choice(["4.0", "5.0"]), worker_type="G.2X",
                  workers=workers, runtime_s=rng.uniform(1200, 2400), schedule="every4h",
                  profile={"executor_heap": 0.3, "driver_heap": 0.25})  # fmt: skip
    spec.problems = ("worker_type_mismatch",)
    with_log = rng.random() < 0.5
    log = _one_wave(8 * (workers - 1)) if with_log else None
    return Planted(spec, log, notes=f"{workers} x G.2X at 30 % heap; event log: {with_log}")


def retry_expensive(rng: random.Random, name: str) -> Planted:
    spec = _spark(
        rng,
        name,
        version="4.0",
        workers=15,
        runtime_s=1500,
        max_retries=2,
        failures=[Failure(0.12, "FAILED", fs.S3_SLOWDOWN)],
    )
    spec.problems = ("failed_run_waste", "retry_waste")
    return Planted(spec, notes="S3 SlowDown on 12 % of runs, each retried")


PROBLEMS: list[Maker] = [
    oom_heavy, oom_cheap_container, cheap_flaky, cheap_flaky, spill_cheap_eventlog, spill_big,
    small_files_cw, small_files_eventlog, small_files_write, over_prov_obs, over_prov_no_obs,
    over_prov_eventlog, under_prov, skew_obs, skew_eventlog_only, disk_full_failing,
    disk_full_quiet, gc_pressure, small_tasks, spark_conf_aqe_off, flex_weekly, flex_weekly,
    flex_weekly_51, autoscale_batch, autoscale_streaming, legacy("0.9"), legacy("1.0"),
    legacy("2.0"), pyshell_oversized, timeout_hit, loose_timeout, loose_timeout, missing_metrics,
    missing_ui, missing_all, streaming_no_metrics, cost_change, anomaly_expensive, anomaly_cheap,
    mismatch_r2x, mismatch_r1x, mismatch_small_g2x, mismatch_small_g2x, retry_expensive,
]  # fmt: skip


# ---- writing the fleet ---------------------------------------------------------------------


def _name(rng: random.Random, taken: set[str]) -> str:
    while True:
        name = f"{rng.choice(NOUNS)}_{rng.choice(VERBS)}_{rng.randint(100, 999)}"
        if name not in taken:
            taken.add(name)
            return name


def plan_fleet(seed: int, jobs: int, end: datetime) -> list[tuple[Planted, str]]:
    rng = random.Random(f"eval:{seed}")
    taken: set[str] = set()
    makers: list[Maker] = list(PROBLEMS)
    while len(makers) < jobs:
        makers.append(rng.choices([m for m, _ in HEALTHY], [w for _, w in HEALTHY])[0])
    rng.shuffle(makers)
    fleet = []
    for maker in makers[: max(jobs, len(PROBLEMS))]:
        name = _name(rng, taken)
        job_rng = random.Random(f"eval:{seed}:{name}")
        # cost_change needs the window's end to put its definition change inside it
        planted = cost_change(job_rng, name, end) if maker is cost_change else maker(job_rng, name)
        planted.spec.description = planted.notes or maker.__name__.replace("_", " ")
        fleet.append((planted, maker.__name__))
    return fleet


def generate(out: Path, seed: int = DEFAULT_SEED, jobs: int = 100, days: int = 35,
             end: datetime = DEFAULT_END) -> dict[str, Any]:  # fmt: skip
    """Write the fleet and LABELS.yaml into `out`; returns the labels document."""
    start = end - timedelta(days=days)
    for sub in ("job-runs", "metrics", "eventlogs"):
        shutil.rmtree(out / sub, ignore_errors=True)
        (out / sub).mkdir(parents=True)
    fleet = plan_fleet(seed, jobs, end)
    definitions, labels, all_anomalies = [], {}, []
    total_runs = metric_runs = logs = 0
    for planted, kind in fleet:
        spec = planted.spec
        rng = random.Random(f"eval:{seed}:{spec.name}:runs")
        definitions.append(gf.job_definition(spec, start))
        runs, anomalies = gf.runs_for(spec, rng, start, end)
        all_anomalies += anomalies
        total_runs += len(runs)
        (out / "job-runs" / f"{spec.name}.json").write_text(
            json.dumps({"JobRuns": runs}, separators=(",", ":")) + "\n"
        )
        if spec.metrics:
            horizon = end - timedelta(days=spec.metrics_days)
            for run in runs:
                if datetime.fromisoformat(run["StartedOn"]) < horizon or run["ExecutionTime"] < 60:
                    continue
                metric_runs += 1
                run_dir = out / "metrics" / run["Id"]
                run_dir.mkdir()
                for metric, doc in gf.metric_files(spec, run, rng).items():
                    (run_dir / f"{metric}.json").write_text(json.dumps(doc, separators=(",", ":")))
        log_run = None
        if planted.log is not None:
            log_run = next(r for r in runs if r["JobRunState"] == "SUCCEEDED")
            write_eventlog(out / "eventlogs" / log_run["Id"], spec, log_run, planted.log, rng)
            logs += 1
        labels[spec.name] = {
            "kind": kind,
            "type": spec.command,
            "glue_version": spec.glue_version,
            "worker_type": spec.change.worker_type if spec.change else spec.worker_type,
            "number_of_workers": spec.change.workers if spec.change else spec.workers,
            "max_capacity": spec.max_capacity,
            "execution_class": spec.execution_class,
            "schedule": spec.schedule,
            "runs": len(runs),
            "cloudwatch": bool(spec.metrics),
            "eventlog_run": log_run["Id"] if log_run else None,
            "problems": sorted(set(spec.problems)),
            "notes": planted.notes,
        }
    (out / "jobs.json").write_text(json.dumps({"Jobs": definitions}, indent=1) + "\n")
    doc = {
        "generated_by": "benchmarks/eval_fleet.py",
        "seed": seed,
        "window": {"start": start.isoformat(), "end": end.isoformat(), "days": days},
        "totals": {"jobs": len(fleet), "runs": total_runs, "runs_with_metric_files": metric_runs,
                   "eventlogs": logs,
                   "healthy_jobs": sum(1 for v in labels.values() if not v["problems"])},
        "jobs": labels,
        "problems": [{"problem": p, "job": job}
                     for job, v in labels.items() for p in v["problems"]],
        "anomalous_runs": all_anomalies,
    }  # fmt: skip
    (out / "LABELS.yaml").write_text(
        "# Problems planted in the evaluation fleet (what a careful Glue engineer would see).\n"
        + yaml.safe_dump(doc, sort_keys=False, width=100)
    )
    return doc


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("out", nargs="?", type=Path, help="folder to write (default: a temp dir)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--jobs", type=int, default=100, help="at least the problem jobs (44)")
    parser.add_argument("--days", type=int, default=35)
    parser.add_argument("--end", type=datetime.fromisoformat, default=DEFAULT_END,
                        help="end of the window (default 2026-03-28)")  # fmt: skip
    args = parser.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="eval-fleet-"))
    end = args.end if args.end.tzinfo else args.end.replace(tzinfo=UTC)
    doc = generate(out, args.seed, args.jobs, args.days, end)
    totals = doc["totals"]
    print(f"{totals['jobs']} jobs ({totals['healthy_jobs']} healthy), {totals['runs']} runs, "
          f"metric files for {totals['runs_with_metric_files']} runs, "
          f"{totals['eventlogs']} event logs -> {out}")  # fmt: skip


if __name__ == "__main__":
    main()
