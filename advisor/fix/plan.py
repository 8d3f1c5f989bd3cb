"""Plan one fix: the job's open findings composed, applied to its live definition, validated."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from advisor.fix.compose import Composition, compose, open_proposals
from advisor.fix.jobupdate import ChangeError, apply_changes, job_to_update
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
    composition = compose(proposals)
    log.info("fix %s: %d findings, %d fields", job, len(proposals), len(composition.change))

    stored = store.job(job) or {}
    try:
        where = resolve_region(region, stored.get("region"), profile)
        live = fetch_job(job, region=where, profile=profile, endpoint_url=endpoint_url)
    except LiveError as exc:
        raise FixAbort(str(exc), exc.exit_code) from None

    before = job_to_update(live)
    notes = list(composition.notes)
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
