"""Features from what runs were observed doing: CloudWatch metrics and reduced event logs.

Pure functions over the store's aggregates; job_features() merges them with the run-history
features. Documented in docs/features.md.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Collection
from typing import Any

from advisor import facts
from advisor.store import Store

MB = 1_000_000


def neighbour_type(worker_type: str | None, step: int) -> str | None:
    """The next worker type up (step 1) or down (-1) in the same family (G.*, R.*)."""
    family = facts.same_family(worker_type)
    if worker_type == "Standard":  # a Standard worker's next step is the general-purpose family
        general = facts.general_purpose_types()
        return general[1] if step > 0 and len(general) > 1 else None
    if worker_type not in family:
        return None
    index = family.index(worker_type) + step
    return family[index] if 0 <= index < len(family) else None


def metric_features(stats: list[dict[str, Any]], bytes_per_run: float | None) -> dict[str, Any]:
    """One job's metric aggregates -> named features (None when the metric was not collected)."""
    by = {(s["metric"], s["stat"]): s for s in stats}

    def peak(metric: str) -> float | None:
        row = by.get((metric, "Maximum"))
        return row["max_value"] if row else None

    def mean(metric: str) -> float | None:
        row = by.get((metric, "Average"))
        return row["mean_value"] if row else None

    allocated = mean("glue.driver.ExecutorAllocationManager.executors.numberAllExecutors")
    needed = peak("glue.driver.ExecutorAllocationManager.executors.numberMaxNeededExecutors")
    files = peak("glue.driver.filesRead")
    out = {
        "metric_runs": max((s["runs"] for s in stats), default=0),
        "heap_executor_max": peak("glue.ALL.jvm.heap.usage"),
        "heap_driver_max": peak("glue.driver.jvm.heap.usage"),
        "executors_allocated": allocated,
        "executors_needed_max": needed,
        "executors_needed_ratio": needed / allocated if needed is not None and allocated else None,
        "worker_utilization": mean("glue.driver.workerUtilization"),
        "disk_used_gb_max": (peak("glue.driver.BlockManager.disk.diskSpaceUsed_MB") or 0) / 1000
        if peak("glue.driver.BlockManager.disk.diskSpaceUsed_MB") is not None
        else None,
        "skewness_max": peak("glue.driver.skewness.job"),
        "files_read_per_run": files,
        "bytes_read_per_run_gb": bytes_per_run / 1e9 if bytes_per_run else None,
    }
    if files and bytes_per_run:
        out["avg_file_mb"] = bytes_per_run / files / MB
    return out


EVENTLOG_FEATURES = (
    "spill_disk_gb",
    "spill_memory_gb",
    "spill_ratio",
    "gc_ratio",
    "executor_utilization",
    "eventlog_files_read",
    "eventlog_files_read_bytes",
    "eventlog_memory_failures",
    "eventlog_failed_tasks",
    "task_skew_ratio",
    "skewed_stage",
    "eventlog_data_loss",
    "tiny_task_stages",
    "tiny_task_count",
    "max_mb_per_task",
    "files_written_per_run",
    "avg_written_file_mb",
    "aqe_enabled",
    "parquet_merge_schema",
    "parquet_filter_pushdown",
    "shuffle_partitions",
)


def eventlog_features(app: dict[str, Any] | None, stages: list[dict[str, Any]]) -> dict[str, Any]:
    if not app:
        # every key present (unknown): a rule firing on CloudWatch alone can still name them
        return {"eventlog_apps": 0, **dict.fromkeys(EVENTLOG_FEATURES)}
    read = (app["input_bytes"] or 0) + (app["shuffle_read_bytes"] or 0)
    run_ms = app["executor_run_time_ms"] or 0
    worst = skew_stage(stages, run_ms)
    return {
        "eventlog_apps": 1,
        "spill_disk_gb": (app["disk_bytes_spilled"] or 0) / 1e9,
        "spill_memory_gb": (app["memory_bytes_spilled"] or 0) / 1e9,
        "spill_ratio": (app["disk_bytes_spilled"] or 0) / read if read else None,
        "gc_ratio": (app["gc_time_ms"] or 0) / run_ms if run_ms else None,
        "executor_utilization": app["executor_utilization"],
        "eventlog_files_read": app["files_read"],
        "eventlog_files_read_bytes": app.get("files_read_bytes"),
        "eventlog_memory_failures": _memory_failures(app.get("failure_reasons")),
        "eventlog_failed_tasks": app.get("failed_tasks"),
        "task_skew_ratio": (worst["task_ms_max"] / worst["task_ms_median"]) if worst else None,
        "skewed_stage": f"{worst['stage_id']} ({(worst['name'] or '')[:40]})" if worst else None,
        "eventlog_data_loss": bool(app["data_loss"]),
        **task_size_features(stages),
        "files_written_per_run": app["files_written"],
        "avg_written_file_mb": (app["files_written_bytes"] or 0) / app["files_written"] / MB
        if app["files_written"]
        else None,
        **spark_conf_features(app.get("properties")),
    }


MIN_SKEW_STAGE_SHARE = 0.05  # a stage under 5 % of the executors' time cannot matter
MIN_STRAGGLER_MS = 10_000  # nor can a straggler that finishes 10 s after the median task


def skew_stage(stages: list[dict[str, Any]], app_run_ms: float) -> dict[str, Any] | None:
    """The most skewed stage that matters: slowest task against the median task of the same
    stage attempt, among stages with enough tasks, time and straggler delay to be worth fixing."""
    candidates = [
        s
        for s in stages
        if (s["tasks"] or 0) >= 8
        and (s["task_ms_median"] or 0) > 0
        and (s["executor_run_time_ms"] or 0) >= MIN_SKEW_STAGE_SHARE * app_run_ms
        and (s["task_ms_max"] or 0) - s["task_ms_median"] >= MIN_STRAGGLER_MS
    ]
    return max(candidates, key=lambda s: s["task_ms_max"] / s["task_ms_median"], default=None)


