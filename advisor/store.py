"""The SQLite store: schema migrations, WAL, idempotent upserts and the shared read queries.

This is the only module that writes SQL. Every writer upserts on natural keys, so running a
collector or an import twice leaves the store unchanged.
"""

from __future__ import annotations

import functools
import hashlib
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import orjson
from sqlite_utils import Database
from sqlite_utils.db import NotFoundError
from sqlite_utils.migrations import Migrations

from advisor.collect.redact import redact_text

T = TypeVar("T")
DEFAULT_DB_PATH = "advisor.db"
TERMINAL_STATES = ("SUCCEEDED", "FAILED", "TIMEOUT", "ERROR", "STOPPED", "EXPIRED")

migrations = Migrations("glue-advisor")
# how long a writer waits for another one to finish its transaction; the longest one, costing
# a million runs, takes well under a minute
BUSY_TIMEOUT_MS = 120_000


def _writes(method: Callable[..., T]) -> Callable[..., T]:
    """A store method that writes: it runs in a transaction of its own, or in the caller's."""

    @functools.wraps(method)
    def in_transaction(self: Store, *args: Any, **kwargs: Any) -> T:
        with self.transaction():
            return method(self, *args, **kwargs)

    return in_transaction


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


_BYTES_READ = (
    "select run_id, sum(value) as bytes_read from run_metrics "
    "where metric = 'glue.driver.aggregate.bytesRead' and stat = 'Sum' group by run_id"
)
# bytes read, and the executors a run really held on average (Auto Scaling without DPUSeconds
# is priced from it), in one pass over run_metrics
_RUN_METRIC_FACTS = (
    "select run_id, sum(case when metric = 'glue.driver.aggregate.bytesRead' and stat = 'Sum' "
    "then value end) as bytes_read, avg(case when metric = "
    "'glue.driver.ExecutorAllocationManager.executors.numberAllExecutors' and stat = 'Average' "
    "then value end) as executors_avg from run_metrics where metric in "
    "('glue.driver.aggregate.bytesRead', "
    "'glue.driver.ExecutorAllocationManager.executors.numberAllExecutors') group by run_id"
)


def resolve_db_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """`--db` wins, then `ADVISOR_DB`, then ./advisor.db."""
    return Path(explicit or os.environ.get("ADVISOR_DB") or DEFAULT_DB_PATH)


