"""Refuse a JobUpdate that UpdateJob would reject, before anyone runs it.

Two nets: botocore's own parameter validation of UpdateJob (types, enums, patterns, ranges of
the service model), then Glue's rules, asked of the facts registry.
"""

from __future__ import annotations

from typing import Any

from botocore.validate import ParamValidator

from advisor import facts
from advisor.fix import glue_rules
from advisor.fix.jobupdate import glue_model
from advisor.fix.secrets import scrub

FLEX = "FLEX"  # ExecutionClass enum value


def botocore_problems(update: dict[str, Any], job_name: str) -> list[str]:
    """What botocore's ParamValidator says of UpdateJob(JobName, JobUpdate); `job_name` is the
    Glue name (not the store's account/region/name key)."""
    shape = glue_model().operation_model("UpdateJob").input_shape
    report = ParamValidator().validate({"JobName": job_name, "JobUpdate": update}, shape)
    if not report.has_errors():
        return []
    lines = report.generate_report().splitlines()
    return [f"botocore: {line.strip()}" for line in lines if line.strip()]


def glue_problems(update: dict[str, Any]) -> list[str]:
    """Glue's rules for the sizing, execution class and timeout fields."""
    problems: list[str] = []
    version = update.get("GlueVersion")
    command = glue_rules.command_name(update)
    worker = update.get("WorkerType")
    workers = update.get("NumberOfWorkers")
    capacity = update.get("MaxCapacity")
    shown = version if version is not None else "(the job's current version)"

    if capacity is not None and (worker is not None or workers is not None):
        problems.append("MaxCapacity cannot be set beside WorkerType/NumberOfWorkers")
    if update.get("AllocatedCapacity") is not None and (
        capacity is not None or worker is not None or workers is not None
    ):
        problems.append("AllocatedCapacity (deprecated) cannot be set beside other capacity")
    if (worker is None) != (workers is None):
        problems.append("WorkerType and NumberOfWorkers must be set together")

    if worker is not None and not facts.worker_type_allowed(worker, version, command):
        allowed = ", ".join(facts.allowed_worker_types(version, command)) or "none"
        problems.append(
            f"WorkerType {worker} is not available to {command} jobs on Glue {shown} "
            f"(allowed: {allowed})"
        )
    minimum = glue_rules.min_workers(command)
    if isinstance(workers, int) and minimum is not None and workers < minimum:
        problems.append(f"NumberOfWorkers {workers} is below Glue's minimum of {minimum}")

    if capacity is not None:
        problems.extend(_capacity_problems(float(capacity), version, command, shown))

    if update.get("ExecutionClass") == FLEX and not facts.feature_allowed(
        "flex", version, command, worker
    ):
        problems.append(
            f"ExecutionClass {FLEX} is not available to {command} jobs on Glue {shown}"
            + (f" with {worker} workers" if worker else "")
        )

    timeout = update.get("Timeout")
    low, high = facts.timeout_range_min()
    if isinstance(timeout, int) and not low <= timeout <= high:
        problems.append(f"Timeout {timeout} is outside Glue's range of {low}..{high} minutes")

    problems.extend(_python_problems(update, version, command))
    return problems


def _capacity_problems(
    capacity: float, version: str | None, command: str | None, shown: str
) -> list[str]:
    if command == glue_rules.PYTHON_SHELL:
        allowed = facts.python_shell_capacities()
        if capacity not in allowed:
            return [f"MaxCapacity {capacity:g} is not one of {allowed} for Python shell jobs"]
        return []
    if not glue_rules.is_spark(command):
        return []
    if not glue_rules.max_capacity_allowed(version, command):
        return [
            f"Glue {shown} refuses MaxCapacity for Spark jobs: set WorkerType and NumberOfWorkers"
        ]
    low, high = glue_rules.spark_capacity_range()
    if not low <= capacity <= high:
        return [f"MaxCapacity {capacity:g} is outside {low:g}..{high:g} DPUs for Spark jobs"]
    return []


def _python_problems(update: dict[str, Any], version: str | None, command: str | None) -> list:
    python = (update.get("Command") or {}).get("PythonVersion")
    if python is None or not glue_rules.is_spark(command):
        return []
    wanted = glue_rules.python_major(version)
    if wanted and str(python).split(".")[0] != wanted:
        return [f"Command.PythonVersion {python} does not run on Glue {version} (Python {wanted})"]
    return []


def validate(update: dict[str, Any], job_name: str) -> list[str]:
    """Every reason UpdateJob would refuse this payload (empty when none); secrets scrubbed."""
    problems = botocore_problems(update, job_name) + glue_problems(update)
    return [scrub(p, update) for p in problems]
