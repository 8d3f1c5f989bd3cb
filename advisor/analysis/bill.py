"""Reconcile what the store holds for a period: its priced runs and billing lines, and its
crawlers, sessions and endpoints priced up to where the bill ends. One place for the CLI, the
MCP server, the weekly report and the dashboard (advisor/analysis/reconcile.py stays pure)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from advisor.analysis.other_costs import costs_by_resource
from advisor.analysis.reconcile import reconcile
from advisor.store import Store
from advisor.timeutil import parse_ts, utcnow


def priced_up_to(until: str, last_billed_day: str | None) -> datetime:
    """Where a session or endpoint still running is priced up to: the end of the period, of
    the billing data, or now, whichever comes first (the bill says nothing past its end)."""
    ends = [parse_ts(until), utcnow()]
    if last_billed_day:
        ends.append(parse_ts(last_billed_day) + timedelta(days=1))
    return min(e for e in ends if e is not None)


def reconcile_in_store(
    store: Store,
    since: str,
    until: str,
    place: tuple[str | None, str | None] = (None, None),
    last_billed_day: str | None = None,
    other: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """reconcile() of [since, until) on the store's data; `other`: the resources' costs when
    the caller already priced them."""
    if other is None:
        other = other_costs_in_store(store, since, until, last_billed_day)
    return reconcile(
        store.priced_runs_between(since, until),
        store.billing_lines_between(since, until),
        {job["name"] for job in store.jobs()},
        since,
        until,
        place,
        other,
    )


def other_costs_in_store(
    store: Store, since: str, until: str, last_billed_day: str | None = None
) -> list[dict[str, Any]]:
    """What the store's crawlers, sessions and endpoints cost in [since, until)."""
    up_to = priced_up_to(until, last_billed_day)
    return costs_by_resource(store.resource_usage(), since, until, up_to)
