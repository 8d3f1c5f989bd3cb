"""`advisor collect`: walk regions and jobs, isolating failures per job and per API.

A throttled or failing call is retried by botocore; what still fails is recorded in
`ingest_errors` and collection goes on. AccessDenied on CloudWatch or S3 turns that source off
for the region (one error row, not one per job) while Glue collection continues.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from advisor.collect.aws import ACCESS_DENIED_CODES, AwsClients
from advisor.collect.cloudwatch import CloudWatchCollector
from advisor.collect.eventlogs import EventLogCollector
from advisor.collect.glue import GlueCollector
from advisor.jobargs import metrics_enabled
from advisor.sparklog.link import relink
from advisor.store import Store
from advisor.timeutil import iso, utcnow

log = logging.getLogger(__name__)


@dataclass
class CollectOptions:
    regions: list[str]
    profile: str | None = None
    jobs: list[str] | None = None
    since: timedelta | None = None
    metrics: bool = True
    eventlogs: bool = True
    endpoint_url: str | None = None
    retry_mode: str = "standard"
    max_attempts: int = 10
    session_factory: Callable[[str], boto3.Session] | None = None


@dataclass
class CollectReport:
    jobs: int = 0
    runs_upserted: int = 0
    runs_refreshed: int = 0
    metric_points: int = 0
    eventlog_apps: int = 0
    api_calls: Counter[str] = field(default_factory=Counter)
    errors: list[dict[str, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "jobs": self.jobs,
            "runs_upserted": self.runs_upserted,
            "runs_refreshed": self.runs_refreshed,
            "metric_points": self.metric_points,
            "eventlog_apps": self.eventlog_apps,
            "api_calls": dict(sorted(self.api_calls.items())),
            "errors": self.errors,
        }


def _error_text(exc: Exception) -> tuple[str, str]:
    if isinstance(exc, ClientError):
        code = exc.response.get("Error", {}).get("Code", "ClientError")
        return code, str(exc)
    return type(exc).__name__, str(exc)


def collect(
    store: Store,
    options: CollectOptions,
    *,
    now: datetime | None = None,
    on_job: Callable[[str, int, int], None] | None = None,
) -> CollectReport:
    """Collect every region; `on_job(name, index, total)` drives a progress bar."""
    now = now or utcnow()
    report = CollectReport()
    since = now - options.since if options.since else None
    for region in options.regions:
        session = options.session_factory(region) if options.session_factory else None
        clients = AwsClients(
            region,
            profile=options.profile,
            endpoint_url=options.endpoint_url,
            retry_mode=options.retry_mode,
            max_attempts=options.max_attempts,
            session=session,
        )
        try:
            _collect_region(store, clients, options, now, since, report, on_job)
        finally:
            report.api_calls.update(clients.calls)
    return report


def _collect_region(
    store: Store,
    clients: AwsClients,
    options: CollectOptions,
    now: datetime,
    since: datetime | None,
    report: CollectReport,
    on_job: Callable[[str, int, int], None] | None,
) -> None:
    region, at = clients.region, iso(now)

    def record(source: str, item: str, exc: Exception) -> None:
        code, detail = _error_text(exc)
        log.warning("%s %s: %s", source, item, detail)
        report.errors.append(store.record_error(source, item, code, detail, at=at))

    glue = GlueCollector(store, clients.glue, region, now=now, since=since)
    try:
        names = glue.collect_jobs(options.jobs)
    except (ClientError, BotoCoreError) as exc:
        record("glue", f"{region}/GetJobs", exc)
        return
    report.jobs += len(names)
    cloudwatch = CloudWatchCollector(store, clients.cloudwatch, now=now)
    eventlogs = EventLogCollector(store, clients.s3, now=now)
    enabled = {"cloudwatch": options.metrics, "s3": options.eventlogs}
    for index, name in enumerate(names):
        if on_job:
            on_job(name, index, len(names))
        try:
            glue.collect_runs(name)
        except (ClientError, BotoCoreError) as exc:
            record("glue", f"{region}/{name}", exc)
            continue
        if enabled["cloudwatch"]:
            _guarded(
                lambda n=name: cloudwatch.collect_job(
                    n, metrics_enabled(store.job_default_arguments(n))
                ),
                "cloudwatch",
                region,
                name,
                enabled,
                record,
            )
    # event logs last: a shared prefix holds logs of many jobs, whose runs must be stored first
    for name in names:
        if enabled["s3"]:
            _guarded(lambda n=name: eventlogs.collect_job(n), "s3", region, name, enabled, record)
    eventlogs.apps += relink(store)
    report.runs_upserted += glue.report.runs_upserted
    report.runs_refreshed += glue.report.runs_refreshed
    report.metric_points += cloudwatch.points
    report.eventlog_apps += eventlogs.apps


def _guarded(
    action: Callable[[], Any],
    service: str,
    region: str,
    job: str,
    enabled: dict[str, bool],
    record: Callable[[str, str, Exception], None],
) -> None:
    """One API's failure on one job is recorded; AccessDenied turns that API off for the region."""
    try:
        action()
    except (ClientError, BotoCoreError) as exc:
        code, _ = _error_text(exc)
        if code in ACCESS_DENIED_CODES:
            record(service, f"{region} ({service} skipped for this region)", exc)
            enabled[service] = False
        else:
            record(service, f"{region}/{job}", exc)
