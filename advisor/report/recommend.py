"""`advisor recommend <job>`: everything the store knows about one job, ready to act on.

Reads only what `advisor analyze` stored (findings, job features, what-if results) plus the
job's runs in the window, so it stays fast on a store of a million runs. The JSON shape is
documented in docs/recommend.md.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import orjson

from advisor.analysis.runstats import FAILED_STATES, SEVERITIES, failure_cause, percentile
from advisor.identity import label, run_label, split_key
from advisor.jobargs import event_log_path, flag
from advisor.report.remediation import fix_command, snippets
from advisor.report.window import window_end
from advisor.store import Store
from advisor.timeutil import iso, parse_ts

SPARK = {"glueetl", "gluestreaming"}


def severity_at_least(severity: str, floor: str) -> bool:
    return SEVERITIES.index(severity) >= SEVERITIES.index(floor)


def _window_totals(runs: list[dict[str, Any]]) -> dict[str, Any]:
    failed = [r for r in runs if r["state"] in FAILED_STATES]
    ok = [
        r["execution_time_s"] for r in runs if r["state"] == "SUCCEEDED" and r["execution_time_s"]
    ]
    return {
        "runs": len(runs),
        "failed_runs": len(failed),
        "failure_rate": len(failed) / len(runs) if runs else None,
        "dpu_hours": round(sum(r["dpu_hours"] or 0 for r in runs), 4),
        "usd": round(sum(r["cost_usd"] or 0 for r in runs), 2),
        "failed_usd": round(sum(r["cost_usd"] or 0 for r in failed), 2),
        "runtime_p50_s": percentile(ok, 0.5),
        "runtime_p95_s": percentile(ok, 0.95),
    }


def _weekly(runs: list[dict[str, Any]], start: str, end: str) -> list[dict[str, Any]]:
    """Dollars per 7-day slice of the window, oldest first (for the trend sparkline)."""
    start_dt, end_dt = parse_ts(start), parse_ts(end)
    slices = max(1, round((end_dt - start_dt).days / 7))
    step = (end_dt - start_dt) / slices
    totals = [0.0] * slices
    for r in runs:
        index = min(slices - 1, int((parse_ts(r["started_on"]) - start_dt) / step))
        totals[index] += r["cost_usd"] or 0
    return [
        {"from": iso(start_dt + step * i)[:10], "usd": round(total, 2)}
        for i, total in enumerate(totals)
    ]


def _finding(row: dict[str, Any], job: str, definition: dict[str, Any] | None) -> dict[str, Any]:
    change = orjson.loads(row.get("change") or "{}")
    return {
        "id": row["id"],
        "rule_id": row["rule_id"],
        "problem": row["problem"],
        "severity": row["severity"],
        "title": row["title"],
        "message": row["message"],
        "advice": orjson.loads(row["advice"] or "[]"),
        "evidence": orjson.loads(row["evidence"] or "{}"),
        "savings": {
            "dpu_hours_month": row["savings_dpu_hours_month"],
            "usd_month": row["savings_usd_month"],
        },
        "change": change,
        "remediation": {
            **snippets(job, definition, change, row["rule_id"]),
            "rule": orjson.loads(row["remediation"] or "{}"),
        },
        "first_seen": row["first_seen"],
    }


def _saving(row: dict[str, Any] | None, job: str, findings: list[dict[str, Any]]) -> dict[str, Any]:
    """The job's saving: the best compatible set of its findings' fixes, never their sum.
    `advisor fix` is offered only when one of them changes the job's configuration: a saving
    from advice alone (find the slow stage) has nothing for it to apply."""
    # no finding with a saving: nothing to apply "at once" (the fix command is per finding)
    if row is None or not row["finding_ids"]:
        return {"usd_month": None, "dpu_hours_month": None, "finding_ids": [], "fix_command": None}
    ids = set(row["finding_ids"])
    fixable = any(f["change"] for f in findings if f["id"] in ids)
    return {
        "usd_month": row["usd_month"],
        "dpu_hours_month": row["dpu_hours_month"],
        "sum_of_findings_usd_month": row["sum_usd_month"],
        "finding_ids": row["finding_ids"],
        "not_combinable_ids": row["excluded_ids"],
        "fix_command": fix_command(job) if fixable else None,
    }


def first_run_start(store: Store, key: str) -> datetime | None:
    """When the store's history of the job begins (its first run's start); None: no runs."""
    row = store.db.execute("select min(started_on) from job_runs where job_name = ?", [key])
    first = row.fetchone()[0]
    return parse_ts(first) if first else None


def _span(end: datetime | None, first: datetime | None, since: timedelta | None) -> timedelta:
    """The window's length: `since`, or (None) the job's whole history."""
    if since is not None:
        return since
    return end - first if end and first else timedelta(0)


def recommendation(
    store: Store,
    job_name: str,
    *,
    since: timedelta | None = timedelta(days=30),
    run_id: str | None = None,
) -> dict[str, Any]:
    """What to change on the job whose key is `job_name`, over the `since` before the newest
    run (None: the job's whole history). `run_id`: also detail this run of it (its Glue run
    id, looked up in the job's account and region, or its run key)."""
    key = job_name
    job = store.job(key)
    if job is None:
        raise KeyError(key)
    account, region, glue_name = split_key(key)
    end_dt = window_end(store)
    first = first_run_start(store, key)
    span = _span(end_dt, first, since)
    end = iso(end_dt) if end_dt else ""
    start = iso(end_dt - span) if end_dt else ""
    runs = store.job_runs_between(key, start, end) if end else []
    # the window before is compared only when the job's history covers all of it: a window
    # holding two days of runs would make any change look like +3000%
    covered = bool(since and end_dt and first and first <= end_dt - 2 * since)
    previous = store.job_runs_between(key, iso(end_dt - 2 * span), start) if covered else []
    totals, before = _window_totals(runs), _window_totals(previous)
    arguments = orjson.loads(job.get("default_arguments") or "{}")
    counts = store.source_counts(key, start, end) if end else {}
    definition = store.latest_definition(key)
    features = store.stored_job_features(key) or {}
    causes: dict[str, float] = {}
    for r in runs:
        if r["state"] in FAILED_STATES:
            cause = failure_cause(r["error_message"], r["state"])
            causes[cause] = round(causes.get(cause, 0) + (r["cost_usd"] or 0), 2)
    result = {
        "job": {
            # what every output calls the job: its Glue name, or its key when jobs in other
            # accounts or regions have that name (the key is what commands accept)
            "name": label(key),
            "glue_name": job.get("glue_name") or glue_name,
            "account": job.get("account") or account,
            "region": job.get("region") or region,
            "key": key,
            "type": job.get("command_name"),
            "glue_version": job.get("glue_version"),
            "worker_type": job.get("worker_type"),
            "number_of_workers": job.get("number_of_workers"),
            "max_capacity": job.get("max_capacity"),
            "execution_class": job.get("execution_class") or "STANDARD",
            "autoscaling": flag(arguments, "--enable-auto-scaling"),
            "timeout_min": job.get("timeout_min"),
        },
        "window": {
            "start": start,
            "end": end,
            "days": span.days,
            "whole_history": since is None,
            "previous_covered": covered,
        },
        "summary": {
            **totals,
            "usd_previous_window": before["usd"] if covered else None,
            "usd_change": (totals["usd"] / before["usd"] - 1) if before["usd"] else None,
            "weekly_usd": _weekly(runs, start, end) if end else [],
            "failed_usd_by_cause": dict(sorted(causes.items(), key=lambda kv: -kv[1])),
        },
        "sources": {
            "run_history": {"available": bool(runs), "runs": len(runs)},
            "cloudwatch": {
                "available": bool(counts.get("metric_runs")),
                "runs_with_metrics": counts.get("metric_runs", 0),
                "enabled": flag(arguments, "--enable-metrics"),
                # Glue's job metrics are Spark's: Python shell and Ray jobs send none
                "relevant": job.get("command_name") in SPARK,
            },
            "eventlogs": {
                "available": bool(counts.get("eventlog_apps")),
                "applications": counts.get("eventlog_apps", 0),
                "enabled": event_log_path(arguments) is not None,
                "relevant": job.get("command_name") in SPARK,
            },
        },
        "analysed_as_of": features.get("as_of"),
        "findings": [_finding(r, key, definition) for r in store.open_findings(key)],
        "whatif": _whatif(store.stored_whatif(key)),
        "changes": _changes(store, key),
        "run": _run(store, run_id, key) if run_id else None,
    }
    result["saving"] = _saving(store.job_savings(key).get(key), key, result["findings"])
    return result


def _changes(store: Store, key: str) -> list[dict[str, Any]]:
    """The job's past configuration changes and what each did (advisor changes' entries)."""
    from advisor.analysis.changes import changes_in_store

    return [change.as_dict() for change in changes_in_store(store, [key])]


def _whatif(stored: dict[str, Any] | None) -> dict[str, Any] | None:
    """The stored what-if result as outputs show it: the job by its label and the run by its
    Glue run id, with their keys beside them."""
    if stored is None:
        return None
    job, run = stored.get("job_name"), stored.get("run_id")
    return {
        **stored,
        "job_name": label(job) if job else job,
        "job_key": job,
        "run_id": run_label(run) if run else run,
        "run_key": run,
    }


def run_key_of(store: Store, run_id: str, job: str) -> str:
    """The key of the run `run_id` names (its Glue run id, jr_..., or its run key), which must
    be a run of `job` (a key); the Glue run id is looked up in the job's account and region.
    LookupError otherwise."""
    account, region, _name = split_key(job)
    if store.has_run(run_id):
        key: str | None = run_id
    else:
        keys = store.runs_with_glue_id(run_id, (account, region))
        key = keys[0] if len(keys) == 1 else None
    if key is None or store.job_of_run(key) != job:
        raise LookupError(f"run {run_id} is not a run of {label(job)}")
    return key


def _run(store: Store, run_id: str, job: str) -> dict[str, Any]:
    key = run_key_of(store, run_id, job)
    row = store.run_detail(key)
    if row is None:
        raise LookupError(f"run {run_id} is not a run of {label(job)}")
    attempts = [_spark_facts(app) for app in store.spark_apps_of_run(key)]
    return {
        "id": row.get("glue_run_id") or run_label(key),
        "key": key,
        "state": row["state"],
        "attempt": row["attempt"],
        "started_on": row["started_on"],
        "execution_time_s": row["execution_time_s"],
        "worker_type": row["worker_type"],
        "number_of_workers": row["number_of_workers"],
        "dpu_hours": row["dpu_hours"],
        "usd": row["cost_usd"],
        "error_message": row["error_message"],
        "failure_cause": failure_cause(row["error_message"], row["state"])
        if row["state"] in FAILED_STATES
        else None,
        "anomaly": {
            "ratio_to_median": row["anomaly_ratio"],
            "reasons": orjson.loads(row["anomaly_reasons"]),
        }
        if row["anomaly_ratio"] is not None
        else None,
        # the newest attempt, and every attempt: a failed first attempt is often the costly one
        "spark": attempts[-1] if attempts else None,
        "spark_attempts": attempts,
    }


_SPARK_FACTS = (
    "app_id",
    "attempt_id",
    "duration_ms",
    "tasks",
    "failed_tasks",
    "executors",
    "disk_bytes_spilled",
    "gc_time_ms",
    "executor_run_time_ms",
    "files_read",
    "files_written",
    "executor_utilization",
)


def _spark_facts(app: dict[str, Any]) -> dict[str, Any]:
    return {k: app[k] or None if k == "attempt_id" else app[k] for k in _SPARK_FACTS}
