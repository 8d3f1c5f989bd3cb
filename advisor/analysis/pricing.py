"""Glue billing rules: DPU-hours and dollars for one run.

Per-second billing with each version's minimum (from the facts registry); `DPUSeconds` when Glue
reports it (Auto Scaling, Flex); otherwise capacity x execution time. Rates come from the facts
registry (advisor/data/glue_facts.yaml), overridable per region in advisor.toml. A region or
price line the registry has no rate for is unpriced (cost None), never $0.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from advisor import facts


@dataclass(frozen=True)
class Rate:
    usd: float | None
    confirmed: bool
    source: str


@dataclass(frozen=True)
class RunCost:
    billed_seconds: float | None
    capacity_dpu: float | None
    dpu_hours: float | None
    rate: Rate
    cost_usd: float | None
    basis: str
    minimum_applied: bool


def rate_kind(
    command_name: str | None,
    worker_type: str | None,
    execution_class: str | None,
    glue_version: str | None = None,
) -> str:
    """Which price line a run is billed on."""
    if command_name == "pythonshell":
        return "python_shell"
    if command_name == "glueray" or facts.is_ray_worker(worker_type):
        return "ray"
    if facts.is_memory_optimized(worker_type):
        return "memory_optimized"
    if command_name == "gluestreaming":
        return "streaming"
    flex = (execution_class or "").upper() == "FLEX"
    if facts.bills_gen2(glue_version):
        return "flex_gen2" if flex else "etl_gen2"
    return "flex" if flex else "etl"


# a price line without its own published rate is billed like its parent, marked unconfirmed
PARENT_KIND = {"etl_gen2": "etl", "flex_gen2": "flex"}


def lookup_rate(
    region: str | None, kind: str, overrides: dict[str, dict[str, Any]] | None = None
) -> Rate:
    override = ((overrides or {}).get(region or "") or {}).get(kind)
    if override is not None:
        return Rate(float(override), True, "advisor.toml override")
    entry = facts.rate_entry(region, kind)
    if (entry is None or entry.get("usd") is None) and kind in PARENT_KIND:
        parent = lookup_rate(region, PARENT_KIND[kind], overrides)
        return Rate(parent.usd, False, f"{kind} rate not published: {PARENT_KIND[kind]} rate used")
    if entry is None or entry.get("usd") is None:
        return Rate(None, False, f"no {kind} rate for region {region or 'unknown'}")
    page = facts.source(entry.get("source", ""))
    return Rate(float(entry["usd"]), bool(entry.get("confirmed")), page.get("url") or "")


def capacity_dpu(run: dict[str, Any]) -> float | None:
    """DPUs the run held: workers x DPU per worker, else MaxCapacity (Python shell, legacy)."""
    workers, worker_type = run.get("number_of_workers"), run.get("worker_type")
    per_worker = facts.dpu_per_worker(worker_type)
    if workers and per_worker and worker_type != "Standard":
        return workers * per_worker
    if run.get("max_capacity"):
        return float(run["max_capacity"])
    if workers and per_worker:
        return float(workers * per_worker)
    if run.get("allocated_capacity"):
        return float(run["allocated_capacity"])
    return None


def minimum_seconds(glue_version: str | None, command_name: str | None) -> int:
    return facts.minimum_billed_s(glue_version, command_name)


def run_cost(
    run: dict[str, Any],
    overrides: dict[str, dict[str, Any]] | None = None,
    rate_cache: dict[tuple, Any] | None = None,
) -> RunCost:
    """Price one run (a `job_runs` row joined with its job's command name). A caller pricing
    many runs passes one `rate_cache` dict: what depends only on the run's configuration (price
    line, rate, DPUs, minimum) is then worked out once per configuration."""
    if rate_cache is None:
        rate, capacity, minimum = _configuration(run, overrides)
    else:
        key = (
            run.get("region"),
            run.get("command_name"),
            run.get("worker_type"),
            run.get("execution_class"),
            run.get("glue_version"),
            run.get("number_of_workers"),
            run.get("max_capacity"),
            run.get("allocated_capacity"),
        )
        known = rate_cache.get(key)
        if known is None:
            known = rate_cache[key] = _configuration(run, overrides)
        rate, capacity, minimum = known
    autoscaled = str(run.get("autoscaling") or "").strip().lower() not in ("", "false")
    if run.get("dpu_seconds"):
        # Glue already applied its own rules to DPUSeconds (Auto Scaling, Flex): bill it as is.
        dpu_seconds = float(run["dpu_seconds"])
        basis, minimum_applied = "dpu_seconds", False
        billed_seconds = run.get("execution_time_s")
    elif autoscaled and run.get("execution_time_s") is not None and capacity:
        # Auto Scaling bills the workers that ran; NumberOfWorkers is only the maximum. Without
        # DPUSeconds, CloudWatch's executors (plus the driver's worker) say what ran; without
        # them the maximum is an upper bound, and says so
        billed_seconds = max(float(run["execution_time_s"]), minimum)
        minimum_applied = billed_seconds > float(run["execution_time_s"])
        per_worker = facts.dpu_per_worker(run.get("worker_type"))
        held = run.get("executors_avg")
        if held is not None and per_worker and run.get("number_of_workers"):
            workers = min(float(run["number_of_workers"]), float(held) + 1)
            dpu_seconds, basis = billed_seconds * workers * per_worker, "autoscaling_executors"
        else:
            dpu_seconds, basis = billed_seconds * capacity, "autoscaling_upper_bound"
    elif run.get("execution_time_s") is not None and capacity:
        billed_seconds = max(float(run["execution_time_s"]), minimum)
        minimum_applied = billed_seconds > float(run["execution_time_s"])
        dpu_seconds = billed_seconds * capacity
        basis = "capacity_x_time"
    else:
        return RunCost(None, capacity, None, rate, None, "unknown", False)
    dpu_hours = dpu_seconds / 3600.0
    cost = None if rate.usd is None else dpu_hours * rate.usd
    return RunCost(billed_seconds, capacity, dpu_hours, rate, cost, basis, minimum_applied)


def _configuration(
    run: dict[str, Any], overrides: dict[str, dict[str, Any]] | None
) -> tuple[Rate, float | None, int]:
    """Rate, DPUs held and minimum billed seconds: what a run's configuration decides."""
    kind = rate_kind(
        run.get("command_name"),
        run.get("worker_type"),
        run.get("execution_class"),
        run.get("glue_version"),
    )
    return (
        lookup_rate(run.get("region"), kind, overrides),
        capacity_dpu(run),
        minimum_seconds(run.get("glue_version"), run.get("command_name")),
    )
