"""The store's schema: every table's columns and keys, as migrations applied in order.

A store made by any earlier release is carried forward by the migrations it has not run yet.
"""

from __future__ import annotations

import json

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from advisor.store.base import stable_hash, to_json

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


# ---- what changed since the last analysis --------------------------------------------------
# Every table `advisor analyze` reads carries triggers that append (job, run) to
# analysis_changes when a row really changes (an upsert writing the same values logs nothing):
# whoever writes (import, collect, event-log linking, a user's SQL), analyze learns what is new
# by reading a few rows rather than every run. run_id '' names the whole job (its definition or
# versions changed: all its runs are priced again); job_name '' is resolved through the run.
# New runs are the exception: they are the job_runs rows past the rowid the last analysis saw
# (a trigger on each insert made importing a million runs seconds slower); a deleted run is
# logged, and makes the next analysis look for unpriced runs instead.
# A migration that adds a column to one of these tables must call _create_change_triggers again.
CHANGE_LOG = "analysis_changes"
# columns of job_versions the analysis reads (last_seen moves on every import of a new snapshot)
_VERSION_COLUMNS = ("name", "hash", "valid_from", "first_seen", "definition")


def _log(job: str, run: str) -> str:
    """One append to the change log, unless the newest entry is the same pair (the metric points
    of one run, the stages of one application, arrive together)."""
    return (
        f"insert into {CHANGE_LOG} (job_name, run_id) select {job}, {run} where not exists "
        f"(select 1 from {CHANGE_LOG} where rowid = (select max(rowid) from {CHANGE_LOG}) "
        f"and job_name = {job} and run_id = {run});"
    )


def _changed(columns: list[str] | tuple[str, ...]) -> str:
    return " or ".join(f"old.[{c}] is not new.[{c}]" for c in columns)


def _pair(table: str, row: str) -> tuple[str, str]:
    """The (job, run) a row of `table` (`new` or `old`) stands for, as SQL expressions."""
    if table == "job_runs":
        return f"coalesce({row}.job_name, '')", f"coalesce({row}.id, '')"
    if table == "run_metrics":
        return f"coalesce({row}.job_name, '')", f"coalesce({row}.run_id, '')"
    if table in ("jobs", "job_versions"):
        return f"coalesce({row}.name, '')", "''"
    return "''", f"coalesce({row}.run_id, '')"  # the spark_* tables


def _create_change_triggers(db: Database) -> None:
    watched: dict[str, list[str] | tuple[str, ...] | None] = {
        "job_runs": list(db["job_runs"].columns_dict),
        "run_metrics": list(db["run_metrics"].columns_dict),
        "jobs": list(db["jobs"].columns_dict),
        "job_versions": _VERSION_COLUMNS,
        **dict.fromkeys(SPARK_TABLES),  # None: every update counts (linking moves run_id)
    }
    for table, columns in watched.items():
        db.execute(f"drop trigger if exists [analysis_{table}_insert]")
        statements = {
            "insert": _log(*_pair(table, "new")),
            "delete": _log(*_pair(table, "old")),
            "update": _log(*_pair(table, "new")) + " " + _log(*_pair(table, "old")),
        }
        if table == "job_runs":
            del statements["insert"]
        for event, statement in statements.items():
            name = f"analysis_{table}_{event}"
            when = f" when {_changed(columns)}" if event == "update" and columns else ""
            db.execute(f"drop trigger if exists [{name}]")
            db.execute(
                f"create trigger [{name}] after {event} on [{table}]{when} begin {statement} end"
            )


@migrations()
def m012_incremental_analysis(db: Database) -> None:
    """What changed since the last analysis (filled by triggers), the digests and window it ran
    with, and per job what the next one may reuse (see advisor/analysis/incremental.py)."""
    # no constraint a trigger's insert could break: SQLite then needs no statement journal
    # for a write that fires it (with one, importing runs took half again as long)
    db.execute(f"create table if not exists {CHANGE_LOG} (job_name text, run_id text)")
    db["analysis_state"].create({"key": str, "value": str}, pk="key", if_not_exists=True)
    db["analysis_jobs"].create(
        {
            "job_name": str,
            "runs": int,  # runs in the job's whole history (0: it has none)
            "cost_step": str,  # cost_step() of its whole history, JSON
            "whatif_key": str,  # digest of what its what-if was computed from
            "whatif_features": str,  # whatif_features() of that what-if, JSON
        },
        pk="job_name",
        if_not_exists=True,
    )
    _create_change_triggers(db)


