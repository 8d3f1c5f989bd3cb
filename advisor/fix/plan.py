"""Plan one fix: the job's open findings composed, applied to its live definition, validated."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from advisor.fix.compose import SIZING_FIELDS, Composition, Proposal, compose, open_proposals
from advisor.fix.jobupdate import (
    ARGUMENT_PREFIX,
    COMMAND_PREFIX,
    CONF_ARGUMENT,
    SPARK_CONF_PREFIX,
    ChangeError,
    apply_changes,
    conf_key,
    job_to_update,
    parse_conf,
)
from advisor.fix.live import (
    LiveError,
    caller_account,
    connect,
    fetch_job,
    resolve_region,
)
from advisor.fix.validate import validate
from advisor.identity import UNKNOWN_ACCOUNT, UNKNOWN_REGION, account_from_arn, label, split_key
from advisor.redaction_marker import REDACTED
from advisor.store import Store

log = logging.getLogger(__name__)


class FixAbort(Exception):
    """The fix stops here; `message` is one line for the user and `exit_code` the CLI's code."""

    def __init__(self, message: str, exit_code: int):
        super().__init__(message)
        self.exit_code = exit_code


@dataclass
class FixPlan:
    job: str  # the Glue name: what GetJob read and UpdateJob takes
    region: str  # the job's region, where GetJob read it
    key: str  # the store's key, account/region/name
    before: dict[str, Any]  # the live definition as a JobUpdate
    after: dict[str, Any]  # the JobUpdate to send
    composition: Composition
    notes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.before != self.after

    @property
    def label(self) -> str:
        """What outputs call the job (its Glue name, or its key when the name is shared)."""
        return label(self.key)

    @property
    def account(self) -> str:
        return split_key(self.key)[0]


def glue_name(store: Store, key: str) -> str:
    """The Glue name of the job a key names."""
    row = store.job(key) or {}
    return row.get("glue_name") or split_key(key)[2]


def job_known(store: Store, job: str) -> bool:
    """Whether the store knows the job key `job` (a job, or findings of one)."""
    if store.job(job) is not None:
        return True
    row = store.db.execute("select 1 from findings where job_name = ? limit 1", [job]).fetchone()
    return row is not None


def _setting(definition: dict[str, Any], key: str) -> Any:
    """The value a change key reads in a Job definition (None: not set)."""
    if key.startswith(ARGUMENT_PREFIX):
        return (definition.get("DefaultArguments") or {}).get(key.removeprefix(ARGUMENT_PREFIX))
    if key.startswith(SPARK_CONF_PREFIX):
        conf = (definition.get("DefaultArguments") or {}).get(CONF_ARGUMENT)
        wanted = key.removeprefix(SPARK_CONF_PREFIX)
        return next((s for s in parse_conf(conf or "") if conf_key(s) == wanted), None)
    if key.startswith(COMMAND_PREFIX):
        return (definition.get("Command") or {}).get(key.removeprefix(COMMAND_PREFIX))
    return definition.get(key)


def fresh_proposals(
    proposals: list[Proposal], analysed: dict[str, Any], live: dict[str, Any]
) -> tuple[list[Proposal], list[str]]:
    """The proposals whose fields still hold what the analysis saw. A finding computed on
    20 x G.2X says nothing about a job that is now 4 x G.1X: applying it could raise the cost
    it claims to cut. A field stored redacted cannot be compared and is trusted."""
    fresh, stale = [], []
    for proposal in proposals:
        keys = set(proposal.change)
        if keys & set(SIZING_FIELDS):
            keys |= set(SIZING_FIELDS)  # a size is the worker type and count together
        moved = [
            key
            for key in sorted(keys)
            if analysed
            and REDACTED not in str(_setting(analysed, key))
            and _setting(analysed, key) != _setting(live, key)
        ]
        if moved:
            stale.append(
                f"{proposal.rule_id}: "
                + ", ".join(
                    f"{k} was {_setting(analysed, k)!r}, is {_setting(live, k)!r}"
                    if not k.startswith(ARGUMENT_PREFIX)
                    else f"{k} changed"
                    for k in moved
                )
            )
        else:
            fresh.append(proposal)
    return fresh, stale


