"""Every write into the store: idempotent upserts on natural keys (running a collector or an
import twice leaves the store unchanged), each in a transaction, redacted at the door."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from typing import Any

from sqlite_utils import Database
from sqlite_utils.db import NotFoundError

from advisor.collect.redact import redact_text
from advisor.identity import split_key
from advisor.store.base import stable_hash, to_json, writes
from advisor.store.schema import CHANGE_LOG, SPARK_TABLES


class Writes:
    """The store's writers (mixed into Store, which provides `db` and `transaction`)."""

    db: Database
    _columns: dict[str, set[str]]
    learn_names: Callable[[], None]

    def _bulk_upsert(self, table: str, rows: list[dict[str, Any]], pk: tuple[str, ...]) -> None:
        """One prepared INSERT .. ON CONFLICT for many rows of the same shape.

        sqlite-utils' upsert_all builds and inspects every row in Python; on the tables that
        hold a row per run (a million on a large fleet) this is several times faster. Rows
        must all have the same keys, which must be columns of the table.
        """
        if rows:
            columns = list(rows[0])
            self._bulk_upsert_values(table, columns, ([r[c] for c in columns] for r in rows), pk)

    @writes
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
                "update set "
                + ", ".join(f"[{c}] = excluded.[{c}]" for c in updates)
                # a row stored with the same values is left alone: importing a folder again
                # rewrites nothing, and analysis hears of no change (the triggers in schema.py)
                + " where "
                + " or ".join(f"[{table}].[{c}] is not excluded.[{c}]" for c in updates)
                if updates
                else "nothing"
            )
        )
        self.db.conn.executemany(sql, values)

    @writes
    def upsert_jobs(self, rows: Iterable[dict[str, Any]]) -> None:
        self.db["jobs"].upsert_all(rows, pk="name")
        self.learn_names()

    @writes
    def insert_job_stub(self, key: str) -> None:
        """A job seen only through its runs; a real definition replaces it later."""
        account, region, name = split_key(key)
        self.db["jobs"].insert(
            {
                "name": key,
                "glue_name": name,
                "account": account,
                "region": region,
                "definition_known": 0,
            },
            pk="name",
            ignore=True,
        )

    @writes
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

    @writes
    def upsert_eventlog_locations(self, rows: Iterable[dict[str, Any]]) -> None:
        self.db["eventlog_locations"].upsert_all(rows, pk=("run_id", "path"))

    def upsert_billing_lines(self, rows: list[dict[str, Any]]) -> None:
        """Lines of a billing export; the same line imported again replaces itself. Their
        text is redacted at the door like everything else."""
        for row in rows:
            for column in ("resource_id", "operation", "usage_type"):
                row[column] = redact_text(row[column])
        self._bulk_upsert("billing_lines", rows, ("id",))

    def upsert_glue_resources(
        self, resources: list[dict[str, Any]], usage: list[dict[str, Any]], observed_at: str
    ) -> None:
        """Crawlers, sessions and endpoints (advisor/collect/resource_records.py) and what they
        used; seen again, a row replaces itself. Definitions come redacted; messages and
        names of states are redacted here too, at the door."""
        rows = [
            {
                **r,
                "definition": to_json(r["definition"]),
                "state": redact_text(r["state"]),
                "observed_at": observed_at,
            }
            for r in resources
        ]
        self._bulk_upsert("glue_resources", rows, ("kind", "account", "region", "name"))
        used = [{**u, "state": redact_text(u["state"]), "observed_at": observed_at} for u in usage]
        self._bulk_upsert("resource_usage", used, ("kind", "account", "region", "name", "usage_id"))

    @writes
    def replace_resource_findings(self, rows: list[dict[str, Any]]) -> None:
        """The findings of the last analysis on crawlers, sessions and endpoints: each analysis
        judges every resource again (they are few), so its rows replace the last ones."""
        self.db.execute("delete from resource_findings")
        self._bulk_upsert(
            "resource_findings", rows, ("kind", "account", "region", "name", "rule_id")
        )

    def upsert_cost_values(self, columns: list[str], values: list[tuple]) -> None:
        self._bulk_upsert_values("run_costs", columns, values, ("run_id",))

    def set_state(self, source: str, key: str, value: str, at: str) -> None:
        self._bulk_upsert(
            "collect_state",
            [{"source": source, "key": key, "value": value, "updated_at": at}],
            ("source", "key"),
        )

    def record_collector_calls(self, rows: list[dict[str, Any]]) -> None:
        """One collect's API calls and their cost (columns of collector_calls, schema.py)."""
        self._bulk_upsert(
            "collector_calls", rows, ("collected_at", "account", "region", "operation")
        )

    @writes
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

    @writes
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

    @writes
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

    @writes
    def resolve_error(self, source: str, item: str, reason: str) -> None:
        self.db.execute(
            "delete from ingest_errors where id = ?", [stable_hash([source, item, reason])]
        )

    def save_findings(
        self,
        fired: list[dict[str, Any]],
        statuses: list[dict[str, Any]],
        as_of: str,
        jobs: Collection[str] | None = None,
    ) -> dict[str, int]:
        """Upsert what fired (keeping first_seen), resolve what stopped firing; one transaction.
        `jobs`: only these jobs were analysed, the findings of the others stand."""
        counts = {"new": 0, "open": 0, "resolved": 0}
        with self.transaction():
            sql, params = "select id, first_seen, status from findings", []
            if jobs is not None:
                sql += " where job_name in (select value from json_each(?))"
                params = [to_json(sorted(jobs))]
            known = {r["id"]: r for r in self.db.query(sql, params)}
            rows = []
            for row in fired:
                previous = known.get(row["id"])  # its id is its rule's and job's
                new = previous is None or previous["status"] == "resolved"
                # an open finding was first seen at the earliest analysis that saw it (one
                # re-run at an earlier --as-of included); a resolved one that fires again is new
                first_seen = as_of if new else min(previous["first_seen"] or as_of, as_of)
                counts["new" if new else "open"] += 1
                rows.append(
                    {**row, "first_seen": first_seen, "last_seen": as_of, "resolved_at": None}
                )
            self._bulk_upsert("findings", rows, ("id",))
            firing = {row["id"] for row in fired}
            resolved = [
                (as_of, finding_id)
                for finding_id, previous in known.items()
                if finding_id not in firing and previous["status"] != "resolved"
            ]
            self.db.conn.executemany(
                "update findings set status = 'resolved', resolved_at = ? where id = ?", resolved
            )
            counts["resolved"] += len(resolved)
            self._bulk_upsert("rule_status", statuses, ("rule_id", "job_name"))
        return counts

    def _forget_jobs(self, table: str, jobs: Collection[str] | None) -> None:
        """Delete the rows of `jobs` (all rows when None) before their new ones are written."""
        if jobs is None:
            self.db.execute(f"delete from {table}")
        else:
            self.db.execute(
                f"delete from {table} where job_name in (select value from json_each(?))",
                [to_json(sorted(jobs))],
            )

    def save_job_features(
        self, features: dict[str, dict[str, Any]], jobs: Collection[str] | None = None
    ) -> None:
        """Each job's features; `jobs`: only these were analysed (the rest stand)."""
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
            self._forget_jobs("job_features", jobs)
            self._bulk_upsert("job_features", rows, ("job_name",))

    def save_job_savings(
        self, savings: list[dict[str, Any]], jobs: Collection[str] | None = None
    ) -> None:
        with self.transaction():
            self._forget_jobs("job_savings", jobs)
            self._bulk_upsert("job_savings", savings, ("job_name",))

    def save_whatif(
        self,
        results: dict[str, dict[str, Any]],
        as_of: str,
        jobs: Collection[str] | None = None,
    ) -> None:
        rows = [
            {"job_name": job, "as_of": as_of, "result": to_json(result)}
            for job, result in results.items()
        ]
        with self.transaction():
            self._forget_jobs("job_whatif", jobs)
            self._bulk_upsert("job_whatif", rows, ("job_name",))

    def replace_daily_costs(
        self,
        rows: list[dict[str, Any]],
        jobs: Collection[str] | None = None,
        days: Collection[tuple[str, str]] = (),
    ) -> None:
        """Cost per job and day; `jobs` and `days` ((job, day) pairs): only these were priced
        again, the other rows stand."""
        with self.transaction():
            self._forget_jobs("daily_costs", jobs)
            if jobs is not None:
                self.db.conn.executemany(
                    "delete from daily_costs where job_name = ? and day = ?", sorted(days)
                )
            self._bulk_upsert(
                "daily_costs", rows, ("day", "job_name", "worker_type", "execution_class")
            )

    DAILY_DIMENSIONS = ("job_name", "job_type", "worker_type", "execution_class")

    def replace_anomalies(
        self, rows: list[dict[str, Any]], jobs: Collection[str] | None = None
    ) -> None:
        """The runtime anomalies; `jobs`: only these jobs' were found again."""
        with self.transaction():
            self._forget_jobs("run_anomalies", jobs)
            if rows:
                self._bulk_upsert("run_anomalies", rows, ("run_id",))

    def replace_run_anomalies(self, rows: list[dict[str, Any]], runs: Collection[str]) -> None:
        """The runtime anomalies of `runs`, judged again (the job's others stand)."""
        with self.transaction():
            self.db.execute(
                "delete from run_anomalies where run_id in (select value from json_each(?))",
                [to_json(sorted(runs))],
            )
            if rows:
                self._bulk_upsert("run_anomalies", rows, ("run_id",))

    def save_analysis_jobs(
        self, rows: list[dict[str, Any]], jobs: Collection[str] | None = None
    ) -> None:
        """What each analysed job leaves the next analysis to reuse; `jobs`: the jobs
        analysed (the others' rows stand)."""
        with self.transaction():
            self._forget_jobs("analysis_jobs", jobs)
            self._bulk_upsert("analysis_jobs", rows, ("job_name",))

    def finish_analysis(self, state: dict[str, str], mark: int) -> None:
        """The digests and window this analysis ran with; the changes up to `mark` are taken
        in (later ones, written while it ran, wait for the next)."""
        with self.transaction():
            self.db.execute("delete from analysis_state")
            self._bulk_upsert(
                "analysis_state",
                [{"key": key, "value": value} for key, value in sorted(state.items())],
                ("key",),
            )
            self.db.execute(f"delete from {CHANGE_LOG} where rowid <= ?", [mark])
