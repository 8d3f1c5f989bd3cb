"""The store's schema: every table's columns and keys, as migrations applied in order.

A store made by any earlier release is carried forward by the migrations it has not run yet.
"""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

TERMINAL_STATES = ("SUCCEEDED", "FAILED", "TIMEOUT", "ERROR", "STOPPED", "EXPIRED")

migrations = Migrations("glue-advisor")


@migrations()
def m001_foundation(db: Database) -> None:
    db["jobs"].create(
        {
            "name": str,
            "region": str,
            "command_name": str,
            "python_version": str,
            "glue_version": str,
            "worker_type": str,
            "number_of_workers": int,
            "max_capacity": float,
            "execution_class": str,
            "timeout_min": int,
            "max_retries": int,
            "max_concurrent_runs": int,
            "role": str,
            "job_mode": str,
            "created_on": str,
            "last_modified_on": str,
            "default_arguments": str,
            "non_overridable_arguments": str,
            "definition_hash": str,
            "definition_known": int,
        },
        pk="name",
    )
    db["job_versions"].create(
        {
            "name": str,
            "hash": str,
            "valid_from": str,
            "first_seen": str,
            "last_seen": str,
            "definition": str,
        },
        pk=("name", "hash"),
    )
    db["job_runs"].create(
        {
            "id": str,
            "job_name": str,
            "region": str,
            "attempt": int,
            "previous_run_id": str,
            "trigger_name": str,
            "state": str,
            "started_on": str,
            "completed_on": str,
            "last_modified_on": str,
            "execution_time_s": int,
            "dpu_seconds": float,
            "worker_type": str,
            "number_of_workers": int,
            "max_capacity": float,
            "allocated_capacity": int,
            "glue_version": str,
            "execution_class": str,
            "job_mode": str,
            "timeout_min": int,
            "error_message": str,
            "arguments": str,
            "log_group_name": str,
        },
        pk="id",
    )
    db["job_runs"].create_index(["job_name", "started_on"])
    db["run_metrics"].create(
        {
            "run_id": str,
            "metric": str,
            "dims": str,
            "stat": str,
            "ts": str,
            "job_name": str,
            "value": float,
            "unit": str,
        },
        pk=("run_id", "metric", "dims", "stat", "ts"),
    )
    db["run_metrics"].create_index(["job_name", "metric"])
    db["eventlog_locations"].create(
        {"run_id": str, "path": str, "bytes": int, "source": str},
        pk=("run_id", "path"),
    )
    db["collect_state"].create(
        {"source": str, "key": str, "value": str, "updated_at": str},
        pk=("source", "key"),
    )
    db["ingest_errors"].create(
        {
            "id": str,
            "source": str,
            "item": str,
            "reason": str,
            "detail": str,
            "recorded_at": str,
        },
        pk="id",
    )
    db["run_costs"].create(
        {
            "run_id": str,
            "job_name": str,
            "started_on": str,
            "billed_seconds": float,
            "capacity_dpu": float,
            "dpu_hours": float,
            "rate_usd_per_dpu_hour": float,
            "rate_confirmed": int,
            "cost_usd": float,
            "basis": str,
            "minimum_applied": int,
        },
        pk="run_id",
    )
    db["run_costs"].create_index(["job_name", "started_on"])