def api_region(key: str, region: str | None, profile: str | None) -> str:
    """Where GetJob reads the job: its own region. `region` may only repeat it, or say it for a
    job whose region the store does not know (then the profile's, then the default)."""
    _account, own, _name = split_key(key)
    if own == UNKNOWN_REGION:
        return resolve_region(region, None, profile)
    if region and region != own:
        raise LiveError(f"{label(key)} is a job in {own}, not {region}: leave --region out", 2)
    return own


def read_live(
    key: str,
    name: str,
    *,
    region: str,
    profile: str | None = None,
    role_arn: str | None = None,
    endpoint_url: str | None = None,
    warn: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """GetJob of the Glue job `name`, read as the job's account: the credentials (or the role
    they assume) must be for the account in its key, else LiveError (exit 2) before GetJob."""
    account = split_key(key)[0]
    shown = label(key)
    role_account = account_from_arn(role_arn) if role_arn else None
    if account != UNKNOWN_ACCOUNT and role_account and role_account != account:
        raise LiveError(
            f"--role-arn {role_arn} is a role in account {role_account}, but {shown} is in "
            f"account {account}: name a role in {account}",
            2,
        )
    clients = connect(region, profile=profile, endpoint_url=endpoint_url, role_arn=role_arn)
    if account == UNKNOWN_ACCOUNT:
        if warn is not None:
            warn(
                f"the store does not know which account {shown} is in: the credentials' "
                "account is not checked (collect it, or import it with --account ID)"
            )
    else:
        caller = caller_account(clients)
        if caller != account:
            via = f"role {role_arn}" if role_arn else "credentials"
            raise LiveError(
                f"{shown} is in account {account}, but the {via} are for account {caller}: "
                f"use --profile with credentials of account {account}, or --role-arn "
                f"arn:aws:iam::{account}:role/ROLE to read it through a role there",
                2,
            )
    return fetch_job(clients, name)


def plan_fix(
    store: Store,
    job: str,
    *,
    rule_ids: tuple[str, ...] = (),
    region: str | None = None,
    profile: str | None = None,
    role_arn: str | None = None,
    endpoint_url: str | None = None,
    warn: Callable[[str], None] | None = None,
) -> FixPlan | None:
    """The planned fix of the job whose key is `job`, or None when no open finding of the job
    carries a change.

    GetJob reads the Glue job in the job's own region (`region` only for a job whose region the
    store does not know), as the job's account. Raises FixAbort for an unknown job or rule, a
    region or account that is not the job's, and for anything that stops GetJob; `warn` hears
    what the user should know but does not stop the fix.
    """
    shown = label(job)
    if not job_known(store, job):
        raise FixAbort(f"job {shown!r} is not in the store (run `advisor collect` first)", 2)
    if rule_ids:
        open_rules = {
            r["rule_id"]
            for r in store.db.query(
                "select distinct rule_id from findings where job_name = ? and status = 'open'",
                [job],
            )
        }
        missing = sorted(set(rule_ids) - open_rules)
        if missing:
            raise FixAbort(f"{shown} has no open finding of rule {', '.join(missing)}", 2)
    proposals = open_proposals(store, job, rule_ids)
    if not proposals:
        return None
    name = glue_name(store, job)
    try:
        where = api_region(job, region, profile)
        live = read_live(
            job,
            name,
            region=where,
            profile=profile,
            role_arn=role_arn,
            endpoint_url=endpoint_url,
            warn=warn,
        )
    except LiveError as exc:
        raise FixAbort(str(exc), exc.exit_code) from None

    proposals, stale = fresh_proposals(proposals, store.latest_definition(job) or {}, live)
    if not proposals:
        raise FixAbort(
            f"{shown} changed since it was analysed ({'; '.join(stale)}): run `advisor collect` "
            "and `advisor analyze` again before fixing it",
            2,
        )
    composition = compose(proposals)
    log.info("fix %s: %d findings, %d fields", job, len(proposals), len(composition.change))
    before = job_to_update(live)
    notes = list(composition.notes) + [
        f"skipped, the job changed since it was analysed: {line}" for line in stale
    ]
    try:
        after = apply_changes(before, composition.change, notes)
    except ChangeError as exc:
        raise FixAbort(f"cannot apply the findings' change: {exc}", 2) from None
    return FixPlan(
        job=name,
        region=where,
        key=job,
        before=before,
        after=after,
        composition=composition,
        notes=notes,
        problems=validate(after, name),
    )
