"""Price every stored run and keep the result in `run_costs` (read by every output), with the
cost per job and day in `daily_costs` (what the dashboard charts read); or price again only
what changed since the last analysis (price_changes)."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any

import orjson

from advisor.analysis.pricing import run_cost
from advisor.analysis.runstats import FAILED_STATES
from advisor.store import Store

COST_COLUMNS = [
    "run_id",
    "job_name",
    "started_on",
    "billed_seconds",
    "capacity_dpu",
    "dpu_hours",
    "rate_usd_per_dpu_hour",
    "rate_confirmed",
    "cost_usd",
    "basis",
    "minimum_applied",
]


def compute_run_costs(
    store: Store,
    overrides: dict[str, dict[str, Any]] | None = None,
    keep: list[dict[str, Any]] | None = None,
) -> int:
    """Price every run; `keep`, when given, receives each run with its cost (by job, oldest
    first: the shape of Store.run_history(), so features need not read the runs again)."""
    values, daily = _price(store, store.runs_for_costing(), overrides, keep)
    with store.transaction():
        store.upsert_cost_values(COST_COLUMNS, values)
    store.replace_daily_costs(_daily_rows(daily))
    return len(values)


def price_changes(
    store: Store,
    overrides: dict[str, dict[str, Any]] | None,
    jobs: Collection[str],
    run_ids: Collection[str],
    days: Collection[tuple[str, str]],
) -> int:
    """Price again what changed: every run of `jobs` (their definition or versions changed),
    the runs `run_ids` (new, updated, their metrics or logs changed), and rebuild the cost of
    each (job, UTC day) of `days` (where those runs fall, now or when last priced) from all of
    its runs, added in the order compute_run_costs() adds them. What nothing touched keeps its
    rows, which compute_run_costs() would write the same."""
    days = {(job, day) for job, day in days if job not in jobs}
    if not jobs and not days and not run_ids:
        return 0
    store.select_runs_to_price(jobs, days, run_ids)
    values, daily = _price(store, store.runs_for_costing(selected=True), overrides, None)
    with store.transaction():
        store.upsert_cost_values(COST_COLUMNS, values)
        store.replace_daily_costs(_daily_rows(daily), jobs=set(jobs), days=days)
    return len(values)


def _price(
    store: Store,
    runs: Iterable[dict[str, Any]],
    overrides: dict[str, dict[str, Any]] | None,
    keep: list[dict[str, Any]] | None,
) -> tuple[list[tuple], dict[tuple, list[float]]]:
    """run_costs values and sums per job and day of `runs`."""
    values = []
    rates: dict[tuple, Any] = {}  # pricing worked out once per run configuration
    # a job's own Auto Scaling argument, for runs that do not set theirs
    job_autoscaling = {
        job["name"]: orjson.loads(job.get("default_arguments") or "{}").get("--enable-auto-scaling")
        for job in store.jobs()
    }
    classes = store.execution_class_history()
    daily: dict[tuple, list[float]] = {}
    for run in runs:
        if run["autoscaling"] is None:
            run["autoscaling"] = job_autoscaling.get(run["job_name"])
        inherited = run["execution_class"] is None and _inherit_class(run, classes)
        cost = run_cost(run, overrides, rates)
        basis = f"{cost.basis}+job_class" if inherited else cost.basis
        values.append(
            (
                run["id"],
                run["job_name"],
                run["started_on"],
                cost.billed_seconds,
                cost.capacity_dpu,
                cost.dpu_hours,
                cost.rate.usd,
                int(cost.rate.confirmed),
                cost.cost_usd,
                basis,
                int(cost.minimum_applied),
            )
        )
        if run["started_on"]:
            _add_to_day(daily, run, cost.dpu_hours or 0.0, cost.cost_usd)
        if keep is not None:
            run["dpu_hours"], run["cost_usd"] = cost.dpu_hours, cost.cost_usd
            run["minimum_applied"] = int(cost.minimum_applied)
            run["billed_seconds"], run["capacity_dpu"] = cost.billed_seconds, cost.capacity_dpu
            keep.append(run)
    return values, daily


def _daily_rows(daily: dict[tuple, list[float]]) -> list[dict[str, Any]]:
    return [
        {
            "day": day,
            "job_name": job,
            "job_type": job_type,
            "worker_type": worker_type,
            "execution_class": execution_class,
            "runs": int(runs),
            "failed_runs": int(failed),
            "dpu_hours": dpu,
            "usd": usd,
            "failed_usd": failed_usd,
            "unpriced_runs": int(unpriced),
        }
        for (day, job, job_type, worker_type, execution_class), (
            runs,
            failed,
            dpu,
            usd,
            failed_usd,
            unpriced,
        ) in daily.items()
    ]


def _inherit_class(run: dict[str, Any], classes: dict[str, list[tuple[str, Any]]]) -> bool:
    """A run that does not say its ExecutionClass ran with its job's class at the time (the
    newest definition from before it started, else the oldest known): a Flex job's run
    priced at the standard rate cost half again too much. True if a class was taken."""
    versions = classes.get(run["job_name"])
    if not versions:
        return False
    started = run["started_on"] or ""
    chosen = versions[0][1]
    for since, execution_class in versions:
        if since <= started:
            chosen = execution_class
    if chosen is None:
        return False
    run["execution_class"] = chosen
    return True


def _add_to_day(
    daily: dict[tuple, list[float]], run: dict[str, Any], dpu: float, usd: float | None
) -> None:
    key = (
        run["started_on"][:10],
        run["job_name"],
        run["command_name"] or "unknown",
        run["worker_type"] or run["job_worker_type"] or "none",
        run["execution_class"] or run["job_execution_class"] or "STANDARD",
    )
    sums = daily.get(key)
    if sums is None:
        sums = daily[key] = [0, 0, 0.0, 0.0, 0.0, 0]
    failed = run["state"] in FAILED_STATES
    sums[0] += 1
    sums[1] += failed
    sums[2] += dpu
    sums[3] += usd or 0.0
    sums[4] += (usd or 0.0) if failed else 0.0
    sums[5] += usd is None
