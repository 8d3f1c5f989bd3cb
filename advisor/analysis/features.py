"""Job features: the named, precomputed numbers rules compare (arithmetic lives here, not in rules).

Each feature is documented in docs/features.md with its unit. Windows end at the newest run in the
store (or --as-of), so the same store always gives the same features.
"""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import timedelta
from typing import Any

import orjson

from advisor.analysis.advice_features import (
    MEMORY_CAUSES,
    conf_fixes,
    failure_features,
    files_features,
    memory_features,
    memory_scope,
)
from advisor.analysis.anomaly import cost_step, fleet_anomalies
from advisor.analysis.glue_features import definition_facts, disk_features
from advisor.analysis.observed import (
    eventlog_features,
    metric_features,
    observed_features,
    sizing_features,
)
from advisor.analysis.pricing import capacity_dpu
from advisor.analysis.runstats import FAILED_STATES, failure_cause, percentile
from advisor.analysis.sizing import job_sla, job_whatif, sizing_summary, whatif_features
from advisor.facts import SPARK_JOB_TYPES
from advisor.jobargs import event_log_path, flag, metrics_enabled
from advisor.store import Store
from advisor.timeutil import iso, parse_ts

WINDOW_DAYS = 30
MIN_SLOWDOWN = 1.5  # a slow run reported as a runtime anomaly takes at least this x its median
# a job neither CloudWatch nor an event log saw: every observed feature present, unknown
NOT_OBSERVED = {**metric_features([], None), **eventlog_features(None, [])}


def definition_features(job: dict[str, Any], as_of: str | None = None) -> dict[str, Any]:
    args = orjson.loads(job.get("default_arguments") or "{}")
    return {
        **definition_facts(job, as_of),
        "job_name": job["name"],
        "region": job.get("region"),
        "python_version": job.get("python_version"),
        "command_name": job.get("command_name"),
        "glue_version": job.get("glue_version"),
        "worker_type": job.get("worker_type"),
        "number_of_workers": job.get("number_of_workers"),
        "max_capacity": job.get("max_capacity"),
        "execution_class": job.get("execution_class") or "STANDARD",
        "timeout_min": job.get("timeout_min"),
        # either kind of job metrics lets the advisor see inside the job
        "metrics_enabled": metrics_enabled(args),
        "enable_metrics_value": None if flag(args, "--enable-metrics") else "true",
        "observability_enabled": flag(args, "--enable-observability-metrics"),
        "spark_ui_enabled": event_log_path(args) is not None,
        "autoscaling_enabled": flag(args, "--enable-auto-scaling"),
        "is_spark": job.get("command_name") in SPARK_JOB_TYPES,
        "is_streaming": job.get("command_name") == "gluestreaming",
        "input_format": (args.get("--input_format") or args.get("--format") or "").lower() or None,
    }


