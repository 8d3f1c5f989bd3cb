"""Price what crawlers, interactive sessions and development endpoints used, with each one's own
billing rules from the facts registry:

- a crawl: the DPU-hours ListCrawls reports, billed per second with a 10-minute minimum (a
  shorter crawl is billed as ten minutes at the DPUs it used);
- an interactive session: its DPUs for the time it was active, per second with a 1-minute
  minimum; the idle time before its idle timeout ends it is part of that time and billed;
- a development endpoint: its DPUs for the whole time it is provisioned (one still running is
  priced up to `now`), per second with a 10-minute minimum.

A region without a rate for the line is unpriced (usd None), never $0.00.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from advisor import facts
from advisor.analysis.reconcile import spread_over_days
from advisor.collect.resource_records import (
    CRAWLER,
    DEV_ENDPOINT,
    ENDPOINT_RUNNING,
    SESSION,
    SESSION_RUNNING,
)
from advisor.timeutil import parse_ts

RATE_KIND = {CRAWLER: "crawler", SESSION: "interactive_session", DEV_ENDPOINT: "dev_endpoint"}
FACTS_KEY = {CRAWLER: "crawlers", SESSION: "interactive_sessions", DEV_ENDPOINT: "dev_endpoints"}


@dataclass
class PricedUse:
    start: datetime
    billed_s: float
    dpu_hours: float
    usd: float | None  # None: no rate for this line in the region
    basis: str


def rate_usd(kind: str, region: str | None) -> float | None:
    entry = facts.rate_entry(region, RATE_KIND[kind])
    return entry.get("usd") if entry else None


def minimum_s(kind: str) -> float:
    return float(facts.registry()[FACTS_KEY[kind]]["minimum_billed_s"])


def _active_seconds(use: dict[str, Any], start: datetime, now: datetime) -> float | None:
    if use.get("duration_s") is not None:
        return float(use["duration_s"])
    end = parse_ts(use.get("ended_on"))
    running = (use.get("state") or "").upper() in (
        ENDPOINT_RUNNING if use["kind"] == DEV_ENDPOINT else SESSION_RUNNING
    )
    if end is None and running:
        end = now
    return max((end - start).total_seconds(), 0.0) if end else None


def price_use(use: dict[str, Any], now: datetime) -> PricedUse | None:
    """One resource_usage row priced; None when it cannot be (no start, no DPUs, no time, or a
    start after `now`: nothing is billed before a resource exists)."""
    start = parse_ts(use.get("started_on"))
    if start is None or start > now:
        return None
    kind, floor = use["kind"], minimum_s(use["kind"])
    seconds = _active_seconds(use, start, now)
    if kind == CRAWLER:
        if use.get("dpu_hours") is None:
            return None
        used = float(use["dpu_hours"])
        if seconds and seconds < floor:
            dpu_hours, billed, basis = used * floor / seconds, floor, "10-minute minimum"
        else:
            dpu_hours, billed, basis = used, seconds or 0.0, "DPU-hours reported"
    else:
        if seconds is None or not use.get("dpus"):
            return None
        billed = max(seconds, floor)
        dpu_hours = float(use["dpus"]) * billed / 3600
        basis = f"{use['dpus']:g} DPUs x time " + (
            "provisioned" if kind == DEV_ENDPOINT else "active (idle time included)"
        )
        if kind == SESSION and use.get("dpu_hours") is not None:
            # DPUSeconds: "ExecutionTime * MaxCapacity" (API reference), the minute minimum aside
            dpu_hours = max(float(use["dpu_hours"]), float(use["dpus"]) * floor / 3600)
            basis = "DPU-seconds reported"
    rate = rate_usd(kind, use.get("region"))
    return PricedUse(
        start, billed, dpu_hours, dpu_hours * rate if rate is not None else None, basis
    )


def costs_by_resource(
    usage: Iterable[dict[str, Any]], since: str, until: str, now: datetime
) -> list[dict[str, Any]]:
    """Per resource, what its uses cost on the UTC days [since, until): a use across midnight
    (or an endpoint provisioned for weeks) counts the part that falls in the period."""
    totals: dict[tuple[str, str, str, str], dict[str, Any]] = {}
    for use in usage:
        priced = price_use(use, now)
        key = (use["kind"], use["account"], use["region"], use["name"])
        entry = totals.setdefault(
            key,
            {
                "category": use["kind"],
                "account": use["account"],
                "region": use["region"],
                "name": use["name"],
                "resource_id": use.get("arn") or use["name"],
                "uses": 0,
                "dpu_hours": 0.0,
                "computed_usd": 0.0,
                "unpriced_uses": 0,
            },
        )
        if priced is None:
            if since <= (use.get("started_on") or "")[:10] < until:
                entry["unpriced_uses"] += 1
            continue
        inside = False
        usd = priced.usd or 0.0
        for day, part_usd, part_dpu in spread_over_days(
            priced.start, priced.billed_s, usd, priced.dpu_hours
        ):
            if since <= day < until:
                inside = True
                entry["computed_usd"] += part_usd
                entry["dpu_hours"] += part_dpu
        if inside:
            entry["uses"] += 1
            if priced.usd is None:
                entry["unpriced_uses"] += 1
    return [
        e
        for e in sorted(totals.values(), key=lambda e: (e["category"], -e["computed_usd"]))
        if e["uses"] or e["unpriced_uses"]
    ]
