"""What a fix should be, from what was observed: memory, partitions, files read and skew.

Pure functions over one job's merged features. A bigger G worker gives each running task no more
heap than a smaller one (the heap per core is the same), so task-level memory problems are sent
to what does help: memory-optimised workers, more shuffle partitions, fewer cores per executor.
Bigger G workers stay the answer for the driver, which runs alone on its worker.
"""

from __future__ import annotations

import math
from typing import Any

TARGET_MB_PER_TASK = 128  # Spark's default maxPartitionBytes and a common shuffle target
SPARK_DEFAULT_SHUFFLE_PARTITIONS = 200  # spark.sql.shuffle.partitions when not set
MEMORY_CAUSES = ("out_of_memory", "container_killed_memory")


def memory_scope(message: str | None, cause: str) -> str:
    """Whether a memory failure hit an executor (a task) or the driver."""
    text = (message or "").lower()
    if cause == "container_killed_memory" or "executor" in text or "lost task" in text:
        return "executor"
    return "driver"


def suggested_partitions(f: dict[str, Any]) -> int | None:
    """Shuffle partitions that bring the biggest task near 128 MB, at least twice today's.
    Today's is what the latest run ran with (its event log), sized from that run's tasks, but
    never below what the job's --conf sets: a fix that raises partitions must not lower them."""
    if not f.get("is_spark"):
        return None
    ran = f.get("shuffle_partitions") or f.get("definition_shuffle_partitions")
    ran = ran or SPARK_DEFAULT_SHUFFLE_PARTITIONS
    biggest = f.get("max_mb_per_task")
    wanted = 2 * max(ran, f.get("definition_shuffle_partitions") or 0)
    if biggest:
        wanted = max(wanted, math.ceil(ran * biggest / TARGET_MB_PER_TASK))
    cores = f.get("executor_cores") or 1
    return int(math.ceil(wanted / cores) * cores)  # whole waves of tasks


def shuffle_partitions_today(f: dict[str, Any]) -> str:
    """Today's shuffle partitions as the advice states them; when the latest run ran with
    another number than the job's --conf sets, both, and why the run's may not be --conf's."""
    ran, defined = f.get("shuffle_partitions"), f.get("definition_shuffle_partitions")
    if defined is not None and ran is not None and ran != defined:
        return (
            f"{defined:,} in the job's --conf, though its latest run ran with {ran:,}: a value "
            "the script sets wins over --conf, so change it there too"
        )
    return f"{ran or defined or SPARK_DEFAULT_SHUFFLE_PARTITIONS:,}"


def memory_features(f: dict[str, Any]) -> dict[str, Any]:
    """Which part runs short of memory (driver or executors) and the fix that fits it."""
    heap_executor, heap_driver = f.get("heap_executor_max"), f.get("heap_driver_max")
    eventlog_oom = f.get("eventlog_memory_failures") or 0
    executor_signal = (
        (f.get("memory_failures_executor") or 0) > 0
        or eventlog_oom > 0
        or (f.get("spill_ratio") or 0) > 0
        or (heap_executor or 0) >= (heap_driver or 0) > 0
    )
    driver_signal = (f.get("memory_failures_driver") or 0) > 0 or (
        heap_driver is not None and heap_driver > (heap_executor or 0)
    )
    scope = "executor" if executor_signal or not driver_signal else "driver"
    out: dict[str, Any] = {
        "memory_scope": scope,
        "suggested_shuffle_partitions": suggested_partitions(f),
        "current_shuffle_partitions": shuffle_partitions_today(f),
        "fewer_executor_cores": max(1, (f.get("executor_cores") or 2) // 2)
        if f.get("executor_cores")
        else None,
        "memory_per_task_gb": f.get("heap_per_core_gb"),
    }
    out["oom_shuffle_partitions"] = (
        out["suggested_shuffle_partitions"] if scope == "executor" else None
    )
    if scope == "driver":
        out["memory_fix_worker_type"] = f.get("next_worker_type")
        out["memory_fix_workers"] = f.get("workers_at_next_type")
    else:
        out["memory_fix_worker_type"] = f.get("memory_optimized_type")
        out["memory_fix_workers"] = (
            f.get("number_of_workers") if f.get("memory_optimized_type") else None
        )
    return out


def files_features(f: dict[str, Any]) -> dict[str, Any]:
    """Files read per run from CloudWatch, else from the event log, and their mean size."""
    files = f.get("files_read_per_run")
    source = "CloudWatch glue.driver.filesRead"
    mean_mb = f.get("avg_file_mb")
    if not files and f.get("eventlog_files_read"):
        files = f["eventlog_files_read"]
        source = "the Spark event log's scans"
        read = f.get("eventlog_files_read_bytes")
        mean_mb = read / files / 1e6 if read and files else None
    out = {
        "files_read": files,
        "files_read_source": source if files else None,
        "mean_file_mb": mean_mb,
    }
    if files and mean_mb and not f.get("target_partitions"):
        # as many ~128 MB files as the data needs
        out["target_partitions"] = max(1, math.ceil(files * mean_mb / TARGET_MB_PER_TASK))
    return out


DETERMINISTIC_CAUSES = ("out_of_memory", "container_killed_memory", "disk_full")


def failure_features(f: dict[str, Any]) -> dict[str, Any]:
    """A job failing often is a problem however cheap it is; a retry of a deterministic failure
    fails again, so the fix stops retrying until the cause is fixed."""
    rate = f.get("failure_rate")
    return {
        "failure_pct": rate * 100 if rate is not None else None,
        "retry_fix_max_retries": 0 if f.get("top_failure_cause") in DETERMINISTIC_CAUSES else None,
    }


def conf_fixes(f: dict[str, Any]) -> dict[str, Any]:
    """The Spark settings the spark_conf rule turns back to Spark's defaults."""
    return {
        "aqe_fix": "true" if f.get("aqe_enabled") is False else None,
        "merge_schema_fix": "false" if f.get("parquet_merge_schema") is True else None,
        "pushdown_fix": "true" if f.get("parquet_filter_pushdown") is False else None,
    }
