"""Store rows of the other things Glue bills: crawlers (GetCrawlers, ListCrawls), interactive
sessions (ListSessions) and development endpoints (GetDevEndpoints).

One resource row per crawler, session or endpoint (its settings, redacted, for the rules) and one
usage row per thing that is billed: a crawl, a session, an endpoint's time provisioned. The same
builders read API answers and their AWS CLI JSON, so collect and import store the same rows.
"""

from __future__ import annotations

import json
from typing import Any

from advisor import facts
from advisor.collect.records import RecordError, _checked, _float, _int, _map, _str, glue_name
from advisor.collect.redact import redact_arguments, redact_value
from advisor.identity import UNKNOWN_ACCOUNT, UNKNOWN_REGION
from advisor.timeutil import parse_ts, stored_stamp

CRAWLER, SESSION, DEV_ENDPOINT = "crawler", "interactive_session", "dev_endpoint"
# an endpoint in one of these states is provisioned: it bills until it is deleted
ENDPOINT_RUNNING = frozenset({"PROVISIONING", "READY", "UPDATING"})
SESSION_RUNNING = frozenset({"PROVISIONING", "READY", "TIMEOUT_PENDING", "STOPPING"})


def _arn(region: str, account: str, kind: str, name: str) -> str:
    return f"arn:aws:glue:{region}:{account}:{kind}/{name}"


def _seconds_between(start: Any, end: Any) -> float | None:
    begin, finish = parse_ts(start), parse_ts(end)
    if begin is None or finish is None:
        return None
    return max((finish - begin).total_seconds(), 0.0)


def _place(account: str | None, region: str | None) -> tuple[str, str]:
    return account or UNKNOWN_ACCOUNT, region or UNKNOWN_REGION


def _resource(
    kind: str, name: Any, arn: str, definition: dict[str, Any], state: Any, place: tuple[str, str]
) -> dict[str, Any]:
    return {
        "kind": kind,
        "account": place[0],
        "region": place[1],
        "name": name,
        "arn": arn,
        "definition": definition,
        "state": _str(state),
    }


def _named(record: Any, field: str, kind: str) -> str:
    if not isinstance(record, dict):
        raise RecordError(f"{kind} is not an object")
    name = record.get(field)
    if not isinstance(name, str) or not name:
        raise RecordError(f"{kind} has no {field}")
    if kind in ("crawler", "session"):  # Glue's NameString (facts: names)
        glue_name(name, f"{kind} {field}")
    return name


def crawler_row(crawler: Any, account: str | None, region: str | None) -> dict[str, Any]:
    """A GetCrawlers entry: its schedule, recrawl policy and targets (what the rules read)."""
    name = _named(crawler, "Name", "crawler")
    place = _place(account, region)

    def build() -> dict[str, Any]:
        keep = (
            "Name",
            "DatabaseName",
            "Targets",
            "Schedule",
            "RecrawlPolicy",
            "SchemaChangePolicy",
            "State",
            "CrawlElapsedTime",
            "LastCrawl",
            "LastUpdated",
            "CreationTime",
        )
        definition = redact_value({k: crawler[k] for k in keep if k in crawler})
        _crawler_shapes(definition)
        return _resource(
            CRAWLER,
            name,
            _arn(place[1], place[0], "crawler", name),
            _jsonable(definition),
            crawler.get("State"),
            place,
        )

    return _checked("crawler", crawler, build)


def _field(value: Any, name: str, check: Any) -> Any:
    try:
        return check(value)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name}: {exc}") from None


def _crawler_shapes(definition: dict[str, Any]) -> None:
    """The fields the crawler rules read have AWS's types; a schedule given as its expression
    alone (CreateCrawler's shape) is GetCrawlers' object."""
    if isinstance(definition.get("Schedule"), str):
        definition["Schedule"] = {"ScheduleExpression": definition["Schedule"]}
    for name in ("Targets", "Schedule", "RecrawlPolicy", "SchemaChangePolicy"):
        _field(definition.get(name), name, _map)
    _field((definition.get("Schedule") or {}).get("ScheduleExpression"), "Schedule", _str)
    _field((definition.get("RecrawlPolicy") or {}).get("RecrawlBehavior"), "RecrawlPolicy", _str)
    for name in ("UpdateBehavior", "DeleteBehavior"):
        _field((definition.get("SchemaChangePolicy") or {}).get(name), name, _str)
    targets = definition.get("Targets") or {}
    if not isinstance(targets.get("S3Targets") or [], list):
        raise TypeError("Targets.S3Targets: expected a list")


def crawl_row(crawler: str, crawl: Any, account: str | None, region: str | None) -> dict[str, Any]:
    """A ListCrawls entry: one crawl, with the DPU-hours AWS reports for it."""
    crawl_id = _named(crawl, "CrawlId", "crawl")
    place = _place(account, region)

    def build() -> dict[str, Any]:
        return {
            "kind": CRAWLER,
            "account": place[0],
            "region": place[1],
            "name": crawler,
            "usage_id": crawl_id,
            "started_on": stored_stamp(crawl.get("StartTime")),
            "ended_on": stored_stamp(crawl.get("EndTime")),
            "state": _str(crawl.get("State")),
            "duration_s": _seconds_between(crawl.get("StartTime"), crawl.get("EndTime")),
            "dpu_hours": _float(crawl.get("DPUHour")),
            "dpus": None,
            "changes": crawl_changes(crawl.get("Summary")),
        }

    return _checked("crawl", crawl, build)


