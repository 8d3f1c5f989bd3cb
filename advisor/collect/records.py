"""Turn Glue API shapes (boto3 or AWS CLI JSON) into store rows.

The collector and the offline importer both call these, so a run stored from the API and the
same run stored from `aws glue get-job-runs` output are the same row.
"""

from __future__ import annotations

import math
import re
from functools import cache
from typing import Any

from advisor.collect.redact import redact_arguments, redact_text, redact_value
from advisor.describe import described
from advisor.identity import (
    UNKNOWN_ACCOUNT,
    UNKNOWN_REGION,
    account_from_arn,
    job_key,
    run_key,
)
from advisor.store import stable_hash, to_json
from advisor.timeutil import stored_stamp

# Fields that describe what a job costs and how it runs; a change in any of them is a new version.
_VERSIONED_FIELDS = (
    "Command",
    "GlueVersion",
    "WorkerType",
    "NumberOfWorkers",
    "MaxCapacity",
    "ExecutionClass",
    "Timeout",
    "MaxRetries",
    "ExecutionProperty",
    "JobMode",
    "Role",
    "Connections",
    "SecurityConfiguration",
    "NotificationProperty",
    "DefaultArguments",
    "NonOverridableArguments",
    "JobRunQueuingEnabled",
    "MaintenanceWindow",
    "ProfileName",
)


class RecordError(ValueError):
    """A record that cannot be stored; the message says which field is wrong."""


# every number Glue reports here is a count, a size or a duration: none is negative, and
# SQLite stores integers in 64 bits
_MAX_INT = 2**63 - 1


def _number(value: Any, cast: type[int] | type[float]) -> Any:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise TypeError(f"expected a number, got {described(value)}")
    try:
        number = float(value) if cast is float else value
        result = cast(number)
    except ValueError:  # text that is not a number
        raise ValueError(f"expected a number, got {described(value)}") from None
    except OverflowError:
        raise ValueError(f"expected a finite number, got {described(value)}") from None
    if isinstance(result, float) and not math.isfinite(result):
        raise ValueError(f"expected a finite number, got {described(value)}")
    if not 0 <= result <= _MAX_INT:
        raise ValueError(f"number out of range: {described(value)}")
    return result


def _int(value: Any) -> int | None:
    # the common case first, a million times on a big import
    if value is None or (type(value) is int and 0 <= value <= _MAX_INT):
        return value
    return _number(value, int)


def _float(value: Any) -> float | None:
    if value is None or (type(value) is float and 0 <= value <= _MAX_INT):
        return value
    return _number(value, float)


