"""Turn a finding's `change` (Glue fields to set) into snippets a user can run.

`aws glue update-job` replaces the whole job definition: a field left out is reset to its
default. So the snippet carries the job's full stored definition with the change applied, and
warns where a stored value was redacted and must be put back by hand.
"""

from __future__ import annotations

import json
import re
import shlex
from typing import Any

from advisor.collect.redact import REDACTED

# the JobUpdate fields of Glue's UpdateJob API that a stored definition may hold
JOB_UPDATE_FIELDS = (
    "JobMode",
    "JobRunQueuingEnabled",
    "Role",
    "ExecutionProperty",
    "Command",
    "DefaultArguments",
    "NonOverridableArguments",
    "Connections",
    "MaxRetries",
    "Timeout",
    "MaxCapacity",
    "WorkerType",
    "NumberOfWorkers",
    "SecurityConfiguration",
    "NotificationProperty",
    "GlueVersion",
    "ExecutionClass",
    "MaintenanceWindow",
)
TERRAFORM_ATTRIBUTES = {
    "WorkerType": "worker_type",
    "NumberOfWorkers": "number_of_workers",
    "Timeout": "timeout",
    "MaxCapacity": "max_capacity",
    "MaxRetries": "max_retries",
    "ExecutionClass": "execution_class",
    "GlueVersion": "glue_version",
}


def apply_change(definition: dict[str, Any], change: dict[str, Any]) -> dict[str, Any]:
    """The JobUpdate: the stored definition's updatable fields with `change` applied."""
    update = {k: definition[k] for k in JOB_UPDATE_FIELDS if k in definition}
    for key, value in change.items():
        if key.startswith("DefaultArguments."):
            arguments = dict(update.get("DefaultArguments") or {})
            arguments[key.removeprefix("DefaultArguments.")] = str(value)
            update["DefaultArguments"] = arguments
        else:
            update[key] = value
    # Glue refuses MaxCapacity beside a worker type and count (GetJob returns both for jobs
    # with workers), and the other way round
    if "MaxCapacity" in change:
        update.pop("WorkerType", None)
        update.pop("NumberOfWorkers", None)
    elif "WorkerType" in update or "NumberOfWorkers" in update:
        update.pop("MaxCapacity", None)
    return update


def redacted_fields(update: dict[str, Any]) -> list[str]:
    found = []
    for key in ("DefaultArguments", "NonOverridableArguments"):
        for name, value in (update.get(key) or {}).items():
            if REDACTED in str(value):
                found.append(f"{key} {name}")
    return found


def update_job_cli(job_name: str, update: dict[str, Any]) -> str:
    body = json.dumps(update, sort_keys=True, separators=(",", ":"))
    return (
        f"aws glue update-job --job-name {shlex.quote(job_name)} --job-update {shlex.quote(body)}"
    )


def _hcl_string(value: Any) -> str:
    return json.dumps(str(value))  # a JSON string is a valid HCL string


def terraform_snippet(job_name: str, change: dict[str, Any], definition: dict[str, Any]) -> str:
    """The attributes to set in the job's `aws_glue_job` resource (only what changes)."""
    label = re.sub(r"[^A-Za-z0-9_]", "_", job_name)
    lines = [
        f'# resource "aws_glue_job" for {job_name}: set',
        f'resource "aws_glue_job" "{label}" {{',
    ]
    for key, value in change.items():
        attribute = TERRAFORM_ATTRIBUTES.get(key)
        if attribute is None:
            continue
        rendered = value if isinstance(value, int | float) else _hcl_string(value)
        lines.append(f"  {attribute} = {rendered}")
    arguments = {
        k.removeprefix("DefaultArguments."): v
        for k, v in change.items()
        if k.startswith("DefaultArguments.")
    }
    if arguments:
        merged = {**(definition.get("DefaultArguments") or {}), **arguments}
        lines.append("  default_arguments = {")
        for name, value in sorted(merged.items()):
            lines.append(f"    {_hcl_string(name)} = {_hcl_string(value)}")
        lines.append("  }")
    lines.append("  # ... the rest of the resource unchanged")
    lines.append("}")
    return "\n".join(lines)


def snippets(job_name: str, definition: dict[str, Any] | None, change: dict[str, Any]) -> dict:
    """CLI and Terraform for one finding, with the notes a user must read first."""
    if not change:
        return {}
    if not definition:
        return {"notes": ["the job's definition is not in the store: collect it to get a snippet"]}
    update = apply_change(definition, change)
    notes = ["update-job replaces the whole definition: this carries the stored one, changed"]
    hidden = redacted_fields(update)
    if hidden:
        notes.append(
            f"put the real values back for {', '.join(hidden)} (stored redacted as {REDACTED})"
        )
    return {
        "aws_cli": update_job_cli(job_name, update),
        "terraform": terraform_snippet(job_name, change, definition),
        "notes": notes,
    }
