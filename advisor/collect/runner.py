"""`advisor collect`: walk accounts, regions and jobs, isolating failures per account, job and API.

A throttled or failing call is retried by botocore; what still fails is recorded in
`ingest_errors` and collection goes on. An account whose role cannot be assumed is one error row
(source `sts`) and the other accounts are collected; AccessDenied on CloudWatch or S3 turns that
source off for the account's region (one error row, not one per job) while Glue collection
continues. Every call is counted per account, region and operation with what AWS bills for it,
and stored in `collector_calls` with its price (api_cost.py): the advisor's own AWS bill.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from advisor.collect.accounts import AssumedRole, Caller, Target, plan, whoami
from advisor.collect.api_cost import price_calls, summarize
from advisor.collect.aws import ACCESS_DENIED_CODES, DEFAULT_ROLE_NAME, AwsClients
from advisor.collect.billing_s3 import collect_billing
from advisor.collect.cloudwatch import CloudWatchCollector
from advisor.collect.eventlog_link import relink
from advisor.collect.eventlogs import EventLogCollector, session_event_log_paths
from advisor.collect.facts_s3 import FactsFetch, fetch_facts, load_facts
from advisor.collect.glue import GlueCollector
from advisor.collect.resources import ResourceCollector
from advisor.identity import UNKNOWN_ACCOUNT, job_key, place_key
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
    # the current credentials' session for a region (tests inject faults here)
    session_factory: Callable[[str], boto3.Session] | None = None
    role_arns: list[str] = field(default_factory=list)  # other accounts, through these roles
    external_id: str | None = None  # sts:ExternalId the member roles ask for
    organization: bool = False  # every ACTIVE account of the organization, through role_name
    role_name: str = DEFAULT_ROLE_NAME
    include_caller: bool = False  # the current credentials' account too, with role_arns
    metric_series: str = "advisor"  # "all": every series ListMetrics lists (aws.ADVISOR_METRICS)
    resources: bool = True  # crawlers, interactive sessions, development endpoints
    billing: str | None = None  # s3://bucket/prefix/ of a Data Exports (CUR 2.0) export
    # s3://bucket/prefix/ of reduced event-log facts (python -m advisor.spark_reduce): the logs
    # they stand for are not read (facts_s3.py); other logs still are, unless eventlogs=False
    eventlog_facts: str | None = None


@dataclass
class PlaceReport:
    """What one account's region gave."""

    account: str
    region: str
    via: str  # "current credentials" or the role's ARN
    jobs: int = 0
    runs_upserted: int = 0
    runs_refreshed: int = 0
    metric_points: int = 0
    eventlog_apps: int = 0
    crawlers: int = 0
    crawls: int = 0
    sessions: int = 0
    dev_endpoints: int = 0


@dataclass
class CollectReport:
    jobs: int = 0
    runs_upserted: int = 0
    runs_refreshed: int = 0
    metric_points: int = 0
    eventlog_apps: int = 0
    api_calls: Counter[str] = field(default_factory=Counter)
    errors: list[dict[str, str]] = field(default_factory=list)
    collected_at: str = ""
    caller: str = UNKNOWN_ACCOUNT  # the current credentials' account
    accounts: list[dict[str, Any]] = field(default_factory=list)  # account, via, collected
    places: list[PlaceReport] = field(default_factory=list)
    calls: list[dict[str, Any]] = field(default_factory=list)  # the collector_calls rows
    billing_files: int = 0
    billing_lines: int = 0
    eventlog_facts: dict[str, Any] | None = None  # FactsFetch.as_dict() of --eventlog-facts

    @property
    def api_cost(self) -> dict[str, Any]:
        return summarize(self.calls)

    def as_dict(self) -> dict[str, Any]:
        return {
            "jobs": self.jobs,
            "runs_upserted": self.runs_upserted,
            "runs_refreshed": self.runs_refreshed,
            "metric_points": self.metric_points,
            "eventlog_apps": self.eventlog_apps,
            "api_calls": dict(sorted(self.api_calls.items())),
            "errors": self.errors,
            "collected_at": self.collected_at,
            "caller": self.caller,
            "accounts": self.accounts,
            "places": [asdict(p) for p in self.places],
            "billing": {"files": self.billing_files, "lines": self.billing_lines},
            "eventlog_facts": self.eventlog_facts,
            "api_cost": {**self.api_cost, "rows": self.calls},
        }


