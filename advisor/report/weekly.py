"""The weekly cost report's data: one ISO week of the store, compared with the weeks before.

Pure reading of the store (costs, findings, anomalies, features), so the HTML, markdown, CSV
and JSON forms all show the same numbers.
"""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

import orjson

from advisor.analysis.runstats import FAILED_STATES, SEVERITIES, failure_cause
from advisor.identity import run_label, split_key
from advisor.jobargs import event_log_path, flag
from advisor.report.labels import (
    csv_safe,
    in_place,
    job_fields,
    job_type,
    md_text,
    money,
    place_text,
    priced_usd,
)
from advisor.report.weekly_bill import bill_markdown, bill_section
from advisor.report.weekly_changes import changes_markdown, changes_section
from advisor.report.window import window_end
from advisor.store import Store
from advisor.timeutil import FIRST_DAY, LAST_DAY, parse_ts

HISTORY_WEEKS = 8  # weeks shown in the trend and sparklines, this one included
AVERAGE_WEEKS = 4  # the baseline: the weeks before this one, those the store has data of
SPARK = ("glueetl", "gluestreaming")
CAUSE_LABELS = {  # runstats.failure_cause's names, as a reader says them
    "timeout": "Timed out",
    "out_of_memory": "Out of memory",
    "container_killed_memory": "Container killed for memory",
    "disk_full": "Local disk full",
    "throttling": "Throttled (S3 or API rate limits)",
    "other": "Other errors",
}
NO_WORKER_TYPE = "none"  # runs_with_costs_between's worker type of a job sized in DPU
_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


def parse_week(text: str) -> date:
    """'2026-W47' -> the Monday that starts it."""
    match = _WEEK.match(text or "")
    if not match:
        raise ValueError(f"expected an ISO week like 2026-W47, got {text!r}")
    try:
        monday = date.fromisocalendar(int(match.group(1)), int(match.group(2)), 1)
    except ValueError as exc:
        raise ValueError(f"{text} is not a week of that year") from exc
    if not FIRST_DAY <= monday <= LAST_DAY - timedelta(days=7):
        raise ValueError(f"{text} is outside {FIRST_DAY.year}-{LAST_DAY.year}")
    return monday


def week_label(monday: date) -> str:
    year, week, _ = monday.isocalendar()
    return f"{year}-W{week:02d}"


def plural(count: int, noun: str) -> str:
    """'1 run', '4 runs'."""
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def cause_label(cause: str) -> str:
    return CAUSE_LABELS.get(cause, cause.replace("_", " ").capitalize())


def worker_label(worker_type: str | None) -> str:
    """A worker type as the tables show it; Python shell (and MaxCapacity) jobs have none."""
    if not worker_type or worker_type == NO_WORKER_TYPE:
        return "no worker type (sized in DPU)"
    return worker_type


def last_day(report: dict[str, Any]) -> str:
    """The week's last day (its `end` is the Monday after, which is not in it)."""
    return (date.fromisoformat(report["end"][:10]) - timedelta(days=1)).isoformat()


def last_full_week(store: Store) -> date | None:
    """The ISO week before the one holding the newest run (that one may still be running)."""
    newest = store.latest_run_start()
    if newest is None:
        return None
    day = parse_ts(newest).date()
    return day - timedelta(days=day.weekday() + 7)


def _iso(day: date) -> str:
    return datetime(day.year, day.month, day.day, tzinfo=UTC).isoformat(timespec="milliseconds")


def _sum(rows: list[dict[str, Any]], key: str) -> float:
    return round(sum(r[key] or 0 for r in rows), 4)


def _ratio(now: float | None, before: float | None) -> float | None:
    return now / before - 1 if now is not None and before else None


