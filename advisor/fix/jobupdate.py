"""Build a complete JobUpdate from a live Job, and apply a finding's change to it.

UpdateJob replaces the job: "Unspecified configuration is removed or reset to default values".
So the JobUpdate starts as every JobUpdate member the live Job has (the member list is
botocore's service model, so a field AWS adds is carried as soon as botocore knows it) and the
change is applied on top.

Change keys: a JobUpdate member (`WorkerType`, `Timeout`, ...), `DefaultArguments.<--arg>` for
one job argument, `SparkConf.<spark.key>` for one Spark setting merged into the `--conf`
argument. A null value removes the field, argument or setting.
"""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

import botocore.session

from advisor import facts
from advisor.fix import glue_rules
from advisor.jobargs import conf_key, parse_conf

ARGUMENT_PREFIX = "DefaultArguments."
SPARK_CONF_PREFIX = "SparkConf."
COMMAND_PREFIX = "Command."
CONF_ARGUMENT = "--conf"
CAPACITY_FIELDS = ("WorkerType", "NumberOfWorkers")
LEGACY_CAPACITY_FIELDS = ("MaxCapacity", "AllocatedCapacity")


class ChangeError(ValueError):
    """A change names something a JobUpdate cannot hold."""


@cache
def glue_model() -> Any:
    return botocore.session.get_session().get_service_model("glue")


@cache
def jobupdate_members() -> tuple[str, ...]:
    """The JobUpdate structure's members, from botocore's own service model."""
    return tuple(glue_model().shape_for("JobUpdate").members)


def job_to_update(job: dict[str, Any]) -> dict[str, Any]:
    """Every JobUpdate member the live Job has, so UpdateJob resets nothing.

    GetJob's read-only members (Name, CreatedOn, LastModifiedOn, ProfileName,
    AutoUpgradeMetadata) are not JobUpdate members and fall away. GetJob reports MaxCapacity
    (and the deprecated AllocatedCapacity) beside a worker type and count, which UpdateJob
    refuses, so the worker fields are kept and the capacity ones dropped.
    """
    members = jobupdate_members()
    update = {k: copy.deepcopy(v) for k, v in job.items() if k in members and v is not None}
    if all(k in update for k in CAPACITY_FIELDS):
        for key in LEGACY_CAPACITY_FIELDS:
            update.pop(key, None)
    elif "MaxCapacity" in update:
        update.pop("AllocatedCapacity", None)
    return update


def apply_changes(
    update: dict[str, Any], changes: dict[str, Any], notes: list[str] | None = None
) -> dict[str, Any]:
    """A new JobUpdate: `update` with `changes` applied (see the module doc for the keys).

    Moving to WorkerType/NumberOfWorkers drops MaxCapacity and AllocatedCapacity, and moving to
    MaxCapacity drops the worker fields. Changing GlueVersion also moves what the new version
    no longer accepts (see `_follow_version`); what that does is appended to `notes`.
    """
    notes = notes if notes is not None else []
    new = copy.deepcopy(update)
    members = jobupdate_members()
    old_version = new.get("GlueVersion")
    for key, value in changes.items():
        if key.startswith(ARGUMENT_PREFIX):
            _set_argument(new, key.removeprefix(ARGUMENT_PREFIX), value, notes)
        elif key.startswith(SPARK_CONF_PREFIX):
            _set_spark_conf(new, key.removeprefix(SPARK_CONF_PREFIX), value)
            if CONF_ARGUMENT in (new.get("NonOverridableArguments") or {}):
                notes.append(
                    f"{CONF_ARGUMENT} is also a NonOverridableArgument, which overrides the "
                    f"default one: {key.removeprefix(SPARK_CONF_PREFIX)} set here has no effect "
                    "until it is set there"
                )
        elif key.startswith(COMMAND_PREFIX):
            command = dict(new.get("Command") or {})
            member = key.removeprefix(COMMAND_PREFIX)
            if value is None:
                command.pop(member, None)
            else:
                command[member] = str(value)
            new["Command"] = command
        elif key not in members:
            raise ChangeError(f"{key} is not a JobUpdate field")
        elif value is None:
            new.pop(key, None)
        else:
            new[key] = value
    if any(changes.get(k) is not None for k in CAPACITY_FIELDS):
        for key in LEGACY_CAPACITY_FIELDS:
            new.pop(key, None)
    elif changes.get("MaxCapacity") is not None:
        for key in (*CAPACITY_FIELDS, "AllocatedCapacity"):
            new.pop(key, None)
    if "GlueVersion" in changes and new.get("GlueVersion") != old_version:
        _follow_version(new, old_version, changes, notes)
    return new


def _argument_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _set_argument(update: dict[str, Any], name: str, value: Any, notes: list[str]) -> None:
    arguments = dict(update.get("DefaultArguments") or {})
    if value is None:
        arguments.pop(name, None)
    else:
        arguments[name] = _argument_text(value)
    if arguments or "DefaultArguments" in update:
        update["DefaultArguments"] = arguments
    if name in (update.get("NonOverridableArguments") or {}):
        notes.append(
            f"{name} is also a NonOverridableArgument, which this fix leaves as it is: "
            "check which value the job should run with"
        )