def _error_text(exc: Exception) -> tuple[str, str]:
    if isinstance(exc, ClientError):
        code = exc.response.get("Error", {}).get("Code", "ClientError")
        return code, str(exc)
    return type(exc).__name__, str(exc)


class _Run:
    """One collect: its options, clock, report, error recording and call tally."""

    def __init__(self, store: Store, options: CollectOptions, now: datetime, on_job: Any):
        self.store, self.options, self.now, self.on_job = store, options, now, on_job
        self.at = iso(now)
        self.since = now - options.since if options.since else None
        self.report = CollectReport(collected_at=self.at)
        self.tally: dict[tuple[str, str], tuple[Counter[str], Counter[str]]] = {}
        self.facts: FactsFetch | None = None  # --eventlog-facts, fetched before the accounts

    def record(self, source: str, item: str, exc: Exception) -> None:
        code, detail = _error_text(exc)
        log.warning("%s %s: %s", source, item, detail)
        self.report.errors.append(self.store.record_error(source, item, code, detail, at=self.at))

    def skipped(self, source: str, item: str, reason: str) -> None:
        """What was skipped without an exception (a bad line of a file that was read)."""
        log.warning("%s %s: %s", source, item, reason)
        self.report.errors.append(self.store.record_error(source, item, reason, at=self.at))

    def clients(self, region: str, session: boto3.Session | None) -> AwsClients:
        options = self.options
        return AwsClients(
            region,
            profile=options.profile,
            endpoint_url=options.endpoint_url,
            retry_mode=options.retry_mode,
            max_attempts=options.max_attempts,
            session=session,
            metric_series=options.metric_series,
        )

    def own_session(self, region: str) -> boto3.Session | None:
        factory = self.options.session_factory
        return factory(region) if factory else None  # None: the profile's, in AwsClients

    def count(self, account: str, region: str, clients: AwsClients) -> None:
        calls, units = self.tally.setdefault((account, region), (Counter(), Counter()))
        calls.update(clients.calls)
        units.update(clients.units)
        self.report.api_calls.update(clients.calls)

    def store_calls(self) -> None:
        rows = []
        for (account, region), (calls, units) in sorted(self.tally.items()):
            rows += price_calls(calls, units, collected_at=self.at, account=account, region=region)
        self.report.calls = rows
        self.store.record_collector_calls(rows)


def collect(
    store: Store,
    options: CollectOptions,
    *,
    now: datetime | None = None,
    on_job: Callable[[str, int, int], None] | None = None,
) -> CollectReport:
    """Collect every account and region; `on_job(key, index, total)` drives a progress bar."""
    run = _Run(store, options, now or utcnow(), on_job)
    home = options.regions[0]
    central = run.clients(home, run.own_session(home))  # STS and Organizations calls
    caller = Caller(UNKNOWN_ACCOUNT)
    try:
        caller = whoami(central, run.record)
        run.report.caller = caller.account
        targets = plan(
            central,
            caller,
            role_arns=options.role_arns,
            organization=options.organization,
            role_name=options.role_name,
            include_caller=options.include_caller,
            record=run.record,
        )
        if options.eventlog_facts:  # first: the event-log collector skips the logs they name
            run.facts = fetch_facts(store, central.s3, options.eventlog_facts, run.record)
        for target in targets:
            _collect_account(run, central, target)
        if run.facts is not None:  # last: they link to the runs just collected
            _load_facts(run, run.facts)
        if options.billing:
            try:
                billed = collect_billing(store, central.s3, options.billing, run.record)
            except (ClientError, BotoCoreError) as exc:
                run.record("billing", options.billing, exc)
            else:
                run.report.billing_files, run.report.billing_lines = billed.files, billed.lines
    finally:  # what was called is billed, whatever happened next
        if run.facts is not None:
            run.facts.close()
        run.count(caller.account, home, central)
        run.store_calls()
    return run.report


def _load_facts(run: _Run, facts: FactsFetch) -> None:
    """Load the fetched facts, linked within the collect's place when it had only one (as
    `advisor import-facts` does), else to whichever run matches unambiguously."""
    places = {(p.account, p.region) for p in run.report.places}
    place = next(iter(places)) if len(places) == 1 else None
    load_facts(
        run.store,
        facts,
        at=run.at,
        place=place,
        on_error=lambda item, why: run.skipped("s3", item, why),
    )
    facts.linked += relink(run.store)  # as `advisor import-facts` does after loading
    run.report.eventlog_apps += facts.linked
    run.report.eventlog_facts = facts.as_dict()


