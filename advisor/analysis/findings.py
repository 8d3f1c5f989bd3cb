"""`advisor analyze`: costs -> features -> rules -> findings in the store, for what changed since
the last analysis (incremental.py says what is reused; the result is a full analysis's).

Idempotent (a finding's id is a hash of rule and job), ranked by severity weight x dollars at
stake, resolved when its rule stops firing, muted ones kept but hidden. A rule that raises is
recorded as an error for that job and the rest go on; a rule whose data source is missing for a
job is recorded as not evaluated, never as passing.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any

import orjson

from advisor.analysis import incremental
from advisor.analysis.anomaly import RunAnomaly
from advisor.analysis.anomaly import from_row as anomaly_from_row
from advisor.analysis.costs import compute_run_costs, price_changes
from advisor.analysis.features import (
    WINDOW_DAYS,
    StoredWhatIf,
    assemble_features,
    group_by_job,
    history_job_features,
    in_window,
    stored_window_features,
    window_bounds,
    window_features,
)
from advisor.analysis.history import (
    JobHistory,
    extended_histories,
    history_row,
    job_histories,
    kept_history,
    stored_histories,
)
from advisor.analysis.rules import Rule, RuleError, load_rules
from advisor.analysis.savings import best_compatible_set
from advisor.bulk import collector_paused
from advisor.identity import job_config, names_job
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
    mode: str = "full"  # or "incremental"
    why: str = ""  # why this mode (what changed)
    jobs_changed: int = 0  # jobs whose own data changed
    histories_read: int = 0  # of those, the jobs analysed from their whole history again
    jobs_recomputed: int = 0  # jobs whose features and rules were evaluated again
    whatifs_reused: int = 0  # of their what-ifs, those whose inputs had not changed
    resource_findings: int = 0  # on crawlers, interactive sessions, development endpoints
    findings_fixed: int = 0  # resolved findings a configuration change carried out


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
    params.update((job_config(config, job).get("rules") or {}).get(rule_id) or {})
    muted = any(
        m.get("rule") in (rule_id, "*") and names_job(m.get("job"), job)
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
        "fixed_by": None,  # firing again: no change has fixed it
    }


def analyze(
    store: Store,
    *,
    config: dict[str, Any] | None = None,
    rates: dict | None = None,
    as_of: str | None = None,
    rules: list[Rule] | None = None,
    full: bool = False,
    on_phase: Callable[[str], None] | None = None,
) -> AnalysisReport:
    """Analyse what changed since the last analysis (advisor/analysis/incremental.py), with the
    result a full one gives; `full`: recompute everything. `on_phase(what)` hears each phase
    as it starts (a progress display)."""
    from advisor.analysis.fixed import mark_fixed
    from advisor.analysis.resource_findings import judge_resources

    with collector_paused():
        report = _analyze(store, config or {}, rates, as_of, rules, full, on_phase)
        # crawlers, sessions and endpoints: few, judged again every time (resource_findings.py)
        report.resource_findings = len(judge_resources(store))
        # resolved findings a configuration change carried out: closed as fixed (fixed.py)
        report.findings_fixed = mark_fixed(store)
        return report


def job_savings(
    store: Store, features: dict[str, dict[str, Any]], jobs: Collection[str] | None = None
) -> list[dict[str, Any]]:
    """Every job's saving (of `jobs`, when given) from the best compatible set of its open
    findings."""
    by_job: dict[str, list[dict[str, Any]]] = {}
    for finding in store.open_findings():
        if jobs is None or finding["job_name"] in jobs:
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


def evaluate_rules(
    rules: list[Rule],
    features: dict[str, dict[str, Any]],
    config: dict[str, Any],
    stamp: str,
    report: AnalysisReport,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Every rule on every job of `features`: the findings that fired, and each rule's status."""
    fired, statuses = [], []
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
    return fired, statuses