def _str(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise TypeError(f"expected text, got {described(value)}")


@cache
def _name_rule() -> tuple[int, re.Pattern[str]]:
    from advisor.facts import registry

    names = registry()["names"]
    return int(names["max_chars"]), re.compile(names["pattern"])


def glue_name(value: Any, field: str) -> str:
    """A job, crawler or session name or a run id as Glue accepts it (facts: names). One with a
    line break or a terminal control character, or too long, cannot have come from AWS: its
    record is refused rather than keyed on, printed or put in a command."""
    if not isinstance(value, str) or not value:
        raise RecordError(f"{field} must be text, got {described(value)}")
    longest, pattern = _name_rule()
    if len(value) > longest:
        raise RecordError(
            f"{field} is {len(value):,} characters long; Glue allows at most {longest}"
        )
    if not pattern.fullmatch(value):
        bad = next(c for c in value if not pattern.fullmatch(c))
        raise RecordError(
            f"{field} {value[:60]!r} holds U+{ord(bad):04X}, a character Glue never puts in a "
            "name (no line break or control character)"
        )
    return value


def _map(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise TypeError(f"expected an object, got {described(value)}")
    return value


def _checked(kind: str, record: dict[str, Any], build: Any) -> dict[str, Any]:
    """Build a row; a field of the wrong type becomes a RecordError naming the record."""
    try:
        return build()
    except (TypeError, ValueError) as exc:
        name = next(
            (record.get(k) for k in ("Id", "Name", "CrawlId", "EndpointName") if record.get(k)),
            None,
        )
        label = repr(name[:60]) if isinstance(name, str) else described(name)
        raise RecordError(f"{kind} {label}: {exc}") from exc


def job_definition(job: dict[str, Any]) -> dict[str, Any]:
    """The redacted, versioned part of a job definition (what job_versions keeps)."""
    definition = {k: job[k] for k in _VERSIONED_FIELDS if k in job}
    for key in ("DefaultArguments", "NonOverridableArguments"):
        if key in definition:
            definition[key] = redact_arguments(_map(definition[key]))
    # the rest (Command, Connections, NotificationProperty ...) is searched as well
    return redact_value(definition)


def job_account(job: Any, default: str | None) -> str | None:
    """The account a job definition belongs to: `default` (what the user said, or where it was
    collected), else the account in its role ARN."""
    role = job.get("Role") if isinstance(job, dict) else None
    return default or account_from_arn(role if isinstance(role, str) else None)


def job_row(job: dict[str, Any], region: str | None, account: str | None) -> dict[str, Any]:
    """The jobs row of a GetJobs entry, keyed `account/region/name` (advisor/identity.py)."""
    if not isinstance(job, dict) or not job.get("Name") or not isinstance(job["Name"], str):
        raise RecordError("job has no Name")
    glue_name(job["Name"], "job Name")
    return _checked("job", job, lambda: _job_row(job, region, account))


def _job_row(job: dict[str, Any], region: str | None, account: str | None) -> dict[str, Any]:
    command = _map(job.get("Command"))
    definition = job_definition(job)
    return {
        "name": job_key(account, region, job["Name"]),
        "glue_name": job["Name"],
        "account": account or UNKNOWN_ACCOUNT,
        "region": region or UNKNOWN_REGION,
        "command_name": _str(command.get("Name")),
        "python_version": _str(command.get("PythonVersion")),
        "glue_version": _str(job.get("GlueVersion")),
        "worker_type": _str(job.get("WorkerType")),
        "number_of_workers": _int(job.get("NumberOfWorkers")),
        "max_capacity": _float(job.get("MaxCapacity")),
        "execution_class": _str(job.get("ExecutionClass")),
        "timeout_min": _int(job.get("Timeout")),
        "max_retries": _int(job.get("MaxRetries")),
        "max_concurrent_runs": _int(_map(job.get("ExecutionProperty")).get("MaxConcurrentRuns")),
        "role": _str(job.get("Role")),
        "job_mode": _str(job.get("JobMode")),
        "created_on": stored_stamp(job.get("CreatedOn")),
        "last_modified_on": stored_stamp(job.get("LastModifiedOn")),
        "default_arguments": to_json(definition.get("DefaultArguments", {})),
        "non_overridable_arguments": to_json(definition.get("NonOverridableArguments", {})),
        "definition_hash": stable_hash(definition),
        "definition_known": 1,
    }


def run_row(run: dict[str, Any], region: str | None, account: str | None) -> dict[str, Any]:
    """The job_runs row of a GetJobRuns entry, keyed `account/region/run-id`."""
    if not isinstance(run, dict) or not run.get("Id") or not run.get("JobName"):
        raise RecordError("job run has no Id or JobName")
    if not isinstance(run["Id"], str) or not isinstance(run["JobName"], str):
        raise RecordError("job run Id and JobName must be text")
    glue_name(run["Id"], "job run Id")
    glue_name(run["JobName"], f"job run {run['Id']!r}: JobName")
    return _checked("job run", run, lambda: _run_row(run, region, account))


def _run_row(run: dict[str, Any], region: str | None, account: str | None) -> dict[str, Any]:
    row = _run_fields(run, region, account)
    started, completed = row["started_on"], row["completed_on"]
    if started and completed and completed < started:  # one text form: text order is time order
        raise ValueError("CompletedOn is before StartedOn: its times cannot be trusted")
    return row


def _run_fields(run: dict[str, Any], region: str | None, account: str | None) -> dict[str, Any]:
    previous = _str(run.get("PreviousRunId"))
    return {
        "id": run_key(account, region, run["Id"]),
        "glue_run_id": run["Id"],
        "job_name": job_key(account, region, run["JobName"]),
        "account": account or UNKNOWN_ACCOUNT,
        "region": region or UNKNOWN_REGION,
        "attempt": _int(run.get("Attempt")),
        "previous_run_id": run_key(account, region, previous) if previous else None,
        "trigger_name": _str(run.get("TriggerName")),
        "state": _str(run.get("JobRunState")),
        "started_on": stored_stamp(run.get("StartedOn")),
        "completed_on": stored_stamp(run.get("CompletedOn")),
        "last_modified_on": stored_stamp(run.get("LastModifiedOn")),
        "execution_time_s": _int(run.get("ExecutionTime")),
        "dpu_seconds": _float(run.get("DPUSeconds")),
        "worker_type": _str(run.get("WorkerType")),
        "number_of_workers": _int(run.get("NumberOfWorkers")),
        "max_capacity": _float(run.get("MaxCapacity")),
        "allocated_capacity": _int(run.get("AllocatedCapacity")),
        "glue_version": _str(run.get("GlueVersion")),
        "execution_class": _str(run.get("ExecutionClass")),
        "job_mode": _str(run.get("JobMode")),
        "timeout_min": _int(run.get("Timeout")),
        "error_message": redact_text(_str(run.get("ErrorMessage"))),
        "arguments": to_json(redact_arguments(_map(run.get("Arguments")))),
        "log_group_name": _str(run.get("LogGroupName")),
    }