_APP_COLUMNS = {
    "run_id": str,
    "app_id": str,
    "attempt_id": str,  # Spark's App Attempt ID ('' when the log has none): attempts are kept
    "job_name": str,
    "linked_by": str,
    "source": str,
    "app_name": str,
    "spark_version": str,
    "complete": int,
    "start_ms": int,
    "end_ms": int,
    "duration_ms": int,
    "jobs": int,
    "failed_jobs": int,
    "tasks": int,
    "failed_tasks": int,
    "killed_tasks": int,
    "stages": int,
    "stage_attempts": int,
    "failed_stages": int,
    "executors": int,
    "executor_run_time_ms": int,
    "executor_cpu_time_ms": float,
    "gc_time_ms": int,
    "memory_bytes_spilled": int,
    "disk_bytes_spilled": int,
    "input_bytes": int,
    "output_bytes": int,
    "shuffle_read_bytes": int,
    "shuffle_write_bytes": int,
    "files_read": int,
    "files_read_bytes": int,
    "files_written": int,
    "files_written_bytes": int,
    "peak_jvm_heap_bytes": int,
    "executor_utilization": float,
    "failure_reasons": str,
    "failure_examples": str,
    "data_loss": int,
    "data_loss_reasons": str,
    "properties": str,
    "glue": str,
    "problems": str,
    "job_spans": str,
}
_STAGE_COLUMNS = {
    "run_id": str,
    "app_id": str,
    "attempt_id": str,  # Spark's App Attempt ID ('' when the log has none): attempts are kept
    "stage_id": int,
    "attempt": int,
    "name": str,
    "num_tasks": int,
    "tasks": int,
    "succeeded_tasks": int,
    "failed_tasks": int,
    "killed_tasks": int,
    "submitted_ms": int,
    "completed_ms": int,
    "duration_ms": int,
    "failure_reason": str,
    "parent_ids": str,
    "task_ms_min": float,
    "task_ms_p25": float,
    "task_ms_median": float,
    "task_ms_p75": float,
    "task_ms_p95": float,
    "task_ms_max": float,
    "task_ms_sum": int,
    "task_ms_profile": str,
    "executor_run_time_ms": int,
    "executor_cpu_time_ms": float,
    "gc_time_ms": int,
    "memory_bytes_spilled": int,
    "disk_bytes_spilled": int,
    "peak_execution_memory_max": int,
    "peak_execution_memory_p95": int,
    "input_bytes": int,
    "input_records": int,
    "output_bytes": int,
    "output_records": int,
    "shuffle_read_bytes": int,
    "shuffle_write_bytes": int,
    "fetch_wait_ms": int,
}
_EXECUTOR_COLUMNS = {
    "run_id": str,
    "app_id": str,
    "attempt_id": str,  # Spark's App Attempt ID ('' when the log has none): attempts are kept
    "executor_id": str,
    "host": str,
    "cores": int,
    "added_ms": int,
    "removed_ms": int,
    "removed_reason": str,
    "max_memory_bytes": int,
    "tasks": int,
    "failed_tasks": int,
    "task_time_ms": int,
    "gc_time_ms": int,
    "memory_bytes_spilled": int,
    "disk_bytes_spilled": int,
    "peak_jvm_heap_bytes": int,
    "peak_on_heap_execution_memory_bytes": int,
}
_SQL_COLUMNS = {
    "run_id": str,
    "app_id": str,
    "attempt_id": str,  # Spark's App Attempt ID ('' when the log has none): attempts are kept
    "execution_id": int,
    "description": str,
    "start_ms": int,
    "end_ms": int,
    "error": str,
    "files_read": int,
    "files_read_bytes": int,
    "files_written": int,
    "files_written_bytes": int,
}
SPARK_TABLES = {
    "spark_apps": (_APP_COLUMNS, ("run_id", "app_id", "attempt_id")),
    "spark_stages": (_STAGE_COLUMNS, ("run_id", "app_id", "attempt_id", "stage_id", "attempt")),
    "spark_executors": (_EXECUTOR_COLUMNS, ("run_id", "app_id", "attempt_id", "executor_id")),
    "spark_sql": (_SQL_COLUMNS, ("run_id", "app_id", "attempt_id", "execution_id")),
}


@migrations()
def m002_spark_facts(db: Database) -> None:
    """Reduced event-log facts, one application per (run, app id); raw events are never kept."""
    for table, (columns, pk) in SPARK_TABLES.items():
        db[table].create(columns, pk=pk)