def run_history_features(runs: list[dict[str, Any]], window_days: int) -> dict[str, Any]:
    """Counts, runtimes and money over the window, scaled to a 30-day month."""
    month = 30 / window_days
    ok = [
        r["execution_time_s"]
        for r in runs
        if r["state"] == "SUCCEEDED" and r["execution_time_s"] is not None
    ]
    failed = [r for r in runs if r["state"] in FAILED_STATES]
    retries = [r for r in runs if (r["attempt"] or 0) > 0]
    failed_retries = [r for r in retries if r["state"] in FAILED_STATES]

    def dpu(rows: list[dict[str, Any]]) -> float:
        return sum(r["dpu_hours"] or 0 for r in rows)

    def usd(rows: list[dict[str, Any]]) -> float:
        return sum(r["cost_usd"] or 0 for r in rows)

    excess = (
        sum(
            ((r["billed_seconds"] or 0) - (r["execution_time_s"] or 0)) * (r["capacity_dpu"] or 0)
            for r in runs
            if r["minimum_applied"]
        )
        / 3600
    )
    causes: dict[str, float] = defaultdict(float)
    memory_scopes: dict[str, int] = defaultdict(int)
    for r in failed:
        cause = failure_cause(r["error_message"], r["state"])
        causes[cause] += r["cost_usd"] or 0
        if cause in MEMORY_CAUSES:
            memory_scopes[memory_scope(r["error_message"], cause)] += 1
    # the most frequent cause (by money; a cheap job's failures still have a cause)
    top_cause = max(causes, key=lambda c: (causes[c], c)) if causes else None
    return {
        "runs_month": len(runs) * month,
        "failed_runs_month": len(failed) * month,
        "timeout_runs_month": sum(r["state"] == "TIMEOUT" for r in runs) * month,
        "timeout_usd_month": usd([r for r in runs if r["state"] == "TIMEOUT"]) * month,
        "failure_rate": len(failed) / len(runs) if runs else None,
        "runtime_p50_s": percentile(ok, 0.5),
        "runtime_p95_s": percentile(ok, 0.95),
        "runtime_p99_s": percentile(ok, 0.99),
        "runtime_max_s": max(ok) if ok else None,
        "runtime_p95_min": (percentile(ok, 0.95) or 0) / 60 if ok else None,
        "dpu_hours_month": dpu(runs) * month,
        "cost_usd_month": usd(runs) * month,
        "failed_dpu_hours_month": dpu(failed) * month,
        "failed_usd_month": usd(failed) * month,
        # what retries waste: the attempts that failed again (a retry that succeeds did the work)
        "retry_dpu_hours_month": dpu(failed_retries) * month,
        "retry_usd_month": usd(failed_retries) * month,
        "retry_attempts_usd_month": usd(retries) * month,
        "retry_share": usd(retries) / usd(runs) if usd(runs) else None,
        # a retry that succeeds did the work that was needed; one that fails again is waste
        "retry_runs_month": len(retries) * month,
        "failed_retry_runs_month": len(failed_retries) * month,
        "top_failure_cause": top_cause,
        "top_failure_cause_usd_month": causes[top_cause] * month if top_cause else None,
        "minimum_excess_dpu_hours_month": excess * month,
        "memory_failures_executor": memory_scopes["executor"],
        "memory_failures_driver": memory_scopes["driver"],
    }


def derived_features(f: dict[str, Any]) -> dict[str, Any]:
    """Savings and thresholds rules need, computed once from the base features, each at the
    job's own rate (its price line and region)."""
    out: dict[str, Any] = {}
    rate = f.get("job_rate_usd")
    if f.get("flex_allowed") and f.get("flex_rate_usd") and rate:
        out["flex_saving_usd_month"] = f["dpu_hours_month"] * max(0.0, rate - f["flex_rate_usd"])
    if f.get("timeout_min") and f.get("runtime_p99_s"):
        out["timeout_to_p99_ratio"] = f["timeout_min"] * 60 / f["runtime_p99_s"]
        low, high = f.get("timeout_min_min") or 1, f.get("timeout_max_min")
        suggested = max(10, math.ceil(3 * f["runtime_p99_s"] / 60 / 5) * 5)
        out["suggested_timeout_min"] = max(low, min(suggested, high or suggested))
        # a tighter timeout only for jobs none of whose runs time out: the others need the cause
        if not f.get("timeout_runs_month") and out["suggested_timeout_min"] < f["timeout_min"]:
            out["timeout_change_min"] = out["suggested_timeout_min"]
    smallest = f.get("python_shell_min_dpu")
    if (
        f.get("command_name") == "pythonshell"
        and smallest
        and (f.get("max_capacity") or 0) > smallest
    ):
        share = 1 - smallest / f["max_capacity"]
        out["python_shell_saving_dpu_hours_month"] = f["dpu_hours_month"] * share
        out["python_shell_saving_usd_month"] = f["cost_usd_month"] * share
    out["minimum_excess_usd_month"] = f["minimum_excess_dpu_hours_month"] * (rate or 0)
    # a version past end of life runs nothing from now on: no saving to claim from its minimum
    if not f.get("version_past_end_of_life"):
        out["legacy_saving_dpu_hours_month"] = f["minimum_excess_dpu_hours_month"]
        out["legacy_saving_usd_month"] = out["minimum_excess_usd_month"]
    capacity = capacity_dpu(
        {
            "worker_type": f.get("worker_type"),
            "number_of_workers": f.get("number_of_workers"),
            "max_capacity": f.get("max_capacity"),
        }
    )
    out["capacity_dpu"] = capacity
    if capacity and f.get("timeout_min") and rate:
        out["runaway_run_usd"] = f["timeout_min"] / 60 * capacity * rate
    return out