def _collect_account(run: _Run, central: AwsClients, target: Target) -> None:
    session_for: Callable[[str], boto3.Session | None] = run.own_session
    if target.role_arn:
        try:
            session_for = AssumedRole(central, target.role_arn, run.options.external_id).session
        except (ClientError, BotoCoreError) as exc:
            run.record("sts", f"{target.account}/AssumeRole", exc)
            code, _ = _error_text(exc)
            run.report.accounts.append(
                {"account": target.account, "via": target.via, "collected": False, "error": code}
            )
            return
    run.report.accounts.append(
        {"account": target.account, "via": target.via, "collected": True, "error": None}
    )
    for region in run.options.regions:
        clients = run.clients(region, session_for(region))
        place = PlaceReport(target.account, region, target.via)
        run.report.places.append(place)
        try:
            _collect_region(run, clients, place)
        finally:
            run.count(target.account, region, clients)


def _collect_region(run: _Run, clients: AwsClients, place: PlaceReport) -> None:
    store, options, report, now = run.store, run.options, run.report, run.now
    account, region = place.account, place.region
    where = place_key(account, region)
    glue = GlueCollector(store, clients.glue, region, account=account, now=now, since=run.since)
    try:
        names = glue.collect_jobs(options.jobs)
    except (ClientError, BotoCoreError) as exc:
        run.record("glue", f"{where}/GetJobs", exc)
        return
    place.jobs = len(names)
    cloudwatch = CloudWatchCollector(
        store,
        clients.cloudwatch,
        account=account,
        region=region,
        now=now,
        only_advisor_stats=options.metric_series == "advisor",
    )
    facts = run.facts
    eventlogs = EventLogCollector(
        store,
        clients.s3,
        account=account,
        region=region,
        now=now,
        skip=(lambda event_log: facts.covers(store, event_log)) if facts else None,
    )
    enabled = {"cloudwatch": options.metrics, "s3": options.eventlogs}
    for index, name in enumerate(names):
        if run.on_job:
            run.on_job(job_key(account, region, name), index, len(names))
        try:
            glue.collect_runs(name)
        except (ClientError, BotoCoreError) as exc:
            run.record("glue", f"{where}/{name}", exc)
            continue
        if enabled["cloudwatch"]:  # it reads the job's --enable-metrics from the store
            _guarded(
                lambda n=name: cloudwatch.collect_job(n),
                "cloudwatch",
                where,
                name,
                enabled,
                run.record,
            )
    if options.resources:
        resources = ResourceCollector(
            store,
            clients.glue,
            account=account,
            region=region,
            now=now,
            since=run.since,
            record=run.record,
        )
        for name, count in resources.collect().items():
            setattr(place, name, count)
    # event logs last: a shared prefix holds logs of many jobs (and sessions), whose runs and
    # sessions must be stored first
    for name in names:
        if enabled["s3"]:
            _guarded(
                lambda n=name: eventlogs.collect_job(n), "s3", where, name, enabled, run.record
            )
    if options.resources:
        for session_id, path in session_event_log_paths(store, account, region):
            if enabled["s3"]:
                _guarded(
                    lambda p=path: eventlogs.collect_path(p),
                    "s3",
                    where,
                    f"session {session_id}",
                    enabled,
                    run.record,
                )
    eventlogs.apps += relink(store)
    place.runs_upserted = glue.report.runs_upserted
    place.runs_refreshed = glue.report.runs_refreshed
    place.metric_points = cloudwatch.points
    place.eventlog_apps = eventlogs.apps
    report.jobs += place.jobs
    report.runs_upserted += place.runs_upserted
    report.runs_refreshed += place.runs_refreshed
    report.metric_points += place.metric_points
    report.eventlog_apps += place.eventlog_apps


def _guarded(
    action: Callable[[], Any],
    service: str,
    where: str,
    job: str,
    enabled: dict[str, bool],
    record: Callable[[str, str, Exception], None],
) -> None:
    """One API's failure on one job is recorded; AccessDenied turns that API off for the
    account's region."""
    try:
        action()
    except (ClientError, BotoCoreError) as exc:
        code, _ = _error_text(exc)
        if code in ACCESS_DENIED_CODES:
            record(service, f"{where} ({service} skipped for this region)", exc)
            enabled[service] = False
        else:
            record(service, f"{where}/{job}", exc)
