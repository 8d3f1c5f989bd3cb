"""The read queries each output needs (costs, recommend, report, dashboard, analysis)."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from datetime import timedelta
from typing import Any

import orjson
from sqlite_utils import Database

from advisor.identity import session_app_key
from advisor.store.base import by_job, to_json
from advisor.store.schema import CHANGE_LOG, TERMINAL_STATES
from advisor.timeutil import iso, parse_ts

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

# what run_history() and window_runs() hold of each run
_HISTORY_COLUMNS = (
    "r.id, r.job_name, r.state, r.attempt, r.started_on, r.execution_time_s, r.error_message, "
    "r.worker_type, r.number_of_workers, c.dpu_hours, c.cost_usd, c.minimum_applied, "
    "c.billed_seconds, c.capacity_dpu"
)


class Queries:
    """The store's readers (mixed into Store, which provides `db`)."""

    db: Database

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

    def collector_calls(self, since: str | None = None) -> list[dict[str, Any]]:
        """What collects called and cost (collector_calls), newest first."""
        where, params = ("where collected_at >= ?", [since]) if since else ("", [])
        return list(
            self.db.query(
                f"select * from collector_calls {where} "
                "order by collected_at desc, account, region, operation",
                params,
            )
        )

    def get_state(self, source: str, key: str) -> str | None:
        row = self.db.execute(
            "select value from collect_state where source = ? and key = ?", [source, key]
        ).fetchone()
        return row[0] if row else None

    def unfinished_runs(self, job_name: str) -> list[dict[str, Any]]:
        placeholders = ",".join("?" for _ in TERMINAL_STATES)
        return list(
            self.db.query(
                f"select id, glue_run_id, job_name, region from job_runs where job_name = ? "
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

    def runs_for_costing(self, selected: bool = False) -> Iterator[dict[str, Any]]:
        """Every run with what pricing needs and what run_history() holds besides its cost, by
        job and oldest first, so one read serves both (analyze prices, then keeps the rows);
        `selected`: only the runs select_runs_to_price() chose."""
        where = "where r.id in (select id from temp.analysis_price) " if selected else ""
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
            f"left join ({_RUN_METRIC_FACTS}) b on b.run_id = r.id {where}"
            # runs started at the same moment in the order they were stored (the index's own
            # order, free): every read of runs gives them, and adds them up, the same way
            "order by r.job_name, r.started_on, r.rowid"
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

    def places(self) -> list[dict[str, Any]]:
        """Each (account, region) the store holds jobs of, with how many."""
        return list(
            self.db.query(
                "select account, region, count(*) as jobs from jobs "
                "group by account, region order by account, region"
            )
        )

    def jobs_named(self, glue_name: str) -> list[dict[str, Any]]:
        """Every job (in any account and region) with this Glue name."""
        return list(
            self.db.query(
                "select name, account, region, glue_name from jobs where glue_name = ? "
                "order by account, region",
                [glue_name],
            )
        )

    def names_in_several_places(self) -> set[str]:
        """Glue names held by jobs in more than one account or region."""
        return {
            row[0]
            for row in self.db.execute(
                "select glue_name from jobs group by glue_name having count(*) > 1"
            )
        }

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

    def runs_with_glue_id(
        self, glue_run_id: str, place: tuple[str, str] | None = None
    ) -> list[str]:
        """The keys of the runs AWS calls `glue_run_id` (in one (account, region), when given);
        more than one only when the same export was imported into two places."""
        where, params = "glue_run_id = ?", [glue_run_id]
        if place is not None:
            where += " and account = ? and region = ?"
            params += list(place)
        return [row[0] for row in self.db.execute(f"select id from job_runs where {where}", params)]

    def session_keys(self, session_id: str, place: tuple[str, str] | None = None) -> list[str]:
        """The spark_apps keys (session_app_key) of the interactive sessions with this id."""
        where, params = "kind = 'interactive_session' and name = ?", [session_id]
        if place is not None:
            where += " and account = ? and region = ?"
            params += list(place)
        rows = self.db.execute(
            f"select account, region, name from glue_resources where {where}", params
        )
        return [session_app_key(*row) for row in rows]

    def sessions_around(
        self, at_iso: str, place: tuple[str, str] | None = None, slack_s: int = 120
    ) -> list[str]:
        """The keys of the interactive sessions (in one place when given) that were open at a
        moment, a few minutes' slack each side."""
        where, params = "kind = 'interactive_session'", []
        if place is not None:
            where += " and account = ? and region = ?"
            params += list(place)
        rows = self.db.execute(
            f"select account, region, name from resource_usage where {where} "
            "and datetime(started_on) <= datetime(?, ?) "
            "and (ended_on is null or datetime(ended_on) >= datetime(?, ?))",
            [*params, at_iso, f"+{slack_s} seconds", at_iso, f"-{slack_s} seconds"],
        )
        return sorted({session_app_key(*row) for row in rows})

    def run_around(
        self, glue_name: str, at_iso: str, place: tuple[str, str] | None = None, slack_s: int = 120
    ) -> str | None:
        """The run of a job (by its Glue name, in one place when given) that was going at a
        moment (a few minutes' slack each side); None when jobs in several places were."""
        where, params = "j.glue_name = ?", [glue_name]
        if place is not None:
            where += " and j.account = ? and j.region = ?"
            params += list(place)
        rows = self.db.execute(
            "select r.id, r.job_name from job_runs r join jobs j on j.name = r.job_name "
            f"where {where} and datetime(r.started_on) <= datetime(?, ?) "
            "and (r.completed_on is null or datetime(r.completed_on) >= datetime(?, ?)) "
            "order by r.started_on desc",
            [*params, at_iso, f"+{slack_s} seconds", at_iso, f"-{slack_s} seconds"],
        ).fetchall()
        if len({job for _run, job in rows}) != 1:
            return None
        return rows[0][0]

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

    def runs_with_costs_between(
        self, start: str, end: str, account: str | None = None, region: str | None = None
    ) -> list[dict[str, Any]]:
        """Every run in [start, end) with its cost, job type and which sources saw it (of the
        jobs in one account and/or region, when given)."""
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
                "where r.started_on >= ? and r.started_on < ? "
                "and (? is null or r.account = ?) and (? is null or r.region = ?)",
                [start, end, account, account, region, region],
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

    def run_history(self, jobs: Collection[str] | None = None) -> list[dict[str, Any]]:
        """Every run (of `jobs`, when given) with its cost and bytes read (when CloudWatch saw
        them), by job, oldest first: the one read that job features and the anomaly model
        share."""
        where, params = ("where r.job_name in (select value from json_each(?)) ", [])
        if jobs is None:
            where = ""
        else:
            params = [to_json(sorted(jobs))]
        return list(
            self.db.query(
                f"select {_HISTORY_COLUMNS}, b.bytes_read "
                "from job_runs r left join run_costs c on c.run_id = r.id "
                f"left join ({_BYTES_READ}) b on b.run_id = r.id {where}"
                "order by r.job_name, r.started_on, r.rowid",
                params,
            )
        )

    def runs_of(self, run_ids: Collection[str]) -> list[dict[str, Any]]:
        """These runs, as run_history() has them, by job and oldest first."""
        return list(
            self.db.query(
                f"select {_HISTORY_COLUMNS}, b.bytes_read from json_each(?) j "
                "join job_runs r on r.id = j.value left join run_costs c on c.run_id = r.id "
                "left join (select run_id, sum(value) as bytes_read from run_metrics "
                "where run_id in (select value from json_each(?)) "
                "and metric = 'glue.driver.aggregate.bytesRead' and stat = 'Sum' "
                "group by run_id) b on b.run_id = r.id "
                "order by r.job_name, r.started_on, r.rowid",
                [to_json(sorted(run_ids))] * 2,
            )
        )

    def run_histories(
        self, jobs: Collection[str] | None = None, per_read: int = 50
    ) -> Iterator[tuple[str, list[dict[str, Any]]]]:
        """(job, its run_history() rows) for each job of `jobs` (every job with runs when
        None), by name, read `per_read` jobs at a time: the caller works on the jobs read while
        (in other processes) it waits for nothing. The bytes read are summed once, as
        run_history() sums them."""
        conn = self.db.conn
        if jobs is None:
            jobs = [row[0] for row in conn.execute("select distinct job_name from job_runs")]
        conn.execute("drop table if exists temp.analysis_bytes")
        conn.execute("create temp table analysis_bytes (run_id text primary key, bytes_read)")
        conn.execute(f"insert into temp.analysis_bytes {_BYTES_READ}")
        names = sorted(job for job in jobs if job is not None)
        for first in range(0, len(names), per_read):
            rows = self.db.query(
                f"select {_HISTORY_COLUMNS}, b.bytes_read from job_runs r "
                "left join run_costs c on c.run_id = r.id "
                "left join temp.analysis_bytes b on b.run_id = r.id "
                "where r.job_name in (select value from json_each(?)) "
                "order by r.job_name, r.started_on, r.rowid",
                [to_json(names[first : first + per_read])],
            )
            yield from by_job(rows)
        conn.execute("drop table if exists temp.analysis_bytes")

    # ---- what incremental analysis reads -------------------------------------------------

    def changes_mark(self) -> int:
        """The newest entry of the change log (0: empty): an analysis takes in what is up to it."""
        return self.db.execute(f"select coalesce(max(rowid), 0) from {CHANGE_LOG}").fetchone()[0]

    def changes_upto(self, mark: int) -> list[tuple[str, str]]:
        """The distinct (job, run) pairs the change log holds up to `mark`."""
        return self.db.execute(
            f"select distinct job_name, run_id from {CHANGE_LOG} where rowid <= ?", [mark]
        ).fetchall()

    def analysis_state(self) -> dict[str, str]:
        return dict(self.db.execute("select key, value from analysis_state").fetchall())

    def analysis_jobs(self) -> dict[str, dict[str, Any]]:
        """What each job's last analysis left to reuse (runs, cost step, what-if memo)."""
        return {row["job_name"]: row for row in self.db.query("select * from analysis_jobs")}

    def runs_mark(self) -> int:
        """The newest job_runs rowid: runs stored later have larger ones."""
        return self.db.execute("select coalesce(max(rowid), 0) from job_runs").fetchone()[0]

    def runs_added(self, after: int, upto: int) -> list[tuple[str, str, str | None]]:
        """(job, run, UTC day) of the runs stored after rowid `after`, up to `upto`."""
        return self.db.execute(
            "select job_name, id, substr(started_on, 1, 10) from job_runs "
            "where rowid > ? and rowid <= ?",
            [after, upto],
        ).fetchall()

    def unpriced_runs(self) -> list[tuple[str, str, str | None]]:
        """(job, run, UTC day) of the runs without a cost (a scan of every run)."""
        return self.db.execute(
            "select r.job_name, r.id, substr(r.started_on, 1, 10) from job_runs r "
            "where not exists (select 1 from run_costs c where c.run_id = r.id)"
        ).fetchall()

    def runs_touched(self, run_ids: Collection[str]) -> tuple[set[str], set[tuple[str, str]], bool]:
        """The jobs these runs belong to, now and when they were last priced, the (job, UTC
        day) pairs they fall on, now and then, and whether any of them is no longer stored."""
        ids = to_json(sorted(run_ids))
        jobs: set[str] = set()
        days: set[tuple[str, str]] = set()
        found: set[str] = set()
        for table, key in (("job_runs", "id"), ("run_costs", "run_id")):
            for run_id, job, day in self.db.execute(
                f"select {key}, job_name, substr(started_on, 1, 10) from {table} "
                f"where {key} in (select value from json_each(?))",
                [ids],
            ):
                if table == "job_runs":
                    found.add(run_id)
                if job is not None:
                    jobs.add(job)
                    if day is not None:
                        days.add((job, day))
        return jobs, days, len(found) < len(set(run_ids))

    def select_runs_to_price(
        self,
        jobs: Collection[str],
        days: Collection[tuple[str, str]],
        run_ids: Collection[str],
    ) -> None:
        """Choose, for runs_for_costing(selected=True), every run of `jobs`, every run on each
        (job, UTC day) of `days` and the runs `run_ids` (a temporary table of this connection)."""
        conn = self.db.conn
        conn.execute("create temp table if not exists analysis_price (id text primary key)")
        conn.execute("delete from temp.analysis_price")
        conn.execute(
            "insert or ignore into temp.analysis_price select id from job_runs "
            "where job_name in (select value from json_each(?))",
            [to_json(sorted(jobs))],
        )
        # a day is every started_on with its 10 characters: [day, day + U+FFFF) in text order
        conn.executemany(
            "insert or ignore into temp.analysis_price select id from job_runs "
            "where job_name = ? and started_on >= ? and started_on < ?",
            [(job, day, day + "\uffff") for job, day in sorted(days)],
        )
        conn.execute(
            "insert or ignore into temp.analysis_price select id from job_runs "
            "where id in (select value from json_each(?))",
            [to_json(sorted(run_ids))],
        )

    def window_runs(self, jobs: Collection[str], start: str, end: str) -> list[dict[str, Any]]:
        """The runs of `jobs` in [start, end), as run_history() has them (bytes read aside), by
        job and oldest first. One query per job: each is served in order by the index, where
        one query for them all sorted its rows again (a third slower on a million runs)."""
        sql = (
            f"select {_HISTORY_COLUMNS} from job_runs r "
            "left join run_costs c on c.run_id = r.id "
            "where r.job_name = ? and r.started_on >= ? and r.started_on < ? "
            "order by r.started_on, r.rowid"
        )
        out: list[dict[str, Any]] = []
        for job in sorted(jobs):
            cursor = self.db.execute(sql, [job, start, end])
            names = [d[0] for d in cursor.description]
            out += [dict(zip(names, row, strict=True)) for row in cursor]
        return out

    # ---- what `advisor reconcile` reads ----------------------------------------------------

    def billing_days(self) -> tuple[str | None, str | None]:
        """The first and last UTC day of the billing lines stored (None: none)."""
        first, last = self.db.execute("select min(day), max(day) from billing_lines").fetchone()
        return first, last

    def billing_lines_between(self, since: str, until: str) -> list[dict[str, Any]]:
        """Billing lines whose usage starts on a day in [since, until), summed per day and
        what they bill (an export's hourly lines are one row a day here: what reconcile reads
        grows with jobs and days, not with the export's lines)."""
        keys = "account, region, day, line_type, usage_type, category, resource_id, job_name"
        return list(
            self.db.query(
                f"select {keys}, sum(usage_amount) as usage_amount, sum(cost) as cost "
                f"from billing_lines where day >= ? and day < ? group by {keys}",
                [since, until],
            )
        )

    def glue_resources(self, kind: str | None = None) -> list[dict[str, Any]]:
        """Crawlers, interactive sessions and development endpoints, definitions parsed."""
        rows = self.db.query(
            "select * from glue_resources where ? is null or kind = ? "
            "order by kind, account, region, name",
            [kind, kind],
        )
        return [{**row, "definition": orjson.loads(row["definition"] or "{}")} for row in rows]

    def resource_findings(self) -> list[dict[str, Any]]:
        """Findings on crawlers, sessions and endpoints, the costliest first."""
        rows = self.db.query(
            "select * from resource_findings order by coalesce(savings_usd_month, 0) desc, "
            "score desc, kind, name"
        )
        return [
            {
                **r,
                **{k: orjson.loads(r[k] or "null") for k in ("advice", "remediation", "evidence")},
            }
            for r in rows
        ]

    def newest_finished_usage(self, kind: str, account: str, region: str, name: str) -> str | None:
        """When the newest finished use of a resource started (a crawl): what a collect has."""
        row = self.db.execute(
            "select max(started_on) from resource_usage where kind = ? and account = ? and "
            "region = ? and name = ? and ended_on is not null",
            [kind, account, region, name],
        ).fetchone()
        return row[0] if row else None

    def resource_usage(self, kind: str | None = None) -> list[dict[str, Any]]:
        """What they used (a crawl, a session, an endpoint's time provisioned), by start."""
        return list(
            self.db.query(
                "select u.*, g.arn from resource_usage u left join glue_resources g using "
                "(kind, account, region, name) where ? is null or u.kind = ? "
                "order by u.started_on",
                [kind, kind],
            )
        )

    def priced_runs_between(self, since: str, until: str) -> list[dict[str, Any]]:
        """Priced runs that may have run in [since, until): those started up to two days
        before it (Glue's longest timeout is 48 hours), with their billed seconds."""
        start = iso(parse_ts(since) - timedelta(days=2))
        return list(
            self.db.query(
                "select r.job_name, r.started_on, r.completed_on, r.execution_time_s, "
                "c.billed_seconds, c.cost_usd, c.dpu_hours from job_runs r "
                "join run_costs c on c.run_id = r.id "
                "where r.started_on >= ? and r.started_on < ?",
                [start, until],
            )
        )

    def anomalies_of(self, jobs: Collection[str]) -> list[dict[str, Any]]:
        """The stored runtime anomalies of `jobs`, by job, in the order of the job's runs."""
        return list(
            self.db.query(
                "select a.* from json_each(?) j join run_anomalies a on a.job_name = j.value "
                "left join job_runs r on r.id = a.run_id "
                "order by a.job_name, a.started_on, r.rowid",
                [to_json(sorted(jobs))],
            )
        )

    def unresolved_findings_outside(self, jobs: Collection[str]) -> int:
        """Findings still open (or muted) of jobs other than `jobs`."""
        return self.db.execute(
            "select count(*) from findings where status != 'resolved' "
            "and job_name not in (select value from json_each(?))",
            [to_json(sorted(jobs))],
        ).fetchone()[0]

    def rule_statuses_outside(
        self, jobs: Collection[str], rule_ids: Collection[str]
    ) -> list[dict[str, Any]]:
        """The stored outcome of rules `rule_ids` on jobs other than `jobs` that did not pass:
        not evaluated, or failed."""
        return list(
            self.db.query(
                "select rule_id, job_name, status, detail from rule_status "
                "where status != 'evaluated' and rule_id in (select value from json_each(?)) "
                "and job_name not in (select value from json_each(?)) order by job_name, rule_id",
                [to_json(sorted(rule_ids)), to_json(sorted(jobs))],
            )
        )

    def job_count(self) -> int:
        return self.db.execute("select count(*) from jobs").fetchone()[0]

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

    # ---- the dashboard's account and region filters --------------------------------------
    # A place is "account/region", the first two parts of a job key (neither holds a '/');
    # `places` None: every place.
    PLACE_OF_JOB = (  # SQL: the place of a row's job_name
        "substr(job_name, 1, instr(job_name, '/') "
        "+ instr(substr(job_name, instr(job_name, '/') + 1), '/') - 1)"
    )

    def _daily_costs_in(self, places: Collection[str] | None) -> tuple[str, list[Any]]:
        if places is None:
            return "", []
        return f"and {self.PLACE_OF_JOB} in (select value from json_each(?)) ", [
            to_json(sorted(places))
        ]

    def cost_by_day_in(
        self, dimension: str, first_day: str, places: Collection[str] | None = None
    ) -> list[dict[str, Any]]:
        """cost_by_day() of the jobs in `places`; `dimension` may also be 'place'."""
        if dimension not in (*self.DAILY_DIMENSIONS, "place"):
            raise ValueError(f"cannot group costs by {dimension!r}")
        value = self.PLACE_OF_JOB if dimension == "place" else dimension
        where, params = self._daily_costs_in(places)
        return list(
            self.db.query(
                f"select day, {value} as value, sum(usd) as usd from daily_costs "
                f"where day >= ? {where}group by day, value order by day",
                [first_day, *params],
            )
        )

    def cost_between_days_in(
        self, first_day: str, last_day: str, places: Collection[str] | None = None
    ) -> dict[str, float]:
        """cost_between_days() of the jobs in `places`."""
        where, params = self._daily_costs_in(places)
        row = self.db.execute(
            "select coalesce(sum(usd), 0), coalesce(sum(dpu_hours), 0), "
            "coalesce(sum(failed_usd), 0), count(distinct day), coalesce(sum(unpriced_runs), 0), "
            f"coalesce(sum(runs), 0) from daily_costs where day >= ? and day <= ? {where}",
            [first_day, last_day, *params],
        ).fetchone()
        return {
            "usd": row[0] if row[4] < row[5] or not row[5] else None,
            "dpu_hours": row[1],
            "failed_usd": row[2],
            "days": row[3],
            "unpriced_runs": row[4],
        }

    def cost_by_place(self, first_day: str, last_day: str) -> dict[str, dict[str, Any]]:
        """Per place: dollars, DPU-hours, failed dollars, runs and unpriced runs between two
        UTC days."""
        return {
            row["place"]: row
            for row in self.db.query(
                f"select {self.PLACE_OF_JOB} as place, coalesce(sum(usd), 0) as usd, "
                "coalesce(sum(dpu_hours), 0) as dpu_hours, coalesce(sum(failed_usd), 0) "
                "as failed_usd, coalesce(sum(runs), 0) as runs, "
                "coalesce(sum(unpriced_runs), 0) as unpriced_runs from daily_costs "
                "where day >= ? and day <= ? group by place",
                [first_day, last_day],
            )
        }
