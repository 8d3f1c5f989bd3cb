"""The weekly report's loop: the savings configuration changes realised (against what was
predicted, by a finding or the what-if) and why the fleet's cost moved from the week before,
split into causes that add up to the move (advisor/analysis/changes.py, attribution.py)."""

from __future__ import annotations

from datetime import date, timedelta
from html import escape
from typing import Any

from advisor.analysis.attribution import explain_in_store
from advisor.analysis.changes import changes_in_store
from advisor.analysis.changes_data import job_keys
from advisor.report.labels import md_text, money

LOOKBACK = timedelta(days=90)  # changes made this long before the week's end are shown
CAUSE_LABEL = {
    "schedule": "number of runs",
    "input_volume": "input volume",
    "configuration": "configuration changes",
    "runtime": "runtime at the same volume",
    "rate": "rate per DPU-hour",
    "failures": "failed runs",
}


def changes_section(
    store: Any, monday: date, account: str | None = None, region: str | None = None
) -> dict[str, Any]:
    """`changes` (made in the 90 days to the week's end, judged as of the store's newest run),
    `realised_usd_month` / `costing_usd_month` (sums of the saving and costing ones) and `why`
    (the week's attribution, with the jobs that moved most)."""
    end = monday + timedelta(weeks=1)
    scope = job_keys(store, account, region) if account or region else None
    since = (end - LOOKBACK).isoformat()
    changes = [
        c.as_dict() for c in changes_in_store(store, scope, since) if c.changed_at < end.isoformat()
    ]
    realised = [c for c in changes if c["status"] == "saving"]
    costing = [c for c in changes if c["status"] == "costing"]
    return {
        "changes": changes,
        "realised_usd_month": sum(c["realised_usd_month"] or 0 for c in realised),
        "costing_usd_month": sum(c["realised_usd_month"] or 0 for c in costing),
        "why": explain_in_store(store, monday, scope, fleet=True),
    }


def _signed(value: float | None) -> str:
    if value is None:
        return "—"
    if abs(value) < 0.005:
        return money(0.0)
    return ("+" if value > 0 else "-") + money(abs(value))


def _fields(fields: dict[str, list[Any]]) -> str:
    return "; ".join(f"{name} {old} → {new}" for name, (old, new) in fields.items())


def _predicted(change: dict[str, Any]) -> str:
    finding = change.get("finding")
    if finding is not None:
        verdict = {True: ", borne out", False: ", not borne out"}.get(finding["as_predicted"], "")
        return f"{_signed(finding['predicted_usd_month'])} ({finding['rule_id']}{verdict})"
    whatif = change.get("whatif") or {}
    if whatif.get("predicted_usd_month") is not None:
        return f"{_signed(whatif['predicted_usd_month'])} (what-if)"
    return "—"


