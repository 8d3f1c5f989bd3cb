"""Features that come from Glue's own rules (the facts registry) applied to one job's definition.

Version support, upgrade targets, which worker types and features the job may use, the job's
own rate and each worker type's disk and memory: the rules compare these, never a literal fact.
"""

from __future__ import annotations

import math
from typing import Any

from advisor import facts
from advisor.analysis.pricing import lookup_rate, rate_kind

VERSION_RISK = {"end_of_life": 3, "end_of_support": 2, "supported": 0, "unknown": 0}


def version_features(job: dict[str, Any], as_of: str | None) -> dict[str, Any]:
    """Where the job's Glue version (or Python shell runtime) stands, and what to move to."""
    command = job.get("command_name") or "glueetl"
    version = job.get("glue_version")
    out: dict[str, Any] = {}
    if command == "pythonshell":
        status = facts.python_shell_status(job.get("python_version"), as_of)
        glue_status = facts.version_status(version, as_of)
        if VERSION_RISK[glue_status.status] > VERSION_RISK[status.status]:
            status = glue_status
        target = facts.python_shell_upgrade()
        if target:
            out["upgrade_version"], out["upgrade_python"] = target
            out["upgrade_python_shell"] = target[1]
        out["runtime_label"] = f"Python shell {job.get('python_version') or '?'} on Glue {version}"
    else:
        status = facts.version_status(version, as_of, job.get("python_version"))
        target_version = facts.upgrade_target(command)
        out["upgrade_version"] = target_version
        target = facts.version(target_version) or {}
        current = facts.version(version) or {}
        out["upgrade_spark"] = target.get("spark")
        out["upgrade_python"] = ", ".join(target.get("python") or []) or None
        out["current_spark"] = current.get("spark")
        out["runtime_label"] = f"Glue {version} (Spark {current.get('spark') or '?'})"
    out.update(
        version_status=status.status,
        version_end_of_support=status.end_of_support,
        version_end_of_life=status.end_of_life,
        version_risk=VERSION_RISK[status.status],
        version_status_text=_status_text(status),
        is_legacy_version=status.status in ("end_of_life", "end_of_support"),
        version_past_end_of_life=status.status == "end_of_life",
    )
    out.update(_upgrade_capacity(job))
    return out


def _status_text(status: facts.VersionStatus) -> str:
    if status.status == "end_of_life":
        return f"past end of life since {status.end_of_life}"
    if status.status == "end_of_support":
        return f"past end of support since {status.end_of_support}"
    return status.status


def _upgrade_capacity(job: dict[str, Any]) -> dict[str, Any]:
    """A Spark job on Standard workers or MaxCapacity must name workers when it leaves 1.0:
    the smallest general-purpose type, as many workers as it held DPUs."""
    if job.get("command_name") not in facts.SPARK_JOB_TYPES:
        return {}
    if job.get("worker_type") not in (None, "Standard"):
        return {}
    target = facts.upgrade_target(job.get("command_name"))
    general = [t for t in facts.allowed_worker_types(target, "glueetl") if t.startswith("G.")]
    if not general:
        return {}
    smallest = min(general, key=lambda t: facts.dpu_per_worker(t) or math.inf)
    dpus = job.get("max_capacity") or job.get("number_of_workers") or 0
    per_worker = facts.dpu_per_worker(smallest) or 1
    return {
        "upgrade_worker_type": smallest,
        "upgrade_workers": max(2, math.ceil(float(dpus) / per_worker)) if dpus else None,
    }


def capability_features(job: dict[str, Any]) -> dict[str, Any]:
    """Which execution class, scaling and metrics this job's type and version allow."""
    version, command, worker = (
        job.get("glue_version"),
        job.get("command_name"),
        job.get("worker_type"),
    )
    allowed = (
        facts.allowed_worker_types(version, command) if command in facts.SPARK_JOB_TYPES else []
    )
    observability = facts.feature_allowed("observability_metrics", version, command)
    return {
        "flex_allowed": facts.feature_allowed("flex", version, command, worker),
        "autoscaling_allowed": facts.feature_allowed("auto_scaling", version, command, worker),
        "observability_allowed": observability,
        "worker_type_allowed": facts.worker_type_allowed(worker, version, command)
        if worker
        else None,
        "allowed_worker_types": ", ".join(allowed) or None,
        "memory_optimized_type": _memory_optimized(worker, version, command),
        "is_memory_optimized": facts.is_memory_optimized(worker),
        "general_purpose_type": _general_purpose(worker, version, command),
        "python_shell_min_dpu": min(facts.python_shell_capacities()),
        "timeout_max_min": facts.timeout_range_min()[1],
        "timeout_min_min": facts.timeout_range_min()[0],
        "cloud_shuffle_allowed": facts.feature_allowed("cloud_shuffle_storage", version, command),
        "cloud_shuffle_value": "true"
        if facts.feature_allowed("cloud_shuffle_storage", version, command)
        else None,
        "grouping_formats": ", ".join(facts.feature("file_grouping")["formats"]),
        "grouping_auto_files": facts.feature("file_grouping")["automatic_above_files"],
        "observability_min_version": facts.feature("observability_metrics")["min_version"],
        "enable_observability_value": "true" if observability else None,
        "metrics_to_enable": "--enable-metrics and --enable-observability-metrics"
        if observability
        else "--enable-metrics",
    }


