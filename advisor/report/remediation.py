"""Turn a finding's `change` (Glue fields to set) into what a user runs: the `advisor fix`
command, and the attributes to set in the job's Terraform resource.

No `aws glue update-job` is built here: UpdateJob replaces the whole definition, and the store
holds a redacted copy without every field, so a command built from it could delete settings or
overwrite a password. `advisor fix` reads the job live and builds the complete payload.
"""

from __future__ import annotations

import json
import re
from typing import Any

from advisor.fix.jobupdate import ARGUMENT_PREFIX, CONF_ARGUMENT, SPARK_CONF_PREFIX, merge_conf
from advisor.identity import UNKNOWN_ACCOUNT, UNKNOWN_REGION, argument_label, split_key
from advisor.redaction_marker import REDACTED
from advisor.safe_text import shell_word, terminal_safe

TERRAFORM_ATTRIBUTES = {
    "WorkerType": "worker_type",
    "NumberOfWorkers": "number_of_workers",
    "Timeout": "timeout",
    "MaxCapacity": "max_capacity",
    "MaxRetries": "max_retries",
    "ExecutionClass": "execution_class",
    "GlueVersion": "glue_version",
}
WORKER_FIELDS = ("WorkerType", "NumberOfWorkers")


def fix_command(job: str, rule_id: str | None = None) -> str:
    """The `advisor fix` command for one finding (or, without a rule, the whole job). `job` is
    the job's key: the command names it by its label (its Glue name, or account/region/name
    when jobs in other places share the name), so it resolves to this job and no other. A
    name that starts with a dash goes after `--`, so it is not read as an option."""
    name = argument_label(job)
    rule = f" --rule {shell_word(rule_id)}" if rule_id else ""
    if name.startswith("-"):
        return f"advisor fix{rule} -- {shell_word(name)}"
    return f"advisor fix {shell_word(name)}{rule}"


def _hcl(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return f"{value:g}" if isinstance(value, float) else str(value)
    # a JSON string is an HCL string, once its template sequences are escaped: "${...}" and
    # "%{...}" from a job's arguments would otherwise be evaluated by Terraform (file(), env)
    text = json.dumps(str(value), ensure_ascii=False)  # HCL refuses a \\u escape of half a pair
    text = _HCL_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
    return text.replace("${", "$${").replace("%{", "%%{")


# what json leaves as it is and must not reach a terminal or an editor as itself: DEL, the C1
# controls, line and paragraph separators, bidirectional overrides (HCL reads \\uNNNN back)
_HCL_UNSAFE = re.compile("[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _arguments(change: dict[str, Any], definition: dict[str, Any]) -> dict[str, Any]:
    """The job arguments after the change (None: removed), `--conf` merged setting by setting."""
    stored = dict(definition.get("DefaultArguments") or {})
    after = dict(stored)
    for key, value in change.items():
        if key.startswith(ARGUMENT_PREFIX):
            after[key.removeprefix(ARGUMENT_PREFIX)] = None if value is None else str(value)
        elif key.startswith(SPARK_CONF_PREFIX):
            after[CONF_ARGUMENT] = merge_conf(
                after.get(CONF_ARGUMENT), key.removeprefix(SPARK_CONF_PREFIX), value
            )
    return after


def _comment(text: str) -> str:
    # a name must not end the comment or the markdown fence around it, nor act on a terminal
    safe = terminal_safe(text).replace("\n", "\\x0a").replace("\t", "\\x09")
    return safe.replace("`", "\\x60")


def terraform_snippet(job: str, change: dict[str, Any], definition: dict[str, Any]) -> str:
    """The attributes to change in the job's `aws_glue_job` resource (`job`: its key),
    complete: moving to workers removes `max_capacity`, and `default_arguments` is the whole
    map after the change (unless it holds secrets the advisor never stored: then only the keys
    to add or change). The resource is named after the Glue job; the comment says which
    account and region it is in, when the store knows."""
    account, region, name = split_key(job)
    resource = re.sub(r"[^A-Za-z0-9_]", "_", name)
    place = [f"account {account}"] if account != UNKNOWN_ACCOUNT else []
    place += [f"region {region}"] if region != UNKNOWN_REGION else []
    where = f" ({', '.join(place)})" if place else ""
    lines = [
        f'resource "aws_glue_job" "{resource}" {{  # {_comment(name + where)}: '
        "change these attributes"
    ]
    for key, value in change.items():
        attribute = TERRAFORM_ATTRIBUTES.get(key)
        if attribute is None:
            continue
        if value is None:
            lines.append(f"  # remove {attribute}")
        else:
            lines.append(f"  {attribute} = {_hcl(value)}")
    if any(change.get(k) is not None for k in WORKER_FIELDS) and (
        # GetJob reports MaxCapacity for worker jobs too: only a MaxCapacity job has one to drop
        definition.get("MaxCapacity") is not None
        and definition.get("WorkerType") is None
        and "MaxCapacity" not in change
    ):
        lines.append(
            "  # remove max_capacity: Glue refuses it beside worker_type and number_of_workers"
        )
    if change.get("MaxCapacity") is not None:
        lines.append(
            "  # remove worker_type and number_of_workers: Glue refuses them beside max_capacity"
        )
    if "Command.PythonVersion" in change:
        lines.append(f"  command {{ python_version = {_hcl(change['Command.PythonVersion'])} }}")
    touched = [k for k in change if k.startswith((ARGUMENT_PREFIX, SPARK_CONF_PREFIX))]
    if touched:
        after = _arguments(change, definition)
        secret = any(REDACTED in str(v) for v in after.values() if v is not None)
        changed_keys = {
            CONF_ARGUMENT if k.startswith(SPARK_CONF_PREFIX) else k.removeprefix(ARGUMENT_PREFIX)
            for k in touched
        }
        shown = changed_keys if secret else set(after)
        lines.append(
            "  default_arguments = {  # add or change these keys, keep the others as they are"
            if secret
            else "  default_arguments = {"
        )
        for name in sorted(shown):
            if after.get(name) is None:
                lines.append(f"    # remove {_hcl(name)}")
            else:
                lines.append(f"    {_hcl(name)} = {_hcl(after[name])}")
        lines.append("  }")
    lines.append("}")
    return "\n".join(lines)


def snippets(
    job: str, definition: dict[str, Any] | None, change: dict[str, Any], rule_id: str
) -> dict[str, Any]:
    """The fix command and Terraform for one finding of a job (by key), with the notes a user
    must read first."""
    if not change:
        return {}
    out: dict[str, Any] = {
        "fix_command": fix_command(job, rule_id),
        "notes": [
            "advisor fix reads the job live (GetJob) and prints the complete update-job payload: "
            "nothing the change does not touch is lost"
        ],
    }
    if definition:
        out["terraform"] = terraform_snippet(job, change, definition)
    else:
        out["notes"].append("the job's definition is not in the store: no Terraform snippet")
    return out
