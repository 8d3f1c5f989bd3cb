"""What each dashboard page reads from the store: small frames from pre-aggregated tables
(`daily_costs`, `job_features`, `findings`, `job_whatif`) and one job's runs. Never analysis."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import orjson
import pandas as pd

from advisor.analysis.runstats import SEVERITIES
from advisor.identity import label, place_key, split_key
from advisor.report.labels import job_type, sparkline
from advisor.store import Store

SEVERITY_RANK = {s: i for i, s in enumerate(SEVERITIES)}
SEVERITY_ORDER = tuple(reversed(SEVERITIES))  # critical first: how every list shows them
SPARK_COMMANDS = ("glueetl", "gluestreaming")
METRICS_FLAGS = ("--enable-metrics", "--enable-observability-metrics")
DIMENSIONS = {
    "job_name": "job",
    "job_type": "job type",
    "worker_type": "worker type",
    "execution_class": "execution class",
    "place": "account and region",  # offered when the store holds more than one place
}
# the filters every page shares: a job is in a place, "account/region" (identity.place_key)


def store_places(store: Store) -> list[dict[str, Any]]:
    """Each (account, region) the store holds jobs of, with how many: [{account, region,
    jobs}]."""
    return store.places()


def place_choices(store: Store) -> dict[str, list[str]]:
    """The accounts and regions a page's filters offer."""
    places = store_places(store)
    return {
        "account": sorted({p["account"] for p in places}),
        "region": sorted({p["region"] for p in places}),
    }


def selected_places(
    store: Store, accounts: list[str] | None, regions: list[str] | None
) -> frozenset[str] | None:
    """The places the filters choose (None: no filter, every place)."""
    if not accounts and not regions:
        return None
    return frozenset(
        place_key(p["account"], p["region"])
        for p in store_places(store)
        if (not accounts or p["account"] in accounts) and (not regions or p["region"] in regions)
    )


def place_of_key(key: str) -> str:
    account, region, _name = split_key(key)
    return place_key(account, region)


def in_places(key: str, places: frozenset[str] | None) -> bool:
    return places is None or place_of_key(key) in places


def _day(text: str, minus_days: int) -> str:
    return (date.fromisoformat(text) - timedelta(days=minus_days)).isoformat()


def cost_over_time(
    store: Store,
    by: str,
    days: int = 90,
    top: int = 8,
    places: frozenset[str] | None = None,
) -> pd.DataFrame:
    """Daily cost over the last `days` days (of the jobs in `places`) split by a dimension,
    its `top` biggest kept and the rest as 'other' (aggregated in SQL from daily_costs). Jobs
    are named by their labels."""
    newest = store.newest_cost_day()
    if newest is None:
        return pd.DataFrame()
    frame = pd.DataFrame(store.cost_by_day_in(by, _day(newest, days - 1), places))
    if frame.empty:
        return frame
    if by == "job_type":
        frame["value"] = frame["value"].map(job_type)
    elif by == "job_name":
        frame["value"] = frame["value"].map(label)
    totals = frame.groupby("value")["usd"].sum().sort_values(ascending=False)
    keep = set(totals.index[:top])
    frame["group"] = frame["value"].where(frame["value"].isin(keep), "other")
    return frame.groupby(["day", "group"], as_index=False)["usd"].sum()


