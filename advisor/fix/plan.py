"""Plan one fix: the job's open findings composed, applied to its live definition, validated."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from advisor.collect.redact import REDACTED
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
from advisor.fix.live import LiveError, fetch_job, resolve_region
from advisor.fix.validate import validate
from advisor.store import Store

log = logging.getLogger(__name__)


class FixAbort(Exception):
    """The fix stops here; `message` is one line for the user and `exit_code` the CLI's code."""

    def __init__(self, message: str, exit_code: int):
        super().__init__(message)
        self.exit_code = exit_code


@dataclass
class FixPlan:
    job: str
    region: str
    before: dict[str, Any]  # the live definition as a JobUpdate
    after: dict[str, Any]  # the JobUpdate to send
    composition: Composition
    notes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.before != self.after


def job_known(store: Store, job: str) -> bool:
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


def plan_fix(
    store: Store,
    job: str,
    *,
    rule_ids: tuple[str, ...] = (),
    region: str | None = None,
    profile: str | None = None,
    endpoint_url: str | None = None,
) -> FixPlan | None:
    """The planned fix, or None when no open finding of the job carries a change.

    Raises FixAbort for an unknown job or rule, and for anything that stops GetJob.
    """
    if not job_known(store, job):
        raise FixAbort(f"job {job!r} is not in the store (run `advisor collect` first)", 2)
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
            raise FixAbort(f"{job} has no open finding of rule {', '.join(missing)}", 2)
    proposals = open_proposals(store, job, rule_ids)
    if not proposals:
        return None
    stored = store.job(job) or {}
    try:
        where = resolve_region(region, stored.get("region"), profile)
        live = fetch_job(job, region=where, profile=profile, endpoint_url=endpoint_url)
    except LiveError as exc:
        raise FixAbort(str(exc), exc.exit_code) from None

    proposals, stale = fresh_proposals(proposals, store.latest_definition(job) or {}, live)
    if not proposals:
        raise FixAbort(
            f"{job} changed since it was analysed ({'; '.join(stale)}): run `advisor collect` "
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
        job=job,
        region=where,
        before=before,
        after=after,
        composition=composition,
        notes=notes,
        problems=validate(after, job),
    )
