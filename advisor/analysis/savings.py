"""A job's saving: the best set of its findings' fixes that can be applied together.

Findings overlap. Two that set the job's size (worker type, count, MaxCapacity) exclude each
other; two that set the same field to different values exclude each other; failed runs and the
retries among them count the same dollars. Fixes that do combine act on what the others leave:
Flex's cheaper rate applies to the DPU-hours right-sizing keeps, so each fix removes its share of
the remaining cost, and the total never exceeds the sum nor the job's cost.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

import orjson

SIZING_FIELDS = frozenset({"WorkerType", "NumberOfWorkers", "MaxCapacity"})
# rules whose savings count the same money
SAME_MONEY = (frozenset({"failed_run_waste", "retry_waste"}),)
MAX_SEARCHED = 12  # 4,096 subsets at most; jobs rarely have more than a few saving findings


@dataclass
class JobSaving:
    job_name: str
    usd_month: float = 0.0
    dpu_hours_month: float = 0.0
    finding_ids: list[str] = field(default_factory=list)
    sum_usd_month: float = 0.0  # the naive sum, shown beside the real total
    excluded: list[str] = field(default_factory=list)


def _change(finding: dict[str, Any]) -> dict[str, Any]:
    value = finding.get("change")
    return orjson.loads(value) if isinstance(value, str) and value else dict(value or {})


def compatible(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Whether two findings' fixes can both be applied and both savings be had."""
    ca, cb = _change(a), _change(b)
    if SIZING_FIELDS & set(ca) and SIZING_FIELDS & set(cb):
        return False
    if any(ca[k] != cb[k] for k in set(ca) & set(cb)):
        return False
    return not any({a["rule_id"], b["rule_id"]} <= group for group in SAME_MONEY)


def combined(shares: list[float]) -> float:
    """The share of cost a set of fixes removes, each acting on what the others leave."""
    remaining = 1.0
    for share in shares:
        remaining *= 1 - min(1.0, max(0.0, share))
    return 1 - remaining


def _value(subset: tuple[dict[str, Any], ...], cost: float | None) -> float:
    usd = [f["savings_usd_month"] or 0 for f in subset]
    if not cost:
        return sum(usd)
    return cost * combined([u / cost for u in usd])


def best_compatible_set(
    job_name: str,
    findings: list[dict[str, Any]],
    cost_usd_month: float | None,
    dpu_hours_month: float | None,
) -> JobSaving:
    """The compatible subset of findings with the largest combined saving."""
    money = sorted(
        (f for f in findings if (f.get("savings_usd_month") or 0) > 0),
        key=lambda f: (-(f["savings_usd_month"] or 0), f["rule_id"]),
    )
    result = JobSaving(job_name, sum_usd_month=round(sum(f["savings_usd_month"] for f in money), 2))
    searched = money[:MAX_SEARCHED]
    best: tuple[dict[str, Any], ...] = ()
    best_value = 0.0
    for size in range(1, len(searched) + 1):
        for subset in combinations(searched, size):
            if not all(compatible(a, b) for a, b in combinations(subset, 2)):
                continue
            value = _value(subset, cost_usd_month)
            if value > best_value + 1e-9:
                best, best_value = subset, value
    result.usd_month = round(best_value, 2)
    dpu = [f.get("savings_dpu_hours_month") or 0 for f in best]
    result.dpu_hours_month = round(
        dpu_hours_month * combined([d / dpu_hours_month for d in dpu])
        if dpu_hours_month
        else sum(dpu),
        3,
    )
    result.finding_ids = [f["id"] for f in best]
    result.excluded = [f["id"] for f in money if f not in best]
    return result