@migrations()
def m013_collector_calls(db: Database) -> None:
    """What each `advisor collect` called, per account, region and operation, and what AWS
    bills for it: the advisor's own AWS bill (advisor/collect/api_cost.py prices it)."""
    db["collector_calls"].create(
        {
            "collected_at": str,  # the collect's start, UTC ISO
            "account": str,
            "region": str,
            "operation": str,  # service:Operation, e.g. cloudwatch:GetMetricData
            "calls": int,
            "billed_units": int,  # what AWS bills by: requests, or metrics requested
            "unit": str,  # "request" or "metric"
            "cost_usd": float,
        },
        pk=("collected_at", "account", "region", "operation"),
        if_not_exists=True,
    )


# ---- identity: (account, region, name) ---------------------------------------------------
# What the identity migration gives data that does not say: set by whoever opens an older
# store with them at hand (`advisor import --account ID --region R`). A job whose definition
# names no role ARN gets this account; a job stored without a region, this region.
IDENTITY_DEFAULTS: dict[str, str | None] = {"account": None, "region": None}
# every table that names a job or a run: (table, its job column, its run column)
KEYED_TABLES = (
    ("job_versions", "name", None),
    ("run_metrics", "job_name", "run_id"),
    ("eventlog_locations", None, "run_id"),
    ("run_costs", "job_name", "run_id"),
    ("spark_apps", "job_name", "run_id"),
    ("spark_stages", None, "run_id"),
    ("spark_executors", None, "run_id"),
    ("spark_sql", None, "run_id"),
    ("findings", "job_name", None),
    ("rule_status", "job_name", None),
    ("run_anomalies", "job_name", "run_id"),
    ("job_features", "job_name", None),
    ("job_whatif", "job_name", None),
    ("daily_costs", "job_name", None),
    ("job_savings", "job_name", None),
    ("analysis_jobs", "job_name", None),
)