def crawl_changes(summary: Any) -> int | None:
    """Tables and partitions a crawl added, updated or deleted, from ListCrawls' Summary (JSON
    text like {"TABLE": {"ADD": {"Count": 0}, ...}, "PARTITION": {...}}); None when absent or
    unreadable (then nothing is concluded from it)."""
    if not isinstance(summary, str) or not summary.strip():
        return None
    try:
        document = json.loads(summary)
    except ValueError:
        return None
    total, seen = 0, False
    for entity in (document or {}).values() if isinstance(document, dict) else []:
        for action in (entity or {}).values() if isinstance(entity, dict) else []:
            count = action.get("Count") if isinstance(action, dict) else None
            if isinstance(count, int) and not isinstance(count, bool) and count >= 0:
                total, seen = total + count, True
    return total if seen else None


def _capacity(record: dict[str, Any], default: float | None) -> float | None:
    """DPUs held: workers x DPUs per worker, else MaxCapacity, else nodes, else `default`."""
    workers, per = (
        _int(record.get("NumberOfWorkers")),
        facts.dpu_per_worker(_str(record.get("WorkerType"))),
    )
    if workers and per:
        return workers * per
    capacity = _float(record.get("MaxCapacity"))
    if capacity:
        return capacity
    nodes = _int(record.get("NumberOfNodes"))
    return float(nodes) if nodes else default


def session_rows(
    session: Any, account: str | None, region: str | None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A ListSessions entry: the session (its idle timeout and DPUs) and what it used."""
    session_id = _named(session, "Id", "session")
    place = _place(account, region)

    def build() -> dict[str, Any]:
        keep = (
            "Id",
            "Status",
            "Command",
            "GlueVersion",
            "WorkerType",
            "NumberOfWorkers",
            "MaxCapacity",
            "IdleTimeout",
            "Timeout",
            "CreatedOn",
            "CompletedOn",
            "ExecutionTime",
            "DPUSeconds",
        )
        definition = {k: session[k] for k in keep if k in session}
        # the numbers the session rules compute with, as numbers (or the session is skipped)
        for name in ("IdleTimeout", "Timeout", "MaxCapacity", "ExecutionTime", "DPUSeconds"):
            if name in definition:
                definition[name] = _field(definition[name], name, _float)
        if "NumberOfWorkers" in definition:
            definition["NumberOfWorkers"] = _field(
                definition["NumberOfWorkers"], "NumberOfWorkers", _int
            )
        for name in ("WorkerType", "GlueVersion", "Status"):
            _field(definition.get(name), name, _str)
        if "DefaultArguments" in session:
            definition["DefaultArguments"] = redact_arguments(_map(session["DefaultArguments"]))
        defaults = facts.registry()["interactive_sessions"]
        dpus = _capacity(session, float(defaults["default_dpu"]))
        seconds = _float(session.get("ExecutionTime"))
        if seconds is None:
            seconds = _seconds_between(session.get("CreatedOn"), session.get("CompletedOn"))
        used = _float(session.get("DPUSeconds"))
        return {
            "resource": _resource(
                SESSION,
                session_id,
                _arn(place[1], place[0], "session", session_id),
                _jsonable(redact_value(definition)),
                session.get("Status"),
                place,
            ),
            "usage": {
                "kind": SESSION,
                "account": place[0],
                "region": place[1],
                "name": session_id,
                "usage_id": session_id,
                "started_on": stored_stamp(session.get("CreatedOn")),
                "ended_on": stored_stamp(session.get("CompletedOn")),
                "state": _str(session.get("Status")),
                "duration_s": seconds,
                "dpu_hours": used / 3600 if used is not None else None,
                "dpus": dpus,
                "changes": None,
            },
        }

    built = _checked("session", session, build)
    return built["resource"], built["usage"]


def dev_endpoint_rows(
    endpoint: Any, account: str | None, region: str | None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A GetDevEndpoints entry: the endpoint and its time provisioned (open while it runs)."""
    name = _named(endpoint, "EndpointName", "development endpoint")
    place = _place(account, region)

    def build() -> dict[str, Any]:
        keep = (
            "EndpointName",
            "Status",
            "GlueVersion",
            "WorkerType",
            "NumberOfWorkers",
            "NumberOfNodes",
            "CreatedTimestamp",
            "LastModifiedTimestamp",
        )
        definition = redact_value({k: endpoint[k] for k in keep if k in endpoint})
        status = _str(endpoint.get("Status"))
        created = endpoint.get("CreatedTimestamp")
        running = (status or "").upper() in ENDPOINT_RUNNING
        ended = None if running else endpoint.get("LastModifiedTimestamp")
        default = float(facts.registry()["dev_endpoints"]["default_dpus"])
        return {
            "resource": _resource(
                DEV_ENDPOINT,
                name,
                _arn(place[1], place[0], "devEndpoint", name),
                _jsonable(definition),
                status,
                place,
            ),
            "usage": {
                "kind": DEV_ENDPOINT,
                "account": place[0],
                "region": place[1],
                "name": name,
                "usage_id": stored_stamp(created) or "provisioned",
                "started_on": stored_stamp(created),
                "ended_on": stored_stamp(ended),
                "state": status,
                "duration_s": _seconds_between(created, ended) if ended else None,
                "dpu_hours": None,
                # NumberOfNodes: "the number of Glue DPUs allocated to this endpoint"
                "dpus": _float(endpoint.get("NumberOfNodes")) or _capacity(endpoint, default),
                "changes": None,
            },
        }

    built = _checked("development endpoint", endpoint, build)
    return built["resource"], built["usage"]


def _jsonable(value: Any) -> Any:
    """Timestamps (datetime from boto3) as ISO text, so the definition is plain JSON."""
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if hasattr(value, "isoformat"):
        return stored_stamp(value)
    return value
