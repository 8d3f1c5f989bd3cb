"""The Glue facts registry (advisor/data/glue_facts.yaml), read once, asked through small functions.

Pricing, rules' features, what-if and fixes ask here instead of stating a Glue fact themselves,
so a fact AWS changes is corrected in one place, with its source and the date it was checked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources
from typing import Any

import yaml

SPARK_JOB_TYPES = ("glueetl", "gluestreaming")


@cache
def registry() -> dict[str, Any]:
    """The whole registry as loaded from the package."""
    text = resources.files("advisor.data").joinpath("glue_facts.yaml").read_text()
    # libyaml's safe loader where PyYAML has it: the same objects, several times faster
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def source(key: str) -> dict[str, Any]:
    """The AWS page (url, title, checked) a fact's `source` key names."""
    return registry()["sources"].get(key, {"url": None, "title": key, "checked": None})


def version_key(glue_version: str | None) -> tuple[int, ...] | None:
    """Glue versions as comparable tuples ("5.1" -> (5, 1)); `auto` is the newest, unknown None."""
    if glue_version is None:
        return None
    text = str(glue_version).strip()
    if text == "auto":
        text = registry()["auto_version"]["resolves_to"]
    try:
        return tuple(int(part) for part in text.split("."))
    except ValueError:
        return None


def at_least(glue_version: str | None, minimum: str | None) -> bool:
    if minimum is None:
        return True
    have, need = version_key(glue_version), version_key(minimum)
    return have is not None and need is not None and have >= need


# ---- versions ------------------------------------------------------------------------------


def version(glue_version: str | None) -> dict[str, Any] | None:
    versions = registry()["versions"]
    if glue_version == "auto":
        glue_version = registry()["auto_version"]["resolves_to"]
    return versions.get(str(glue_version)) if glue_version is not None else None


@dataclass(frozen=True)
class VersionStatus:
    """Where a version stands on a day: supported, end_of_support or end_of_life."""

    status: str
    end_of_support: str | None
    end_of_life: str | None


def version_status(
    glue_version: str | None, today: date | str | None = None, python_version: str | None = None
) -> VersionStatus:
    """Where a Glue version stands; a version whose Python 3 runtime had its own end of
    support (Glue 1.0) is judged by it for a job on Python 3."""
    entry = version(glue_version)
    if entry and str(python_version or "").startswith("3") and entry.get("end_of_support_python3"):
        entry = {**entry, "end_of_support": entry["end_of_support_python3"]}
    return _status(entry, today)


def python_shell_status(
    python_version: str | None, today: date | str | None = None
) -> VersionStatus:
    return _status(registry()["python_shell"]["runtimes"].get(str(python_version)), today)


def _status(entry: dict[str, Any] | None, today: date | str | None) -> VersionStatus:
    """Where an entry with end_of_support / end_of_life dates stands on `today`."""
    if entry is None:
        return VersionStatus("unknown", None, None)
    day = _as_date(today) if today is not None else date.today()
    eos, eol = entry.get("end_of_support"), entry.get("end_of_life")
    if eol and day >= _as_date(eol):
        return VersionStatus("end_of_life", eos, eol)
    if eos and day >= _as_date(eos):
        return VersionStatus("end_of_support", eos, eol)
    return VersionStatus("supported", eos, eol)


def upgrade_target(command_name: str | None) -> str | None:
    """The newest Glue version this job type can move to."""
    entry = registry()["upgrade_target"].get(command_name or "glueetl")
    return entry["version"] if entry else None


def python_shell_upgrade() -> tuple[str, str] | None:
    """The Glue version and Python runtime a Python shell job should move to."""
    supported = [
        (name, r)
        for name, r in registry()["python_shell"]["runtimes"].items()
        if python_shell_status(name).status == "supported"
    ]
    if not supported:
        return None
    name, runtime = max(supported, key=lambda item: version_key(item[0]) or ())
    return runtime["glue_version"], name


def minimum_billed_s(glue_version: str | None, command_name: str | None) -> int:
    """The shortest time a run is billed for."""
    if command_name == "pythonshell":
        return int(registry()["python_shell"]["minimum_billed_s"])
    info = version(glue_version)
    if info is None:  # unknown version: the minimum of every current version
        return min(int(v["minimum_billed_s"]) for v in registry()["versions"].values())
    return int(info["minimum_billed_s"])


def bills_gen2(glue_version: str | None) -> bool:
    """Whether runs on this version are billed on the `...-Gen2` usage types."""
    info = version(glue_version)
    return bool(info and info.get("usage_type_suffix") == "Gen2")


def default_timeout_min(glue_version: str | None) -> int | None:
    info = version(glue_version)
    return int(info["default_timeout_min"]) if info else None


def timeout_range_min() -> tuple[int, int]:
    limits = registry()["limits"]
    return int(limits["timeout_min_min"]), int(limits["timeout_max_min"])


# ---- worker types --------------------------------------------------------------------------