def merge_conf(text: str | None, key: str, value: Any) -> str | None:
    """`text` with `key` set to `value` (null removes it); other settings are kept in order."""
    settings = parse_conf(text or "")
    merged: list[str] = []
    placed = False
    for setting in settings:
        if conf_key(setting) != key:
            merged.append(setting)
        elif not placed and value is not None:
            merged.append(f"{key}={_argument_text(value)}")
            placed = True
    if value is not None and not placed:
        merged.append(f"{key}={_argument_text(value)}")
    return f" {CONF_ARGUMENT} ".join(merged) or None


def _set_spark_conf(update: dict[str, Any], key: str, value: Any) -> None:
    arguments = dict(update.get("DefaultArguments") or {})
    merged = merge_conf(arguments.get(CONF_ARGUMENT), key, value)
    if merged is None:
        arguments.pop(CONF_ARGUMENT, None)
    else:
        arguments[CONF_ARGUMENT] = merged
    if arguments or "DefaultArguments" in update:
        update["DefaultArguments"] = arguments


def _follow_version(
    update: dict[str, Any], old_version: str | None, changes: dict[str, Any], notes: list[str]
) -> None:
    """Move what the new Glue version no longer accepts.

    Spark sizing: a worker type the new version does not offer (Standard) becomes the allowed
    type of the same machine (G.1X: same 4 vCPUs, 16 GB, 1 DPU), and MaxCapacity N DPUs, which
    the new version refuses, becomes N DPUs' worth of that type's workers. DPU for DPU keeps
    the billed capacity, the DPU-hour rate and the total vCPUs and memory; each executor gets
    the whole worker (one executor per worker instead of two). A change that sets the worker
    fields itself is applied as given.
    Python: the runtime (Command.PythonVersion) the new version runs, when it is the only one.
    """
    version = update.get("GlueVersion")
    command = glue_rules.command_name(update)
    explicit = any(changes.get(k) is not None for k in CAPACITY_FIELDS)
    if glue_rules.is_spark(command) and not explicit:
        _follow_capacity(update, old_version, version, command, notes)
    _follow_python(update, version, command, notes)


def _follow_capacity(
    update: dict[str, Any],
    old_version: str | None,
    version: str | None,
    command: str | None,
    notes: list[str],
) -> None:
    worker = update.get("WorkerType")
    if worker and not facts.worker_type_allowed(worker, version, command):
        new_type = glue_rules.replacement_worker_type(worker, version, command)
        if new_type is None:
            notes.append(f"Glue {version} offers no worker type for this job: set one by hand")
            return
        count = update.get("NumberOfWorkers")
        capacity = (count or 0) * (facts.dpu_per_worker(worker) or glue_rules.ONE_DPU)
        if not count:
            capacity = float(update.get("MaxCapacity") or update.get("AllocatedCapacity") or 0)
        if not capacity:
            notes.append(f"{worker} has no worker count: set NumberOfWorkers by hand")
            update["WorkerType"] = new_type
            return
        workers = _move_to_workers(update, capacity, new_type, command)
        notes.append(
            f"Glue {version} does not offer {worker} workers: {count or capacity:g} x {worker} "
            f"on Glue {old_version} becomes {workers} x {new_type} (the same DPUs, vCPUs "
            f"and memory in total)"
        )
        return
    if worker:
        return
    capacity = update.get("MaxCapacity") or update.get("AllocatedCapacity")
    if glue_rules.max_capacity_allowed(version, command):
        return
    if not capacity:
        notes.append(
            f"the job sets no capacity, and Glue {version} sizes Spark jobs with WorkerType and "
            "NumberOfWorkers: set them by hand"
        )
        return
    new_type = glue_rules.replacement_worker_type(None, version, command)
    if new_type is None:
        notes.append(f"Glue {version} offers no worker type for this job: set one by hand")
        return
    workers = _move_to_workers(update, float(capacity), new_type, command)
    notes.append(
        f"Glue {version} refuses MaxCapacity for Spark jobs: MaxCapacity {float(capacity):g} "
        f"DPUs becomes {workers} x {new_type} (the same DPUs; one executor per worker)"
    )


def _move_to_workers(
    update: dict[str, Any], capacity_dpu: float, worker_type: str, command: str | None
) -> int:
    """Size the job with `worker_type` workers holding `capacity_dpu` DPUs in all, dropping
    the capacity fields Glue refuses beside workers; returns the worker count."""
    workers = glue_rules.workers_for(capacity_dpu, worker_type, command)
    update.update(WorkerType=worker_type, NumberOfWorkers=workers)
    for key in LEGACY_CAPACITY_FIELDS:
        update.pop(key, None)
    return workers


def _follow_python(
    update: dict[str, Any], version: str | None, command: str | None, notes: list[str]
) -> None:
    command_spec = update.get("Command")
    if not isinstance(command_spec, dict) or not command_spec.get("PythonVersion"):
        return
    current = str(command_spec["PythonVersion"])
    if glue_rules.is_spark(command):
        wanted = glue_rules.python_major(version)
        if wanted and current.split(".")[0] != wanted:
            update["Command"] = {**command_spec, "PythonVersion": wanted}
            notes.append(
                f"Glue {version} runs Python {wanted}: Command.PythonVersion {current} "
                f"-> {wanted} (check the script runs on it)"
            )
    elif command == glue_rules.PYTHON_SHELL:
        wanted = glue_rules.python_shell_runtime(version)
        if wanted and current != wanted:
            update["Command"] = {**command_spec, "PythonVersion": wanted}
            notes.append(
                f"Python shell on Glue {version} runs Python {wanted}: "
                f"Command.PythonVersion {current} -> {wanted}"
            )