class _Clock:
    """Where an analysis' time goes, phase by phase; `on_phase` hears each one start."""

    def __init__(self, seconds: dict[str, float], on_phase: Callable[[str], None] | None):
        self.seconds, self.last = seconds, time.perf_counter()
        self.on_phase = on_phase or (lambda _what: None)

    def lap(self, phase: str) -> None:
        now = time.perf_counter()
        self.seconds[phase] = self.seconds.get(phase, 0.0) + now - self.last
        self.last = now


def _analyze(
    store: Store,
    config: dict[str, Any],
    rates: dict | None,
    as_of: str | None,
    rules: list[Rule] | None,
    full: bool,
    on_phase: Callable[[str], None] | None = None,
) -> AnalysisReport:
    report = AnalysisReport()
    clock = _Clock(report.seconds, on_phase)
    state = store.analysis_state()
    digests = incremental.digests(config, rates, rules, WINDOW_DAYS)
    plan = incremental.plan(store, state, digests, full)
    report.mode = "full" if plan.reanalyse_all else "incremental"
    report.why = plan.why
    clock.on_phase("pricing every run" if plan.reprice_all else "pricing new and changed runs")

    # ---- costs: every run, or what changed ------------------------------------------------
    history: list[dict[str, Any]] | None = None
    if plan.reprice_all:
        history = []
        report.runs_priced = compute_run_costs(store, rates, keep=history)
    else:
        report.runs_priced = price_changes(store, rates, plan.whole_jobs, plan.run_ids, plan.days)
    latest = state.get("latest_run") or None if plan.quiet else store.latest_run_start()
    end = as_of or latest
    clock.lap("costs")

    # ---- which jobs: all, those with new data, or every job when the window moved ------------
    jobs = store.jobs() if end is not None else []
    names = {job["name"] for job in jobs}
    kept = {} if plan.reanalyse_all else store.analysis_jobs()
    moved = state.get("as_of") != (end or "")
    if plan.reanalyse_all:
        changed: set[str] | None = None  # every job
        again = set(names)
    else:
        changed = plan.changed_jobs | (names - kept.keys())  # and jobs never analysed
        again = set(names) if moved else changed & names
    scope = None if changed is None else again | changed  # whose stored results are replaced
    report.jobs = len(jobs)
    report.jobs_changed = len(names) if changed is None else len(changed & names)
    report.jobs_recomputed = len(again)
    clock.on_phase(f"features and anomalies of {len(again):,} of {len(jobs):,} jobs")

    features: dict[str, dict[str, Any]] = {}
    simulated: dict[str, Any] = {}
    memo: dict[str, StoredWhatIf | None] = {}
    histories: dict[str, JobHistory] = {}
    if end is not None and (changed is None or changed or again):
        start, end_iso = window_bounds(end, WINDOW_DAYS)
        window: dict[str, dict[str, Any]] = {}
        # jobs analysed again but without new data, when the window moved: what they kept
        reused = again - (names if changed is None else changed)
        with_runs = {job for job in reused if kept[job]["runs"]}
        # jobs with new data (every job, in a full analysis): from their whole history
        if changed is None:

            def take_window(job: str, runs: list[dict[str, Any]]) -> None:
                if job in again:
                    window[job] = window_features(in_window(runs, start, end_iso), WINDOW_DAYS)

            # pricing read it (else it is read while the forests of the jobs before are fitted)
            runs_by_job = group_by_job(history).items() if history is not None else None
            history = None
            histories = job_histories(store, runs_by_job or store.run_histories(), each=take_window)
            report.histories_read = len(histories)
            del runs_by_job
        else:
            if changed:
                # jobs whose only news is newer runs: what they kept takes them in
                extend = changed - plan.reread_jobs
                news = {job: plan.new_runs[job] for job in extend if job in plan.new_runs}
                histories = extended_histories(store, kept, news)
                # the others are read whole (in worker processes too)
                read = stored_histories(store, changed - histories.keys())()
                histories.update(read)
                report.histories_read = len(read)
            anomalies: dict[str, list[RunAnomaly]] = {job: [] for job in with_runs}
            for row in store.anomalies_of(with_runs) if with_runs else ():
                anomalies[row["job_name"]].append(anomaly_from_row(row))
            for job in with_runs:
                histories[job] = kept_history(kept[job], anomalies[job])
            window = stored_window_features(
                store, (changed & again) | with_runs, start, end_iso, WINDOW_DAYS
            )
        reusable: dict[str, StoredWhatIf] = {}
        if reused:
            for job in reused:
                if kept[job]["whatif_key"]:
                    reusable[job] = StoredWhatIf(
                        kept[job]["whatif_key"],
                        orjson.loads(kept[job]["whatif_features"]),
                        store.stored_whatif(job) or {},
                    )
        features = assemble_features(
            store,
            [job for job in jobs if job["name"] in again],
            end=end,
            window_days=WINDOW_DAYS,
            window=window,
            history={
                job: history_job_features(h, start, WINDOW_DAYS)
                for job, h in histories.items()
                if job in again
            },
            config=config,
            whatif_out=simulated,
            whatif_memo=memo,
            reusable=reusable,
        )
        report.whatifs_reused = sum(
            1 for job, taken in memo.items() if taken is not None and taken is reusable.get(job)
        )
    clock.lap("features")
    clock.on_phase("applying the rules")

    # ---- rules, findings and what the next analysis may reuse --------------------------------
    # rule files whose bytes the last analysis checked, with this code, need no second check
    checked = all(state.get(key) == digests[key] for key in ("code", "rules"))
    rule_list = (
        (rules if rules is not None else load_rules(validate=not checked)) if features else []
    )
    rule_ids = [rule.id for rule in rule_list] or incremental.rule_set(rules)[1]
    report.rules = len(rule_ids)
    stamp = end if end is not None and jobs else as_of or ""
    fired, statuses = evaluate_rules(rule_list, features, config, stamp, report)
    new_state = _state(digests, latest, end, plan.runs_mark)
    if scope is None or scope or plan.mark or state != new_state:
        with store.transaction():
            report.findings = store.save_findings(fired, statuses, stamp, jobs=scope)
            store.save_job_features(features, jobs=scope)
            store.save_job_savings(job_savings(store, features, scope), jobs=scope)
            store.save_whatif(simulated, stamp, jobs=scope)
            store.save_analysis_jobs(
                [_kept_row(job, histories.get(job), memo.get(job)) for job in sorted(again)],
                jobs=scope,
            )
            store.finish_analysis(new_state, plan.mark)
    else:
        report.findings = {"new": 0, "open": 0, "resolved": 0}
    if scope is not None:  # what the jobs not analysed again still have
        report.findings["open"] += store.unresolved_findings_outside(scope)
        order = {rule_id: i for i, rule_id in enumerate(rule_ids)}
        for row in store.rule_statuses_outside(scope, rule_ids):
            if row["job_name"] not in names:
                continue
            if row["status"] == "not_evaluated":
                report.not_evaluated += 1
            elif row["status"] == "error":
                error = (row["detail"] or "").partition(": ")[2]
                report.rule_errors.append(
                    {"rule": row["rule_id"], "job": row["job_name"], "error": error}
                )
        report.rule_errors.sort(key=lambda e: (e["job"], order.get(e["rule"], 0)))
    clock.lap("rules and findings")
    return report


def _state(
    digests: dict[str, str], latest: str | None, end: str | None, runs_mark: int
) -> dict[str, str]:
    return {**digests, "latest_run": latest or "", "as_of": end or "", "runs_rowid": str(runs_mark)}


def _kept_row(job: str, history: JobHistory | None, memo: StoredWhatIf | None) -> dict[str, Any]:
    return {
        "job_name": job,
        **history_row(history),
        "whatif_key": memo.key if memo else None,
        "whatif_features": to_json(memo.features) if memo else None,
    }
