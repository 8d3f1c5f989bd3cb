"""Glue billing rules: DPU-hours and dollars for one run.

Per-second billing with a minimum (1 minute on Glue 2.0+, 10 minutes on 0.9/1.0 Spark jobs);
`DPUSeconds` when Glue reports it (Auto Scaling, Flex); otherwise capacity x execution time.
Rates come from `advisor/data/rates.yaml`, overridable per region.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

DPU_PER_WORKER: dict[str, float] = {
    "Standard": 1.0,
    "G.025X": 0.25,
    "G.1X": 1.0,
    "G.2X": 2.0,
    "G.4X": 4.0,
    "G.8X": 8.0,
    "G.12X": 12.0,
    "G.16X": 16.0,
    # memory-optimised DPUs (M-DPU): 4 vCPU + 32 GB each
    "R.1X": 1.0,
    "R.2X": 2.0,
    "R.4X": 4.0,
    "R.8X": 8.0,
    "Z.2X": 2.0,
}
LEGACY_GLUE_VERSIONS = {"0.9", "1.0"}
LEGACY_MINIMUM_S = 600
MINIMUM_S = 60


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


@lru_cache(maxsize=1)
def packaged_rates() -> dict[str, Any]:
    text = resources.files("advisor.data").joinpath("rates.yaml").read_text()
    return yaml.safe_load(text)


def rate_kind(
    command_name: str | None, worker_type: str | None, execution_class: str | None
) -> str:
    """Which price line a run is billed on."""
    if command_name == "pythonshell":
        return "python_shell"
    if command_name == "glueray" or worker_type == "Z.2X":
        return "ray"
    if worker_type and worker_type.startswith("R."):
        return "memory_optimized"
    if command_name == "gluestreaming":
        return "streaming"
    if (execution_class or "").upper() == "FLEX":
        return "flex"
    return "etl"


def lookup_rate(
    region: str | None, kind: str, overrides: dict[str, dict[str, Any]] | None = None
) -> Rate:
    table = packaged_rates()
    regions = table["regions"]
    region = region or table["fallback_region"]
    override = ((overrides or {}).get(region) or {}).get(kind)
    if override is not None:
        return Rate(float(override), True, "advisor.toml override")
    entry = (regions.get(region) or {}).get(kind)
    if entry is None:
        entry = regions[table["fallback_region"]][kind]
        return Rate(entry["usd"], False, f"{table['fallback_region']} rate used for {region}")
    return Rate(entry["usd"], bool(entry["confirmed"]), entry["source"])


def capacity_dpu(run: dict[str, Any]) -> float | None:
    """DPUs the run held: workers x DPU per worker, else MaxCapacity (Python shell, legacy)."""
    workers, worker_type = run.get("number_of_workers"), run.get("worker_type")
    if workers and worker_type in DPU_PER_WORKER and worker_type != "Standard":
        return workers * DPU_PER_WORKER[worker_type]
    if run.get("max_capacity"):
        return float(run["max_capacity"])
    if workers and worker_type == "Standard":
        return float(workers)
    if run.get("allocated_capacity"):
        return float(run["allocated_capacity"])
    return None


def minimum_seconds(glue_version: str | None, command_name: str | None) -> int:
    if command_name in (None, "glueetl") and glue_version in LEGACY_GLUE_VERSIONS:
        return LEGACY_MINIMUM_S
    return MINIMUM_S


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
    if run.get("dpu_seconds"):
        # Glue already applied its own rules to DPUSeconds (Auto Scaling, Flex): bill it as is.
        dpu_seconds = float(run["dpu_seconds"])
        basis, minimum_applied = "dpu_seconds", False
        billed_seconds = run.get("execution_time_s")
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
    kind = rate_kind(run.get("command_name"), run.get("worker_type"), run.get("execution_class"))
    return (
        lookup_rate(run.get("region"), kind, overrides),
        capacity_dpu(run),
        minimum_seconds(run.get("glue_version"), run.get("command_name")),
    )
