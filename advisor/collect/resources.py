"""Collect the other things Glue bills in one account's region: crawlers and their crawls,
interactive sessions, development endpoints. Read-only (the guard in aws.py allows exactly
GetCrawlers, GetCrawlerMetrics, ListCrawls, ListSessions and GetDevEndpoints).

Each API is its own step: one that fails (AccessDenied, an API the region lacks) is recorded by
the caller and the others still run. A crawl already stored as finished is not asked for again:
ListCrawls is filtered to crawls that started after the newest finished one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from advisor.collect.records import RecordError
from advisor.collect.resource_records import (
    CRAWLER,
    crawl_row,
    crawler_row,
    dev_endpoint_rows,
    session_rows,
)
from advisor.store import Store
from advisor.timeutil import iso

CRAWLER_METRICS_BATCH = 100  # GetCrawlerMetrics: at most 100 names a call
Record = Callable[[str, str, Exception], None]


class ResourceCollector:
    def __init__(
        self,
        store: Store,
        glue: Any,
        *,
        account: str,
        region: str,
        now: datetime,
        since: datetime | None,
        record: Record,
    ):
        self.store, self.glue, self.account, self.region = store, glue, account, region
        self.at, self.since, self.record = iso(now), since, record
        self.counts = {"crawlers": 0, "crawls": 0, "sessions": 0, "dev_endpoints": 0}

    def collect(self) -> dict[str, int]:
        where = f"{self.account}/{self.region}"
        for step, operation in (
            (self.crawlers, "GetCrawlers"),
            (self.sessions, "ListSessions"),
            (self.dev_endpoints, "GetDevEndpoints"),
        ):
            try:
                step()
            except (ClientError, BotoCoreError) as exc:
                self.record("glue", f"{where}/{operation}", exc)
        return self.counts

    def _save(self, resources: list[dict[str, Any]], usage: list[dict[str, Any]]) -> None:
        with self.store.transaction():
            self.store.upsert_glue_resources(resources, usage, self.at)

    def _rows(self, items: Iterator[Any], build: Callable[[Any], Any], kind: str) -> list[Any]:
        """Built rows; an entry that cannot be stored is recorded and skipped."""
        rows = []
        for index, item in enumerate(items):
            try:
                rows.append(build(item))
            except RecordError as exc:
                self.record("glue", f"{self.account}/{self.region}/{kind}[{index}]", exc)
        return rows

    def crawlers(self) -> None:
        pages = self.glue.get_paginator("get_crawlers").paginate()
        items = (c for page in pages for c in page.get("Crawlers", []))
        resources = self._rows(items, lambda c: crawler_row(c, self.account, self.region), CRAWLER)
        self._crawler_metrics(resources)
        self._save(resources, [])
        self.counts["crawlers"] += len(resources)
        for crawler in resources:
            try:
                usage = self._crawls(crawler["name"])
            except (ClientError, BotoCoreError) as exc:
                self.record("glue", f"{self.account}/{self.region}/{crawler['name']}", exc)
                continue
            self._save([], usage)
            self.counts["crawls"] += len(usage)

    def _crawler_metrics(self, crawlers: list[dict[str, Any]]) -> None:
        """Median and last runtime, tables touched: kept in the crawler's definition."""
        by_name = {c["name"]: c for c in crawlers}
        names = list(by_name)
        for at in range(0, len(names), CRAWLER_METRICS_BATCH):
            try:
                answer = self.glue.get_crawler_metrics(
                    CrawlerNameList=names[at : at + CRAWLER_METRICS_BATCH]
                )
            except (ClientError, BotoCoreError) as exc:
                self.record("glue", f"{self.account}/{self.region}/GetCrawlerMetrics", exc)
                return
            for metrics in answer.get("CrawlerMetricsList", []):
                crawler = by_name.get(metrics.get("CrawlerName"))
                if crawler is not None:
                    crawler["definition"]["Metrics"] = {
                        k: v for k, v in metrics.items() if k != "CrawlerName"
                    }

    def _crawls(self, crawler: str) -> list[dict[str, Any]]:
        newest = self.store.newest_finished_usage(CRAWLER, self.account, self.region, crawler)
        start = newest or (iso(self.since) if self.since else None)
        filters = (
            [{"FieldName": "START_TIME", "FilterOperator": "GT", "FieldValue": start}]
            if start
            else []
        )
        rows: list[dict[str, Any]] = []
        token = None
        while True:
            kwargs: dict[str, Any] = {"CrawlerName": crawler, "MaxResults": 100}
            if filters:
                kwargs["Filters"] = filters
            if token:
                kwargs["NextToken"] = token
            answer = self.glue.list_crawls(**kwargs)
            rows += self._rows(
                iter(answer.get("Crawls", [])),
                lambda c: crawl_row(crawler, c, self.account, self.region),
                f"{crawler}/crawl",
            )
            token = answer.get("NextToken")
            if not token:
                return rows

    def sessions(self) -> None:
        token = None
        built: list[tuple[dict[str, Any], dict[str, Any]]] = []
        while True:
            answer = self.glue.list_sessions(**({"NextToken": token} if token else {}))
            built += self._rows(
                iter(answer.get("Sessions", [])),
                lambda s: session_rows(s, self.account, self.region),
                "session",
            )
            token = answer.get("NextToken")
            if not token:
                break
        self._save([r for r, _ in built], [u for _, u in built])
        self.counts["sessions"] += len(built)

    def dev_endpoints(self) -> None:
        pages = self.glue.get_paginator("get_dev_endpoints").paginate()
        items = (e for page in pages for e in page.get("DevEndpoints", []))
        built = self._rows(
            items, lambda e: dev_endpoint_rows(e, self.account, self.region), "dev_endpoint"
        )
        self._save([r for r, _ in built], [u for _, u in built])
        self.counts["dev_endpoints"] += len(built)
