"""Compose several findings' changes into one, and say which wins where they disagree.

One UpdateJob carries every fix, so two findings that set the same field must be reconciled,
and the user must see how. The sizing fields (WorkerType, NumberOfWorkers, MaxCapacity) are
one proposal: a worker count only means something with its worker type, so they are taken
together from one finding, never mixed. The rules:

- a different worker type: the finding whose category matters more wins (reliability >
  performance > configuration > cost: a job that fails saves nothing), then the more severe,
  then the bigger machine (the safer one);
- the same worker type, different counts: the more severe finding wins, then the category,
  then the larger count;
- Timeout: the larger value (a run cut short wastes everything it has spent);
- anything else: category, then severity, then the larger saving, then the rule id.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import yaml

from advisor import facts
from advisor.analysis.runstats import SEVERITIES
from advisor.fix.secrets import mask_argument
from advisor.store import Store

log = logging.getLogger(__name__)

CATEGORY_PRIORITY = ("reliability", "performance", "configuration", "cost")
SIZING_FIELDS = ("WorkerType", "NumberOfWorkers", "MaxCapacity")


@dataclass(frozen=True)
class Proposal:
    """One open finding's change, with what ranks it against the others."""

    finding_id: str
    rule_id: str
    severity: str
    category: str
    savings_usd_month: float
    change: dict[str, Any]

    @property
    def label(self) -> str:
        return f"{self.rule_id} ({self.category}, {self.severity})"


@dataclass
class Composition:
    change: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    # which finding each key of `change` comes from
    sources: dict[str, str] = field(default_factory=dict)
    proposals: list[Proposal] = field(default_factory=list)


@cache
def rule_categories() -> dict[str, str]:
    """Each rule's category, read from the rule files (a file that does not parse is skipped)."""
    from advisor.analysis.rules import default_rules_dir

    categories: dict[str, str] = {}
    for path in sorted(default_rules_dir().glob("*.yaml")):
        try:
            spec = yaml.safe_load(path.read_text()) or {}
        except (OSError, yaml.YAMLError):
            log.warning("rule file %s does not parse; its category is unknown", path.name)
            continue
        if isinstance(spec, dict) and spec.get("category"):
            categories[str(spec.get("id") or path.stem)] = str(spec["category"])
    return categories


def open_proposals(store: Store, job: str, rule_ids: tuple[str, ...] = ()) -> list[Proposal]:
    """The open findings that carry a change (only `rule_ids` when given) of the job whose
    store key (account/region/name) is `job`."""
    rows = store.db.query(
        "select id, rule_id, severity, savings_usd_month, change from findings "
        "where job_name = ? and status = 'open' order by rule_id, id",
        [job],
    )
    categories = rule_categories()
    proposals = []
    for row in rows:
        if rule_ids and row["rule_id"] not in rule_ids:
            continue
        try:
            change = json.loads(row["change"] or "{}")
        except ValueError:
            log.warning("finding %s has a change that is not JSON; skipped", row["id"])
            continue
        if not isinstance(change, dict) or not change:
            continue
        proposals.append(
            Proposal(
                finding_id=row["id"],
                rule_id=row["rule_id"],
                severity=row["severity"] or SEVERITIES[0],
                category=categories.get(row["rule_id"], "unknown"),
                savings_usd_month=float(row["savings_usd_month"] or 0),
                change=change,
            )
        )
    return sorted(proposals, key=_rank)


def _category_rank(p: Proposal) -> int:
    order = CATEGORY_PRIORITY
    return len(order) - order.index(p.category) if p.category in order else 0


def _severity_rank(p: Proposal) -> int:
    return SEVERITIES.index(p.severity) if p.severity in SEVERITIES else -1


def _rank(p: Proposal) -> tuple:
    """Sort key, best first: category, severity, saving, rule id."""
    return (-_category_rank(p), -_severity_rank(p), -p.savings_usd_month, p.rule_id)


def _show(value: Any, key: str = "") -> str:
    if value is None:
        return "(removed)"
    if key.startswith("DefaultArguments."):
        value = mask_argument(key.removeprefix("DefaultArguments."), value)
    return json.dumps(value)