def render_changes(section: dict[str, Any]) -> str:
    """HTML of both parts; every text from the store is escaped."""
    rows = "".join(
        f"<tr><td>{escape(c['job'])}</td><td>{escape(c['changed_at'][:10])}</td>"
        f"<td>{escape(_fields(c['fields']))}</td><td>{escape(c['status'].replace('_', ' '))}</td>"
        f"<td>{_signed(c['realised_usd_month'])}</td>"
        f"<td>{escape(_interval(c['interval_usd_month']))}</td>"
        f"<td>{escape(_predicted(c))}</td></tr>"
        for c in section["changes"]
    )
    judged = [c for c in section["changes"] if c["realised_usd_month"] is not None]
    headline = (
        f"Changes of the last 90 days realise {_signed(section['realised_usd_month'])} a "
        f"month; those that cost more add {money(-section['costing_usd_month'])} a month "
        "(a positive figure saves money; each judged on the runs since, per GB read where the "
        "volume is known)."
        if judged
        else "No change can be judged in dollars yet (too few runs since, or runs at a rate "
        "the facts registry lacks)."
    )
    realised = (
        f"<p>{headline}</p>"
        '<div class="scroll"><table id="changes"><tr><th>job</th><th>changed</th>'
        "<th>fields</th><th>status</th>"
        "<th>realised a month</th><th>90% interval</th><th>predicted</th></tr>"
        f"{rows}</table></div>"
        if rows
        else '<p class="muted">No configuration change in the last 90 days.</p>'
    )
    why = section["why"]
    causes = "".join(
        f"<tr><td>{escape(CAUSE_LABEL.get(c['cause'], c['cause']))}</td>"
        f"<td>{_signed(c['usd'])}</td><td>{escape(c['detail'])}</td></tr>"
        for c in why["causes"]
        if c["usd"]
    )
    movers = ", ".join(
        f"{escape(j['job'])} {_signed(j['change_usd'])}"
        for j in why.get("jobs", [])[:5]
        if round(j["change_usd"], 2)
    )
    if why.get("unpriced_runs") and not (why["this_usd"] or why["previous_usd"]):
        return (
            f"<h2>Savings realised</h2>{realised}<h2>Why costs moved</h2>"
            f'<p class="muted">Unpriced: {why["unpriced_runs"]:,} runs are at a rate the facts '
            "registry lacks, so the move cannot be told in dollars.</p>"
        )
    moved = (
        f"<p>{_signed(why['change_usd'])} on the week before ({money(why['previous_usd'])} → "
        f"{money(why['this_usd'])}); the causes add up to the move.</p>"
        + (
            '<div class="scroll"><table id="why-costs-moved"><tr><th>cause</th>'
            "<th>change</th><th>detail</th></tr>"
            f"{causes}</table></div>"
            if causes
            else ""
        )
        + (f'<p class="muted">Jobs that moved most: {movers}.</p>' if movers else "")
    )
    return f"<h2>Savings realised</h2>{realised}<h2>Why costs moved</h2>{moved}"


def _interval(interval: list[float] | None) -> str:
    if not interval:
        return "—"
    return f"{_signed(interval[0])} to {_signed(interval[1])}"


def changes_markdown(section: dict[str, Any]) -> list[str]:
    """The same two parts as render_changes(), for chat and email."""
    lines = ["", "## Savings realised", ""]
    changes = section["changes"]
    if not changes:
        lines.append("No configuration change in the last 90 days.")
    else:
        if any(c["realised_usd_month"] is not None for c in changes):
            lines.append(
                f"Changes of the last 90 days realise {_signed(section['realised_usd_month'])} "
                f"a month; those that cost more add {money(-section['costing_usd_month'])} a "
                "month (a positive figure saves money)."
            )
            lines.append("")
        lines += [
            "| job | changed | fields | status | realised a month | 90% interval | predicted |",
            "| --- | --- | --- | --- | ---: | --- | --- |",
        ]
        lines += [
            f"| {md_text(c['job'])} | {c['changed_at'][:10]} | {md_text(_fields(c['fields']))} | "
            f"{c['status'].replace('_', ' ')} | {_signed(c['realised_usd_month'])} | "
            f"{md_text(_interval(c['interval_usd_month']))} | {md_text(_predicted(c))} |"
            for c in changes
        ]
    why = section["why"]
    lines += ["", "## Why costs moved", ""]
    if why.get("unpriced_runs") and not (why["this_usd"] or why["previous_usd"]):
        lines.append(
            f"Unpriced: {why['unpriced_runs']:,} runs are at a rate the facts registry lacks."
        )
        return lines
    lines.append(
        f"{_signed(why['change_usd'])} on the week before ({money(why['previous_usd'])} → "
        f"{money(why['this_usd'])}); the causes add up to the move."
    )
    lines += [
        f"- {md_text(CAUSE_LABEL.get(c['cause'], c['cause']))}: {_signed(c['usd'])} "
        f"({md_text(c['detail'])})"
        for c in why["causes"]
        if c["usd"]
    ]
    return lines