@dataclass(frozen=True)
class WorkerType:
    name: str
    dpu: float
    unit: str
    vcpu: int
    memory_gb: float
    disk_gb: float
    free_disk_gb: float | None
    executors_per_worker: int
    job_types: tuple[str, ...]
    min_version: str | None
    versions: tuple[str, ...] | None


@cache
def worker_type(name: str | None) -> WorkerType | None:
    entry = registry()["worker_types"].get(name or "")
    if entry is None:
        return None
    return WorkerType(
        name=str(name),
        dpu=float(entry["dpu"]),
        unit=entry["unit"],
        vcpu=int(entry["vcpu"]),
        memory_gb=float(entry["memory_gb"]),
        disk_gb=float(entry["disk_gb"]),
        free_disk_gb=float(entry["free_disk_gb"]) if entry.get("free_disk_gb") else None,
        executors_per_worker=int(entry["executors_per_worker"]),
        job_types=tuple(entry["job_types"]),
        min_version=entry.get("min_version"),
        versions=tuple(entry["versions"]) if entry.get("versions") else None,
    )


def worker_type_names() -> list[str]:
    return list(registry()["worker_types"])


def dpu_per_worker(name: str | None) -> float | None:
    info = worker_type(name)
    return info.dpu if info else None


def is_memory_optimized(name: str | None) -> bool:
    info = worker_type(name)
    return bool(info and info.unit == "M-DPU" and "glueray" not in info.job_types)


def is_ray_worker(name: str | None) -> bool:
    info = worker_type(name)
    return bool(info and info.job_types == ("glueray",))


def executor_shape(name: str | None, glue_version: str | None) -> tuple[int, float] | None:
    """(cores, heap GB) of one executor of this worker type on this Glue version."""
    entry = registry()["worker_types"].get(name or "")
    if not entry or not entry["executor"]:
        return None
    shapes = [s for s in entry["executor"] if at_least(glue_version, s["from"])]
    shape = shapes[-1] if shapes else entry["executor"][-1]
    return int(shape["cores"]), float(shape["heap_gb"])


def heap_per_core_gb(name: str | None, glue_version: str | None) -> float | None:
    shape = executor_shape(name, glue_version)
    return shape[1] / shape[0] if shape else None


def worker_type_allowed(
    name: str | None, glue_version: str | None, command_name: str | None
) -> bool:
    """Whether Glue accepts this worker type for this job type on this version."""
    info = worker_type(name)
    if info is None:
        return False
    if (command_name or "glueetl") not in info.job_types:
        return False
    if info.versions is not None:
        return str(glue_version) in info.versions
    return at_least(glue_version, info.min_version)


def allowed_worker_types(glue_version: str | None, command_name: str | None) -> list[str]:
    """Worker types Glue offers this job, smallest first (Standard only where nothing else is)."""
    names = [
        n
        for n in worker_type_names()
        if worker_type_allowed(n, glue_version, command_name) and n != "Standard"
    ]
    return names or [
        n for n in worker_type_names() if worker_type_allowed(n, glue_version, command_name)
    ]


def general_purpose_types() -> list[str]:
    """The general-purpose (G.*) Spark worker types, smallest first."""
    names = [
        n
        for n in worker_type_names()
        if n.startswith("G.") and "glueetl" in registry()["worker_types"][n]["job_types"]
    ]
    return sorted(names, key=lambda n: registry()["worker_types"][n]["dpu"])


def same_family(name: str | None) -> list[str]:
    """Worker types of the same family (G.*, R.*), smallest first."""
    if not name or "." not in name:
        return []
    prefix = name.split(".")[0] + "."
    family = [n for n in worker_type_names() if n.startswith(prefix) and n != "G.025X"]
    return sorted(family, key=lambda n: registry()["worker_types"][n]["dpu"])


# ---- features ------------------------------------------------------------------------------


def feature(name: str) -> dict[str, Any]:
    return registry()["features"][name]


def feature_allowed(
    name: str,
    glue_version: str | None,
    command_name: str | None,
    worker_type_name: str | None = None,
) -> bool:
    """Whether a feature (flex, auto_scaling, observability_metrics, ...) applies to this job."""
    entry = feature(name)
    if (command_name or "glueetl") not in entry.get("job_types", SPARK_JOB_TYPES):
        return False
    if not at_least(glue_version, entry.get("min_version")):
        return False
    if entry.get("versions") is not None and str(glue_version) not in entry["versions"]:
        return False
    allowed = entry.get("worker_types")
    if worker_type_name and allowed is not None and worker_type_name not in allowed:
        return False
    if name == "auto_scaling" and worker_type_name == "G.025X":
        return (command_name or "glueetl") in entry.get("g025x_job_types", [])
    return True


def python_shell_capacities() -> list[float]:
    return [float(v) for v in registry()["python_shell"]["max_capacity_dpu"]]


# ---- rates ---------------------------------------------------------------------------------


def rate_entry(region: str | None, kind: str) -> dict[str, Any] | None:
    """A region's published rate for a price line (etl, flex, memory_optimized, ...), or None."""
    return (registry()["rates"].get(region or "") or {}).get(kind)


def rate_regions() -> list[str]:
    return list(registry()["rates"])


def _as_date(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
