"""`advisor recommend` as markdown: for chat, tickets and email, and (rendered) the terminal."""

from __future__ import annotations

from typing import Any

from advisor import facts
from advisor.report.labels import (
    evidence_label,
    evidence_value,
    job_type,
    md_prose,
    md_text,
    short_run_keys,
    sparkline,
)
from advisor.timeutil import parse_ts


def _money(value: float | None) -> str:
    return "unknown" if value is None else f"${value:,.2f}"


def _cell(value: Any) -> str:
    if isinstance(value, float):
        text = f"{value:,.4g}"
    elif value is None:
        text = "—"
    else:
        return md_text(value)
    return text


def _timeout(job: dict[str, Any]) -> str:
    """The job's timeout; a job whose definition has none gets its Glue version's default."""
    if job["timeout_min"]:
        return f"timeout {job['timeout_min']:,} min"
    default = facts.default_timeout_min(job["glue_version"])
    if default is None or job["type"] == "gluestreaming":
        return "no timeout in its definition"
    return f"no timeout in its definition (Glue {job['glue_version']} defaults to {default:,} min)"


def _window(window: dict[str, Any]) -> str:
    """'Last 30 days (to 2026-11-26)', 'Last 12 hours (...)' or 'All 61 days of history (...)'."""
    start, end = parse_ts(window["start"]), parse_ts(window["end"])
    to = f"to {window['end'][:10] or '?'}"
    if window.get("whole_history"):
        first = window["start"][:10] or "?"
        return f"All {window['days']} days of history ({first} {to})"
    if window["days"] or start is None or end is None:
        return f"Last {window['days']} days ({to})"
    return f"Last {round((end - start).total_seconds() / 3600)} hours ({to})"


def _trend(window: dict[str, Any], summary: dict[str, Any]) -> str:
    """The change on the window before, only when the job's history covers all of it."""
    if window.get("whole_history"):
        return "no earlier data to compare"
    if not window.get("previous_covered", True):
        return "not enough history to compare with the window before"
    change = summary["usd_change"]
    if change is None:
        return "nothing spent in the window before to compare"
    return f"{change:+.0%} on the window before"


def _saving_lines(saving: dict[str, Any]) -> list[str]:
    """The job's saving, saying why it is less than its findings' sum only when it is."""
    combined = len(saving["finding_ids"])
    overlap = (saving.get("sum_of_findings_usd_month") or 0) - saving["usd_month"] > 0.005
    apart = len(saving.get("not_combinable_ids") or [])
    if combined == 1:
        others = f" ({apart} other finding{'s' if apart != 1 else ''} cannot be combined with it)"
        why = "from one finding's fix" + (others if apart else "")
    elif overlap:
        why = (
            f"from the best set of fixes that combine ({combined} findings; their own savings "
            f"add up to {_money(saving['sum_of_findings_usd_month'])} because they overlap)"
        )
    else:
        why = f"from the fixes of {combined} findings, which combine"
    if not saving.get("fix_command"):
        why = "if its finding is acted on" if combined == 1 else f"if its {combined} findings are"
        return [
            f"**Saving: {_money(saving['usd_month'])} a month** {why}: no change of the job's "
            "configuration makes it, so `advisor fix` has nothing to apply.",
            "",
        ]
    return [
        f"**Saving: {_money(saving['usd_month'])} a month** {why}. Apply every open fix at "
        "once with:",
        "",
        "```sh",
        saving["fix_command"],
        "```",
        "",
    ]


def _evidence_lines(evidence: dict[str, Any]) -> list[str]:
    shown = [(k, v) for k, v in evidence.items() if v is not None]
    if not shown:
        return []
    rows = [
        f"| {md_text(evidence_label(k))} | {md_text(short_run_keys(evidence_value(k, v)))} |"
        for k, v in shown
    ]
    return ["| evidence | value |", "| --- | --- |", *rows, ""]


def _workers(job: dict[str, Any]) -> str:
    if job["number_of_workers"]:
        return f"{job['number_of_workers']} x {job['worker_type']}"
    if job["max_capacity"]:
        return f"MaxCapacity {job['max_capacity']:g} DPU"
    return "unknown"