def to_json(value: Any) -> str:
    """Canonical JSON (sorted keys) so equal values always store as equal text."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


def stable_hash(value: Any) -> str:
    return hashlib.sha256(to_json(value).encode()).hexdigest()[:16]


class Store:
    """A thin, typed layer over a sqlite-utils Database."""

    def __init__(self, path: str | os.PathLike[str] | None = None, *, memory: bool = False):
        if memory:
            self.db = Database(memory=True)
            self.path: Path | None = None
        else:
            self.path = resolve_db_path(path)
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.db = Database(self.path)
        # Several writers share one store (two imports, an import and an analyze, cron and a
        # user): no statement opens a transaction behind our back, every write transaction
        # takes the write lock first (BEGIN IMMEDIATE) and waits for it up to BUSY_TIMEOUT_MS
        self.db.conn.isolation_level = None
        self.db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        if not memory:
            self.db.enable_wal()
            # WAL + NORMAL: a crash of the process loses nothing committed; only a power cut can
            # drop the last transactions, which a re-run collects again
            self.db.execute("PRAGMA synchronous = NORMAL")
        self._columns: dict[str, set[str]] = {}
        if migrations.pending(self.db):
            with self.transaction():  # two first users of a new store migrate it once
                migrations.apply(self.db)

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[Store]:
        """All writes inside commit together or not at all (a crash loses no half-pages).

        The outermost one starts with BEGIN IMMEDIATE: a transaction that reads and then
        writes would otherwise fail at once with "database is locked" when another writer
        committed in between, whatever the busy timeout; nested ones are savepoints.
        """
        conn = self.db.conn
        if conn.in_transaction:
            with self.db.atomic():
                yield self
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield self
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    # ---- writers -------------------------------------------------------------------------

    def _bulk_upsert(self, table: str, rows: list[dict[str, Any]], pk: tuple[str, ...]) -> None:
        """One prepared INSERT .. ON CONFLICT for many rows of the same shape.

        sqlite-utils' upsert_all builds and inspects every row in Python; on the tables that
        hold a row per run (a million on a large fleet) this is several times faster. Rows
        must all have the same keys, which must be columns of the table.
        """
        if rows:
            columns = list(rows[0])
            self._bulk_upsert_values(table, columns, ([r[c] for c in columns] for r in rows), pk)

    @_writes
    def _bulk_upsert_values(
        self, table: str, columns: list[str], values: Iterable[Sequence[Any]], pk: tuple[str, ...]
    ) -> None:
        known = self._columns.get(table) or self._columns.setdefault(
            table, set(self.db[table].columns_dict)
        )
        unknown = [c for c in columns if c not in known]
        if unknown:
            raise ValueError(f"{table} has no column(s) {', '.join(unknown)}")
        updates = [c for c in columns if c not in pk]
        sql = (
            f"insert into [{table}] ({', '.join(f'[{c}]' for c in columns)}) "
            f"values ({', '.join('?' for _ in columns)}) "
            f"on conflict ({', '.join(f'[{c}]' for c in pk)}) do "
            + (
                "update set " + ", ".join(f"[{c}] = excluded.[{c}]" for c in updates)
                if updates
                else "nothing"
            )
        )
        self.db.conn.executemany(sql, values)

    @_writes
    def upsert_jobs(self, rows: Iterable[dict[str, Any]]) -> None:
        self.db["jobs"].upsert_all(rows, pk="name")

    @_writes
    def insert_job_stub(self, name: str, region: str | None) -> None:
        """A job seen only through its runs; a real definition replaces it later."""
        self.db["jobs"].insert(
            {"name": name, "region": region, "definition_known": 0}, pk="name", ignore=True
        )

    @_writes
    def record_job_version(
        self, name: str, definition: dict[str, Any], valid_from: str | None, seen_at: str
    ) -> None:
        """Keep every distinct definition a job has had, with when it was first and last seen."""
        digest = stable_hash(definition)
        try:
            existing = self.db["job_versions"].get((name, digest))
            first_seen = min(existing["first_seen"], seen_at)
            last_seen = max(existing["last_seen"], seen_at)
        except NotFoundError:
            first_seen = last_seen = seen_at
        self.db["job_versions"].upsert(
            {
                "name": name,
                "hash": digest,
                "valid_from": valid_from,
                "first_seen": first_seen,
                "last_seen": last_seen,
                "definition": to_json(definition),
            },
            pk=("name", "hash"),
        )

    def upsert_runs(self, rows: Iterable[dict[str, Any]]) -> int:
        rows = list(rows)
        self._bulk_upsert("job_runs", rows, ("id",))
        return len(rows)

    def forget_runs_seen(self) -> None:
        """Start a new census for runs_seen_before (one per import)."""
        self.db.conn.execute("drop table if exists temp.session_runs")

    def runs_seen_before(
        self, item: str, runs: Iterable[tuple[str, int]]
    ) -> list[tuple[str, str, bool]]:
        """Of these (run id, digest) pairs read from `item`, those an earlier item read through
        this connection also held: (run id, that item, whether the two copies differ). Kept
        in temporary tables, so a million runs cost disk pages, not memory."""
        conn = self.db.conn
        conn.execute(
            "create temp table if not exists session_runs "
            "(id text primary key, item text, digest integer)"
        )
        conn.execute("create temp table if not exists item_runs (id text primary key, digest)")
        conn.execute("delete from item_runs")
        conn.executemany("insert or replace into item_runs values (?, ?)", runs)
        clashes = conn.execute(
            "select i.id, s.item, s.digest != i.digest from item_runs i "
            "join session_runs s on s.id = i.id order by i.id"
        ).fetchall()
        conn.execute(
            "insert or ignore into session_runs select id, ?, digest from item_runs", [item]
        )
        return [(run_id, other, bool(differs)) for run_id, other, differs in clashes]

    def upsert_metrics(self, rows: Iterable[dict[str, Any]]) -> int:
        rows = list(rows)
        self._bulk_upsert("run_metrics", rows, ("run_id", "metric", "dims", "stat", "ts"))
        return len(rows)

    @_writes
    def upsert_eventlog_locations(self, rows: Iterable[dict[str, Any]]) -> None:
        self.db["eventlog_locations"].upsert_all(rows, pk=("run_id", "path"))

    def upsert_cost_values(self, columns: list[str], values: list[tuple]) -> None:
        self._bulk_upsert_values("run_costs", columns, values, ("run_id",))

    def set_state(self, source: str, key: str, value: str, at: str) -> None:
        self._bulk_upsert(
            "collect_state",
            [{"source": source, "key": key, "value": value, "updated_at": at}],
            ("source", "key"),
        )

    @_writes
    def record_error(
        self, source: str, item: str, reason: str, detail: str = "", *, at: str
    ) -> dict[str, str]:
        """Record what was skipped and why; the same problem seen again is one row. A reason
        may quote what it read, so everything stored here is redacted first."""
        row = {
            "id": stable_hash([source, item, reason]),
            "source": source,
            "item": redact_text(item) or "",
            "reason": redact_text(reason) or "",
            "detail": redact_text(detail[:2000]) or "",
            "recorded_at": at,
        }
        self.db["ingest_errors"].upsert(row, pk="id")
        return row

    @_writes
    def replace_spark_app(
        self, run_id: str, app_id: str, attempt_id: str, rows: dict[str, list[dict]]
    ) -> None:
        """Store one application attempt's facts, replacing any earlier reduction of it."""
        for table, (columns, _pk) in SPARK_TABLES.items():
            self.db.execute(
                f"delete from {table} where run_id = ? and app_id = ? and attempt_id = ?",
                [run_id, app_id, attempt_id],
            )
            records = [{k: r.get(k) for k in columns} for r in rows.get(table, [])]
            if records:
                self.db[table].insert_all(records, batch_size=500)

    @_writes
    def link_spark_app(
        self, app_id: str, attempt_id: str, run_id: str, how: str, job_name: str | None
    ) -> None:
        key = "app_id = ? and attempt_id = ?"
        for table in SPARK_TABLES:
            self.db.execute(
                f"update {table} set run_id = ? where run_id = '' and {key}",
                [run_id, app_id, attempt_id],
            )
        self.db.execute(
            f"update spark_apps set linked_by = ?, job_name = ? where run_id = ? and {key}",
            [how, job_name, run_id, app_id, attempt_id],
        )

    @_writes
    def resolve_error(self, source: str, item: str, reason: str) -> None:
        self.db.execute(
            "delete from ingest_errors where id = ?", [stable_hash([source, item, reason])]
        )

    def save_findings(
        self, fired: list[dict[str, Any]], statuses: list[dict[str, Any]], as_of: str
    ) -> dict[str, int]:
        """Upsert what fired (keeping first_seen), resolve what stopped firing; one transaction."""
        counts = {"new": 0, "open": 0, "resolved": 0}
        with self.transaction():
            known = {
                r["id"]: r for r in self.db.query("select id, first_seen, status from findings")
            }
            for row in fired:
                previous = known.get(row["id"])
                first_seen = previous["first_seen"] if previous else as_of
                counts[
                    "new" if previous is None or previous["status"] == "resolved" else "open"
                ] += 1
                self.db["findings"].upsert(
                    {**row, "first_seen": first_seen, "last_seen": as_of, "resolved_at": None},
                    pk="id",
                )
            firing = {row["id"] for row in fired}
            for finding_id, previous in known.items():
                if finding_id not in firing and previous["status"] != "resolved":
                    self.db.execute(
                        "update findings set status = 'resolved', resolved_at = ? where id = ?",
                        [as_of, finding_id],
                    )
                    counts["resolved"] += 1
            self.db["rule_status"].upsert_all(statuses, pk=("rule_id", "job_name"))
        return counts

    def save_job_features(self, features: dict[str, dict[str, Any]]) -> None:
        rows = [
            {
                "job_name": job,
                "as_of": values.get("as_of"),
                "window_days": values.get("window_days"),
                "features": to_json(values),
            }
            for job, values in features.items()
        ]
        with self.transaction():
            self.db.execute("delete from job_features")
            self._bulk_upsert("job_features", rows, ("job_name",))

    def save_job_savings(self, savings: list[dict[str, Any]]) -> None:
        with self.transaction():
            self.db.execute("delete from job_savings")
            self._bulk_upsert("job_savings", savings, ("job_name",))

    def job_savings(self, job_name: str | None = None) -> dict[str, dict[str, Any]]:
        """Each job's combined saving (best compatible set of its open findings)."""
        where, params = ("where job_name = ?", [job_name]) if job_name else ("", [])
        rows = self.db.query(f"select * from job_savings {where}", params)
        return {
            r["job_name"]: {
                **r,
                "finding_ids": orjson.loads(r["finding_ids"] or "[]"),
                "excluded_ids": orjson.loads(r["excluded_ids"] or "[]"),
            }
            for r in rows
        }

    def fleet_saving_usd_month(self) -> float:
        row = self.db.execute("select sum(usd_month) from job_savings").fetchone()
        return float(row[0] or 0)

    def save_whatif(self, results: dict[str, dict[str, Any]], as_of: str) -> None:
        rows = [
            {"job_name": job, "as_of": as_of, "result": to_json(result)}
            for job, result in results.items()
        ]
        with self.transaction():
            self.db.execute("delete from job_whatif")
            self._bulk_upsert("job_whatif", rows, ("job_name",))

    def stored_whatif(self, job_name: str) -> dict[str, Any] | None:
        row = self.db.execute(
            "select result from job_whatif where job_name = ?", [job_name]
        ).fetchone()
        return orjson.loads(row[0]) if row else None

    def stored_job_features(self, job_name: str) -> dict[str, Any] | None:
        row = self.db.execute(
            "select features from job_features where job_name = ?", [job_name]
        ).fetchone()
        return orjson.loads(row[0]) if row else None

    def open_findings(
        self, job_name: str | None = None, include_muted: bool = False
    ) -> list[dict[str, Any]]:
        statuses = ("open", "muted") if include_muted else ("open",)
        where = f"status in ({','.join('?' for _ in statuses)})"
        params: list[Any] = list(statuses)
        if job_name:
            where += " and job_name = ?"
            params.append(job_name)
        return list(
            self.db.query(f"select * from findings where {where} order by score desc, id", params)
        )

    # ---- readers -------------------------------------------------------------------------

    def get_state(self, source: str, key: str) -> str | None:
        row = self.db.execute(
            "select value from collect_state where source = ? and key = ?", [source, key]
        ).fetchone()
        return row[0] if row else None

    def unfinished_runs(self, job_name: str) -> list[dict[str, Any]]:
        placeholders = ",".join("?" for _ in TERMINAL_STATES)
        return list(
            self.db.query(
                f"select id, job_name, region from job_runs where job_name = ? "
                f"and (state is null or state not in ({placeholders}))",
                [job_name, *TERMINAL_STATES],
            )
        )

    def finished_runs_without(self, source: str, job_name: str) -> list[dict[str, Any]]:
        """Finished runs of a job that `source` (e.g. cloudwatch) has not yet handled."""
        placeholders = ",".join("?" for _ in TERMINAL_STATES)
        return list(
            self.db.query(
                f"select r.* from job_runs r left join collect_state s "
                f"on s.source = ? and s.key = r.id "
                f"where r.job_name = ? and r.state in ({placeholders}) and s.key is null "
                f"order by r.started_on",
                [source, job_name, *TERMINAL_STATES],
            )
        )

    def runs_for_costing(self) -> Iterator[dict[str, Any]]:
        """Every run with what pricing needs and what run_history() holds besides its cost, by
        job and oldest first, so one read serves both (analyze prices, then keeps the rows)."""
        yield from self.db.query(
            "select r.id, r.job_name, r.region, r.state, r.attempt, r.started_on, "
            "r.execution_time_s, r.error_message, r.dpu_seconds, r.worker_type, "
            "r.number_of_workers, r.max_capacity, r.allocated_capacity, r.execution_class, "
            "coalesce(r.glue_version, j.glue_version) as glue_version, j.command_name, "
            "j.worker_type as job_worker_type, j.execution_class as job_execution_class, "
            "b.bytes_read, b.executors_avg, "
            # the run's own Auto Scaling argument, parsed only where the text mentions it
            "case when instr(r.arguments, '--enable-auto-scaling') > 0 then "
            "json_extract(r.arguments, '$.\"--enable-auto-scaling\"') end as autoscaling "
            "from job_runs r left join jobs j on j.name = r.job_name "
            f"left join ({_RUN_METRIC_FACTS}) b on b.run_id = r.id "
            "order by r.job_name, r.started_on"
        )

    def execution_class_history(self) -> dict[str, list[tuple[str, str | None]]]:
        """Each job's ExecutionClass by definition, oldest first: (valid from, class)."""
        history: dict[str, list[tuple[str, str | None]]] = {}
        for row in self.db.execute(
            "select name, coalesce(valid_from, first_seen) as since, "
            "json_extract(definition, '$.ExecutionClass') from job_versions "
            "order by name, since"
        ):
            history.setdefault(row[0], []).append((row[1] or "", row[2]))
        return history

    def job_default_arguments(self, name: str) -> dict[str, str]:
        row = self.db.execute(
            "select default_arguments from jobs where name = ?", [name]
        ).fetchone()
        return orjson.loads(row[0]) if row and row[0] else {}

    def run_job_map(self) -> dict[str, str]:
        return dict(self.db.execute("select id, job_name from job_runs").fetchall())

    def job_of_run(self, run_id: str) -> str | None:
        row = self.db.execute("select job_name from job_runs where id = ?", [run_id]).fetchone()
        return row[0] if row else None

    def unlinked_spark_apps(self) -> list[dict[str, Any]]:
        return list(
            self.db.query(
                "select app_id, attempt_id, app_name, start_ms, glue, source from spark_apps "
                "where run_id = ''"
            )
        )

    def has_run(self, run_id: str) -> bool:
        return bool(self.db.execute("select 1 from job_runs where id = ?", [run_id]).fetchone())

    def run_around(self, job_name: str, at_iso: str, slack_s: int = 120) -> str | None:
        """The run of a job that was going at a moment (a few minutes' slack each side)."""
        row = self.db.execute(
            "select id from job_runs where job_name = ? "
            "and datetime(started_on) <= datetime(?, ?) "
            "and (completed_on is null or datetime(completed_on) >= datetime(?, ?)) "
            "order by started_on desc limit 1",
            [job_name, at_iso, f"+{slack_s} seconds", at_iso, f"-{slack_s} seconds"],
        ).fetchone()
        return row[0] if row else None

    def metric_stats(self, start: str, end: str) -> list[dict[str, Any]]:
        """Per job, metric and statistic: max and mean over the window's runs, and runs seen."""
        return list(
            self.db.query(
                "select r.job_name, m.metric, m.stat, max(m.value) as max_value, "
                "avg(m.value) as mean_value, count(distinct m.run_id) as runs "
                "from run_metrics m join job_runs r on r.id = m.run_id "
                "where r.started_on >= ? and r.started_on < ? "
                "group by r.job_name, m.metric, m.stat",
                [start, end],
            )
        )

    def metric_run_totals(self, start: str, end: str, metric: str) -> list[dict[str, Any]]:
        """Per job, the mean over runs of a delta metric's per-run total (e.g. bytes read)."""
        return list(
            self.db.query(
                "select job_name, avg(total) as mean_total from (select r.job_name, m.run_id, "
                "sum(m.value) as total from run_metrics m join job_runs r on r.id = m.run_id "
                "where m.metric = ? and m.stat = 'Sum' and r.started_on >= ? and r.started_on < ? "
                "group by r.job_name, m.run_id) group by job_name",
                [metric, start, end],
            )
        )

    def latest_spark_apps(self, start: str, end: str) -> dict[str, dict[str, Any]]:
        """Per job, the newest reduced Spark application of a run in the window."""
        latest: dict[str, dict[str, Any]] = {}
        for row in self.db.query(
            "select a.*, r.started_on from spark_apps a join job_runs r on r.id = a.run_id "
            "where r.started_on >= ? and r.started_on < ? order by r.started_on desc",
            [start, end],
        ):
            latest.setdefault(row["job_name"], row)
        return latest

    def job(self, name: str) -> dict[str, Any] | None:
        rows = list(self.db.query("select * from jobs where name = ?", [name]))
        return rows[0] if rows else None

    def latest_definition(self, name: str) -> dict[str, Any] | None:
        """The job's newest stored (redacted) definition."""
        row = self.db.execute(
            "select definition from job_versions where name = ? "
            "order by last_seen desc, valid_from desc limit 1",
            [name],
        ).fetchone()
        return orjson.loads(row[0]) if row else None

    def job_runs_between(self, job_name: str, start: str, end: str) -> list[dict[str, Any]]:
        """One job's runs in [start, end) with their cost, oldest first (index-served)."""
        return list(
            self.db.query(
                "select r.id, r.state, r.attempt, r.started_on, r.execution_time_s, "
                "r.error_message, r.worker_type, r.number_of_workers, c.dpu_hours, c.cost_usd "
                "from job_runs r left join run_costs c on c.run_id = r.id "
                "where r.job_name = ? and r.started_on >= ? and r.started_on < ? "
                "order by r.started_on",
                [job_name, start, end],
            )
        )

    def source_counts(self, job_name: str, start: str, end: str) -> dict[str, int]:
        """Runs with CloudWatch metrics and reduced Spark applications of one job in a window."""
        metrics = self.db.execute(
            "select count(distinct m.run_id) from run_metrics m join job_runs r on r.id = m.run_id "
            "where m.job_name = ? and r.started_on >= ? and r.started_on < ?",
            [job_name, start, end],
        ).fetchone()[0]
        apps = self.db.execute(
            "select count(*) from spark_apps a join job_runs r on r.id = a.run_id "
            "where a.job_name = ? and r.started_on >= ? and r.started_on < ?",
            [job_name, start, end],
        ).fetchone()[0]
        return {"metric_runs": metrics, "eventlog_apps": apps}

    def run_detail(self, run_id: str) -> dict[str, Any] | None:
        rows = list(
            self.db.query(
                "select r.*, c.dpu_hours, c.cost_usd, c.billed_seconds, c.basis, "
                "a.ratio as anomaly_ratio, a.reasons as anomaly_reasons "
                "from job_runs r left join run_costs c on c.run_id = r.id "
                "left join run_anomalies a on a.run_id = r.id where r.id = ?",
                [run_id],
            )
        )
        return rows[0] if rows else None

    def runs_with_costs_between(self, start: str, end: str) -> list[dict[str, Any]]:
        """Every run in [start, end) with its cost, job type and which sources saw it."""
        return list(
            self.db.query(
                "select r.id, r.job_name, r.state, r.attempt, r.started_on, r.error_message, "
                "coalesce(r.worker_type, j.worker_type, 'none') as worker_type, "
                "coalesce(r.execution_class, j.execution_class, 'STANDARD') as execution_class, "
                "j.command_name, c.dpu_hours, c.cost_usd, "
                "exists(select 1 from run_metrics m where m.run_id = r.id) as has_metrics, "
                "exists(select 1 from spark_apps a where a.run_id = r.id) as has_eventlog "
                "from job_runs r left join run_costs c on c.run_id = r.id "
                "left join jobs j on j.name = r.job_name "
                "where r.started_on >= ? and r.started_on < ?",
                [start, end],
            )
        )

    def resolved_findings_since(self, start: str) -> list[dict[str, Any]]:
        return list(
            self.db.query(
                "select * from findings where status = 'resolved' and resolved_at >= ? "
                "order by resolved_at, id",
                [start],
            )
        )

    def anomalies_between(self, start: str, end: str) -> list[dict[str, Any]]:
        return list(
            self.db.query(
                "select * from run_anomalies where started_on >= ? and started_on < ? "
                "order by extra_usd desc, run_id",
                [start, end],
            )
        )

    def replace_daily_costs(self, rows: list[dict[str, Any]]) -> None:
        with self.transaction():
            self.db.execute("delete from daily_costs")
            self._bulk_upsert(
                "daily_costs", rows, ("day", "job_name", "worker_type", "execution_class")
            )

    DAILY_DIMENSIONS = ("job_name", "job_type", "worker_type", "execution_class")

    def newest_cost_day(self) -> str | None:
        return self.db.execute("select max(day) from daily_costs").fetchone()[0]

    def cost_by_day(self, dimension: str, first_day: str) -> list[dict[str, Any]]:
        """Dollars per day and value of one dimension, from `first_day` on (SQL-aggregated)."""
        if dimension not in self.DAILY_DIMENSIONS:
            raise ValueError(f"cannot group costs by {dimension!r}")
        return list(
            self.db.query(
                f"select day, {dimension} as value, sum(usd) as usd from daily_costs "
                f"where day >= ? group by day, {dimension} order by day",
                [first_day],
            )
        )

    def cost_between_days(self, first_day: str, last_day: str) -> dict[str, float]:
        row = self.db.execute(
            "select coalesce(sum(usd), 0), coalesce(sum(dpu_hours), 0), "
            "coalesce(sum(failed_usd), 0), count(distinct day), coalesce(sum(unpriced_runs), 0), "
            "coalesce(sum(runs), 0) from daily_costs where day >= ? and day <= ?",
            [first_day, last_day],
        ).fetchone()
        return {
            "usd": row[0] if row[4] < row[5] or not row[5] else None,
            "dpu_hours": row[1],
            "failed_usd": row[2],
            "days": row[3],
            "unpriced_runs": row[4],
        }

    def weekly_cost_by_job(self, newest_day: str, weeks: int) -> list[dict[str, Any]]:
        """Per job, dollars and runs in each of the last `weeks` 7-day slices up to
        `newest_day` (slice weeks - 1 is the newest)."""
        return list(
            self.db.query(
                "select job_name, ? - 1 - cast((julianday(?) - julianday(day)) / 7 as integer) "
                "as week, sum(usd) as usd, sum(runs) as runs, "
                "coalesce(sum(unpriced_runs), 0) as unpriced_runs from daily_costs "
                "where day > date(?, ?) group by job_name, week",
                [weeks, newest_day, newest_day, f"-{7 * weeks} days"],
            )
        )

    def open_findings_by_severity(self) -> dict[str, tuple[int, float]]:
        """Open findings per severity: how many, and the dollars a month they would save."""
        rows = self.db.execute(
            "select severity, count(*), sum(coalesce(savings_usd_month, 0)) from findings "
            "where status = 'open' group by severity"
        ).fetchall()
        return {severity: (count, float(usd)) for severity, count, usd in rows}

    def all_findings(self) -> list[dict[str, Any]]:
        """Every finding, open, muted or resolved, by score."""
        return list(
            self.db.query(
                "select id, job_name, rule_id, problem, severity, status, title, message, advice, "
                "savings_usd_month, savings_dpu_hours_month, first_seen, last_seen, resolved_at, "
                "score from findings order by score desc, id"
            )
        )

    def all_job_features(self) -> dict[str, dict[str, Any]]:
        return {
            row["job_name"]: orjson.loads(row["features"])
            for row in self.db.query("select job_name, features from job_features")
        }

    def job_run_points(self, job_name: str) -> list[dict[str, Any]]:
        """Every run of one job with its cost and anomaly, oldest first (the runs chart)."""
        return list(
            self.db.query(
                "select r.id, r.state, r.attempt, r.started_on, r.execution_time_s, "
                "r.number_of_workers, r.worker_type, c.cost_usd, c.dpu_hours, "
                "a.ratio as anomaly, a.reasons as anomaly_reasons from job_runs r "
                "left join run_costs c on c.run_id = r.id "
                "left join run_anomalies a on a.run_id = r.id "
                "where r.job_name = ? order by r.started_on",
                [job_name],
            )
        )

    def job_version_history(self, job_name: str) -> list[dict[str, Any]]:
        return list(
            self.db.query(
                "select hash, valid_from, first_seen, definition from job_versions "
                "where name = ? order by coalesce(valid_from, first_seen)",
                [job_name],
            )
        )

    def metric_peaks(self, job_name: str, metrics: list[str]) -> list[dict[str, Any]]:
        """Per run and metric: the peak value (Maximum, else Average) CloudWatch recorded."""
        return list(
            self.db.query(
                "select m.run_id, m.metric, max(m.value) as value, "
                "min(r.started_on) as started_on "
                "from run_metrics m join job_runs r on r.id = m.run_id "
                f"where m.job_name = ? and m.metric in ({','.join('?' for _ in metrics)}) "
                "and m.stat in ('Maximum', 'Average') group by m.run_id, m.metric",
                [job_name, *metrics],
            )
        )

    def spark_apps_of_run(self, run_id: str) -> list[dict[str, Any]]:
        """Every application attempt of a run, in the order they started."""
        return list(
            self.db.query(
                "select * from spark_apps where run_id = ? order by start_ms, attempt_id", [run_id]
            )
        )

    def latest_spark_app_of(self, job_name: str) -> dict[str, Any] | None:
        """The job's newest reduced Spark application, whenever it ran."""
        rows = list(
            self.db.query(
                "select a.*, r.started_on from spark_apps a join job_runs r on r.id = a.run_id "
                "where a.job_name = ? order by r.started_on desc, a.start_ms desc limit 1",
                [job_name],
            )
        )
        return rows[0] if rows else None

    def spark_executors_of(self, app: dict[str, Any]) -> list[dict[str, Any]]:
        """The executors of one stored application attempt (a spark_apps row)."""
        return self._of_app("spark_executors", app)

    def spark_stages_of(self, app: dict[str, Any]) -> list[dict[str, Any]]:
        """The stages of one stored application attempt (a spark_apps row)."""
        return self._of_app("spark_stages", app)

    def _of_app(self, table: str, app: dict[str, Any]) -> list[dict[str, Any]]:
        return list(
            self.db.query(
                f"select * from {table} where run_id = ? and app_id = ? and attempt_id = ?",
                [app["run_id"], app["app_id"], app.get("attempt_id") or ""],
            )
        )

    def run_history(self) -> list[dict[str, Any]]:
        """Every run with its cost and bytes read (when CloudWatch saw them), by job, oldest
        first: the one read that job features and the anomaly model share."""
        return list(
            self.db.query(
                "select r.id, r.job_name, r.state, r.attempt, r.started_on, r.execution_time_s, "
                "r.error_message, r.worker_type, r.number_of_workers, c.dpu_hours, c.cost_usd, "
                "c.minimum_applied, c.billed_seconds, c.capacity_dpu, b.bytes_read "
                "from job_runs r left join run_costs c on c.run_id = r.id "
                f"left join ({_BYTES_READ}) b on b.run_id = r.id order by r.job_name, r.started_on"
            )
        )

    def replace_anomalies(self, rows: list[dict[str, Any]]) -> None:
        with self.transaction():
            self.db.execute("delete from run_anomalies")
            if rows:
                self._bulk_upsert("run_anomalies", rows, ("run_id",))

    def jobs(self) -> list[dict[str, Any]]:
        return list(self.db.query("select * from jobs order by name"))

    def latest_run_start(self) -> str | None:
        return self.db.execute("select max(started_on) from job_runs").fetchone()[0]

    def cost_by_job(self, since: str | None = None, until: str | None = None) -> list[dict]:
        """DPU-hours, dollars, runs and failures per job between two ISO timestamps."""
        where, params = [], []
        if since:
            where.append("c.started_on >= ?")
            params.append(since)
        if until:
            where.append("c.started_on < ?")
            params.append(until)
        clause = ("where " + " and ".join(where)) if where else ""
        return list(
            self.db.query(
                "select c.job_name, j.command_name, "
                "coalesce(j.worker_type, '') as worker_type, j.number_of_workers, "
                "count(*) as runs, "
                "sum(case when r.state in ('FAILED','TIMEOUT','ERROR') then 1 else 0 end) "
                "  as failed_runs, "
                "sum(c.dpu_hours) as dpu_hours, sum(c.cost_usd) as cost_usd, "
                "sum(case when c.cost_usd is null then 1 else 0 end) as unpriced_runs, "
                "sum(case when c.cost_usd is not null and c.rate_confirmed = 0 then 1 else 0 end) "
                "  as unconfirmed_runs "
                f"from run_costs c join job_runs r on r.id = c.run_id "
                f"left join jobs j on j.name = c.job_name {clause} "
                "group by c.job_name order by dpu_hours desc",
                params,
            )
        )

    def errors(self, source: str | None = None) -> list[dict[str, Any]]:
        if source:
            return list(
                self.db.query(
                    "select * from ingest_errors where source = ? order by recorded_at, item",
                    [source],
                )
            )
        return list(self.db.query("select * from ingest_errors order by recorded_at, item"))

    def run_time_span(self) -> tuple[str | None, str | None]:
        row = self.db.execute("select min(started_on), max(started_on) from job_runs").fetchone()
        return row[0], row[1]