def kpis(
    store: Store, places: frozenset[str] | None = None, open_findings: pd.DataFrame | None = None
) -> dict[str, Any]:
    """The overview's figures, of the jobs in `places`; `open_findings`: findings(store,
    False, places) when the caller has it."""
    newest = store.newest_cost_day()
    out: dict[str, Any] = {"days": 0}
    if newest is not None:

        def window(skip: int, length: int) -> dict[str, float]:
            return store.cost_between_days_in(
                _day(newest, skip + length - 1), _day(newest, skip), places
            )

        week, last_week = window(0, 7), window(7, 7)
        month, last_month = window(0, 30), window(30, 30)
        out.update(
            days=store.cost_between_days_in("0000", newest, places)["days"],
            newest_day=newest,
            week_usd=week["usd"],
            week_unpriced_runs=week["unpriced_runs"],
            week_change=_change(week["usd"], last_week["usd"]),
            month_usd=month["usd"],
            month_unpriced_runs=month["unpriced_runs"],
            month_change=_change(month["usd"], last_month["usd"]),
            month_dpu_hours=month["dpu_hours"],
            month_failed_usd=month["failed_usd"],
        )
    if places is None:
        counts = store.open_findings_by_severity()
        out["findings_by_severity"] = {s: n for s, (n, _) in counts.items()}
        # per job the best compatible set of fixes, never the sum of overlapping findings
        out["savings_usd_month"] = store.fleet_saving_usd_month()
        return out
    if open_findings is None:
        open_findings = findings(store, include_resolved=False, places=places)
    shown = open_findings[open_findings["status"] == "open"] if not open_findings.empty else None
    out["findings_by_severity"] = (
        {} if shown is None else shown["severity"].value_counts().astype(int).to_dict()
    )
    out["savings_usd_month"] = sum(
        row["usd_month"] or 0.0
        for job, row in store.job_savings().items()
        if in_places(job, places)
    )
    return out


def place_breakdown(
    store: Store, places: frozenset[str] | None = None, open_findings: pd.DataFrame | None = None
) -> list[dict[str, Any]]:
    """Cost by account and region (of `places`): jobs, dollars over the last 7 and 30 days,
    DPU-hours and dollars burned by failed runs over 30 days, potential saving a month and
    open findings; most expensive first."""
    newest = store.newest_cost_day()
    week = store.cost_by_place(_day(newest, 6), newest) if newest else {}
    month = store.cost_by_place(_day(newest, 29), newest) if newest else {}
    saving: dict[str, float] = {}
    for job, row in store.job_savings().items():
        place = place_of_key(job)
        saving[place] = saving.get(place, 0.0) + (row["usd_month"] or 0.0)
    if open_findings is None:
        open_findings = findings(store, include_resolved=False, places=places)
    counts: dict[str, int] = {}
    if not open_findings.empty:
        shown = open_findings[open_findings["status"] == "open"]
        for account, region in zip(shown["account"], shown["region"], strict=True):
            place = place_key(account, region)
            counts[place] = counts.get(place, 0) + 1
    out = []
    for p in store_places(store):
        place = place_key(p["account"], p["region"])
        if places is not None and place not in places:
            continue
        w, m = week.get(place, {}), month.get(place, {})
        out.append(
            {
                "account": p["account"],
                "region": p["region"],
                "jobs": p["jobs"],
                "cost_7d": _priced(w),
                "unpriced_runs_7d": w.get("unpriced_runs", 0),
                "cost_30d": _priced(m),
                "unpriced_runs_30d": m.get("unpriced_runs", 0),
                "dpu_hours_30d": round(m.get("dpu_hours", 0.0), 1),
                "failed_usd_30d": round(m.get("failed_usd", 0.0), 2),
                "saving_month": round(saving.get(place, 0.0), 2),
                "open_findings": counts.get(place, 0),
            }
        )
    return sorted(out, key=lambda r: (-(r["cost_30d"] or 0), r["account"], r["region"]))


def _priced(window: dict[str, Any]) -> float | None:
    """A window's dollars; None when every run in it lacks a rate (not $0.00)."""
    if window.get("runs") and window.get("unpriced_runs") == window.get("runs"):
        return None
    return round(window.get("usd", 0.0), 2)


def _change(now: float | None, before: float | None) -> float | None:
    return float(now / before - 1) if now is not None and before else None