def derive(f: dict[str, Any]) -> dict[str, Any]:
    """Everything computed from a job's base features (definition, history, observations),
    before the what-if; in place, and returned."""
    for step in (
        derived_features,
        disk_features,
        sizing_features,
        memory_features,
        files_features,
        failure_features,
        conf_fixes,
    ):
        f.update(step(f))
    return f


def job_features(
    store: Store,
    *,
    as_of: str | None = None,
    window_days: int = WINDOW_DAYS,
    config: dict[str, Any] | None = None,
    whatif_out: dict[str, Any] | None = None,
    history: list[dict[str, Any]] | None = None,
) -> dict[str, dict[str, Any]]:
    """Every job's features; `whatif_out`, when given, receives each simulated job's what-if;
    `history` is Store.run_history() when the caller has it already."""
    end = as_of or store.latest_run_start()
    if end is None:
        return {}
    end_dt = parse_ts(end) + timedelta(seconds=1)
    start = iso(end_dt - timedelta(days=window_days))
    end_iso = iso(end_dt)
    history_by_job: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for run in history if history is not None else store.run_history():
        history_by_job[run["job_name"]].append(run)
    features = {}
    observed = observed_features(store, start, end_iso)
    history = history_features(store, history_by_job, start, window_days)
    apps = store.latest_spark_apps(start, end_iso)
    for job in store.jobs():
        window = [
            r
            for r in history_by_job.get(job["name"], [])
            if start <= (r["started_on"] or "") < end_iso
        ]
        f = {
            **definition_features(job, end),
            **run_history_features(window, window_days),
            **observed.get(job["name"], NOT_OBSERVED),
            **history.get(job["name"], {}),
        }
        derive(f)
        app = apps.get(job["name"])
        simulated = (
            job_whatif(store, f, app, job_sla(config, job["name"]))
            if app and f["is_spark"]
            else None
        )
        f.update(whatif_features(simulated))
        if simulated is not None and whatif_out is not None:
            whatif_out[job["name"]] = simulated
        f.update(sizing_summary(f))
        f["window_days"], f["as_of"] = window_days, end
        features[job["name"]] = f
    return features


def history_features(
    store: Store,
    runs_by_job: dict[str, list[dict[str, Any]]],
    window_start: str,
    window_days: int,
) -> dict[str, dict[str, Any]]:
    """Runtime anomalies (kept in run_anomalies) and cost step changes, from each job's history."""
    month = 30 / window_days
    found, out = fleet_anomalies(runs_by_job), {}
    anomalies_by_job: dict[str, list[Any]] = defaultdict(list)
    for anomaly in found:
        anomalies_by_job[anomaly.job_name].append(anomaly)
    for job, runs in runs_by_job.items():
        anomalies = anomalies_by_job[job]
        # slow runs only, and slow enough to matter: a run much faster than usual costs nothing,
        # and one a few tenths over its median is within a job's ordinary spread (both stay
        # in run_anomalies)
        recent = [a for a in anomalies if a.started_on >= window_start and a.ratio >= MIN_SLOWDOWN]
        features: dict[str, Any] = {
            "anomalous_runs_month": len(recent) * month,
            "anomaly_extra_usd_month": sum(a.extra_usd or 0 for a in recent) * month,
        }
        if recent:
            worst = max(recent, key=lambda a: a.ratio)
            features.update(
                worst_anomaly_ratio=worst.ratio,
                worst_anomaly_run=worst.run_id,
                worst_anomaly_at=worst.started_on[:16],
                worst_anomaly_reason=worst.reasons[0],
            )
        step = cost_step(runs)
        features.update(step)
        if step:
            increase = step["cost_per_run_recent_usd"] - step["cost_per_run_before_usd"]
            runs_month = len([r for r in runs if r["started_on"] >= window_start]) * month
            features["cost_increase_usd_month"] = max(0.0, increase * runs_month)
        features["cost_anomaly_usd_month"] = max(
            features.get("cost_increase_usd_month", 0.0), features["anomaly_extra_usd_month"]
        )
        out[job] = features
    store.replace_anomalies(
        [{**a.__dict__, "reasons": orjson.dumps(a.reasons).decode()} for a in found]
    )
    return out