@migrations()
def m003_findings(db: Database) -> None:
    """Findings (one per rule and job), and how each rule fared on each job."""
    db["findings"].create(
        {
            "id": str,
            "rule_id": str,
            "problem": str,
            "job_name": str,
            "severity": str,
            "score": float,
            "title": str,
            "message": str,
            "advice": str,
            "remediation": str,
            "evidence": str,
            "savings_dpu_hours_month": float,
            "savings_usd_month": float,
            "status": str,
            "first_seen": str,
            "last_seen": str,
            "resolved_at": str,
        },
        pk="id",
    )
    db["findings"].create_index(["status", "score"])
    db["rule_status"].create(
        {"rule_id": str, "job_name": str, "status": str, "detail": str, "as_of": str},
        pk=("rule_id", "job_name"),
    )


@migrations()
def m004_run_anomalies(db: Database) -> None:
    db["run_anomalies"].create(
        {
            "run_id": str,
            "job_name": str,
            "started_on": str,
            "score": float,
            "ratio": float,
            "reasons": str,
            "extra_usd": float,
        },
        pk="run_id",
    )


@migrations()
def m005_job_features(db: Database) -> None:
    """Each job's features as of the last analysis: what recommend, report and dashboard show
    without recomputing anything."""
    db["job_features"].create(
        {"job_name": str, "as_of": str, "window_days": int, "features": str}, pk="job_name"
    )


@migrations()
def m006_simulation_inputs(db: Database) -> None:
    """Task-duration profiles and job spans for the what-if simulator (logs reduced before
    this migration have none until they are reduced again)."""
    for table, column in (
        ("spark_stages", "task_ms_sum"),
        ("spark_stages", "task_ms_profile"),
        ("spark_apps", "job_spans"),
    ):
        if column not in db[table].columns_dict:
            db[table].add_column(column, SPARK_TABLES[table][0][column])


@migrations()
def m007_changes_and_whatif(db: Database) -> None:
    """The Glue fields a finding would change, and each job's what-if result."""
    if "change" not in db["findings"].columns_dict:
        db["findings"].add_column("change", str)
    db["job_whatif"].create({"job_name": str, "as_of": str, "result": str}, pk="job_name")


@migrations()
def m008_daily_costs(db: Database) -> None:
    """Cost per job and UTC day, rebuilt by `advisor analyze`: what the dashboard charts read
    (a million runs become some thousands of rows)."""
    db["daily_costs"].create(
        {
            "day": str,
            "job_name": str,
            "job_type": str,
            "worker_type": str,
            "execution_class": str,
            "runs": int,
            "failed_runs": int,
            "dpu_hours": float,
            "usd": float,
            "failed_usd": float,
        },
        pk=("day", "job_name", "worker_type", "execution_class"),
    )
    db["daily_costs"].create_index(["job_name", "day"])


@migrations()
def m010_unpriced_runs(db: Database) -> None:
    """Runs at an unknown rate, counted per job and day, so no output shows them as $0.00."""
    if "unpriced_runs" not in db["daily_costs"].columns_dict:
        db["daily_costs"].add_column("unpriced_runs", int)


@migrations()
def m011_app_attempts(db: Database) -> None:
    """Every attempt of an application is kept: the attempt id joins the keys of the spark_*
    tables (a second attempt overwrote the first, often the expensive, failed one)."""
    for table, (_columns, pk) in SPARK_TABLES.items():
        if "attempt_id" in db[table].columns_dict:
            continue
        db[table].add_column("attempt_id", str, not_null_default="")
        db[table].transform(pk=pk)


@migrations()
def m009_job_savings(db: Database) -> None:
    """Each job's saving from the best compatible set of its open findings (never their sum)."""
    db["job_savings"].create(
        {
            "job_name": str,
            "usd_month": float,
            "dpu_hours_month": float,
            "sum_usd_month": float,
            "finding_ids": str,
            "excluded_ids": str,
        },
        pk="job_name",
    )
