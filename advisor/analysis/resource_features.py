"""Features of crawlers, interactive sessions and development endpoints, over the 30 days up to
the store's newest observation of them: what the resource rules (rules/resources/) compare.

Pure: resource rows and usage rows in (Store.glue_resources, Store.resource_usage), one feature
dict per resource out. Money comes from advisor/analysis/other_costs.py, so a finding's dollars
are the dollars `advisor reconcile` computes.
"""

from __future__ import annotations

import logging
import statistics
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from advisor import facts
from advisor.analysis.other_costs import price_use, rate_usd
from advisor.collect.resource_records import CRAWLER, DEV_ENDPOINT, ENDPOINT_RUNNING, SESSION
from advisor.safe_text import shell_word
from advisor.timeutil import parse_ts

log = logging.getLogger(__name__)
WINDOW = timedelta(days=30)
HOURS_A_MONTH = 730


def resource_features(
    resources: list[dict[str, Any]],
    usage: list[dict[str, Any]],
    now: datetime,
    suggested_idle_min: float = 30,
    session_sizing: dict[tuple[str, str, str], dict[str, Any]] | None = None,
) -> dict[tuple[str, str, str, str], dict[str, Any]]:
    """(kind, account, region, name) -> features. `session_sizing` holds what each session's
    event logs say of the workers it needed (advisor/analysis/session_sizing.py)."""
    uses: dict[tuple[str, str, str, str], list[dict[str, Any]]] = defaultdict(list)
    for use in usage:
        uses[(use["kind"], use["account"], use["region"], use["name"])].append(use)
    out = {}
    for resource in resources:
        key = (resource["kind"], resource["account"], resource["region"], resource["name"])
        base = {
            "kind": resource["kind"],
            "name": resource["name"],
            # the name as one shell word, for the commands a finding prints
            "name_arg": shell_word(resource["name"]),
            "account": resource["account"],
            "region": resource["region"],
            "state": resource["state"],
        }
        build = {CRAWLER: _crawler, SESSION: _session, DEV_ENDPOINT: _endpoint}[resource["kind"]]
        try:
            out[key] = {**base, **build(resource, uses.get(key, []), now, suggested_idle_min)}
        except (AttributeError, TypeError, ValueError) as exc:
            # a definition stored before the import checked its types: not judged, not fatal
            log.warning("%s %s not judged: %s", resource["kind"], resource["name"], exc)
            continue
        if resource["kind"] == SESSION:
            sizing = (session_sizing or {}).get(key[1:])
            out[key].update(_oversized(out[key], sizing))
    return out


def _oversized(features: dict[str, Any], sizing: dict[str, Any] | None) -> dict[str, Any]:
    """What starting the session on the workers its Spark work needed would have saved: its
    cost in the window, less the idle hours session_idle_timeout already claims, scaled by the
    DPUs it could have done without."""
    if not sizing:
        return {"spark_apps": 0, "sizing_trusted": False}
    out = dict(sizing)
    dpus, needed = features.get("dpus") or 0.0, sizing.get("needed_dpus")
    cost, idle = features.get("cost_usd_month"), features.get("idle_usd") or 0.0
    if sizing.get("fewer_workers_suffice") and needed and dpus and cost is not None:
        out["oversized_usd"] = max(cost - idle, 0.0) * (1 - needed / dpus)
    return out


def _in_window(use: dict[str, Any], now: datetime) -> bool:
    start = parse_ts(use.get("started_on"))
    return start is not None and now - WINDOW <= start <= now


