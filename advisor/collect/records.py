"""Turn Glue API shapes (boto3 or AWS CLI JSON) into store rows.

The collector and the offline importer both call these, so a run stored from the API and the
same run stored from `aws glue get-job-runs` output are the same row.
"""

from __future__ import annotations

from typing import Any

from advisor.collect.redact import redact_arguments, redact_text
from advisor.store import stable_hash, to_json
from advisor.timeutil import iso

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


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def job_definition(job: dict[str, Any]) -> dict[str, Any]:
    """The redacted, versioned part of a job definition (what job_versions keeps)."""
    definition = {k: job[k] for k in _VERSIONED_FIELDS if k in job}
    for key in ("DefaultArguments", "NonOverridableArguments"):
        if key in definition:
            definition[key] = redact_arguments(definition[key])
    return definition


def job_row(job: dict[str, Any], region: str | None) -> dict[str, Any]:
    if not isinstance(job, dict) or not job.get("Name"):
        raise RecordError("job has no Name")
    command = job.get("Command") or {}
    definition = job_definition(job)
    return {
        "name": job["Name"],
        "region": region,
        "command_name": command.get("Name"),
        "python_version": command.get("PythonVersion"),
        "glue_version": job.get("GlueVersion"),
        "worker_type": job.get("WorkerType"),
        "number_of_workers": _int(job.get("NumberOfWorkers")),
        "max_capacity": _float(job.get("MaxCapacity")),
        "execution_class": job.get("ExecutionClass"),
        "timeout_min": _int(job.get("Timeout")),
        "max_retries": _int(job.get("MaxRetries")),
        "max_concurrent_runs": _int((job.get("ExecutionProperty") or {}).get("MaxConcurrentRuns")),
        "role": job.get("Role"),
        "job_mode": job.get("JobMode"),
        "created_on": iso(job.get("CreatedOn")),
        "last_modified_on": iso(job.get("LastModifiedOn")),
        "default_arguments": to_json(definition.get("DefaultArguments", {})),
        "non_overridable_arguments": to_json(definition.get("NonOverridableArguments", {})),
        "definition_hash": stable_hash(definition),
        "definition_known": 1,
    }


def run_row(run: dict[str, Any], region: str | None) -> dict[str, Any]:
    if not isinstance(run, dict) or not run.get("Id") or not run.get("JobName"):
        raise RecordError("job run has no Id or JobName")
    try:
        return {
            "id": run["Id"],
            "job_name": run["JobName"],
            "region": region,
            "attempt": _int(run.get("Attempt")),
            "previous_run_id": run.get("PreviousRunId"),
            "trigger_name": run.get("TriggerName"),
            "state": run.get("JobRunState"),
            "started_on": iso(run.get("StartedOn")),
            "completed_on": iso(run.get("CompletedOn")),
            "last_modified_on": iso(run.get("LastModifiedOn")),
            "execution_time_s": _int(run.get("ExecutionTime")),
            "dpu_seconds": _float(run.get("DPUSeconds")),
            "worker_type": run.get("WorkerType"),
            "number_of_workers": _int(run.get("NumberOfWorkers")),
            "max_capacity": _float(run.get("MaxCapacity")),
            "allocated_capacity": _int(run.get("AllocatedCapacity")),
            "glue_version": run.get("GlueVersion"),
            "execution_class": run.get("ExecutionClass"),
            "job_mode": run.get("JobMode"),
            "timeout_min": _int(run.get("Timeout")),
            "error_message": redact_text(run.get("ErrorMessage")),
            "arguments": to_json(redact_arguments(run.get("Arguments"))),
            "log_group_name": run.get("LogGroupName"),
        }
    except (TypeError, ValueError) as exc:
        raise RecordError(f"job run {run.get('Id')}: {exc}") from exc