@migrations()
def m014_job_identity(db: Database) -> None:
    """Jobs and runs keyed by (account, region, name), as `account/region/name` and
    `account/region/run-id` (advisor/identity.py): the same name in two accounts or regions is
    two jobs. A job's account comes from its role ARN, else IDENTITY_DEFAULTS, else 'unknown';
    its region from where it was collected or imported. The next analysis is a full one."""
    from advisor.identity import UNKNOWN_ACCOUNT, UNKNOWN_REGION, account_from_arn, job_key

    triggers = db.execute("select name from sqlite_master where type = 'trigger'").fetchall()
    for (trigger,) in triggers:  # no change log for a rewrite of every key
        db.execute(f"drop trigger [{trigger}]")
    for table, column in (
        ("jobs", "account"),
        ("jobs", "glue_name"),
        ("job_runs", "account"),
        ("job_runs", "glue_run_id"),
    ):
        if column not in db[table].columns_dict:
            db[table].add_column(column, str)
    defaults = IDENTITY_DEFAULTS
    common = db.execute(
        "select region from jobs where region is not null group by region "
        "order by count(*) desc, region limit 1"
    ).fetchone()
    default_account = defaults.get("account") or UNKNOWN_ACCOUNT
    default_region = defaults.get("region") or (common[0] if common else UNKNOWN_REGION)
    run_regions = dict(
        db.execute(
            "select job_name, max(region) from job_runs where region is not null group by job_name"
        ).fetchall()
    )
    conn = db.conn
    conn.execute(
        "create temp table _job_place (old text primary key, account text, region text, key text)"
    )
    conn.execute("create temp table _run_place (old text primary key, key text)")
    places = []
    for name, role, region in conn.execute("select name, role, region from jobs").fetchall():
        account = account_from_arn(role) or default_account
        region = region or run_regions.get(name) or default_region
        places.append((name, account, region, job_key(account, region, name)))
    # a job only other tables name (a finding of a job since removed): the default place
    for table, column, _run in (("job_runs", "job_name", None), *KEYED_TABLES):
        if column:
            for (name,) in conn.execute(f"select distinct [{column}] from [{table}]"):
                if name is not None:
                    region = run_regions.get(name) or default_region
                    places.append(
                        (name, default_account, region, job_key(default_account, region, name))
                    )
    conn.executemany("insert or ignore into _job_place values (?, ?, ?, ?)", places)
    conn.execute(
        "insert or ignore into _run_place select r.id, p.account || '/' || p.region || '/' "
        "|| r.id from job_runs r join _job_place p on p.old = r.job_name"
    )
    prefix = f"{default_account}/{default_region}/"
    for table, column in (("run_metrics", "run_id"), ("eventlog_locations", "run_id")):
        conn.execute(
            f"insert or ignore into _run_place select distinct [{column}], ? || [{column}] "
            f"from [{table}] where [{column}] != ''",
            [prefix],
        )

    def job(table: str, column: str) -> str:
        return f"(select p.key from _job_place p where p.old = [{table}].[{column}])"

    def run(table: str, column: str) -> str:
        value = f"[{table}].[{column}]"
        return (
            f"case when {value} = '' then '' else coalesce((select p.key from _run_place p "
            f"where p.old = {value}), ? || {value}) end"
        )

    conn.execute(
        "update jobs set glue_name = name, account = (select account from _job_place "
        "where old = jobs.name), region = (select region from _job_place where old = jobs.name)"
    )
    conn.execute(f"update jobs set name = {job('jobs', 'name')}")
    conn.execute(
        "update job_runs set glue_run_id = id, account = (select account from _job_place p "
        "where p.old = job_runs.job_name), region = (select region from _job_place p "
        "where p.old = job_runs.job_name)"
    )
    conn.execute(
        f"update job_runs set id = {run('job_runs', 'id')}, "
        f"job_name = {job('job_runs', 'job_name')}, "
        "previous_run_id = case when previous_run_id is null then null else "
        "(select account || '/' || region || '/' from _job_place p "
        "where p.old = job_runs.job_name) || previous_run_id end",
        [prefix],
    )
    for table, job_column, run_column in KEYED_TABLES:
        sets, params = [], []
        if job_column:
            sets.append(f"[{job_column}] = coalesce({job(table, job_column)}, [{job_column}])")
        if run_column:
            sets.append(f"[{run_column}] = {run(table, run_column)}")
            params.append(prefix)
        conn.execute(f"update [{table}] set {', '.join(sets)}", params)
    # state kept per job or run by the collectors
    conn.execute(
        "update collect_state set key = coalesce((select p.key from _job_place p "
        "where p.region || '/' || p.old = collect_state.key), key) where source = 'glue_runs'"
    )
    conn.execute(
        f"update collect_state set key = {run('collect_state', 'key')} where source = 'cloudwatch'",
        [prefix],
    )
    # a finding's id is its rule and job: ids follow the keys, and so do the savings naming them
    renamed = {}
    for old, rule, key in conn.execute("select id, rule_id, job_name from findings").fetchall():
        renamed[old] = stable_hash([rule, key])
    conn.executemany(
        "update findings set id = ? where id = ?", [(n, o) for o, n in renamed.items()]
    )
    for key, ids in conn.execute("select job_name, finding_ids from job_savings").fetchall():
        new_ids = [renamed.get(i, i) for i in json.loads(ids or "[]")]
        conn.execute(
            "update job_savings set finding_ids = ? where job_name = ?", [to_json(new_ids), key]
        )
    for statement in (
        "drop table temp._job_place",
        "drop table temp._run_place",
        f"delete from {CHANGE_LOG}",
        "delete from analysis_state",  # the next analysis is a full one
    ):
        conn.execute(statement)
    db["jobs"].create_index(["glue_name"], if_not_exists=True)
    db["job_runs"].create_index(["glue_run_id"], if_not_exists=True)
    _create_change_triggers(db)


