"""Job features: the named, precomputed numbers rules compare (arithmetic lives here, not in rules).

Each feature is documented in docs/features.md with its unit. Windows end at the newest run in the
store (or --as-of), so the same store always gives the same features.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass
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
from advisor.analysis.anomaly import cost_step
from advisor.analysis.glue_features import definition_facts, disk_features
from advisor.analysis.history import JobHistory, job_histories
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
from advisor.identity import split_key
from advisor.jobargs import conf_settings, event_log_path, flag, metrics_enabled
from advisor.store import Store, stable_hash
from advisor.timeutil import iso, parse_ts

WINDOW_DAYS = 30
MIN_SLOWDOWN = 1.5  # a slow run reported as a runtime anomaly takes at least this x its median
# a job neither CloudWatch nor an event log saw: every observed feature present, unknown
NOT_OBSERVED = {**metric_features([], None), **eventlog_features(None, [])}


def definition_features(job: dict[str, Any], as_of: str | None = None) -> dict[str, Any]:
    args = orjson.loads(job.get("default_arguments") or "{}")
    return {
        **definition_facts(job, as_of),
        "job_name": job["name"],  # the job's key (advisor/identity.py); texts show glue_name
        "glue_name": job.get("glue_name") or split_key(job["name"])[2],
        "account": job.get("account"),
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
        "definition_shuffle_partitions": _int_or_none(
            conf_settings(args).get("spark.sql.shuffle.partitions")
        ),
    }


def _int_or_none(value: str | None) -> int | None:
    return int(value) if value is not None and value.strip().isdigit() else None


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
    timeouts = [r for r in runs if r["state"] == "TIMEOUT"]
    total_usd, retries_usd = usd(runs), usd(retries)
    return {
        "runs_month": len(runs) * month,
        "failed_runs_month": len(failed) * month,
        "timeout_runs_month": len(timeouts) * month,
        "timeout_usd_month": usd(timeouts) * month,
        "failure_rate": len(failed) / len(runs) if runs else None,
        "runtime_p50_s": percentile(ok, 0.5),
        "runtime_p95_s": percentile(ok, 0.95),
        "runtime_p99_s": percentile(ok, 0.99),
        "runtime_max_s": max(ok) if ok else None,
        "runtime_p95_min": (percentile(ok, 0.95) or 0) / 60 if ok else None,
        "dpu_hours_month": dpu(runs) * month,
        "cost_usd_month": total_usd * month,
        "failed_dpu_hours_month": dpu(failed) * month,
        "failed_usd_month": usd(failed) * month,
        # what retries waste: the attempts that failed again (a retry that succeeds did the work)
        "retry_dpu_hours_month": dpu(failed_retries) * month,
        "retry_usd_month": usd(failed_retries) * month,
        "retry_attempts_usd_month": retries_usd * month,
        "retry_share": retries_usd / total_usd if total_usd else None,
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
    # how texts show it; present even when no run succeeded, so a text names it "unknown"
    p99 = f.get("runtime_p99_s")
    out["runtime_p99_min"] = p99 / 60 if p99 is not None else None
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
    if capacity and f.get("timeout_min"):
        out["runaway_run_dpu_hours"] = f["timeout_min"] / 60 * capacity
        if rate:  # a region without a known rate has DPU-hours but no dollars
            out["runaway_run_usd"] = out["runaway_run_dpu_hours"] * rate
    out.update(cost_jump_features(f))
    return out


def cost_jump_features(f: dict[str, Any]) -> dict[str, Any]:
    """What a cost jump can claim: a saving only when a configuration change came with it
    (going back is the fix); a jump that is all slow runs has nothing to revert."""
    out: dict[str, Any] = {}
    increase = f.get("cost_increase_usd_month") or 0.0
    if f.get("revert_worker_type") and f.get("revert_workers") and increase > 0:
        out["cost_revert_usd_month"] = increase
    slow = f.get("anomaly_extra_usd_month") or 0.0
    if slow > 0:
        # the slow runs explain all of the extra cost the finding reports, or only part of it
        out["cost_jump_from_slow_runs"] = "all" if slow >= increase else "part"
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


def window_bounds(end: str, window_days: int = WINDOW_DAYS) -> tuple[str, str]:
    """[start, end) of the window that ends with the run started at `end`."""
    end_dt = parse_ts(end) + timedelta(seconds=1)
    return iso(end_dt - timedelta(days=window_days)), iso(end_dt)


def job_features(
    store: Store,
    *,
    as_of: str | None = None,
    window_days: int = WINDOW_DAYS,
    config: dict[str, Any] | None = None,
    whatif_out: dict[str, Any] | None = None,
    history: list[dict[str, Any]] | None = None,
) -> dict[str, dict[str, Any]]:
    """Every job's features; `whatif_out`, when given, receives each simulated job's what-if
    (WhatIf.as_dict()); `history` is Store.run_history() when the caller has it already."""
    end = as_of or store.latest_run_start()
    if end is None:
        return {}
    start, end_iso = window_bounds(end, window_days)
    history_by_job = group_by_job(history if history is not None else store.run_history())
    histories = job_histories(store, history_by_job.items())
    jobs = store.jobs()
    return assemble_features(
        store,
        jobs,
        end=end,
        window_days=window_days,
        window={
            job["name"]: window_features(
                in_window(history_by_job.get(job["name"], []), start, end_iso), window_days
            )
            for job in jobs
        },
        history={job: history_job_features(h, start, window_days) for job, h in histories.items()},
        config=config,
        whatif_out=whatif_out,
    )


def group_by_job(runs: Iterable[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    by_job: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for run in runs:
        by_job[run["job_name"]].append(run)
    return by_job


def in_window(runs: list[dict[str, Any]], start: str, end: str) -> list[dict[str, Any]]:
    return [r for r in runs if start <= (r["started_on"] or "") < end]


def window_features(runs: list[dict[str, Any]], window_days: int) -> dict[str, Any]:
    """What a job's runs in the window (oldest first) give: run_history_features() and the
    step in its cost per run."""
    features = run_history_features(runs, window_days)
    step = cost_step(runs)
    features.update(step)
    sized = [r for r in runs if r.get("number_of_workers")]
    if sized:  # the workers the job ran on last in the window (see assemble_features)
        features["window_workers"] = (sized[-1]["worker_type"], sized[-1]["number_of_workers"])
    if step:
        increase = step["cost_per_run_recent_usd"] - step["cost_per_run_before_usd"]
        features["cost_increase_usd_month"] = max(0.0, increase * len(runs) * 30 / window_days)
    return features


def stored_window_features(
    store: Store, jobs: Collection[str], start: str, end: str, window_days: int
) -> dict[str, dict[str, Any]]:
    """The window_features() of `jobs` from their runs in [start, end) in the store. (Here,
    not in worker processes: starting them took longer than reading a million-run fleet's
    window.)"""
    by_job = group_by_job(store.window_runs(jobs, start, end))
    return {job: window_features(by_job.get(job, []), window_days) for job in jobs}


def history_job_features(h: JobHistory, window_start: str, window_days: int) -> dict[str, Any]:
    """Runtime anomalies of one job (each run judged against the job's past), as the window
    sees them."""
    month = 30 / window_days
    # slow runs only, and slow enough to matter: a run much faster than usual costs nothing,
    # and one a few tenths over its median is within a job's ordinary spread (both stay
    # in run_anomalies)
    recent = [a for a in h.anomalies if a.started_on >= window_start and a.ratio >= MIN_SLOWDOWN]
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
    return features


def whatif_key(features: dict[str, Any], app: dict[str, Any], sla: float) -> str:
    """Everything a job's what-if is computed from but the application's own facts (which
    change only with the job's data): the same key, the same what-if."""
    return stable_hash(
        [
            [app["run_id"], app["app_id"], app.get("attempt_id") or ""],
            [features.get(k) for k in WHATIF_INPUTS],
            sla,
        ]
    )


# the features job_whatif() reads
WHATIF_INPUTS = (
    "job_name",
    "worker_type",
    "number_of_workers",
    "glue_version",
    "command_name",
    "execution_class",
    "autoscaling_enabled",
    "region",
    "runtime_p50_s",
    "runs_month",
)


@dataclass
class StoredWhatIf:
    """A job's last what-if: its key, its features and its result (WhatIf.as_dict())."""

    key: str
    features: dict[str, Any]
    result: dict[str, Any]


def assemble_features(
    store: Store,
    jobs: list[dict[str, Any]],
    *,
    end: str,
    window_days: int,
    window: dict[str, dict[str, Any]],
    history: dict[str, dict[str, Any]],
    config: dict[str, Any] | None,
    whatif_out: dict[str, Any] | None = None,
    whatif_memo: dict[str, StoredWhatIf | None] | None = None,
    reusable: dict[str, StoredWhatIf] | None = None,
) -> dict[str, dict[str, Any]]:
    """The features of `jobs` (jobs rows) from their window_features() and their
    history_job_features() (the jobs with runs). `whatif_memo` receives each job's what-if
    with its key (None: none); a job whose key is its `reusable` one's takes that what-if
    rather than simulating again."""
    start, end_iso = window_bounds(end, window_days)
    names = {job["name"] for job in jobs}
    observed = observed_features(store, start, end_iso, names)
    apps = store.latest_spark_apps(start, end_iso)
    # an analysis as of a past date (runs after it are in the store): see below
    past = (store.run_time_span()[1] or "") > end_iso
    features = {}
    for job in jobs:
        name = job["name"]
        f = {
            **definition_features(job, end),
            **(window.get(name) or window_features([], window_days)),
            **observed.get(name, NOT_OBSERVED),
        }
        window_workers = f.pop("window_workers", None)
        # analysed as of a date before the job's definition last changed (`--as-of`), the job
        # is judged on the workers its runs had then, not on today's definition
        if past and window_workers and (job.get("last_modified_on") or "") > end_iso:
            f["worker_type"], f["number_of_workers"] = window_workers
        if name in history:
            f.update(history[name])
            increase, slow = f.get("cost_increase_usd_month", 0.0), f["anomaly_extra_usd_month"]
            f["cost_anomaly_usd_month"] = max(increase, slow)
            # the message says which of the two figures it gives
            f["cost_anomaly_basis"] = (
                "at the higher cost per run, over a month of its runs"
                if increase >= slow
                else "what its slow runs cost beyond usual ones"
            )
        derive(f)
        app = apps.get(name)
        memo = None
        if app and f["is_spark"]:
            sla = job_sla(config, name)
            key = whatif_key(f, app, sla)
            memo = (reusable or {}).get(name)
            if memo is None or memo.key != key:
                run = job_whatif(store, f, app, sla)
                memo = StoredWhatIf(key, whatif_features(run), run.as_dict())
            f.update(memo.features)
            if whatif_out is not None:
                whatif_out[name] = memo.result
        else:
            f.update(whatif_features(None))
        if whatif_memo is not None:
            whatif_memo[name] = memo
        f.update(sizing_summary(f))
        f["window_days"], f["as_of"] = window_days, end
        features[name] = f
    return features