def _memory_failures(reasons_json: str | None) -> int:
    reasons = json.loads(reasons_json or "{}")
    return int(sum(reasons.get(k, 0) for k in ("out_of_memory", "container_killed_memory")))


def task_size_features(stages: list[dict[str, Any]]) -> dict[str, Any]:
    """Stages whose tasks are too small (scheduling overhead) or too big (memory, stragglers)."""
    tiny = [s for s in stages if (s["tasks"] or 0) >= 200 and (s["task_ms_median"] or 0) < 100]
    per_task = [
        ((s["input_bytes"] or 0) + (s["shuffle_read_bytes"] or 0)) / s["tasks"] / MB
        for s in stages
        if s["tasks"]
    ]
    return {
        "tiny_task_stages": len(tiny),
        "tiny_task_count": sum(s["tasks"] for s in tiny),
        "max_mb_per_task": max(per_task, default=None),
    }


def _flag(value: str | None) -> bool | None:
    return None if value is None else value.strip().lower() == "true"


def spark_conf_features(properties_json: str | None) -> dict[str, Any]:
    """The Spark settings the rules check, as the application really ran with them."""
    props = json.loads(properties_json or "{}")
    return {
        "aqe_enabled": _flag(props.get("spark.sql.adaptive.enabled")),
        "parquet_merge_schema": _flag(props.get("spark.sql.parquet.mergeSchema")),
        "parquet_filter_pushdown": _flag(props.get("spark.sql.parquet.filterPushdown")),
        "shuffle_partitions": int(props["spark.sql.shuffle.partitions"])
        if str(props.get("spark.sql.shuffle.partitions", "")).isdigit()
        else None,
    }


def sizing_features(f: dict[str, Any]) -> dict[str, Any]:
    """Suggested worker counts and types from executors needed (AWS's capacity-planning rule)."""
    out: dict[str, Any] = {}
    worker_type, workers = f.get("worker_type"), f.get("number_of_workers")
    needed = f.get("executors_needed_max")
    if workers and needed is not None:
        # one executor per worker, plus the driver's worker
        out["suggested_workers"] = max(2, min(math.ceil(needed) + 1, 500))
        dpu = facts.dpu_per_worker(worker_type) or 1.0
        fewer = workers - out["suggested_workers"]
        # a suggestion of as many workers as the job has (or more) is no right-sizing
        out["suggests_fewer_workers"] = fewer > 0
        if fewer > 0 and f.get("runtime_p50_s"):
            hours = f["runs_month"] * f["runtime_p50_s"] / 3600
            out["rightsize_saving_dpu_hours_month"] = fewer * dpu * hours
            out["rightsize_saving_usd_month"] = (
                fewer * dpu * hours * f["job_rate_usd"] if f.get("job_rate_usd") else None
            )
    bigger = neighbour_type(worker_type, 1)
    if bigger and workers:
        out["next_worker_type"] = bigger
        ratio = (facts.dpu_per_worker(bigger) or 1.0) / (facts.dpu_per_worker(worker_type) or 1.0)
        out["workers_at_next_type"] = max(2, math.ceil(workers / ratio))
    heaps = [h for h in (f.get("heap_executor_max"), f.get("heap_driver_max")) if h is not None]
    # always present (None: no heap metrics), so a rule firing on failures alone can name it
    out["heap_peak"] = max(heaps) if heaps else None
    # never the larger of two different measures: the event log's slowest-to-median task ratio
    # when there is one, else Glue's own skewness score
    parts = []
    if f.get("task_skew_ratio") is not None:
        out["skew_score"] = f["task_skew_ratio"]
        parts.append(
            f"the slowest task of stage {f.get('skewed_stage')} took {f['task_skew_ratio']:.1f}x "
            "the median task of that stage"
        )
    elif f.get("skewness_max") is not None:
        out["skew_score"] = f["skewness_max"]
    if f.get("skewness_max") is not None:
        parts.append(f"Glue's skewness metric peaked at {f['skewness_max']:.1f}")
    out["skew_summary"] = "; ".join(parts) or None
    smaller = neighbour_type(worker_type, -1)
    if smaller and workers:
        out["previous_worker_type"] = smaller
        ratio = (facts.dpu_per_worker(worker_type) or 1.0) / (facts.dpu_per_worker(smaller) or 1.0)
        out["workers_at_previous_type"] = math.ceil(workers * ratio)
    if f.get("avg_file_mb") and f.get("bytes_read_per_run_gb"):
        out["target_partitions"] = max(1, math.ceil(f["bytes_read_per_run_gb"] * 1000 / 128))
    return out


def observed_features(
    store: Store, start: str, end: str, jobs: Collection[str] | None = None
) -> dict[str, dict[str, Any]]:
    """Each job's metric and event-log features over [start, end); `jobs`: only these are
    wanted (the aggregates are still the whole fleet's queries, so their sums are added in the
    same order however many jobs are wanted)."""
    stats: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in store.metric_stats(start, end):
        stats[row["job_name"]].append(row)
    bytes_read = {
        r["job_name"]: r["mean_total"]
        for r in store.metric_run_totals(start, end, "glue.driver.aggregate.bytesRead")
    }
    apps = store.latest_spark_apps(start, end)
    out = {}
    for job in {*stats, *apps}:
        if jobs is not None and job not in jobs:
            continue
        app = apps.get(job)
        stages = store.spark_stages_of(app) if app else []
        out[job] = {
            **metric_features(stats.get(job, []), bytes_read.get(job)),
            **eventlog_features(app, stages),
        }
    return out