def findings(
    store: Store, include_resolved: bool = True, places: frozenset[str] | None = None
) -> pd.DataFrame:
    """Every finding (of the jobs in `places`): `job_name` is the job's label, `job_key` its
    key, with its `account` and `region`."""
    frame = pd.DataFrame(store.all_findings())
    if frame.empty:
        return frame
    if not include_resolved:
        frame = frame[frame["status"] != "resolved"]
    frame = _with_places(frame.rename(columns={"job_name": "job_key"}), places)
    frame.insert(1, "job_name", frame["job_key"].map(label))
    frame["fix"] = frame["advice"].map(lambda a: (orjson.loads(a or "[]") or [""])[0])
    return frame.drop(columns=["advice"])


def _with_places(frame: pd.DataFrame, places: frozenset[str] | None) -> pd.DataFrame:
    """The rows of jobs in `places`, with `account` and `region` columns from `job_key`."""
    parts = [split_key(key) for key in frame["job_key"]]
    frame = frame.assign(
        account=[account for account, _r, _n in parts], region=[region for _a, region, _n in parts]
    )
    if places is not None:
        chosen = [
            place_key(a, r) in places
            for a, r in zip(frame["account"], frame["region"], strict=True)
        ]
        frame = frame[chosen]
    return frame


def by_severity(frame: pd.DataFrame) -> pd.DataFrame:
    """Findings most severe first (critical > high > medium > low > info), by score within a
    severity; never alphabetical."""
    if frame.empty:
        return frame
    order = frame.assign(_rank=frame["severity"].map(SEVERITY_RANK).fillna(-1))
    return order.sort_values(["_rank", "score"], ascending=[False, False], kind="stable").drop(
        columns="_rank"
    )


def severities_present(frame: pd.DataFrame) -> list[str]:
    """The severities in the frame, critical first."""
    present = set(frame["severity"].dropna()) if not frame.empty else set()
    return [s for s in SEVERITY_ORDER if s in present]


def telemetry(store: Store, job: dict[str, Any]) -> dict[str, bool]:
    """What the job's page can show: Spark panels only for Spark jobs (glueetl, gluestreaming),
    and whether CloudWatch job metrics are on (a flag in its default arguments, or metrics
    stored for its runs) and observability metrics (worker utilisation) in particular; whether
    it writes Spark event logs (--enable-spark-ui)."""
    try:
        arguments = orjson.loads(job.get("default_arguments") or "{}")
    except orjson.JSONDecodeError:
        arguments = {}
    if not isinstance(arguments, dict):
        arguments = {}
    flags = {f for f in METRICS_FLAGS if str(arguments.get(f, "")).strip().lower() == "true"}
    stored = bool(
        list(
            store.db.query(
                "select 1 from run_metrics where job_name = ? limit 1", [job.get("name")]
            )
        )
    )
    return {
        "spark": job.get("command_name") in SPARK_COMMANDS,
        "metrics_on": bool(flags) or stored,
        "observability_on": "--enable-observability-metrics" in flags,
        "metrics_stored": stored,
        "spark_ui_on": str(arguments.get("--enable-spark-ui", "")).strip().lower() == "true",
    }


