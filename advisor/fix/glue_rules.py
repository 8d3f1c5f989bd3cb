"""Glue rules a fix needs, asked of the facts registry (advisor/data/glue_facts.yaml).

Nothing here names a worker type, a version or a limit: each answer is derived from the
registry, so a fact AWS changes is corrected there alone.
"""

from __future__ import annotations

import math
from typing import Any

from advisor import facts

# MaxCapacity counts DPUs: a worker type of `dpu` DPUs carries that many of them. A unit
# definition, not a Glue fact.
ONE_DPU = 1.0
PYTHON_SHELL = "pythonshell"  # JobCommand.Name of Python shell jobs (an API enum value)


def command_name(update: dict[str, Any]) -> str | None:
    return (update.get("Command") or {}).get("Name")


def is_spark(command: str | None) -> bool:
    return (command or facts.SPARK_JOB_TYPES[0]) in facts.SPARK_JOB_TYPES


def max_capacity_versions() -> tuple[str, ...]:
    """Glue versions on which a Spark job may still size itself with MaxCapacity.

    The registry's `limits.max_capacity_spark_dpu.versions` when it states them; otherwise the
    versions of the worker types Glue limits to named versions (the Standard-worker era, when
    MaxCapacity was how Spark jobs were sized).
    """
    limits = facts.registry()["limits"].get("max_capacity_spark_dpu") or {}
    if limits.get("versions"):
        return tuple(str(v) for v in limits["versions"])
    found: set[str] = set()
    for entry in facts.registry()["worker_types"].values():
        if entry.get("versions") and set(entry["job_types"]) & set(facts.SPARK_JOB_TYPES):
            found.update(str(v) for v in entry["versions"])
    return tuple(sorted(found, key=lambda v: facts.version_key(v) or ()))


def max_capacity_allowed(glue_version: str | None, command: str | None) -> bool:
    """Whether Glue accepts MaxCapacity for this job (Python shell always; Spark only early)."""
    if not is_spark(command) or glue_version is None:
        return True
    have = facts.version_key(glue_version)
    return any(facts.version_key(v) == have for v in max_capacity_versions())


def spark_capacity_range() -> tuple[float, float]:
    limits = facts.registry()["limits"]["max_capacity_spark_dpu"]
    return float(limits["min"]), float(limits["max"])


def min_workers(command: str | None) -> int | None:
    """The fewest workers Glue accepts for a Spark job, when the registry states it."""
    if not is_spark(command):
        return None
    value = facts.registry()["limits"].get("number_of_workers_min_spark")
    return int(value) if value is not None else None


def replacement_worker_type(
    old: str | None, glue_version: str | None, command: str | None
) -> str | None:
    """The worker type to move to when `old` (or MaxCapacity, when None) is not allowed.

    The same machine (vCPUs, memory, unit) when the new version offers it, so the job keeps its
    capacity and its DPU-hour bill; otherwise the smallest allowed type at least as big.
    """
    allowed = [facts.worker_type(n) for n in facts.allowed_worker_types(glue_version, command)]
    allowed = [w for w in allowed if w is not None]
    if not allowed:
        return None
    ref = facts.worker_type(old)
    if ref is not None:
        for w in allowed:
            if (w.vcpu, w.memory_gb, w.unit) == (ref.vcpu, ref.memory_gb, ref.unit):
                return w.name
        unit, dpu = ref.unit, ref.dpu
    else:
        # MaxCapacity counts plain DPUs: the allowed type of exactly one DPU, else the next size
        unit, dpu = allowed[0].unit, ONE_DPU
        same = [w for w in allowed if w.dpu == ONE_DPU and w.unit == unit]
        if same:
            return same[0].name
    bigger = sorted((w for w in allowed if w.unit == unit and w.dpu >= dpu), key=lambda w: w.dpu)
    return (bigger or sorted(allowed, key=lambda w: w.dpu))[0].name


def workers_for(capacity_dpu: float, worker_type: str, command: str | None) -> int:
    """Workers of `worker_type` carrying `capacity_dpu` DPUs (rounded up, at least the minimum)."""
    per_worker = facts.dpu_per_worker(worker_type) or ONE_DPU
    count = max(1, math.ceil(capacity_dpu / per_worker - 1e-9))
    return max(count, min_workers(command) or 1)


def python_major(glue_version: str | None) -> str | None:
    """The Python major version a Spark job must declare on this Glue version, when only one."""
    info = facts.version(glue_version)
    if not info:
        return None
    majors = {str(p).split(".")[0] for p in info.get("python") or []}
    return majors.pop() if len(majors) == 1 else None


def python_shell_runtime(glue_version: str | None) -> str | None:
    """The Python shell runtime (Command.PythonVersion) this Glue version runs, when only one."""
    runtimes = [
        name
        for name, entry in facts.registry()["python_shell"]["runtimes"].items()
        if facts.version_key(str(entry["glue_version"])) == facts.version_key(glue_version)
    ]
    return runtimes[0] if len(runtimes) == 1 else None