@migrations()
def m015_kept_history(db: Database) -> None:
    """Per job, what the next analysis needs to take in new runs without reading the job's
    history again (advisor/analysis/history.py). The next analysis is a full one (its state
    version changed), which fills it."""
    if "history" not in db["analysis_jobs"].columns_dict:
        db["analysis_jobs"].add_column("history", str)


@migrations()
def m016_billing_lines(db: Database) -> None:
    """The Glue lines of AWS billing exports (advisor/collect/cur.py): what AWS charged, kept
    beside what the advisor computes, for `advisor reconcile`."""
    db["billing_lines"].create(
        {
            "id": str,  # the export's line id and hour, else a digest of the line
            "account": str,
            "region": str,
            "usage_start": str,
            "usage_end": str,
            "day": str,  # UTC day of usage_start
            "line_type": str,  # Usage, Credit, Refund, Tax, ...
            "usage_type": str,  # e.g. USE1-ETL-DPU-Hour
            "operation": str,
            "category": str,  # job, crawler, interactive_session, ... (cur.CATEGORIES)
            "resource_id": str,
            "job_name": str,  # account/region/name of a job's line, else null
            "usage_amount": float,  # DPU-hours for a *-DPU-Hour usage type
            "rate": float,
            "cost": float,  # unblended, USD
            "source": str,  # the file it came from
        },
        pk="id",
        if_not_exists=True,
    )
    db["billing_lines"].create_index(["job_name", "day"], if_not_exists=True)
    db["billing_lines"].create_index(["day"], if_not_exists=True)


@migrations()
def m017_glue_resources(db: Database) -> None:
    """The other things Glue bills (advisor/collect/resources.py): crawlers, interactive
    sessions and development endpoints, and what each used (a crawl, a session, the time an
    endpoint was provisioned), priced by advisor/analysis/other_costs.py."""
    db["glue_resources"].create(
        {
            "kind": str,  # crawler, interactive_session, dev_endpoint
            "account": str,
            "region": str,
            "name": str,  # the crawler's or endpoint's name, the session's id
            "arn": str,  # what billing exports name it by
            "definition": str,  # JSON, secrets redacted
            "state": str,
            "observed_at": str,
        },
        pk=("kind", "account", "region", "name"),
        if_not_exists=True,
    )
    db["resource_usage"].create(
        {
            "kind": str,
            "account": str,
            "region": str,
            "name": str,
            "usage_id": str,  # the crawl's id, the session's id, the endpoint's creation
            "started_on": str,
            "ended_on": str,  # null: still running when observed
            "state": str,
            "duration_s": float,
            "dpu_hours": float,  # what AWS reported used (crawls, sessions), else null
            "dpus": float,  # the capacity it held (sessions, endpoints), else null
            "changes": int,  # tables and partitions a crawl added, updated or deleted
            "observed_at": str,
        },
        pk=("kind", "account", "region", "name", "usage_id"),
        if_not_exists=True,
    )
    db["resource_usage"].create_index(["started_on"], if_not_exists=True)
    db["resource_findings"].create(
        {
            "kind": str,
            "account": str,
            "region": str,
            "name": str,
            "rule_id": str,
            "severity": str,
            "score": float,
            "title": str,
            "message": str,
            "advice": str,  # JSON list
            "remediation": str,  # JSON object
            "evidence": str,  # JSON object
            "savings_usd_month": float,
            "as_of": str,
        },
        pk=("kind", "account", "region", "name", "rule_id"),
        if_not_exists=True,
    )


@migrations()
def m018_findings_fixed_by(db: Database) -> None:
    """The change that carried out a resolved finding's fix, with what it saved against what
    the finding predicted (advisor/analysis/fixed.py): a finding closed as fixed."""
    if "fixed_by" not in db["findings"].columns_dict:
        db["findings"].add_column("fixed_by", str)