def _sources(sources: dict[str, Any]) -> str:
    parts = [f"run history ({sources['run_history']['runs']} runs)"]
    cloudwatch = sources["cloudwatch"]
    if cloudwatch["available"]:
        parts.append(f"CloudWatch ({cloudwatch['runs_with_metrics']} runs with metrics)")
    elif cloudwatch.get("relevant", True):
        parts.append(
            "no CloudWatch metrics"
            + ("" if cloudwatch["enabled"] else " (--enable-metrics is off)")
        )
    logs = sources["eventlogs"]
    if logs["available"]:
        count = logs["applications"]
        parts.append(f"Spark event logs ({count} application{'s' if count != 1 else ''})")
    elif logs["relevant"]:
        parts.append("no Spark event logs" + ("" if logs["enabled"] else " (Spark UI is off)"))
    return "; ".join(parts)


def render(rec: dict[str, Any]) -> str:
    job, summary, window = rec["job"], rec["summary"], rec["window"]
    trend = _trend(window, summary)
    lines = [
        f"# {md_text(job['name'])}",
        "",
        f"Account {md_text(job.get('account') or '?')}, region {md_text(job.get('region') or '?')}"
        + (
            f", Glue job {md_text(job['glue_name'])}."
            if job.get("glue_name") and job["glue_name"] != job["name"]
            else "."
        ),
        "",
        f"{md_text(job_type(job['type']))} job on Glue "
        f"{md_text(job['glue_version'] or '?')}, {md_text(_workers(job))}, "
        f"{md_text(job['execution_class'])}, Auto Scaling "
        f"{'on' if job['autoscaling'] else 'off'}, {_timeout(job)}.",
        "",
        f"{_window(window)}: **{summary['runs']} runs**, "
        f"**{summary['dpu_hours']:,.1f} DPU-hours**, **{_money(summary['usd'])}** "
        f"({trend}; weekly {sparkline([w['usd'] for w in summary['weekly_usd']])}); "
        f"failure rate {(summary['failure_rate'] or 0):.0%}"
        + (
            f", {_money(summary['failed_usd'])} burned by failed runs"
            if summary["failed_usd"]
            else ""
        )
        + (
            f"; median runtime {summary['runtime_p50_s'] / 60:.1f} min"
            if summary["runtime_p50_s"]
            else ""
        )
        + ".",
        "",
        f"Data: {_sources(rec['sources'])}.",
        "",
    ]
    if not rec["analysed_as_of"]:
        lines += [
            "**Not analysed yet**: run `advisor analyze` to price the runs and find what to "
            "change (the dollars above are zero until then).",
            "",
        ]
    if rec["run"]:
        lines += _run_lines(rec["run"])
    findings = rec["findings"]
    saving = rec.get("saving") or {}
    if saving.get("usd_month"):
        lines += _saving_lines(saving)
    if not findings and rec["analysed_as_of"]:
        lines += ["No open findings.", ""]
    for number, finding in enumerate(findings, 1):
        saving = finding["savings"]["usd_month"]
        lines += [
            f"## {number}. [{finding['severity']}] {finding['title']}",
            "",
            f"`{finding['rule_id']}`"
            + (f" ({finding['problem']})" if finding["problem"] != finding["rule_id"] else "")
            + (f", saves about **{_money(saving)} a month**" if saving else "")
            + (
                f" ({finding['savings']['dpu_hours_month']:,.1f} DPU-hours)"
                if finding["savings"]["dpu_hours_month"]
                else ""
            ),
            "",
            md_text(short_run_keys(finding["message"])),
            "",
        ]
        lines += [f"- {md_prose(short_run_keys(text))}" for text in finding["advice"]] + [""]
        remediation = finding["remediation"]
        if remediation.get("fix_command"):
            lines += ["Fix (reads the job live, prints the complete update-job):", ""]
            lines += ["```sh", remediation["fix_command"], "```", ""]
        if remediation.get("terraform"):
            lines += ["Terraform:", "", "```hcl", remediation["terraform"], "```", ""]
        for note in remediation.get("notes", []):  # one quote each, or markdown runs them together
            lines += [f"> {md_prose(note)}", ""]
        lines += _evidence_lines(finding["evidence"])
    lines += _whatif_lines(rec["whatif"])
    lines += _changes_lines(rec.get("changes") or [])
    return "\n".join(lines).rstrip() + "\n"


