"""Price every stored run and keep the result in `run_costs` (read by every output)."""

from __future__ import annotations

from typing import Any

from advisor.analysis.pricing import run_cost
from advisor.store import Store


def compute_run_costs(store: Store, overrides: dict[str, dict[str, Any]] | None = None) -> int:
    rows = []
    rates: dict[tuple, Any] = {}  # one rate lookup per (region, price line), not per run
    for run in store.runs_for_costing():
        cost = run_cost(run, overrides, rates)
        rows.append(
            {
                "run_id": run["id"],
                "job_name": run["job_name"],
                "started_on": run["started_on"],
                "billed_seconds": cost.billed_seconds,
                "capacity_dpu": cost.capacity_dpu,
                "dpu_hours": cost.dpu_hours,
                "rate_usd_per_dpu_hour": cost.rate.usd,
                "rate_confirmed": int(cost.rate.confirmed),
                "cost_usd": cost.cost_usd,
                "basis": cost.basis,
                "minimum_applied": int(cost.minimum_applied),
            }
        )
    with store.transaction():
        store.upsert_costs(rows)
    store.rebuild_daily_costs()
    return len(rows)
