"""A Glue job's identity is (account, region, name); a run's is (account, region, run id).

The store keys every job and run by one string, `account/region/name` and
`account/region/run-id`, so the same job name deployed in two accounts or regions are two jobs,
and every table that names a job or run (costs, metrics, event logs, features, findings) keeps
them apart without carrying three columns. Glue job names may hold '/', account ids and regions
never do, so a key splits from the left without ambiguity.
"""

from __future__ import annotations

import re
from typing import Any

UNKNOWN_ACCOUNT = "unknown"  # data whose account nobody told us (no --account, no role ARN)
UNKNOWN_REGION = "unknown"
_ROLE_ACCOUNT = re.compile(r"^arn:aws[a-z-]*:(?:iam|sts)::(\d{12}):")


def place_key(account: str | None, region: str | None) -> str:
    return f"{account or UNKNOWN_ACCOUNT}/{region or UNKNOWN_REGION}"


def job_key(account: str | None, region: str | None, name: str) -> str:
    return f"{place_key(account, region)}/{name}"


def run_key(account: str | None, region: str | None, run_id: str) -> str:
    return f"{place_key(account, region)}/{run_id}"


SESSION_MARK = "session:"  # spark_apps.run_id of an interactive session's application


def session_app_key(account: str | None, region: str | None, session_id: str) -> str:
    """What an interactive session's Spark applications are stored under, in place of a run:
    no Glue run id starts with "session:" (they are jr_...)."""
    return f"{place_key(account, region)}/{SESSION_MARK}{session_id}"


def split_key(key: str) -> tuple[str, str, str]:
    """(account, region, name or run id) of a key; a bare name (no place) splits to unknowns."""
    parts = key.split("/", 2)
    if len(parts) < 3:
        return UNKNOWN_ACCOUNT, UNKNOWN_REGION, key
    return parts[0], parts[1], parts[2]


def name_of(key: str) -> str:
    """The Glue job name (or run id) a key stands for."""
    return split_key(key)[2]


def account_from_arn(arn: str | None) -> str | None:
    """The account id in an IAM role or STS ARN (a job's Role), else None."""
    match = _ROLE_ACCOUNT.match(arn or "")
    return match.group(1) if match else None


# ---- how outputs name a job -----------------------------------------------------------------
# Glue names that jobs in more than one account or region share, in the store last opened
# (Store keeps it current): outputs name a job by its Glue name when that is unique, else by
# its key, which is also what every command accepts.
_SHARED_NAMES: set[str] = set()


def learn_shared_names(names: set[str]) -> None:
    _SHARED_NAMES.clear()
    _SHARED_NAMES.update(names)


def label(key: str | None) -> str:
    """What outputs call a job: its Glue name, or `account/region/name` when another account
    or region has a job of the same name."""
    if not key:
        return key or ""
    name = split_key(key)[2]
    return key if name in _SHARED_NAMES else name


def argument_label(key: str) -> str:
    """How a command names a job: its label, or its key when its Glue name holds a "/" (read
    back as an argument, `a/b/c` would be taken for the key of job c in account a)."""
    return key if "/" in split_key(key)[2] else label(key)


def run_label(key: str | None) -> str:
    """What outputs call a run: its Glue run id (outputs show it beside its job)."""
    return split_key(key)[2] if key else ""


def place_of(key: str) -> dict[str, str]:
    """{"account": ..., "region": ...} of a job or run key, for JSON outputs and filters."""
    account, region, _name = split_key(key)
    return {"account": account, "region": region}


def job_config(config: dict[str, Any] | None, key: str) -> dict[str, Any]:
    """advisor.toml's [jobs."<job>"] table for a job: by its key (one place), else by its Glue
    name (every place with that name)."""
    jobs = (config or {}).get("jobs") or {}
    found = jobs.get(key)
    if found is None:
        found = jobs.get(split_key(key)[2])
    return found if isinstance(found, dict) else {}


def names_job(pattern: Any, key: str) -> bool:
    """Whether a job pattern from advisor.toml (a mute's `job`) names this job: '*', its key or
    its Glue name."""
    return pattern in ("*", key, split_key(key)[2])
