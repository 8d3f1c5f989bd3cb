"""Job features: the named, precomputed numbers rules compare (arithmetic lives here, not in rules).

Each feature is documented in docs/features.md with its unit. Windows end at the newest run in the
store (or --as-of), so the same store always gives the same features.
"""

from __future__ import annotations

import math
import os
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import orjson
from joblib.externals.loky import get_reusable_executor

from advisor.analysis.advice_features import (
    MEMORY_CAUSES,
    conf_fixes,
    failure_features,
    files_features,
    memory_features,
    memory_scope,
)
from advisor.analysis.anomaly import (
    PARALLEL_MIN_JOBS,
    Forests,
    RunAnomaly,
    anomaly_row,
    cost_step,
)
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
from advisor.identity import split_key
from advisor.jobargs import event_log_path, flag, metrics_enabled
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
    if capacity and f.get("timeout_min"):
        out["runaway_run_dpu_hours"] = f["timeout_min"] / 60 * capacity
        if rate:  # a region without a known rate has DPU-hours but no dollars
            out["runaway_run_usd"] = out["runaway_run_dpu_hours"] * rate
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
        window_runs={
            job["name"]: in_window(history_by_job.get(job["name"], []), start, end_iso)
            for job in jobs
        },
        history={
            job: history_job_features(h, runs_since(history_by_job[job], start), start, window_days)
            for job, h in histories.items()
        },
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


def runs_since(runs: list[dict[str, Any]], start: str) -> int:
    return sum((r["started_on"] or "") >= start for r in runs)


@dataclass
class JobHistory:
    """What a job's whole history gives its features whatever the window: its runtime
    anomalies (in the order of its runs) and its cost step. Kept between analyses (in
    run_anomalies and analysis_jobs) and reused while the job has no new data."""

    runs: int
    anomalies: list[RunAnomaly]
    step: dict[str, Any]


def job_histories(
    store: Store,
    runs_by_job: Iterable[tuple[str, list[dict[str, Any]]]],
    jobs: Collection[str] | None = None,
    each: Callable[[str, list[dict[str, Any]]], None] | None = None,
) -> dict[str, JobHistory]:
    """The anomalies (kept in run_anomalies) and cost step of each (job, its whole history,
    oldest first) of `runs_by_job`, which may be read while the forests of the jobs before are
    being fitted; `each(job, runs)` sees every job's runs on the way. `jobs`: only these jobs'
    histories were read (the other jobs' anomalies stand)."""
    forests = Forests()
    histories = {}
    for job, runs in runs_by_job:
        forests.add(job, runs)
        histories[job] = JobHistory(len(runs), [], cost_step(runs))
        if each is not None:
            each(job, runs)
    found = forests.anomalies()
    store.replace_anomalies([anomaly_row(a) for a in found], jobs=jobs)
    for anomaly in found:
        histories[anomaly.job_name].anomalies.append(anomaly)
    return histories


def stored_histories(
    store: Store, jobs: Collection[str], window_start: str
) -> Callable[[], tuple[dict[str, JobHistory], dict[str, int]]]:
    """Start working out the JobHistory of `jobs`, and their runs since `window_start`, from
    their whole histories in the store: in worker processes, each reading its share of the
    jobs through its own connection, when the store is a file and the jobs are many (reading a
    million runs is most of the work). Returns what waits for them (and keeps their anomalies
    in run_anomalies): the caller reads what else it needs meanwhile."""
    names = sorted(jobs)
    workers = min(os.cpu_count() or 1, 4)
    if store.path is None or workers < 2 or len(names) < PARALLEL_MIN_JOBS:
        done = [_histories(store, names, window_start)]
        pending: list[Any] = []
    else:
        executor = get_reusable_executor(max_workers=workers)
        size = math.ceil(len(names) / (workers * SHARES_PER_WORKER))
        pending = [
            executor.submit(
                histories_in, str(store.path), names[first : first + size], window_start
            )
            for first in range(0, len(names), size)
        ]
        done = []

    def finish() -> tuple[dict[str, JobHistory], dict[str, int]]:
        histories, since = {}, {}
        for share in done + [future.result() for future in pending]:
            for job, history, count in share:
                histories[job], since[job] = history, count
        found = [anomaly for h in histories.values() for anomaly in h.anomalies]
        store.replace_anomalies([anomaly_row(a) for a in found], jobs=jobs)
        return histories, since

    return finish


SHARES_PER_WORKER = 4  # jobs are split in this many shares per worker: the last one waits less


def histories_in(
    path: str, jobs: list[str], window_start: str
) -> list[tuple[str, JobHistory, int]]:
    """In a worker process: _histories() from the store at `path`."""
    store = Store(path)
    try:
        return _histories(store, jobs, window_start)
    finally:
        store.close()


def _histories(
    store: Store, jobs: list[str], window_start: str
) -> list[tuple[str, JobHistory, int]]:
    """(job, JobHistory, runs since window_start) of each of `jobs` that has runs."""
    forests = Forests(workers=1)
    out = []
    for job, runs in store.run_histories(jobs):
        forests.add(job, runs)
        out.append(
            (job, JobHistory(len(runs), [], cost_step(runs)), runs_since(runs, window_start))
        )
    by_job = {job: history for job, history, _ in out}
    for anomaly in forests.anomalies():
        by_job[anomaly.job_name].anomalies.append(anomaly)
    return out


def history_job_features(
    h: JobHistory, runs_since_start: int, window_start: str, window_days: int
) -> dict[str, Any]:
    """Runtime anomalies and cost step changes of one job, as the window sees them."""
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
    step = dict(h.step)
    features.update(step)
    if step:
        increase = step["cost_per_run_recent_usd"] - step["cost_per_run_before_usd"]
        runs_month = runs_since_start * month
        features["cost_increase_usd_month"] = max(0.0, increase * runs_month)
    features["cost_anomaly_usd_month"] = max(
        features.get("cost_increase_usd_month", 0.0), features["anomaly_extra_usd_month"]
    )
    return features


def history_features(
    store: Store,
    runs_by_job: dict[str, list[dict[str, Any]]],
    window_start: str,
    window_days: int,
) -> dict[str, dict[str, Any]]:
    """Runtime anomalies (kept in run_anomalies) and cost step changes, from each job's history."""
    return {
        job: history_job_features(
            h, runs_since(runs_by_job[job], window_start), window_start, window_days
        )
        for job, h in job_histories(store, runs_by_job.items()).items()
    }


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
    window_runs: dict[str, list[dict[str, Any]]],
    history: dict[str, dict[str, Any]],
    config: dict[str, Any] | None,
    whatif_out: dict[str, Any] | None = None,
    whatif_memo: dict[str, StoredWhatIf | None] | None = None,
    reusable: dict[str, StoredWhatIf] | None = None,
) -> dict[str, dict[str, Any]]:
    """The features of `jobs` (jobs rows) from their window's runs (oldest first) and their
    history features. `whatif_memo` receives each job's what-if with its key (None: none);
    a job whose key is its `reusable` one's takes that what-if rather than simulating again."""
    start, end_iso = window_bounds(end, window_days)
    names = {job["name"] for job in jobs}
    observed = observed_features(store, start, end_iso, names)
    apps = store.latest_spark_apps(start, end_iso)
    features = {}
    for job in jobs:
        name = job["name"]
        f = {
            **definition_features(job, end),
            **run_history_features(window_runs.get(name, []), window_days),
            **observed.get(name, NOT_OBSERVED),
            **history.get(name, {}),
        }
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
