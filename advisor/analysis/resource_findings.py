"""Apply the resource rules (rules/resources/*.yaml: crawlers, interactive sessions,
development endpoints) to the features of each resource, and keep their findings.

Resources are few (tens, not the thousands of jobs), so every analysis judges all of them again
and replaces the last findings. A rule applies to the kind of resource its `resource` names.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from advisor.analysis.findings import SEVERITY_WEIGHT
from advisor.analysis.resource_features import resource_features
from advisor.analysis.rules import Rule, RuleError, default_rules_dir, load_rules
from advisor.analysis.session_sizing import session_sizing
from advisor.collect.resource_records import SESSION
from advisor.store import Store
from advisor.store.base import to_json
from advisor.timeutil import iso, parse_ts, utcnow

log = logging.getLogger(__name__)


def resource_rules() -> list[Rule]:
    return load_rules(default_rules_dir() / "resources")


def observed_until(
    resources: list[dict[str, Any]], usage: list[dict[str, Any]], newest_run: str | None = None
) -> datetime:
    """Where the resources' 30-day windows end: the data's own clock, the newest run or use in
    the store (as jobs are judged up to their newest run), never the wall clock, so a snapshot
    is judged as of when it was taken. Without either, when the resources were last seen."""
    stamps = [parse_ts(u.get("ended_on") or u.get("started_on")) for u in usage]
    stamps.append(parse_ts(newest_run))
    known = [s for s in stamps if s is not None]
    if not known:
        known = [s for s in (parse_ts(r.get("observed_at")) for r in resources) if s]
    return min(max(known), utcnow()) if known else utcnow()


def judge_resources(
    store: Store, rules: list[Rule] | None = None, now: datetime | None = None
) -> list[dict[str, Any]]:
    """Evaluate and store; returns the findings (rows of resource_findings)."""
    resources, usage = store.glue_resources(), store.resource_usage()
    if not resources:
        store.replace_resource_findings([])
        return []
    now = now or observed_until(resources, usage, store.latest_run_start())
    rules = resource_rules() if rules is None else rules
    rows = []
    sessions = [r for r in resources if r["kind"] == SESSION]
    sizing = session_sizing(store, sessions)
    judged = resource_features(resources, usage, now, session_sizing=sizing)
    for key, features in sorted(judged.items()):
        for rule in rules:
            if rule.spec.get("resource") != key[0]:
                continue
            try:
                outcome = rule.evaluate(features)
            except (RuleError, KeyError, TypeError, ValueError, ZeroDivisionError) as exc:
                log.warning("rule %s failed on %s: %s", rule.id, "/".join(key), exc)
                continue
            if not outcome.fired:
                continue
            saving = outcome.savings_usd_month
            rows.append(
                {
                    "kind": key[0],
                    "account": key[1],
                    "region": key[2],
                    "name": key[3],
                    "rule_id": rule.id,
                    "severity": outcome.severity,
                    "score": round(SEVERITY_WEIGHT[outcome.severity] * (1 + (saving or 0)), 4),
                    "title": outcome.title,
                    "message": outcome.message,
                    "advice": to_json(outcome.advice),
                    "remediation": to_json(outcome.remediation),
                    "evidence": to_json(outcome.evidence),
                    "savings_usd_month": saving,
                    "as_of": iso(now),
                }
            )
    store.replace_resource_findings(rows)
    return rows
