"""`advisor analyze`: costs -> features -> rules -> findings in the store.

Idempotent (a finding's id is a hash of rule and job), ranked by severity weight x dollars at
stake, resolved when its rule stops firing, muted ones kept but hidden. A rule that raises is
recorded as an error for that job and the rest go on; a rule whose data source is missing for a
job is recorded as not evaluated, never as passing.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

from advisor.analysis.costs import compute_run_costs
from advisor.analysis.features import job_features
from advisor.analysis.rules import Rule, RuleError, load_rules
from advisor.analysis.savings import best_compatible_set
from advisor.bulk import collector_paused
from advisor.store import Store, stable_hash, to_json

log = logging.getLogger(__name__)
SEVERITY_WEIGHT = {"info": 0.1, "low": 1, "medium": 3, "high": 10, "critical": 30}


@dataclass
class AnalysisReport:
    runs_priced: int = 0
    jobs: int = 0
    rules: int = 0
    findings: dict[str, int] = field(default_factory=dict)
    not_evaluated: int = 0
    rule_errors: list[dict[str, str]] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)  # where the time went


def sources_available(features: dict[str, Any]) -> set[str]:
    """The data sources this job's features rest on (CloudWatch and event-log facts come later)."""
    available = {"glue"}
    if features.get("metric_runs"):
        available.add("cloudwatch")
    if features.get("eventlog_apps"):
        available.add("eventlog")
    return available


def _settings(config: dict[str, Any], rule_id: str, job: str) -> tuple[dict[str, Any], bool]:
    """Param overrides (global, then per job) and whether it is muted, from advisor.toml."""
    params = dict(((config.get("rules") or {}).get(rule_id) or {}).get("params") or {})
    params.update(
        (((config.get("jobs") or {}).get(job) or {}).get("rules") or {}).get(rule_id) or {}
    )
    muted = any(
        m.get("rule") in (rule_id, "*") and m.get("job") in (job, "*")
        for m in config.get("mute") or []
    )
    return params, muted


def finding_row(
    rule: Rule, job: str, outcome: Any, features: dict[str, Any], muted: bool
) -> dict[str, Any]:
    # dollars at stake are the saving the rule can estimate; one that claims none ranks by
    # severity alone, rather than by the job's whole bill
    at_stake = outcome.savings_usd_month or 0
    return {
        "id": stable_hash([rule.id, job]),
        "rule_id": rule.id,
        "problem": rule.spec["problem"],
        "job_name": job,
        "severity": outcome.severity,
        "score": round(SEVERITY_WEIGHT[outcome.severity] * (1 + at_stake), 4),
        "title": outcome.title,
        "message": outcome.message,
        "advice": to_json(outcome.advice),
        "remediation": to_json(outcome.remediation),
        "evidence": to_json(outcome.evidence),
        "savings_dpu_hours_month": outcome.savings_dpu_hours_month,
        "savings_usd_month": outcome.savings_usd_month,
        "change": to_json(outcome.change),
        "status": "muted" if muted else "open",
    }


def analyze(
    store: Store,
    *,
    config: dict[str, Any] | None = None,
    rates: dict | None = None,
    as_of: str | None = None,
    rules: list[Rule] | None = None,
) -> AnalysisReport:
    with collector_paused():
        return _analyze(store, config or {}, rates, as_of, rules)


def job_savings(store: Store, features: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Every job's saving from the best compatible set of its open findings."""
    by_job: dict[str, list[dict[str, Any]]] = {}
    for finding in store.open_findings():
        by_job.setdefault(finding["job_name"], []).append(finding)
    rows = []
    for job, findings in sorted(by_job.items()):
        values = features.get(job, {})
        saving = best_compatible_set(
            job, findings, values.get("cost_usd_month"), values.get("dpu_hours_month")
        )
        rows.append(
            {
                "job_name": job,
                "usd_month": saving.usd_month,
                "dpu_hours_month": saving.dpu_hours_month,
                "sum_usd_month": saving.sum_usd_month,
                "finding_ids": to_json(saving.finding_ids),
                "excluded_ids": to_json(saving.excluded),
            }
        )
    return rows


def _analyze(
    store: Store,
    config: dict[str, Any],
    rates: dict | None,
    as_of: str | None,
    rules: list[Rule] | None,
) -> AnalysisReport:
    clock = time.perf_counter()
    history: list[dict[str, Any]] = []
    report = AnalysisReport(runs_priced=compute_run_costs(store, rates, keep=history))
    report.seconds["costs"] = time.perf_counter() - clock
    simulated: dict[str, Any] = {}
    features = job_features(
        store, as_of=as_of, config=config, whatif_out=simulated, history=history
    )
    del history
    report.seconds["features"] = time.perf_counter() - clock - report.seconds["costs"]
    rules = rules if rules is not None else load_rules()
    report.jobs, report.rules = len(features), len(rules)
    fired, statuses = [], []
    stamp = next(iter(features.values()))["as_of"] if features else as_of or ""
    for job, values in sorted(features.items()):
        available = sources_available(values)
        for rule in rules:
            status = {
                "rule_id": rule.id,
                "job_name": job,
                "status": "evaluated",
                "detail": "",
                "as_of": stamp,
            }
            missing = set(rule.spec["requires"]) - available
            any_of = set(rule.spec.get("requires_any") or [])
            if any_of and not any_of & available:
                missing.add(" or ".join(sorted(any_of)))
            if missing:
                status.update(status="not_evaluated", detail="no " + ", ".join(sorted(missing)))
                report.not_evaluated += 1
            else:
                params, muted = _settings(config, rule.id, job)
                try:
                    outcome = rule.evaluate(values, params)
                except (RuleError, KeyError, TypeError, ValueError, ZeroDivisionError) as exc:
                    status.update(status="error", detail=f"{type(exc).__name__}: {exc}")
                    report.rule_errors.append({"rule": rule.id, "job": job, "error": str(exc)})
                    log.warning("rule %s failed on %s: %s", rule.id, job, exc)
                else:
                    if outcome.fired:
                        fired.append(finding_row(rule, job, outcome, values, muted))
            statuses.append(status)
    report.findings = store.save_findings(fired, statuses, stamp)
    store.save_job_features(features)
    store.save_job_savings(job_savings(store, features))
    store.save_whatif({job: result.as_dict() for job, result in simulated.items()}, stamp)
    report.seconds["rules and findings"] = (
        time.perf_counter() - clock - report.seconds["costs"] - report.seconds["features"]
    )
    return report