def _sizing_of(p: Proposal) -> dict[str, Any]:
    return {k: p.change[k] for k in SIZING_FIELDS if k in p.change}


def _worker_size(value: dict[str, Any]) -> float:
    info = facts.worker_type(value.get("WorkerType"))
    return info.memory_gb if info else 0.0


def _why(winner: Proposal, loser: Proposal, tie: str) -> str:
    if _category_rank(winner) != _category_rank(loser):
        return f"{winner.category} beats {loser.category}"
    if _severity_rank(winner) != _severity_rank(loser):
        return f"{winner.severity} severity beats {loser.severity}"
    return tie


def _compose_sizing(proposals: list[Proposal], out: Composition) -> None:
    candidates = [(p, _sizing_of(p)) for p in proposals if _sizing_of(p)]
    if not candidates:
        return
    distinct = {json.dumps(v, sort_keys=True) for _, v in candidates}
    if len(distinct) == 1:
        winner, value = candidates[0]
    else:
        types = {v.get("WorkerType") for _, v in candidates}
        if len(types) > 1:
            ordered = sorted(
                candidates,
                key=lambda c: (-_category_rank(c[0]), -_severity_rank(c[0]), -_worker_size(c[1])),
            )
            tie = "the bigger worker is the safer choice"
        else:
            ordered = sorted(
                candidates,
                key=lambda c: (
                    -_severity_rank(c[0]),
                    -_category_rank(c[0]),
                    -float(c[1].get("NumberOfWorkers") or c[1].get("MaxCapacity") or 0),
                ),
            )
            tie = "the larger count is the safer choice"
        winner, value = ordered[0]
        for loser, other in ordered[1:]:
            if other == value:
                continue
            if len(types) == 1:
                why = (
                    f"{winner.severity} severity beats {loser.severity}"
                    if _severity_rank(winner) != _severity_rank(loser)
                    else _why(winner, loser, tie)
                )
            else:
                why = _why(winner, loser, tie)
            out.notes.append(
                f"sizing: {winner.label} wants {_sizing_text(value)}, {loser.label} wants "
                f"{_sizing_text(other)}; {winner.rule_id} wins ({why})"
            )
    for key, v in value.items():
        out.change[key] = v
        out.sources[key] = winner.rule_id


def _sizing_text(value: dict[str, Any]) -> str:
    if "WorkerType" in value or "NumberOfWorkers" in value:
        return f"{value.get('NumberOfWorkers', '?')} x {value.get('WorkerType', '(current type)')}"
    return f"MaxCapacity {_show(value.get('MaxCapacity'))}"


def _compose_field(key: str, proposals: list[Proposal], out: Composition) -> None:
    candidates = [(p, p.change[key]) for p in proposals if key in p.change]
    values = {json.dumps(v, sort_keys=True) for _, v in candidates}
    if len(values) == 1:
        winner, value = candidates[0]
    elif key == "Timeout" and all(isinstance(v, int | float) for _, v in candidates):
        winner, value = max(candidates, key=lambda c: c[1])
        losers = [f"{p.label} wants {v}" for p, v in candidates if v != value]
        out.notes.append(
            f"Timeout: {winner.label} wants {value}, {', '.join(losers)}; the larger wins "
            "(a run cut short wastes all it has spent)"
        )
    else:
        winner, value = candidates[0]  # proposals are ranked best first
        for loser, other in candidates[1:]:
            if other == value:
                continue
            why = _why(winner, loser, "the larger saving, then the rule id, decides")
            out.notes.append(
                f"{key}: {winner.label} wants {_show(value, key)}, {loser.label} wants "
                f"{_show(other, key)}; {winner.rule_id} wins ({why})"
            )
    out.change[key] = value
    out.sources[key] = winner.rule_id


def compose(proposals: list[Proposal]) -> Composition:
    """One change from several findings' changes, with a note for every disagreement."""
    ranked = sorted(proposals, key=_rank)
    out = Composition(proposals=ranked)
    _compose_sizing(ranked, out)
    keys: list[str] = []
    for p in ranked:
        keys.extend(k for k in p.change if k not in SIZING_FIELDS and k not in keys)
    for key in keys:
        _compose_field(key, ranked, out)
    return out
