"""The advisor's own AWS bill: what the calls of one `advisor collect` cost.

AWS bills CloudWatch GetMetricData per metric requested (each MetricDataQuery counts, whether it
returns data or not), ListMetrics and S3 per request; Glue's job APIs, STS and Organizations are
free. The prices are the facts registry's (`collector_api_prices` in glue_facts.yaml, us-east-1
list prices before free tiers); another region is priced at us-east-1's and marked unconfirmed,
and an operation the registry does not price is shown unpriced, never as $0.00.

AwsClients (aws.py) counts each call and its billed units with `billed_units`; the runner turns
the counts into `collector_calls` rows with `price_calls`, and `summarize` totals them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from advisor import facts

PRICED_REGION = "us-east-1"
METRIC_BILLED = frozenset({"cloudwatch:GetMetricData"})


def billed_units(operation: str, params: Mapping[str, Any]) -> int:
    """What AWS bills one call by: the metrics it requests for GetMetricData (expressions are
    not metrics), else the request itself."""
    if operation in METRIC_BILLED:
        return sum(1 for q in params.get("MetricDataQueries") or () if "MetricStat" in q)
    return 1


def unit_of(operation: str) -> str:
    return "metric" if operation in METRIC_BILLED else "request"


@dataclass(frozen=True)
class ApiPrice:
    operation: str
    usd: float  # per `per` billed units
    per: int
    unit: str
    confirmed: bool  # read on an AWS page, for this region
    source: str

    def cost(self, units: int) -> float:
        return units * self.usd / self.per


def price_of(operation: str, region: str | None) -> ApiPrice | None:
    """The registry's price of one operation in a region (us-east-1's, unconfirmed, for a region
    the registry does not list), or None when it has none."""
    table = facts.registry()["collector_api_prices"]
    entry = (table.get(region or "") or {}).get(operation)
    own_region = entry is not None
    entry = entry or table[PRICED_REGION].get(operation)
    if entry is None:
        return None
    return ApiPrice(
        operation=operation,
        usd=float(entry["usd"]),
        per=int(entry["per"]),
        unit=entry["unit"],
        confirmed=bool(entry["confirmed"]) and own_region,
        source=entry["source"],
    )


def price_calls(
    calls: Mapping[str, int],
    units: Mapping[str, int],
    *,
    collected_at: str,
    account: str,
    region: str,
) -> list[dict[str, Any]]:
    """`collector_calls` rows (schema m013) for one account and region's counted calls."""
    rows = []
    for operation in sorted(set(calls) | set(units)):
        price = price_of(operation, region)
        billed = int(units.get(operation, 0))
        rows.append(
            {
                "collected_at": collected_at,
                "account": account,
                "region": region,
                "operation": operation,
                "calls": int(calls.get(operation, 0)),
                "billed_units": billed,
                "unit": price.unit if price else unit_of(operation),
                "cost_usd": price.cost(billed) if price else None,
            }
        )
    return rows


def summarize(rows: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Per operation (every account and region together) and in total: calls, billed units and
    cost; `confirmed` is false when any part was priced at a rate not read on an AWS page, and
    `unpriced` names operations the registry has no price for."""
    by_op: dict[str, dict[str, Any]] = {}
    for row in rows:
        entry = by_op.setdefault(
            row["operation"],
            {
                "operation": row["operation"],
                "calls": 0,
                "billed_units": 0,
                "unit": row["unit"],
                "cost_usd": 0.0,
                "confirmed": True,
                "priced": True,
            },
        )
        entry["calls"] += row["calls"]
        entry["billed_units"] += row["billed_units"]
        price = price_of(row["operation"], row["region"])
        if price is None or row["cost_usd"] is None:
            entry["priced"] = False
        else:
            entry["cost_usd"] += row["cost_usd"]
            entry["confirmed"] = entry["confirmed"] and price.confirmed
    operations = [by_op[k] for k in sorted(by_op)]
    for entry in operations:
        if not entry["priced"]:
            entry["cost_usd"] = None
    priced = [e for e in operations if e["priced"]]
    return {
        "operations": operations,
        "calls": sum(e["calls"] for e in operations),
        "total_usd": sum(e["cost_usd"] for e in priced),
        "confirmed": all(e["confirmed"] for e in priced),
        "unpriced": [e["operation"] for e in operations if not e["priced"]],
        "prices": f"{PRICED_REGION} list prices before free tiers (glue_facts.yaml)",
    }


def monthly_projection(
    per_job: Mapping[str, float],
    per_run: Mapping[str, float],
    *,
    jobs: int,
    runs_per_job_per_day: float,
    collects_per_day: int = 1,
    days: int = 30,
    region: str = PRICED_REGION,
) -> dict[str, Any]:
    """A month's bill for a fleet, from measured billed units per job per collect (`per_job`:
    GetJobRuns, ListMetrics, ListObjectsV2...) and per run collected (`per_run`:
    GetMetricData metrics, GetObject)."""
    lines = []
    for operation in sorted(set(per_job) | set(per_run)):
        units = per_job.get(operation, 0.0) * jobs * collects_per_day * days
        units += per_run.get(operation, 0.0) * jobs * runs_per_job_per_day * days
        price = price_of(operation, region)
        lines.append(
            {
                "operation": operation,
                "billed_units": units,
                "unit": price.unit if price else unit_of(operation),
                "cost_usd": price.cost(round(units)) if price else None,
            }
        )
    return {
        "jobs": jobs,
        "runs_per_job_per_day": runs_per_job_per_day,
        "collects_per_day": collects_per_day,
        "days": days,
        "lines": lines,
        "total_usd": sum(line["cost_usd"] or 0.0 for line in lines),
    }
