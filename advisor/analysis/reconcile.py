"""What AWS billed against what the advisor computed, per job and day (`advisor reconcile`).

Computed: each priced run's cost and DPU-hours, spread over the UTC days its billed seconds
fall on (a run across midnight is billed in both days' hours, as the export's hourly lines
are). Billed: the export's `Usage` lines of each job (advisor/collect/cur.py). A difference of
a cent or less for a job and day is rounding. Billed jobs the store does not know (deleted
jobs, runs older than the history Glue keeps), the other Glue costs (crawlers, sessions,
catalog, ...) and the adjustments (credits, refunds, tax) are listed apart, never mixed in.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from advisor.identity import split_key
from advisor.timeutil import parse_ts

ROUNDING_USD = 0.01  # per job and day: a difference this small is rounding


def spread_over_days(
    start: datetime, seconds: float, usd: float, dpu_hours: float
) -> Iterable[tuple[str, float, float]]:
    """(UTC day, usd, DPU-hours) of a run that started at `start` and was billed `seconds`."""
    if seconds <= 0:
        yield start.date().isoformat(), usd, dpu_hours
        return
    end = start + timedelta(seconds=seconds)
    at = start
    while at < end:
        midnight = datetime.combine(at.date() + timedelta(days=1), datetime.min.time(), at.tzinfo)
        upto = min(end, midnight)
        share = (upto - at).total_seconds() / seconds
        yield at.date().isoformat(), usd * share, dpu_hours * share
        at = upto


def reconcile(
    runs: list[dict[str, Any]],
    lines: list[dict[str, Any]],
    known_jobs: set[str],
    since: str,
    until: str,
    place: tuple[str | None, str | None] = (None, None),
    other_computed: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The reconciliation of [since, until) (UTC days) from priced runs and billing lines,
    for one account and/or region when `place` names them. `other_computed`: what the store's
    crawlers, sessions and endpoints cost in the period (other_costs.costs_by_resource)."""

    def in_place(account: str, region: str) -> bool:
        return (place[0] in (None, account)) and (place[1] in (None, region))

    computed: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for run in runs:
        account, region, _name = split_key(run["job_name"])
        start = parse_ts(run["started_on"])
        if start is None or not in_place(account, region):
            continue
        seconds = run["billed_seconds"] or run["execution_time_s"] or 0
        for day, usd, dpu in spread_over_days(
            start, float(seconds), run["cost_usd"] or 0.0, run["dpu_hours"] or 0.0
        ):
            if since <= day < until:
                cell = computed[run["job_name"]][day]
                cell[0] += usd
                cell[1] += dpu
    billed: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    unknown: dict[str, dict[str, Any]] = {}
    other: dict[tuple[str, str], dict[str, Any]] = {}
    adjustments: dict[str, float] = defaultdict(float)
    for line in lines:
        if not in_place(line["account"], line["region"]):
            continue
        cost = line["cost"] or 0.0
        if line["line_type"] != "Usage":
            adjustments[line["line_type"] or "(none)"] += cost
        elif line["category"] == "job" and line["job_name"] in known_jobs:
            cell = billed[line["job_name"]][line["day"]]
            cell[0] += cost
            cell[1] += line["usage_amount"] or 0.0
        elif line["category"] == "job":
            entry = unknown.setdefault(
                line["resource_id"],
                {
                    "resource_id": line["resource_id"],
                    "account": line["account"],
                    "region": line["region"],
                    "billed_usd": 0.0,
                },
            )
            entry["billed_usd"] += cost
        else:
            entry = other.setdefault(
                (line["category"], line["resource_id"]),
                {
                    "category": line["category"],
                    "resource_id": line["resource_id"],
                    "account": line["account"],
                    "region": line["region"],
                    "billed_usd": 0.0,
                },
            )
            entry["billed_usd"] += cost
    _match_other(other, [o for o in other_computed or [] if in_place(o["account"], o["region"])])
    jobs = [
        _job(job, computed.get(job, {}), billed.get(job, {}))
        for job in sorted(computed.keys() | billed.keys())
    ]
    unexplained = sum(d["difference_usd"] for j in jobs for d in j["days_differing"]) + sum(
        u["billed_usd"] for u in unknown.values()
    )
    return {
        "period": {"since": since, "until": until},
        "jobs": jobs,
        "unknown_jobs": sorted(unknown.values(), key=lambda u: -u["billed_usd"]),
        "other": sorted(other.values(), key=lambda o: (o["category"], -o["billed_usd"])),
        "adjustments": [
            {"line_type": kind, "usd": usd} for kind, usd in sorted(adjustments.items())
        ],
        "totals": {
            "computed_usd": sum(j["computed_usd"] for j in jobs),
            "billed_usd": sum(j["billed_usd"] for j in jobs)
            + sum(u["billed_usd"] for u in unknown.values()),
            "unexplained_usd": unexplained,
            "other_usd": sum(o["billed_usd"] for o in other.values()),
            "other_computed_usd": sum(o["computed_usd"] or 0 for o in other.values()),
            "adjustments_usd": sum(adjustments.values()),
        },
    }


def _match_other(
    billed: dict[tuple[str, str], dict[str, Any]], computed: list[dict[str, Any]]
) -> None:
    """Put each computed crawler, session and endpoint beside its billed lines (by ARN, or by
    name when the export names it so); one billed but unknown to the store keeps computed
    None, one computed but not billed is added with billed $0."""
    for entry in billed.values():
        entry.update(computed_usd=None, computed_dpu_hours=None, difference_usd=None)
    by_name = {(c, r.rsplit("/", 1)[-1]): e for (c, r), e in billed.items()}
    for used in computed:
        key = (used["category"], used["resource_id"])
        entry = billed.get(key) or by_name.get((used["category"], used["name"]))
        if entry is None:
            entry = billed[key] = {
                "category": used["category"],
                "resource_id": used["resource_id"],
                "account": used["account"],
                "region": used["region"],
                "billed_usd": 0.0,
            }
        entry["computed_usd"] = (entry.get("computed_usd") or 0.0) + used["computed_usd"]
        entry["computed_dpu_hours"] = (entry.get("computed_dpu_hours") or 0.0) + used["dpu_hours"]
        entry["difference_usd"] = entry["billed_usd"] - entry["computed_usd"]
        entry["unpriced_uses"] = used["unpriced_uses"]


def _job(
    job: str, computed: dict[str, list[float]], billed: dict[str, list[float]]
) -> dict[str, Any]:
    account, region, _name = split_key(job)
    differing = []
    for day in sorted(computed.keys() | billed.keys()):
        ours, theirs = computed.get(day, [0.0, 0.0])[0], billed.get(day, [0.0, 0.0])[0]
        if abs(theirs - ours) > ROUNDING_USD:
            differing.append(
                {
                    "day": day,
                    "computed_usd": ours,
                    "billed_usd": theirs,
                    "difference_usd": theirs - ours,
                }
            )
    computed_usd = sum(c[0] for c in computed.values())
    billed_usd = sum(b[0] for b in billed.values())
    return {
        "job": job,
        "account": account,
        "region": region,
        "computed_usd": computed_usd,
        "billed_usd": billed_usd,
        "difference_usd": billed_usd - computed_usd,
        "computed_dpu_hours": sum(c[1] for c in computed.values()),
        "billed_dpu_hours": sum(b[1] for b in billed.values()),
        "days_differing": differing,
    }