def jobs_table(store: Store, places: frozenset[str] | None = None) -> list[dict[str, Any]]:
    """One row per job (in `places`): weekly cost and trend, runs, failures, runtimes, config,
    findings; `job` is its label, `job_key` its key, with its `account` and `region`."""
    features = store.all_job_features()
    open_findings = findings(store, include_resolved=False, places=places)
    worst: dict[str, tuple[int, str]] = {}
    # each job's saving is the best compatible set of its fixes, never the findings' sum
    saving = {job: row["usd_month"] or 0.0 for job, row in store.job_savings().items()}
    if not open_findings.empty:
        for row in open_findings.itertuples():
            rank = SEVERITY_RANK[row.severity]
            if rank > worst.get(row.job_key, (-1, ""))[0]:
                worst[row.job_key] = (rank, f"{row.severity}: {row.title}")
    weekly: dict[str, list[float]] = {}
    runs: dict[str, int] = {}
    unpriced: dict[str, tuple[int, int]] = {}  # newest week: (unpriced runs, runs)
    newest = store.newest_cost_day()
    for row in store.weekly_cost_by_job(newest, 8) if newest else []:
        weekly.setdefault(row["job_name"], [0.0] * 8)[row["week"]] = row["usd"]
        if row["week"] == 7:
            unpriced[row["job_name"]] = (row["unpriced_runs"], row["runs"])
        if row["week"] >= 4:  # the last four weeks
            runs[row["job_name"]] = runs.get(row["job_name"], 0) + row["runs"]
    last_week = {job: values[-1] for job, values in weekly.items()}
    out = []
    for job in store.jobs():
        name = job["name"]
        if not in_places(name, places):
            continue
        f = features.get(name, {})
        # as `advisor costs` prints it: a Python shell job (MaxCapacity only) has no workers
        workers = (
            f"{job['number_of_workers']} x {job['worker_type']}"
            if job.get("number_of_workers")
            else (job.get("worker_type") or "—")
        )
        out.append(
            {
                "job": label(name),
                "job_key": name,
                "account": job.get("account") or split_key(name)[0],
                "region": job.get("region") or split_key(name)[1],
                "type": job_type(job.get("command_name")),
                "workers": workers,
                # a job whose runs all lack a rate has no dollar figure, not $0.00
                "cost_last_7d": None
                if unpriced.get(name, (0, 0))[0] and unpriced[name][0] == unpriced[name][1]
                else round(last_week.get(name, 0.0), 2),
                "unpriced_runs_7d": unpriced.get(name, (0, 0))[0],
                "trend": sparkline(weekly.get(name, [0.0] * 8)),
                "runs_28d": runs.get(name, 0),
                "failure_rate": round(f["failure_rate"], 4)
                if f.get("failure_rate") is not None
                else None,
                "p50_min": _minutes(f.get("runtime_p50_s")),
                "p95_min": _minutes(f.get("runtime_p95_s")),
                "worst_finding": worst.get(name, (-1, ""))[1],
                # no saving claimed is "—", as on the findings page, not $0.00
                "saving_month": round(saving[name], 2) if saving.get(name) else None,
            }
        )
    return sorted(out, key=lambda r: -(r["cost_last_7d"] or 0))


def _minutes(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 60, 1)


def job_runs(store: Store, job: str) -> pd.DataFrame:
    return _with_times(pd.DataFrame(store.job_run_points(job)))


def job_versions(store: Store, job: str) -> list[dict[str, Any]]:
    return store.job_version_history(job)


def _with_times(frame: pd.DataFrame) -> pd.DataFrame:
    if not frame.empty:
        frame["started_on"] = pd.to_datetime(frame["started_on"], utc=True)
    return frame


CLOUDWATCH_PANELS = {
    "heap": ("glue.ALL.jvm.heap.usage", "glue.driver.jvm.heap.usage"),
    "utilization": ("glue.driver.workerUtilization",),
    "executors": (
        "glue.driver.ExecutorAllocationManager.executors.numberMaxNeededExecutors",
        "glue.driver.ExecutorAllocationManager.executors.numberAllExecutors",
    ),
}


def job_metrics(store: Store, job: str) -> pd.DataFrame:
    """Per run and metric: the peak value CloudWatch recorded, for the job's panels."""
    wanted = sorted({m for names in CLOUDWATCH_PANELS.values() for m in names})
    frame = _with_times(pd.DataFrame(store.metric_peaks(job, wanted)))
    # the store groups by run id, not time: a line through them would zig-zag
    return frame.sort_values(["metric", "started_on"]) if not frame.empty else frame


def latest_stages(store: Store, job: str) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    app = store.latest_spark_app_of(job)
    if app is None:
        return None, []
    return app, store.spark_stages_of(app)
