"""The weekly report's bill: what AWS billed against what the advisor computed for the week
(when a billing export covers it), and the Glue costs beside job runs (crawlers, interactive
sessions, development endpoints), by category."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from html import escape
from typing import Any

from advisor.analysis.bill import other_costs_in_store, reconcile_in_store
from advisor.analysis.reconcile import ROUNDING_USD
from advisor.identity import label
from advisor.report.labels import category_label, md_text, money
from advisor.store import Store

NO_BILL = (
    "No billing export covers this week: import one (DIR/billing/ of `advisor import`) or "
    "read it from S3 (`advisor collect --billing s3://bucket/prefix/`) to compare."
)


def bill_section(
    store: Store, monday: date, account: str | None = None, region: str | None = None
) -> dict[str, Any]:
    """`billed` (None without billing data for the week) and `other` (by category)."""
    since, until = monday.isoformat(), (monday + timedelta(weeks=1)).isoformat()
    first, last = store.billing_days()
    covered = bool(first and last and first < until and last >= since)
    other = other_costs_in_store(store, since, until, last if covered else None)
    billed = None
    if covered:
        result = reconcile_in_store(store, since, until, (account, region), last, other)
        differing = [j for j in result["jobs"] if abs(j["difference_usd"]) > ROUNDING_USD]
        billed = {
            "billing_days": {"first": first, "last": last},
            "totals": result["totals"],
            "jobs_differing": sorted(differing, key=lambda j: -abs(j["difference_usd"]))[:10],
            "unknown_jobs": result["unknown_jobs"],
            "adjustments": result["adjustments"],
            "other": result["other"],
        }
    by_category: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"computed_usd": 0.0, "billed_usd": None, "resources": 0, "unpriced_uses": 0}
    )
    for row in other:
        if account in (None, row["account"]) and region in (None, row["region"]):
            cell = by_category[row["category"]]
            cell["computed_usd"] += row["computed_usd"]
            cell["resources"] += 1
            cell["unpriced_uses"] += row["unpriced_uses"]
    for row in (billed or {}).get("other", []):
        cell = by_category[row["category"]]
        cell["billed_usd"] = (cell["billed_usd"] or 0.0) + row["billed_usd"]
    return {
        "billed": billed,
        "other": [{"category": k, **v} for k, v in sorted(by_category.items())],
        "other_resources": [
            r for r in other if account in (None, r["account"]) and region in (None, r["region"])
        ][:10],
        # what the resource rules (rules/resources/) found, the costliest first
        "findings": [
            {k: f[k] for k in ("kind", "name", "severity", "title", "message", "savings_usd_month")}
            for f in store.resource_findings()
            if account in (None, f["account"]) and region in (None, f["region"])
        ],
    }


def _computed(usd: float, unpriced: int, what: str) -> str:
    """Money, never $0.00 for what has no rate: 'unpriced (N runs)' or '$X + N unpriced'."""
    if not unpriced:
        return money(usd)
    if not usd:
        return f"unpriced ({unpriced:,} {what})"
    return f"{money(usd)} + {unpriced:,} {what} unpriced"


def render_bill(section: dict[str, Any], unpriced_runs: int = 0) -> str:
    """HTML of both parts; every text from the store is escaped. `unpriced_runs`: the week's
    runs at a rate the registry lacks, which the computed side cannot price."""
    billed = section["billed"]
    if billed is None:
        head = f'<p class="muted">{escape(NO_BILL)}</p>'
    else:
        t = billed["totals"]
        head = (
            f"<p>Computed {_computed(t['computed_usd'], unpriced_runs, 'runs')}, billed for jobs "
            f"{money(t['billed_usd'])}, unexplained {money(t['unexplained_usd'])} "
            f"(billing data {escape(billed['billing_days']['first'])} to "
            f"{escape(billed['billing_days']['last'])}; a cent a job and day is rounding).</p>"
        )
        rows = [
            f"<tr><td>{escape(label(j['job']))}</td>"
            f"<td>{money(j['computed_usd']) if j['computed_usd'] else '—'}</td>"
            f"<td>{money(j['billed_usd'])}</td><td>{money(j['difference_usd'])}</td>"
            f"<td>{escape(', '.join(d['day'] for d in j['days_differing']))}</td></tr>"
            for j in billed["jobs_differing"]
        ]
        rows += [
            f"<tr><td>{escape(u['resource_id'])} (not in the store)</td><td>—</td>"
            f"<td>{money(u['billed_usd'])}</td><td>{money(u['billed_usd'])}</td><td></td></tr>"
            for u in billed["unknown_jobs"]
        ]
        if rows:
            head += (
                '<div class="scroll"><table id="bill-differences"><tr><th>job</th>'
                "<th>computed</th><th>billed</th><th>difference</th><th>days</th></tr>"
                + "".join(rows)
                + "</table></div>"
            )
        for adjustment in billed["adjustments"]:
            head += (
                f"<p>{escape(adjustment['line_type'])}: {money(adjustment['usd'])} "
                "(kept apart from usage)</p>"
            )

    def computed(c: dict[str, Any]) -> str:
        if not c["resources"]:
            return "not collected"
        return _computed(c["computed_usd"], c["unpriced_uses"], "uses")

    other_rows = "".join(
        f"<tr><td>{escape(category_label(c['category']))}</td><td>{c['resources']}</td>"
        f"<td>{computed(c)}</td>"
        f"<td>{'—' if c['billed_usd'] is None else money(c['billed_usd'])}</td></tr>"
        for c in section["other"]
    )
    other = (
        '<div class="scroll"><table id="other-costs"><tr><th>category</th><th>resources</th>'
        f"<th>computed</th><th>billed</th></tr>{other_rows}</table></div>"
        if other_rows
        else '<p class="muted">No crawlers, interactive sessions or development endpoints '
        "were collected for this week.</p>"
    )
    found = "".join(
        f"<li>[{escape(f['severity'])}] {escape(f['title'])}: {escape(f['message'])}"
        + (
            f" Saves about {money(f['savings_usd_month'])} a month."
            if f["savings_usd_month"]
            else ""
        )
        + "</li>"
        for f in section.get("findings", [])
    )
    if found:
        other += f'<ul id="resource-findings">{found}</ul>'
    return (
        f"<h2>Billed vs computed</h2>{head}"
        f"<h2>Other Glue costs (crawlers, sessions, endpoints)</h2>{other}"
    )


def bill_markdown(section: dict[str, Any], unpriced_runs: int = 0) -> list[str]:
    """The same two parts as render_bill(), for chat and email."""
    lines = ["", "## Billed vs computed", ""]
    billed = section["billed"]
    if billed is None:
        lines.append(NO_BILL)
    else:
        t = billed["totals"]
        lines.append(
            f"Computed {_computed(t['computed_usd'], unpriced_runs, 'runs')}, billed for jobs "
            f"{money(t['billed_usd'])}, unexplained {money(t['unexplained_usd'])} (billing data "
            f"{billed['billing_days']['first']} to {billed['billing_days']['last']}; a cent a "
            "job and day is rounding)."
        )
        lines += [
            f"- {md_text(label(j['job']))}: computed "
            f"{money(j['computed_usd']) if j['computed_usd'] else '—'}, billed "
            f"{money(j['billed_usd'])}, difference {money(j['difference_usd'])} on "
            f"{md_text(', '.join(d['day'] for d in j['days_differing']))}"
            for j in billed["jobs_differing"]
        ]
        lines += [
            f"- {md_text(u['resource_id'])} (not in the store): billed {money(u['billed_usd'])}"
            for u in billed["unknown_jobs"]
        ]
        lines += [
            f"- {md_text(a['line_type'])}: {money(a['usd'])} (kept apart from usage)"
            for a in billed["adjustments"]
        ]
    lines += ["", "## Other Glue costs", ""]
    if not section["other"]:
        lines.append("No crawlers, interactive sessions or development endpoints were collected.")
    else:
        lines += ["| category | resources | computed | billed |", "| --- | ---: | ---: | ---: |"]
        for c in section["other"]:
            computed = (
                _computed(c["computed_usd"], c["unpriced_uses"], "uses")
                if c["resources"]
                else "not collected"
            )
            billed_usd = "—" if c["billed_usd"] is None else money(c["billed_usd"])
            lines.append(
                f"| {md_text(category_label(c['category']))} | {c['resources']} | {computed} "
                f"| {billed_usd} |"
            )
    lines += [""] + [
        f"- [{f['severity']}] {md_text(f['title'])}: {md_text(f['message'])}"
        + (
            f" Saves about {money(f['savings_usd_month'])} a month."
            if f["savings_usd_month"]
            else ""
        )
        for f in section["findings"]
    ]
    return lines
