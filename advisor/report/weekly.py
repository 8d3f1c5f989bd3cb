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
from advisor.report.weekly_bill import bill_section
from advisor.store import Store
from advisor.timeutil import parse_ts

HISTORY_WEEKS = 8  # weeks shown in the trend and sparklines, this one included
SPARK = ("glueetl", "gluestreaming")
_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


def parse_week(text: str) -> date:
    """'2026-W47' -> the Monday that starts it."""
    match = _WEEK.match(text or "")
    if not match:
        raise ValueError(f"expected an ISO week like 2026-W47, got {text!r}")
    try:
        return date.fromisocalendar(int(match.group(1)), int(match.group(2)), 1)
    except ValueError as exc:
        raise ValueError(f"{text} is not a week of that year") from exc


def week_label(monday: date) -> str:
    year, week, _ = monday.isocalendar()
    return f"{year}-W{week:02d}"


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
    this, previous, before = weeks[-1], weeks[-2], weeks[-5:-1]
    usd = priced_usd(this)
    previous_usd = priced_usd(previous)
    priced_weeks = [u for u in (priced_usd(w) for w in before) if u is not None]
    average_usd = round(sum(priced_weeks) / len(priced_weeks), 2) if priced_weeks else None
    by_job = _by_job(this, weeks, store)
    failed = [r for r in this if r["state"] in FAILED_STATES]
    by_cause: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in failed:
        by_cause[failure_cause(row["error_message"], row["state"])].append(row)
    causes = {
        cause: {
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
            "previous_week_usd": previous_usd,
            "change_vs_previous": _ratio(usd, previous_usd),
            "four_week_average_usd": average_usd,
            "change_vs_average": _ratio(usd, average_usd),
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
        "compared_with_earlier_analysis": compared,
        "new_findings": [_brief(f) for f in findings if (f["first_seen"] or "") >= start_iso]
        if compared
        else [],
        "resolved_findings": [
            _brief(f) for f in store.resolved_findings_since(start_iso) if here(f["job_name"])
        ]
        if compared
        else [],
        "open_findings": sorted(
            (_brief(f) for f in findings),
            key=lambda f: (-SEVERITIES.index(f["severity"]), f["job_name"], f["title"]),
        ),
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
        "coverage": _coverage(store, this),
        "bill": bill_section(store, monday, account, region),
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
                "workers": (
                    f"{job['number_of_workers']} x {job['worker_type']}"
                    if job.get("number_of_workers")
                    else job.get("worker_type")
                ),
                "execution_class": job.get("execution_class") or "STANDARD",
                "failed_runs": sum(1 for r in members if r["state"] in FAILED_STATES),
                "weekly_usd": [round(v, 2) for v in history[key]],
            }
        )
    return out


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
    if report["compared_with_earlier_analysis"]:
        return (
            f"{len(report['new_findings'])} new and {len(report['resolved_findings'])} resolved "
            "since the week began."
        )
    return (
        "The first analysis came after this week began, so nothing is marked new or resolved: "
        f"the {len(report['open_findings'])} open findings, by severity and job."
    )


def _coverage(store: Store, this: list[dict[str, Any]]) -> list[dict[str, Any]]:
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
        if job["name"] not in measured and job.get("command_name") != "pythonshell":
            missing.append(
                "CloudWatch metrics: none collected"
                if flag(arguments, "--enable-metrics")
                else "CloudWatch metrics: set --enable-metrics true and "
                "--enable-observability-metrics true"
            )
        if job.get("command_name") in SPARK and job["name"] not in logged:
            missing.append(
                "Spark event logs: none collected"
                if event_log_path(arguments)
                else "Spark event logs: set --enable-spark-ui true and --spark-event-logs-path"
            )
        if missing:
            out.append({**job_fields(job["name"]), "missing": missing})
    return out


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


def to_markdown(report: dict[str, Any]) -> str:
    totals, failures = report["totals"], report["failures"]
    places = several_places(report)
    where = place_text(**(report.get("filter") or {}))
    lines = [
        f"# Glue cost report, {report['week']}" + (f" ({_md(where)})" if where else ""),
        "",
        f"**{money(totals['usd'], totals['unpriced_runs'])}** and "
        f"**{totals['dpu_hours']:,.1f} DPU-hours** over "
        f"{totals['runs']:,} runs ({_change(totals['change_vs_previous'])} on the week before, "
        f"{_change(totals['change_vs_average'])} on the 4-week average of "
        f"{money(totals['four_week_average_usd'])}). Failed runs burned "
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
        f"Together about **{money(report['savings_total_usd_month'])}/month**: per job, the best "
        "set of fixes that combine (overlapping findings are not added up).",
        "",
    ]
    lines += [
        f"- **{money(s['usd_month'])}/month** {_md(s['job_name'])}: {_md(s['title'])}. "
        f"{_md(s['fix'])}"
        for s in report["savings"][:15]
    ] or ["- none with a dollar figure"]
    lines += ["", "## Money burned by failed runs", ""]
    lines += [
        f"- {cause}: {money(v['usd'], v['unpriced_runs'])} ({v['runs']} runs)"
        for cause, v in failures["by_cause"].items()
    ] or ["- no failed runs"]
    lines += ["", "## Findings", "", findings_headline(report)]
    lines += [
        f"- new [{f['severity']}] {_md(f['job_name'])}: {_md(f['title'])}"
        for f in report["new_findings"][:20]
    ]
    lines += [
        f"- resolved {_md(f['job_name'])}: {_md(f['title'])}" for f in report["resolved_findings"]
    ]
    if not report["compared_with_earlier_analysis"]:
        lines += [
            f"- [{f['severity']}] {_md(f['job_name'])}: {_md(f['title'])}"
            for f in report["open_findings"][:30]
        ]
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
