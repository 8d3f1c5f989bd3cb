"""Collect Glue job definitions and run history, incrementally and resumably.

GetJobRuns returns runs newest first, so paging stops at the stored high-water mark: a re-collect
with nothing new costs one call per job. The mark only moves once every newer page is stored, so
a crash part-way through re-reads those pages next time (upserts make that harmless). Runs that
were still running are re-read with GetJobRun until they finish.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from itertools import pairwise
from typing import Any

from advisor.collect.records import RecordError, job_definition, job_row, run_row
from advisor.identity import job_key, split_key
from advisor.store import TERMINAL_STATES, Store
from advisor.timeutil import iso

log = logging.getLogger(__name__)
HWM_SOURCE = "glue_runs"
PAGE_SIZE = 200  # GetJobRuns maximum: fewest calls for a first collect
INCREMENTAL_PAGE_SIZE = 50  # most re-collects find a few new runs: don't fetch 200 known ones


@dataclass
class GlueReport:
    jobs: int = 0
    runs_upserted: int = 0
    runs_refreshed: int = 0
    jobs_failed: list[str] = field(default_factory=list)


class GlueCollector:
    def __init__(
        self,
        store: Store,
        glue: Any,
        region: str,
        *,
        account: str | None = None,
        now: datetime,
        since: datetime | None = None,
    ):
        self.store, self.glue, self.region, self.account = store, glue, region, account
        self.now_iso = iso(now)
        self.since_iso = iso(since) if since else None
        self.report = GlueReport()

    # ---- jobs ----------------------------------------------------------------------------

    def collect_jobs(self, names: list[str] | None = None) -> list[str]:
        """Store current definitions (and any new version); return the Glue names to follow."""
        jobs = list(self._named_jobs(names) if names else self._all_jobs())
        rows = []
        with self.store.transaction():
            for job in jobs:
                try:
                    row = job_row(job, self.region, self.account)
                except RecordError as exc:
                    self.store.record_error("glue", f"{self.region}/job", str(exc), at=self.now_iso)
                    continue
                rows.append(row)
                self.store.record_job_version(
                    row["name"], job_definition(job), row["last_modified_on"], self.now_iso
                )
            self.store.upsert_jobs(rows)
        self.report.jobs += len(rows)
        return [r["glue_name"] for r in rows]

    def _all_jobs(self) -> Iterator[dict[str, Any]]:
        for page in self.glue.get_paginator("get_jobs").paginate():
            yield from page.get("Jobs", [])

    def _named_jobs(self, names: list[str]) -> Iterator[dict[str, Any]]:
        for name in names:
            try:
                yield self.glue.get_job(JobName=name)["Job"]
            except self.glue.exceptions.EntityNotFoundException:
                self.store.record_error(
                    "glue", f"{self.region}/{name}", "job not found", at=self.now_iso
                )

    # ---- runs ----------------------------------------------------------------------------

    def collect_runs(self, job_name: str) -> int:
        key = job_key(self.account, self.region, job_name)
        high_water = self.store.get_state(HWM_SOURCE, key)
        newest = high_water
        seen: set[str] = set()
        stored = 0
        pages = self.glue.get_paginator("get_job_runs").paginate(
            JobName=job_name,
            PaginationConfig={"PageSize": INCREMENTAL_PAGE_SIZE if high_water else PAGE_SIZE},
        )
        for page in pages:
            rows = self._rows(page.get("JobRuns", []))
            if self.since_iso:
                rows = [r for r in rows if (r["started_on"] or "") >= self.since_iso]
            with self.store.transaction():
                stored += self.store.upsert_runs(rows)
            seen.update(r["id"] for r in rows)
            starts = [r["started_on"] for r in rows if r["started_on"]]
            if starts:
                newest = max(newest or "", max(starts))
            if self._reached_known(page.get("JobRuns", []), high_water):
                break
        if newest and newest != high_water:
            with self.store.transaction():
                self.store.set_state(HWM_SOURCE, key, newest, self.now_iso)
        self.report.runs_upserted += stored
        self.report.runs_refreshed += self._refresh_unfinished(job_name, seen)
        return stored

    def _rows(self, runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        rows = []
        for run in runs:
            try:
                rows.append(run_row(run, self.region, self.account))
            except RecordError as exc:
                self.store.record_error("glue", f"{self.region}/run", str(exc), at=self.now_iso)
        return rows

    def _reached_known(self, runs: list[dict[str, Any]], high_water: str | None) -> bool:
        """True when this page reaches what is stored (or the --since horizon).

        Only trusted when the page really is newest first, as AWS documents; if not, reading on
        is the only way not to miss a run.
        """
        starts = [iso(r.get("StartedOn")) or "" for r in runs]
        if not starts or not all(a >= b for a, b in pairwise(starts)):
            return False
        oldest = starts[-1]
        if high_water and oldest <= high_water:
            return True
        return bool(self.since_iso and oldest < self.since_iso)

    def _refresh_unfinished(self, job_name: str, seen: set[str]) -> int:
        refreshed = 0
        for run in self.store.unfinished_runs(job_key(self.account, self.region, job_name)):
            if run["id"] in seen:
                continue
            glue_run_id = run["glue_run_id"] or split_key(run["id"])[2]
            try:
                current = self.glue.get_job_run(JobName=job_name, RunId=glue_run_id)["JobRun"]
            except self.glue.exceptions.EntityNotFoundException:
                self.store.record_error(
                    "glue", f"{self.region}/{glue_run_id}", "run no longer exists", at=self.now_iso
                )
                continue
            rows = self._rows([current])
            with self.store.transaction():
                self.store.upsert_runs(rows)
            refreshed += 1
            if rows and rows[0]["state"] not in TERMINAL_STATES:
                log.info("run %s of %s is still %s", glue_run_id, job_name, rows[0]["state"])
        return refreshed