def _memory_optimized(worker: str | None, version: str | None, command: str | None) -> str | None:
    """The R.* type with as many vCPUs as this worker, where the job may use one."""
    info = facts.worker_type(worker)
    if info is None or info.unit == "M-DPU":
        return None
    for name in facts.worker_type_names():
        other = facts.worker_type(name)
        if (
            other
            and facts.is_memory_optimized(name)
            and other.vcpu == info.vcpu
            and facts.worker_type_allowed(name, version, command)
        ):
            return name
    return None


def _general_purpose(worker: str | None, version: str | None, command: str | None) -> str | None:
    """The G type with as many vCPUs as this memory-optimised worker."""
    info = facts.worker_type(worker)
    if info is None or not facts.is_memory_optimized(worker):
        return None
    for name in facts.worker_type_names():
        other = facts.worker_type(name)
        if (
            other
            and name.startswith("G.")
            and other.vcpu == info.vcpu
            and facts.worker_type_allowed(name, version, command)
        ):
            return name
    return None


def shape_features(job: dict[str, Any]) -> dict[str, Any]:
    """Per-worker disk and per-task memory of the job's worker type, on its Glue version."""
    worker, version = job.get("worker_type"), job.get("glue_version")
    info = facts.worker_type(worker)
    shape = facts.executor_shape(worker, version)
    return {
        "worker_disk_gb": info.disk_gb if info else None,
        # what a job can fill: the disk less what the image uses (AWS's "approximately free")
        "worker_free_disk_gb": (info.free_disk_gb or info.disk_gb) if info else None,
        "executor_cores": shape[0] if shape else None,
        "executor_heap_gb": shape[1] if shape else None,
        "heap_per_core_gb": shape[1] / shape[0] if shape else None,
    }


def rate_features(job: dict[str, Any]) -> dict[str, Any]:
    """The job's own rate (its price line in its region), for every saving it is offered."""
    kind = rate_kind(job.get("command_name"), job.get("worker_type"), job.get("execution_class"))
    rate = lookup_rate(job.get("region"), kind)
    etl = lookup_rate(job.get("region"), "etl")
    flex = lookup_rate(job.get("region"), "flex")
    memory = lookup_rate(job.get("region"), "memory_optimized")
    return {
        "rate_kind": kind,
        "job_rate_usd": rate.usd,
        "job_rate_confirmed": rate.confirmed,
        "etl_rate_usd": etl.usd,
        "flex_rate_usd": flex.usd,
        "flex_rate_confirmed": flex.confirmed,
        "memory_optimized_rate_usd": memory.usd,
    }


def disk_features(f: dict[str, Any]) -> dict[str, Any]:
    """BlockManager disk use is summed over executors (and counts cached blocks): per worker
    it is the sum over the executors, one per worker but the driver's."""
    used, workers, disk = (
        f.get("disk_used_gb_max"),
        f.get("number_of_workers"),
        f.get("worker_free_disk_gb"),
    )
    if used is None or not workers:
        return {"disk_used_per_worker_gb": None, "disk_used_fraction": None}
    executors = max(1, int(workers) - 1)
    per_worker = used / executors
    return {
        "disk_used_per_worker_gb": per_worker,
        "disk_used_fraction": per_worker / disk if disk else None,
    }


def definition_facts(job: dict[str, Any], as_of: str | None) -> dict[str, Any]:
    """Everything the registry says about this job's definition."""
    return {
        **version_features(job, as_of),
        **capability_features(job),
        **shape_features(job),
        **rate_features(job),
    }