def _midnight(text: str) -> datetime:
    day = parse_ts(text).date()
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _span(store: Store, monday: date) -> dict[str, Any]:
    """Which part of the week the store has data for: the store's history starts on the day
    of its first run and ends just after its newest (window.window_end, the rule every
    window follows). `length` is how much of each week to compare: all of it, or, for a week
    the data stops in, the same part of the weeks before."""
    first, _last = store.run_time_span()
    start = datetime(monday.year, monday.month, monday.day, tzinfo=UTC)
    week = timedelta(weeks=1)
    history = _midnight(first) if first else start
    end = window_end(store) or start + week
    return {
        "history": history,
        "length": max(timedelta(0), min(week, end - start)),
        "data_from": history.date() if start < history < start + week else None,
        "data_through": (end - timedelta(seconds=1)).date() if end < start + week else None,
    }


def _baseline(
    weeks: list[list[dict[str, Any]]], first: date, span: dict[str, Any]
) -> list[tuple[bool, float | None]]:
    """Each earlier week: whether the store has data of it (a week before its history is not
    a $0.00 week), and its dollars over the part of it this week is compared on."""
    out: list[tuple[bool, float | None]] = []
    for index, rows in enumerate(weeks[:-1]):
        monday = first + timedelta(weeks=index)
        start = datetime(monday.year, monday.month, monday.day, tzinfo=UTC)
        cut = start + span["length"]
        part = [r for r in rows if parse_ts(r["started_on"]) < cut]
        out.append((start >= span["history"], priced_usd(part)))
    return out


def _comparison(
    usd: float | None, baseline: list[tuple[bool, float | None]], span: dict[str, Any]
) -> dict[str, Any]:
    """The week against the week before and the average of up to AVERAGE_WEEKS before it,
    over the same part of each week, and only of the weeks the store has data of."""
    recent = baseline[-AVERAGE_WEEKS:]
    covered, previous = recent[-1]
    known = [u for has_data, u in recent if has_data and u is not None]
    average = round(sum(known) / len(known), 2) if known else None
    previous = previous if covered else None
    return {
        "previous_week_usd": previous,
        "change_vs_previous": _ratio(usd, previous),
        "four_week_average_usd": average,
        "change_vs_average": _ratio(usd, average),
        # how many of the weeks before the average is of (0: no history to compare with)
        "history_weeks": sum(1 for has_data, _usd in recent if has_data),
        "partial_week": bool(span["data_from"] or span["data_through"]),
        "data_from": span["data_from"] and span["data_from"].isoformat(),
        "data_through": span["data_through"] and span["data_through"].isoformat(),
    }


def _savings_total(
    store: Store, findings: list[dict[str, Any]], account: str | None, region: str | None
) -> float | None:
    """What the fixes save together (of the jobs in the account and region asked for); None
    (no dollar figure) when findings exist but none could be priced, so an unknown rate never
    reads as $0.00."""
    if account is None and region is None:
        total = store.fleet_saving_usd_month()
    else:
        total = sum(
            row["usd_month"] or 0
            for key, row in store.job_savings().items()
            if in_place(key, account, region)
        )
    if not total and findings and not any(f["savings_usd_month"] for f in findings):
        has_dpu = any(f["savings_dpu_hours_month"] for f in findings)
        return None if has_dpu else 0.0
    return round(total, 2)


def _resource_savings(store: Store, account: str | None, region: str | None) -> dict[str, Any]:
    """The open findings on crawlers, sessions and endpoints (in the account and region asked
    for) and what they save a month together: per resource the largest, as two findings on one
    session (idle timeout, DPUs) overlap."""
    best: dict[tuple[str, str, str, str], float] = {}
    count = 0
    for finding in store.resource_findings():
        if account not in (None, finding["account"]) or region not in (None, finding["region"]):
            continue
        count += 1
        key = (finding["kind"], finding["account"], finding["region"], finding["name"])
        best[key] = max(best.get(key, 0.0), finding["savings_usd_month"] or 0.0)
    return {"findings": count, "usd_month": round(sum(best.values()), 2)}


def _unpriced(rows: list[dict[str, Any]]) -> int:
    return sum(1 for r in rows if r["cost_usd"] is None)