def _signed(value: float | None) -> str:
    if value is None:
        return "—"
    return ("+" if value >= 0 else "-") + _money(abs(value))


def _changes_lines(changes: list[dict[str, Any]]) -> list[str]:
    """Its past configuration changes and what they did (`advisor changes`, one job)."""
    if not changes:
        return []
    lines = ["## Past changes", ""]
    for change in changes:
        fields = "; ".join(f"{name} {old} → {new}" for name, (old, new) in change["fields"].items())
        status = change["status"].replace("_", " ")
        realised = change["realised_usd_month"]
        said = f"{status}" if realised is None else f"{status}, {_signed(realised)} a month"
        interval = change.get("interval_usd_month")
        if interval:
            said += f" (90%: {_signed(interval[0])} to {_signed(interval[1])})"
        finding = change.get("finding")
        if finding and finding.get("predicted_usd_month") is not None:
            said += f"; predicted {_signed(finding['predicted_usd_month'])} by {finding['rule_id']}"
        lines.append(f"- {change['changed_at'][:10]}: {md_text(fields)}: {said}.")
    return [*lines, ""]


def _run_lines(run: dict[str, Any]) -> list[str]:
    lines = [
        f"## Run {md_text(run['id'])}",
        "",
        f"{md_text(run['state'])} (attempt {run['attempt']}), started {run['started_on'][:16]}, "
        f"{(run['execution_time_s'] or 0) / 60:.1f} min on {run['number_of_workers']} x "
        f"{md_text(run['worker_type'])}: {run['dpu_hours'] or 0:.2f} DPU-hours, "
        f"{_money(run['usd'])}.",
        "",
    ]
    if run["error_message"]:
        lines += [f"Failed ({run['failure_cause']}): `{_cell(run['error_message'])[:300]}`", ""]
    if run["anomaly"]:
        lines += [
            f"Anomalous: {run['anomaly']['ratio_to_median']:.1f}x the job's median runtime "
            f"({'; '.join(run['anomaly']['reasons'])}).",
            "",
        ]
    attempts = run.get("spark_attempts") or ([run["spark"]] if run["spark"] else [])
    for spark in attempts:
        which = f" (attempt {_cell(spark['attempt_id'])})" if len(attempts) > 1 else ""
        lines += [
            f"Spark{which}: {spark['tasks']} tasks ({spark['failed_tasks']} failed) on "
            f"{spark['executors']} executors, {(spark['disk_bytes_spilled'] or 0) / 1e9:.2f} GB "
            f"spilled to disk, executors busy {(spark['executor_utilization'] or 0):.0%}.",
            "",
        ]
    return lines


def _whatif_lines(whatif: dict[str, Any] | None) -> list[str]:
    if not whatif:
        return []
    lines = ["## What-if", ""]
    error = whatif["model_error"]
    if not whatif["trusted"]:
        lines += [
            f"The replay of run {whatif['run_id']} is not trusted: {'; '.join(whatif['doubts'])}.",
            "",
        ]
        return lines
    best = whatif["best"]
    lines += [
        f"Replay of run {whatif['run_id']} ({whatif['log_config']}), "
        f"{error:.1%} off its own runtime. Cheapest within {whatif['sla']:.0%} of today's "
        f"runtime: **{best['label'] if best else 'today'}**"
        + (
            f", {_money(whatif['saving_usd_month'])} a month less."
            if whatif["saving_usd_month"]
            else "."
        ),
        "",
        "| configuration | runtime | DPU-hours/run | cost/run |",
        "| --- | --- | --- | --- |",
    ]
    shown = list(whatif["frontier"])
    for extra in (whatif["current"], best):
        if extra and extra not in shown:
            shown.append(extra)
    for row in sorted(shown, key=lambda r: r["runtime_s"]):
        mark = " (now)" if row == whatif["current"] else (" (pick)" if row == best else "")
        lines.append(
            f"| {row['label']}{mark} | {row['runtime_s'] / 60:.1f} min | {row['dpu_hours']:.2f} "
            f"| {_money(row['usd'])} |"
        )
    return [*lines, ""]
