"""The per-application summary (`advisor eventlog summarize --format json`) and data-loss checks.

Schema: docs/eventlog-summary.md. Totals are numbers, or null when the log cannot tell.
"""

from __future__ import annotations

from typing import Any

from advisor.sparklog.parse import IGNORED_EVENTS, AppReducer

# A stage's own totals (StageCompleted accumulables) against the sum over its task-end events:
# more in the stage than in its tasks means task-end events were dropped.
_LOSS_TOLERANCE = 0.01


def data_loss_reasons(reducer: AppReducer) -> list[str]:
    reasons = []
    saw_starts = any(s.starts for s in reducer.stages.values())
    for (stage_id, attempt), stage in sorted(reducer.stages.items()):
        ends = stage.tasks - stage.resubmitted
        if saw_starts and ends > stage.starts:
            reasons.append(
                f"stage {stage_id}.{attempt}: {ends - stage.starts} task ends without a task start"
            )
        recorded = stage.stage_totals.get("internal.metrics.executorRunTime")
        if recorded is not None and recorded > stage.run_ms * (1 + _LOSS_TOLERANCE) + 1000:
            reasons.append(
                f"stage {stage_id}.{attempt}: executor run time {recorded:.0f} ms in the "
                f"stage's totals but {stage.run_ms:.0f} ms in its task-end events"
            )
    return reasons


def _job_order(job: dict[str, Any]) -> str:
    return str(job["job_id"]).zfill(12)


def _utilization(reducer: AppReducer, end_ms: int | None) -> float | None:
    available = 0.0
    for executor in reducer.executors.values():
        added = executor.added_ms if executor.added_ms is not None else executor.bm_added_ms
        if executor.cores and added:
            until = executor.removed_ms or end_ms
            if until and until > added:
                available += executor.cores * (until - added)
    used = sum(e.run_ms for e in reducer.executors.values())
    return round(used / available, 4) if available else None


# Spark writes ids, counts and times as Java longs; a number outside them is damage, and
# SQLite could not store it
_LONG_MIN, _LONG_MAX = -(2**63), 2**63 - 1


def _beyond_64_bits(value: Any) -> bool:
    return type(value) is int and not _LONG_MIN <= value <= _LONG_MAX


def _fit_64_bits(rows: list[dict[str, Any]]) -> int:
    """Blank every integer of these rows that no Java long can hold; how many were blanked."""
    dropped = 0
    for row in rows:
        for key, value in row.items():
            if _beyond_64_bits(value):
                row[key] = None
                dropped += 1
    return dropped


def summarize(reducer: AppReducer) -> dict[str, Any]:
    stages = [s.as_row() for _, s in sorted(reducer.stages.items())]
    executors = sorted(
        (
            e.as_row()
            for e in reducer.executors.values()
            if e.tasks or e.added_ms or e.bm_added_ms or e.max_memory
        ),
        key=lambda e: (e["executor_id"] != "driver", len(e["executor_id"]), e["executor_id"]),
    )
    sql = reducer.sql.rows()
    end_ms = reducer.app["end_ms"] or reducer.last_ms or None
    loss = data_loss_reasons(reducer)

    def total(key: str) -> float:
        return sum(s[key] or 0 for s in stages)

    def sql_total(key: str) -> int | None:
        values = [row[key] for row in sql if row[key] is not None]
        return sum(values) if values else None

    dropped = sum(_fit_64_bits(rows) for rows in (stages, executors, sql))
    start_ms = None if _beyond_64_bits(reducer.app["start_ms"]) else reducer.app["start_ms"]
    end_ms = None if _beyond_64_bits(end_ms) else end_ms
    dropped += (start_ms is None) != (reducer.app["start_ms"] is None)
    if dropped:
        reducer.problems.add(
            "value_beyond_64_bits", "", None, f"{dropped} numbers no Spark log can hold, dropped"
        )
        reducer.problems.counts["value_beyond_64_bits"] = dropped
    heaps = [e["peak_jvm_heap_bytes"] for e in executors if e["peak_jvm_heap_bytes"]]
    return {
        "app_id": reducer.app["app_id"],
        "attempt_id": reducer.app["attempt_id"],
        "app_name": reducer.app["name"],
        "spark_version": reducer.app["spark_version"],
        "complete": bool(reducer.app["end_ms"]) and not reducer.in_progress,
        "start_ms": start_ms,
        "end_ms": reducer.app["end_ms"] and end_ms,
        "duration_ms": (end_ms - start_ms) if start_ms and end_ms else None,
        "jobs": reducer.jobs,
        "job_spans": [[job_id, *span] for job_id, span in sorted(reducer.job_spans.items())],
        "failed_jobs": len(reducer.failed_jobs),
        "tasks": sum(s["tasks"] for s in stages),
        "failed_tasks": sum(s["failed_tasks"] for s in stages),
        "killed_tasks": sum(s["killed_tasks"] for s in stages),
        "stages": len({s["stage_id"] for s in stages}),
        "stage_attempts": len(stages),
        "failed_stages": sum(1 for s in stages if s["failure_reason"]),
        "executors": len([e for e in executors if e["executor_id"] != "driver"]) or len(executors),
        "executor_run_time_ms": total("executor_run_time_ms"),
        "executor_cpu_time_ms": round(total("executor_cpu_time_ms"), 3),
        "gc_time_ms": total("gc_time_ms"),
        "memory_bytes_spilled": total("memory_bytes_spilled"),
        "disk_bytes_spilled": total("disk_bytes_spilled"),
        "input_bytes": total("input_bytes"),
        "output_bytes": total("output_bytes"),
        "shuffle_read_bytes": total("shuffle_read_bytes"),
        "shuffle_write_bytes": total("shuffle_write_bytes"),
        "files_read": sql_total("files_read"),
        "files_read_bytes": sql_total("files_read_bytes"),
        "files_written": sql_total("files_written"),
        "files_written_bytes": sql_total("files_written_bytes"),
        "peak_jvm_heap_bytes": max(heaps) if heaps else None,
        "executor_utilization": _utilization(reducer, end_ms),
        "failure_reasons": dict(sorted(reducer.failures.items())),
        "failure_examples": dict(sorted(reducer.failure_examples.items())),
        "failed_job_reasons": sorted(reducer.failed_jobs, key=_job_order)[:20],
        "data_loss": bool(loss),
        "data_loss_reasons": loss[:20],
        "properties": reducer.properties,
        "glue": reducer.glue,
        "skipped_events": dict(sorted(reducer.skipped.items())),
        "unknown_events": sorted(k for k in reducer.skipped if k not in IGNORED_EVENTS),
        "problems": dict(sorted(reducer.problems.counts.items())),
        "problem_examples": reducer.problems.rows[:20],
        "stage_list": stages,
        "executor_list": executors,
        "sql_executions": sql,
    }
