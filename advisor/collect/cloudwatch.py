"""Collect the CloudWatch Glue metrics of finished runs (ListMetrics + batched GetMetricData).

ListMetrics gives each metric's exact dimension set (CloudWatch only matches exact sets). It
lists everything with data in the last two weeks, so a recent run it omits has no metrics; older
runs, which it has forgotten, are asked for the job's driver/ALL series names, or the classic
list when the job enables metrics. Queries are batched up to 500 per call with a period
that the data's age allows (60 s under 15 days, 300 s to 63 days, 3600 s beyond).
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from advisor.collect.metrics import (
    CLASSIC_RUN_METRICS,
    NAMESPACE,
    advisor_stats,
    dims_key,
    stats_for,
    type_dimension,
)
from advisor.identity import job_key, split_key
from advisor.jobargs import metrics_enabled as jobargs_metrics_enabled
from advisor.store import Store
from advisor.timeutil import iso, parse_ts

log = logging.getLogger(__name__)
SOURCE = "cloudwatch"
MAX_QUERIES = 500
MAX_POINTS = 100_800
INGESTION_DELAY = timedelta(minutes=5)
RETENTION = timedelta(days=455)
# ListMetrics lists every metric with data in the last two weeks (a day of margin here)
LIST_METRICS_MEMORY = timedelta(days=13)
_PER_EXECUTOR = re.compile(r"^glue\.\d+\.")


def period_for(start: datetime, now: datetime) -> int:
    """The finest period CloudWatch still returns for data that starts at `start`."""
    age = now - start
    if age <= timedelta(days=15):
        return 60
    if age <= timedelta(days=63):
        return 300
    return 3600


@dataclass(frozen=True)
class Series:
    metric: str
    dimensions: tuple[tuple[str, str], ...]  # exact set, JobRunId included

    @property
    def as_api(self) -> list[dict[str, str]]:
        return [{"Name": k, "Value": v} for k, v in self.dimensions]


@dataclass
class _Query:
    run_id: str
    job_name: str
    series: Series
    stat: str


class CloudWatchCollector:
    def __init__(
        self,
        store: Store,
        cloudwatch: Any,
        *,
        now: datetime,
        account: str | None = None,
        region: str | None = None,
        only_advisor_stats: bool = False,
    ):
        """`only_advisor_stats`: ask each series only for the statistic the advisor reads
        (metrics.ADVISOR_STATISTIC), about half the GetMetricData bill."""
        self.store, self.cw, self.now = store, cloudwatch, now
        self.account, self.region = account, region
        self.stats = advisor_stats if only_advisor_stats else stats_for
        self.now_iso = iso(now)
        self.points = 0

    def collect_job(self, job_name: str, metrics_enabled: bool | None = None) -> int:
        """Fetch metrics for the finished, not yet collected runs of the job with this Glue
        name; return points stored. `metrics_enabled`: default, what its arguments say."""
        key = job_key(self.account, self.region, job_name)
        if metrics_enabled is None:
            metrics_enabled = jobargs_metrics_enabled(self.store.job_default_arguments(key))
        runs = [r for r in self.store.finished_runs_without(SOURCE, key) if self._ready(r)]
        if not runs:
            return 0
        listed = self._list_metrics(job_name)
        per_run: dict[str, list[Series]] = defaultdict(list)
        for series in listed:
            per_run[dict(series.dimensions).get("JobRunId", "")].append(series)
        templates = self._templates(listed, job_name, metrics_enabled)
        queries: list[_Query] = []
        silent: list[str] = []
        remembered_since = self.now - LIST_METRICS_MEMORY
        for run in runs:
            glue_run_id = run["glue_run_id"] or split_key(run["id"])[2]
            series_list = per_run.get(glue_run_id)
            if (
                not series_list
                and parse_ts(run["completed_on"] or run["started_on"]) < remembered_since
            ):
                series_list = [
                    Series(t.metric, tuple(sorted((*t.dimensions, ("JobRunId", glue_run_id)))))
                    for t in templates
                ]
            if not series_list:
                silent.append(run["id"])
                continue
            for series in series_list:
                for stat in self.stats(
                    series.metric,
                    type_dimension({"Name": k, "Value": v} for k, v in series.dimensions),
                ):
                    queries.append(_Query(run["id"], key, series, stat))
        with self.store.transaction():
            for run_id in silent:
                self.store.set_state(SOURCE, run_id, "no metrics", self.now_iso)
        stored = 0
        for batch, window, period in self._batches(queries, {r["id"]: r for r in runs}):
            stored += self._fetch(batch, window, period)
        self.points += stored
        return stored

    # ---- discovery -----------------------------------------------------------------------

    def _ready(self, run: dict[str, Any]) -> bool:
        done = parse_ts(run["completed_on"] or run["started_on"])
        return (
            done is not None and done <= self.now - INGESTION_DELAY and done >= self.now - RETENTION
        )

    def _list_metrics(self, job_name: str) -> list[Series]:
        seen: set[Series] = set()
        paginator = self.cw.get_paginator("list_metrics")
        for page in paginator.paginate(
            Namespace=NAMESPACE, Dimensions=[{"Name": "JobName", "Value": job_name}]
        ):
            for metric in page.get("Metrics", []):
                dims = tuple(sorted((d["Name"], d["Value"]) for d in metric.get("Dimensions", [])))
                seen.add(Series(metric["MetricName"], dims))  # moto repeats entries: dedupe
        return sorted(seen, key=lambda s: (s.metric, s.dimensions))

    def _templates(self, listed: Iterable[Series], job_name: str, enabled: bool) -> list[Series]:
        """Driver and ALL series (without the run id) to ask for when ListMetrics has none."""
        templates = {
            Series(s.metric, tuple(d for d in s.dimensions if d[0] != "JobRunId"))
            for s in listed
            if not _PER_EXECUTOR.match(s.metric) and dict(s.dimensions).get("JobRunId") != "ALL"
        }
        if not templates and enabled:
            templates = {
                Series(name, (("JobName", job_name), ("Type", kind)))
                for name, kind in CLASSIC_RUN_METRICS
            }
        return sorted(templates, key=lambda s: (s.metric, s.dimensions))

    # ---- fetching ------------------------------------------------------------------------

    def _batches(self, queries: list[_Query], runs: dict[str, dict[str, Any]]):
        """Group queries into GetMetricData calls: <= 500 queries and <= 100,800 points each."""

        def window_of(run_id: str) -> tuple[datetime, datetime]:
            run = runs[run_id]
            start = parse_ts(run["started_on"]) - timedelta(minutes=1)
            end = parse_ts(run["completed_on"] or run["started_on"]) + timedelta(minutes=2)
            return start, end

        by_period: dict[int, list[_Query]] = defaultdict(list)
        for q in queries:
            by_period[period_for(window_of(q.run_id)[0], self.now)].append(q)
        for period, group in sorted(by_period.items()):
            group.sort(key=lambda q: runs[q.run_id]["started_on"])
            batch: list[_Query] = []
            points = 0
            start = end = None
            for q in group:
                q_start, q_end = window_of(q.run_id)
                # a series only has data inside its own run, so that bounds what it returns
                q_points = int((q_end - q_start).total_seconds() // period) + 2
                if batch and (len(batch) >= MAX_QUERIES or points + q_points > MAX_POINTS):
                    yield batch, (start, end), period
                    batch, points, start, end = [], 0, None, None
                batch.append(q)
                points += q_points
                start = min(start, q_start) if start else q_start
                end = max(end, q_end) if end else q_end
            if batch:
                yield batch, (start, end), period

    def _fetch(self, batch: list[_Query], window: tuple[datetime, datetime], period: int) -> int:
        start, end = window
        start = datetime.fromtimestamp(start.timestamp() // period * period, tz=start.tzinfo)
        request = [
            {
                "Id": f"q{i}",
                "ReturnData": True,
                "MetricStat": {
                    "Metric": {
                        "Namespace": NAMESPACE,
                        "MetricName": q.series.metric,
                        "Dimensions": q.series.as_api,
                    },
                    "Period": period,
                    "Stat": q.stat,
                },
            }
            for i, q in enumerate(batch)
        ]
        rows: list[dict[str, Any]] = []
        forbidden: set[str] = set()
        paginator = self.cw.get_paginator("get_metric_data")
        for page in paginator.paginate(
            MetricDataQueries=request, StartTime=start, EndTime=end, ScanBy="TimestampAscending"
        ):
            for result in page.get("MetricDataResults", []):
                q = batch[int(result["Id"][1:])]
                if result.get("StatusCode") == "Forbidden":
                    forbidden.add(q.series.metric)
                    continue
                for stamp, value in zip(
                    result.get("Timestamps", []), result.get("Values", []), strict=False
                ):
                    rows.append(
                        {
                            "run_id": q.run_id,
                            "metric": q.series.metric,
                            "dims": dims_key(q.series.as_api),
                            "stat": q.stat,
                            "ts": iso(stamp),
                            "job_name": q.job_name,
                            "value": float(value),
                            "unit": None,
                        }
                    )
        with self.store.transaction():
            stored = self.store.upsert_metrics(rows)
            counts: dict[str, int] = defaultdict(int)
            for row in rows:
                counts[row["run_id"]] += 1
            for run_id in {q.run_id for q in batch}:
                self.store.set_state(
                    SOURCE, run_id, f"{counts.get(run_id, 0)} points", self.now_iso
                )
            for metric in sorted(forbidden):
                self.store.record_error(
                    SOURCE, metric, "GetMetricData answered Forbidden", at=self.now_iso
                )
        return stored