def _group(rows: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        groups[row[key] or "unknown"].append(row)
    out = [
        {
            key: name,
            "runs": len(members),
            "dpu_hours": _sum(members, "dpu_hours"),
            "usd": priced_usd(members),
            "unpriced_runs": _unpriced(members),
        }
        for name, members in groups.items()
    ]
    return sorted(out, key=lambda g: (-(g["usd"] or 0), -g["dpu_hours"], str(g[key])))


def _by_place(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The week's runs totalled by account and region, most expensive first."""
    places: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        account, region, _name = split_key(row["job_name"])
        places[(account, region)].append(row)
    out = [
        {
            "account": account,
            "region": region,
            "jobs": len({r["job_name"] for r in members}),
            "runs": len(members),
            "failed_runs": sum(1 for r in members if r["state"] in FAILED_STATES),
            "dpu_hours": _sum(members, "dpu_hours"),
            "usd": priced_usd(members),
            "unpriced_runs": _unpriced(members),
        }
        for (account, region), members in places.items()
    ]
    return sorted(out, key=lambda g: (-(g["usd"] or 0), -g["dpu_hours"], g["account"], g["region"]))


def weekly_report(
    store: Store,
    monday: date | None = None,
    top: int = 10,
    *,
    account: str | None = None,
    region: str | None = None,
) -> dict[str, Any]:
    """The report of the ISO week starting `monday` (default: the last full one); `account`
    and `region`: only the jobs there (the week is still the store's)."""
    monday = monday or last_full_week(store)
    if monday is None:
        raise LookupError("the store has no runs: collect or import first")
    first = monday - timedelta(weeks=HISTORY_WEEKS - 1)
    rows = store.runs_with_costs_between(
        _iso(first), _iso(monday + timedelta(weeks=1)), account, region
    )

    def here(key: str) -> bool:
        return in_place(key, account, region)

    weeks: list[list[dict[str, Any]]] = [[] for _ in range(HISTORY_WEEKS)]
    for row in rows:
        index = (parse_ts(row["started_on"]).date() - first).days // 7
        weeks[index].append(row)
    this = weeks[-1]
    usd = priced_usd(this)
    span = _span(store, monday)
    by_job = _by_job(this, weeks, store)
    failed = [r for r in this if r["state"] in FAILED_STATES]
    by_cause: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in failed:
        by_cause[failure_cause(row["error_message"], row["state"])].append(row)
    causes = {
        cause: {
            "label": cause_label(cause),
            "runs": len(rows_of),
            "usd": priced_usd(rows_of),
            "unpriced_runs": _unpriced(rows_of),
            "dpu_hours": _sum(rows_of, "dpu_hours"),
        }
        for cause, rows_of in by_cause.items()
    }
    retries = [r for r in this if (r["attempt"] or 0) > 0]
    start_iso = _iso(monday)
    findings = [f for f in store.open_findings() if here(f["job_name"])]
    # new and resolved mean something only against an analysis from before the week: on the
    # first report every finding would be "new"
    compared = any(
        (f["first_seen"] or "") < start_iso for f in store.all_findings() if here(f["job_name"])
    )
    end_iso = _iso(monday + timedelta(weeks=1))
    open_now = _open_findings(findings, start_iso if compared else None)
    return {
        "week": week_label(monday),
        "start": start_iso,
        "end": end_iso,
        # the account and region asked for (null: every one)
        "filter": {"account": account, "region": region},
        "totals": {
            "usd": usd,
            "dpu_hours": _sum(this, "dpu_hours"),
            "runs": len(this),
            "failed_runs": len(failed),
            **_comparison(usd, _baseline(weeks, first, span), span),
            "unpriced_runs": sum(1 for r in this if r["cost_usd"] is None),
        },
        "weekly": [
            {
                "week": week_label(first + timedelta(weeks=i)),
                "usd": priced_usd(w),
                "unpriced_runs": _unpriced(w),
                "dpu_hours": _sum(w, "dpu_hours"),
            }
            for i, w in enumerate(weeks)
        ],
        "top_jobs": by_job[:top],
        "jobs": by_job,
        "by_place": _by_place(this),
        "by_job_type": _group(
            [{**r, "job_type": job_type(r["command_name"])} for r in this],
            "job_type",
        ),
        "by_worker_type": _group(this, "worker_type"),
        "by_execution_class": _group(this, "execution_class"),
        "failures": {
            "usd": priced_usd(failed),
            "unpriced_runs": _unpriced(failed),
            "dpu_hours": _sum(failed, "dpu_hours"),
            "by_cause": dict(sorted(causes.items(), key=lambda kv: -(kv[1]["usd"] or 0))),
            "retry_runs": len(retries),
            "retry_usd": priced_usd(retries),
            "retry_unpriced_runs": _unpriced(retries),
        },
        "savings": _savings(findings),
        # what the fixes save together: per job the best compatible set, never the findings' sum
        "savings_total_usd_month": _savings_total(store, findings, account, region),
        # crawlers, sessions and development endpoints: their findings are in the bill section
        "resource_savings": _resource_savings(store, account, region),
        "compared_with_earlier_analysis": compared,
        # every open finding, by severity and job; `new` marks those first seen since the week
        # began (only against an earlier analysis), and the resolved ones are listed apart
        "new_findings": [f for f in open_now if f["new"]],
        "resolved_findings": sorted(
            (_brief(f) for f in store.resolved_findings_since(start_iso) if here(f["job_name"])),
            key=_finding_order,
        )
        if compared
        else [],
        "open_findings": open_now,
        "anomalies": [
            {
                **a,
                **job_fields(a["job_name"]),
                "run_id": run_label(a["run_id"]),
                "run_key": a["run_id"],
                "reasons": orjson.loads(a["reasons"]),
            }
            for a in store.anomalies_between(start_iso, end_iso)
            if here(a["job_name"])
        ],
        "coverage": _coverage(store, this, start_iso, end_iso),
        "bill": bill_section(store, monday, account, region),
        "changes": changes_section(store, monday, account, region),
    }


def _by_job(this: list[dict], weeks: list[list[dict]], store: Store) -> list[dict[str, Any]]:
    history: dict[str, list[float]] = defaultdict(lambda: [0.0] * len(weeks))
    for index, week in enumerate(weeks):
        for row in week:
            history[row["job_name"]][index] += row["cost_usd"] or 0
    jobs = {j["name"]: j for j in store.jobs()}
    out = []
    for group in _group(this, "job_name"):
        key = group["job_name"]
        job = jobs.get(key, {})
        members = [r for r in this if r["job_name"] == key]
        out.append(
            {
                **group,
                **job_fields(key),  # job_name: the label; account, region, job_key
                "job_type": job_type(job.get("command_name")),
                "workers": _workers(job),
                "execution_class": job.get("execution_class") or "STANDARD",
                "failed_runs": sum(1 for r in members if r["state"] in FAILED_STATES),
                "weekly_usd": [round(v, 2) for v in history[key]],
            }
        )
    return out


def _workers(job: dict[str, Any]) -> str:
    """'10 x G.1X', or the DPU of a job sized without workers (Python shell, MaxCapacity)."""
    if job.get("number_of_workers"):
        return f"{job['number_of_workers']} x {job['worker_type']}"
    if job.get("max_capacity"):
        return f"{job['max_capacity']:g} DPU"
    return job.get("worker_type") or "—"


def _finding_order(finding: dict[str, Any]) -> tuple[int, str, str]:
    """Most severe first (critical > high > medium > low > info), then by job and title."""
    return (-SEVERITIES.index(finding["severity"]), finding["job_name"], finding["title"])


def _open_findings(findings: list[dict[str, Any]], since: str | None) -> list[dict[str, Any]]:
    """Every open finding, by severity and job; `new` when first seen at or after `since`
    (None: no earlier analysis to tell new from old, so none is)."""
    rows = [
        {**_brief(f), "new": since is not None and (f["first_seen"] or "") >= since}
        for f in findings
    ]
    return sorted(rows, key=_finding_order)


def _brief(finding: dict[str, Any]) -> dict[str, Any]:
    advice = orjson.loads(finding["advice"] or "[]")
    return {
        **job_fields(finding["job_name"]),
        "rule_id": finding["rule_id"],
        "problem": finding["problem"],
        "severity": finding["severity"],
        "title": finding["title"],
        "fix": advice[0] if advice else "",
        "usd_month": finding["savings_usd_month"],
        "dpu_hours_month": finding["savings_dpu_hours_month"],
    }


def _savings(findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    with_money = [_brief(f) for f in findings if (f["savings_usd_month"] or 0) > 0]
    return sorted(with_money, key=lambda f: -f["usd_month"])


def findings_headline(report: dict[str, Any]) -> str:
    count = plural(len(report["open_findings"]), "open finding")
    if report["compared_with_earlier_analysis"]:
        text = (
            f"{len(report['new_findings'])} new and {len(report['resolved_findings'])} resolved "
            f"since the week began; {count} in all, by severity and job."
        )
    else:
        text = (
            "The first analysis came after this week began, so nothing is marked new or "
            f"resolved: the {count} on jobs, by severity and job."
        )
    return text + resource_findings_note(report)


def resource_findings_note(report: dict[str, Any]) -> str:
    """Where the findings on crawlers, sessions and endpoints are, and what they save."""
    resources = report.get("resource_savings") or {}
    if not resources.get("findings"):
        return ""
    saving = resources["usd_month"]
    count = resources["findings"]
    return (
        f" {plural(count, 'more finding')} on crawlers, sessions and development endpoints"
        + (f" (about {money(saving)} a month)" if saving else "")
        + f" {'is' if count == 1 else 'are'} listed under Other Glue costs."
    )


def empty_week_refusal(store: Store, report: dict[str, Any]) -> str | None:
    """Why a week without runs gets no report (a $0.00 report would read as a free week), in
    the words `advisor report` uses; None when the week has runs."""
    if report["totals"]["runs"]:
        return None
    where = place_text(**(report.get("filter") or {}))
    first, last = store.run_time_span()
    return (
        f"no runs in {report['week']}{f' ({where})' if where else ''}: the store holds runs "
        f"from {(first or '?')[:10]} to {(last or '?')[:10]}; no report written"
    )


def comparison_text(totals: dict[str, Any], change: Any) -> str:
    """How the week compares with the weeks before, `change` formatting each ratio: over the
    same days of each week when this one is partial, and never against weeks the store has
    no data of (no history is not a $0.00 baseline)."""
    weeks = totals["history_weeks"]
    if not weeks:
        return "no earlier week in the store to compare with"
    partial = bool(totals["data_through"])
    parts = [
        f"{change(totals['change_vs_previous'])} on "
        f"{'the same days of ' if partial else ''}the week before"
    ]
    if weeks > 1:  # the average of one week is the week before
        parts.append(
            f"{change(totals['change_vs_average'])} on the {weeks}-week average of "
            f"{'the same days, ' if partial else ''}{money(totals['four_week_average_usd'])}"
        )
    return ", ".join(parts)


def partial_text(totals: dict[str, Any]) -> str:
    """'Partial week: the store has data through Thu 26 Nov (UTC).' (empty for a whole
    week)."""
    parts = []
    if totals.get("data_from"):
        parts.append(f"from {date.fromisoformat(totals['data_from']):%a %d %b}")
    if totals.get("data_through"):
        parts.append(f"through {date.fromisoformat(totals['data_through']):%a %d %b}")
    return f"Partial week: the store has data {' and '.join(parts)} (UTC)." if parts else ""


def _coverage(
    store: Store, this: list[dict[str, Any]], start: str, end: str
) -> list[dict[str, Any]]:
    """Jobs that ran this week without metrics or (Spark) event logs, and what to enable."""
    ran = {r["job_name"] for r in this}
    measured = {r["job_name"] for r in this if r["has_metrics"]}
    logged = {r["job_name"] for r in this if r["has_eventlog"]}
    # a job whose logs are in the store for other runs is collected: this week's may come later
    logged |= {j["name"] for j in store.jobs() if store.latest_spark_app_of(j["name"])}
    out = []
    for job in store.jobs():
        if job["name"] not in ran:
            continue
        arguments = orjson.loads(job.get("default_arguments") or "{}")
        missing = []
        # Glue's job metrics (--enable-metrics) are Spark's: Python shell and Ray jobs have none
        if job["name"] not in measured and job.get("command_name") in SPARK:
            missing.append(_metrics_missing(store, job["name"], arguments, start, end))
        if job.get("command_name") in SPARK and job["name"] not in logged:
            missing.append(
                "Spark event logs: none collected"
                if event_log_path(arguments)
                else "Spark event logs: set --enable-spark-ui true and --spark-event-logs-path"
            )
        if missing:
            out.append({**job_fields(job["name"]), "missing": missing})
    return out


def _metrics_missing(
    store: Store, job: str, arguments: dict[str, Any], start: str, end: str
) -> str:
    """What is missing of a job's CloudWatch metrics this week: this week's runs only (the
    store has them for runs before or after it), all of them, or the setting that sends them."""
    # store times are ISO text: "" sorts before every one, "~" after
    before = store.source_counts(job, "", start)["metric_runs"]
    after = store.source_counts(job, end, "~")["metric_runs"]
    if before or after:
        where = " and ".join(
            text
            for count, text in ((before, f"{before:,} earlier"), (after, f"{after:,} later"))
            if count
        )
        return (
            f"CloudWatch metrics: none for this week's runs (the store has them for {where} "
            f"{'run' if before + after == 1 else 'runs'})"
        )
    if flag(arguments, "--enable-metrics"):
        return "CloudWatch metrics: none collected"
    return "CloudWatch metrics: set --enable-metrics true and --enable-observability-metrics true"


# ---- flat forms ---------------------------------------------------------------------------------

CSV_FIELDS = (
    "week",
    "job_name",
    "account",
    "region",
    "job_type",
    "workers",
    "execution_class",
    "runs",
    "failed_runs",
    "dpu_hours",
    "usd",
    "unpriced_runs",
    "level",
)


def several_places(report: dict[str, Any]) -> bool:
    """Whether the week's runs are in more than one account or region (the tables then show
    where each job is, and a total for each place)."""
    return len(report.get("by_place") or []) > 1


def to_csv(report: dict[str, Any]) -> str:
    """Cost by job for the week (every job, not only the top ten), for finance tools: one row
    per job (`level` job) with its account and region; with jobs in more than one account or
    region, then one row per account and region (`level` place, no job): sum one level only."""
    buffer = io.StringIO()
    writer = csv.DictWriter(
        buffer, fieldnames=CSV_FIELDS, extrasaction="ignore", lineterminator="\n"
    )
    writer.writeheader()
    for row in report["jobs"]:
        values = {**row, "week": report["week"], "level": "job"}
        writer.writerow({k: csv_safe(v) for k, v in values.items()})
    if several_places(report):
        for place in report["by_place"]:
            values = {**place, "week": report["week"], "level": "place"}
            values.pop("jobs", None)  # the column of a place row is not a count of jobs
            writer.writerow({k: csv_safe(v) for k, v in values.items()})
    return buffer.getvalue()


def _change(value: float | None) -> str:
    return "—" if value is None else f"{value:+.0%}"


def _md(text: Any) -> str:
    return md_text(text)


MD_FINDINGS = 100  # open findings listed in markdown (chat and email); the rest are counted


def _findings_markdown(report: dict[str, Any]) -> list[str]:
    """The open findings under one heading per severity, by job, `new` ones marked; then the
    resolved ones."""
    lines: list[str] = []
    shown = report["open_findings"][:MD_FINDINGS]
    for severity in reversed(SEVERITIES):
        of_severity = [f for f in shown if f["severity"] == severity]
        if of_severity:
            lines += ["", f"### {severity.capitalize()} ({len(of_severity)})", ""]
            lines += [
                f"- {'**new** ' if f.get('new') else ''}{_md(f['job_name'])}: {_md(f['title'])}"
                for f in of_severity
            ]
    left = len(report["open_findings"]) - len(shown)
    if left:
        more = plural(left, "more finding")
        lines += ["", f"And {more}, less severe: `advisor analyze` lists them all."]
    if report["resolved_findings"]:
        lines += ["", f"### Resolved ({len(report['resolved_findings'])})", ""]
        lines += [
            f"- [{f['severity']}] {_md(f['job_name'])}: {_md(f['title'])}"
            for f in report["resolved_findings"]
        ]
    return lines


def to_markdown(report: dict[str, Any]) -> str:
    totals, failures = report["totals"], report["failures"]
    places = several_places(report)
    where = place_text(**(report.get("filter") or {}))
    partial = partial_text(totals)
    lines = [
        f"# Glue cost report, {report['week']}" + (f" ({_md(where)})" if where else ""),
        "",
        f"{report['start'][:10]} to {last_day(report)} (UTC)."
        + (f" **{partial}**" if partial else ""),
        "",
        f"**{money(totals['usd'], totals['unpriced_runs'])}** and "
        f"**{totals['dpu_hours']:,.1f} DPU-hours** over {plural(totals['runs'], 'run')} "
        f"({comparison_text(totals, _change)}). Failed runs burned "
        f"{money(failures['usd'], failures['unpriced_runs'])}; retries "
        f"{money(failures['retry_usd'], failures['retry_unpriced_runs'])}.",
        "",
    ]
    if places:
        lines += [
            "## Cost by account and region",
            "",
            "| account | region | jobs | runs | failed | DPU-hours | cost |",
            "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
        ]
        lines += [
            f"| {_md(p['account'])} | {_md(p['region'])} | {p['jobs']} | {p['runs']} | "
            f"{p['failed_runs']} | {p['dpu_hours']:,.1f} | {money(p['usd'], p['unpriced_runs'])} |"
            for p in report["by_place"]
        ]
        lines.append("")
    where_head, where_rule = ("account | region | ", "--- | --- | ") if places else ("", "")
    lines += [
        "## Top jobs",
        "",
        f"| job | {where_head}type | workers | runs | failed | DPU-hours | cost |",
        f"| --- | {where_rule}--- | --- | ---: | ---: | ---: | ---: |",
    ]
    lines += [
        f"| {_md(j['job_name'])} | "
        + (f"{_md(j['account'])} | {_md(j['region'])} | " if places else "")
        + f"{_md(j['job_type'])} | {_md(j['workers'])} | {j['runs']} | "
        f"{j['failed_runs']} | {j['dpu_hours']:,.1f} | {money(j['usd'], j['unpriced_runs'])} |"
        for j in report["top_jobs"]
    ]
    lines += [
        "",
        "## Savings opportunities",
        "",
        f"Together about **{money(report['savings_total_usd_month'])}/month**: the savings of "
        "the best set of fixes that combine, per job (overlapping findings are not added up, "
        "so it can be less than the list below sums to)." + resource_findings_note(report),
        "",
    ]
    lines += [
        f"- **{money(s['usd_month'])}/month** {_md(s['job_name'])}: {_md(s['title'])}. "
        f"{_md(s['fix'])}"
        for s in report["savings"][:15]
    ] or ["- none with a dollar figure"]
    lines += ["", "## Money burned by failed runs", ""]
    lines += [
        f"- {_md(v.get('label') or cause_label(cause))}: "
        f"{money(v['usd'], v['unpriced_runs'])} ({plural(v['runs'], 'run')})"
        for cause, v in failures["by_cause"].items()
    ] or ["- no failed runs"]
    lines += ["", "## Findings", "", findings_headline(report), *_findings_markdown(report)]
    if report.get("changes"):
        lines += changes_markdown(report["changes"])
    if report.get("bill"):
        lines += bill_markdown(report["bill"], totals["unpriced_runs"])
    lines += ["", "## Anomalous runs", ""]
    lines += [
        f"- {_md(a['job_name'])} {_md(a['run_id'])}: {a['ratio']:.1f}x its median "
        f"({_md('; '.join(a['reasons']))}), {money(a['extra_usd'])} extra"
        for a in report["anomalies"]
    ] or ["- none"]
    lines += ["", "## Coverage", ""]
    lines += [
        f"- {_md(c['job_name'])}: {_md('; '.join(c['missing']))}" for c in report["coverage"]
    ] or ["- every job that ran has metrics and event logs"]
    return "\n".join(lines) + "\n"
