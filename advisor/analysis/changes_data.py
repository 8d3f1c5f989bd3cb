"""The reads behind configuration changes and cost attribution: each job's runs with their
configuration, price and bytes read, its definitions over time, and the findings that name a
change. Plain rows out; the arithmetic is in changes.py and attribution.py."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from typing import Any

import orjson

from advisor.store import Store, to_json
from advisor.store.base import by_job

# where a run's input volume is read from, best first: Glue's S3 bytes read (observability
# metrics), the classic aggregate bytes read, then the event log's input (or file-scan) bytes
BYTES_METRICS = ("glue.ALL.s3.filesystem.read_bytes", "glue.driver.aggregate.bytesRead")
_METRIC_BYTES = (
    "(select sum(m.value) from run_metrics m where m.run_id = r.id and m.metric = ? "
    "and m.stat = 'Sum')"
)
_EVENTLOG_BYTES = (
    "(select max(coalesce(nullif(a.input_bytes, 0), a.files_read_bytes)) from spark_apps a "
    "where a.run_id = r.id)"
)
_RUN_COLUMNS = (
    "r.id, r.job_name, r.state, r.attempt, r.started_on, r.execution_time_s, r.worker_type, "
    "r.number_of_workers, r.max_capacity, r.execution_class, r.glue_version, r.timeout_min, "
    "r.arguments, c.cost_usd, c.dpu_hours, c.rate_usd_per_dpu_hour"
)


def job_histories(
    store: Store, jobs: Collection[str] | None = None
) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """(job key, its runs oldest first) for `jobs` (every job with runs when None). Each run
    carries its configuration, cost and `bytes_read` (None when no source saw it)."""
    where, params = "", []
    if jobs is not None:
        where = "and r.job_name in (select value from json_each(?)) "
        params = [to_json(sorted(jobs))]
    bytes_read = f"coalesce({_METRIC_BYTES}, {_METRIC_BYTES}, {_EVENTLOG_BYTES}) as bytes_read"
    rows = store.db.query(
        f"select {_RUN_COLUMNS}, {bytes_read} from job_runs r "
        "left join run_costs c on c.run_id = r.id "
        f"where r.started_on is not null {where}"
        "order by r.job_name, r.started_on, r.rowid",
        [*BYTES_METRICS, *params],
    )
    yield from by_job(rows)


def definitions(store: Store, job: str) -> list[dict[str, Any]]:
    """Every stored definition of a job, oldest first: `since` (when it took effect, else when
    it was first seen) and `definition` (the redacted Glue Job shape)."""
    return [
        {
            "since": row["valid_from"] or row["first_seen"],
            "first_seen": row["first_seen"],
            "definition": orjson.loads(row["definition"] or "{}"),
        }
        for row in store.job_version_history(job)
    ]


def findings_with_change(store: Store, jobs: Collection[str] | None = None) -> list[dict[str, Any]]:
    """Every finding (open, muted or resolved) that names the Glue fields it would change,
    with `change` decoded."""
    where, params = "", []
    if jobs is not None:
        where = "and job_name in (select value from json_each(?)) "
        params = [to_json(sorted(jobs))]
    rows = store.db.query(
        "select id, rule_id, job_name, title, status, change, savings_usd_month, first_seen, "
        "last_seen, resolved_at from findings where change is not null and change != '{}' "
        f"{where}order by job_name, id",
        params,
    )
    return [{**row, "change": orjson.loads(row["change"])} for row in rows]


def job_keys(store: Store, account: str | None = None, region: str | None = None) -> list[str]:
    """Keys of the jobs in an account and/or region (every job when neither is given)."""
    return [
        row[0]
        for row in store.db.execute(
            "select name from jobs where (? is null or account = ?) and (? is null or region = ?) "
            "order by name",
            [account, account, region, region],
        )
    ]