def _crawler(
    resource: dict[str, Any], uses: list[dict[str, Any]], now: datetime, _idle: float
) -> dict[str, Any]:
    definition = resource["definition"]
    schedule = (definition.get("Schedule") or {}).get("ScheduleExpression")
    recent = [u for u in uses if _in_window(u, now)]
    priced = [(u, price_use(u, now)) for u in recent]
    # a region without the crawler rate: its dollars are unknown (None), never $0.00
    unpriced = any(p is not None and p.usd is None for _, p in priced)
    usd = [p.usd or 0.0 for _, p in priced if p is not None]
    minutes = [u["duration_s"] / 60 for u in recent if u.get("duration_s") is not None]
    summarised = [(u, p) for u, p in priced if u.get("changes") is not None]
    unchanged = [(u, p) for u, p in summarised if u["changes"] == 0]
    features: dict[str, Any] = {
        "recrawl_behavior": (definition.get("RecrawlPolicy") or {}).get("RecrawlBehavior")
        or "CRAWL_EVERYTHING",  # AWS's default
        "scheduled": bool(schedule),
        "schedule": schedule or "on demand",
        "s3_targets": bool((definition.get("Targets") or {}).get("S3Targets")),
        "crawls_month": len(recent),
        "crawl_minutes_median": statistics.median(minutes) if minutes else None,
        "cost_usd_month": None if unpriced else sum(usd),
        "unchanged_share": len(unchanged) / len(summarised) if summarised else None,
        "unchanged_usd_month": None
        if unpriced
        else sum(p.usd or 0.0 for _, p in unchanged if p is not None),
        "changes_per_day": (len(summarised) - len(unchanged)) / WINDOW.days if summarised else None,
        **_incremental_policy(definition),
    }
    return features


def _incremental_policy(definition: dict[str, Any]) -> dict[str, Any]:
    """What else an incremental crawl needs: AWS forces (and UpdateCrawler requires) the
    schema-change policy the registry gives, so the command sets it when the crawler's differs."""
    wanted = facts.registry()["crawlers"]["incremental"]["schema_change_policy"]
    current = definition.get("SchemaChangePolicy") or {}
    differs = {k: current.get(k) for k in wanted if current.get(k) != wanted[k]}
    value = ",".join(f"{k}={v}" for k, v in wanted.items())
    return {
        "schema_policy_changes": bool(differs),
        "schema_policy_now": ", ".join(f"{k} {v or 'unset'}" for k, v in differs.items()) or None,
        "schema_policy_arg": f" --schema-change-policy {value}" if differs else "",
    }


def _session(
    resource: dict[str, Any], uses: list[dict[str, Any]], now: datetime, suggested_idle: float
) -> dict[str, Any]:
    definition = resource["definition"]
    use = uses[0] if uses else {}
    priced = price_use(use, now) if use else None
    idle_timeout = definition.get("IdleTimeout")
    if idle_timeout is None:
        idle_timeout = facts.registry()["interactive_sessions"]["default_idle_timeout_min"]
    seconds = (priced.billed_s if priced else None) or use.get("duration_s") or 0.0
    dpus = use.get("dpus") or 0.0
    rate = rate_usd(SESSION, resource["region"])  # None: unpriced, never $0.00
    hit = seconds >= idle_timeout * 60 * 0.98  # it lasted its idle timeout: the timeout ended it
    idle_hours = max(idle_timeout - suggested_idle, 0) / 60 if hit else 0.0
    features: dict[str, Any] = {
        "idle_timeout_min": float(idle_timeout),
        "suggested_idle_min": suggested_idle,
        "active_hours": seconds / 3600,
        "dpus": dpus,
        "hit_idle_timeout": hit,
        "idle_usd": None if rate is None else idle_hours * dpus * rate,
        "cost_usd_month": (priced.usd if priced else None) if _in_window(use, now) else 0.0,
        "number_of_workers": definition.get("NumberOfWorkers"),
        "worker_type": definition.get("WorkerType") or "unknown",
    }
    return features


def _endpoint(
    resource: dict[str, Any], uses: list[dict[str, Any]], now: datetime, _idle: float
) -> dict[str, Any]:
    definition = resource["definition"]
    use = uses[0] if uses else {}
    start = parse_ts(use.get("started_on"))
    running = (resource["state"] or "").upper() in ENDPOINT_RUNNING
    dpus = use.get("dpus") or 0.0
    rate = rate_usd(DEV_ENDPOINT, resource["region"])
    # a creation time after the data's last moment is no age at all: the endpoint bills nothing
    # yet, and no rule calls it long provisioned
    days = max((now - start).total_seconds() / 86400, 0.0) if start else None
    return {
        "running": running,
        "provisioned_days": days,
        "dpus": dpus,
        "glue_version": definition.get("GlueVersion") or "unknown",
        "running_usd_month": dpus * HOURS_A_MONTH * rate if running and rate else None,
    }
