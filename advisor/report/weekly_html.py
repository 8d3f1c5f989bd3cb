"""The weekly report as one self-contained HTML file: plotly.js inlined, no external request,
every value from the store escaped. Totals carry `data-*` attributes so tests (and scripts) can
read the exact figures back."""

from __future__ import annotations

from html import escape
from typing import Any

import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

from advisor.report.labels import money, place_text
from advisor.report.weekly import (
    cause_label,
    comparison_text,
    findings_headline,
    last_day,
    partial_text,
    plural,
    resource_findings_note,
    several_places,
    worker_label,
)
from advisor.report.weekly_bill import render_bill
from advisor.report.weekly_changes import render_changes

STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;
max-width:1100px;color:#1d2733;padding:0 1rem}
h1{font-size:1.6rem;margin-bottom:.2rem} h2{font-size:1.2rem;margin-top:2rem;
border-bottom:1px solid #dde3ea;padding-bottom:.3rem}
.cards{display:flex;gap:1rem;flex-wrap:wrap} .card{border:1px solid #dde3ea;border-radius:8px;
padding:.8rem 1rem;min-width:180px} .card .v{font-size:1.5rem;font-weight:600}
.muted{color:#5f6b7a;font-size:.9rem} table{border-collapse:collapse;width:100%;font-size:.92rem}
th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid #eef1f4;vertical-align:top}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
.sev-critical{color:#b00020;font-weight:600}.sev-high{color:#d9480f;font-weight:600}
.sev-medium{color:#b7791f}.sev-low{color:#2b6cb0}.sev-info{color:#5f6b7a}
.up{color:#b00020}.down{color:#2f855a} svg.spark{vertical-align:middle}
.scroll{overflow-x:auto;max-width:100%} td.n,th.n{white-space:nowrap}
.warn{background:#fff8e1;border-left:4px solid #b7791f;padding:.5rem .8rem}
"""


def _data_usd(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


def _money(value: float | None, unpriced_runs: int = 0) -> str:
    return escape(money(value, unpriced_runs))


def _change(value: float | None) -> str:
    if value is None:
        return '<span class="muted">no earlier data</span>'
    css = "up" if value > 0 else "down"
    return f'<span class="{css}">{value:+.1%}</span>'


def sparkline_svg(values: list[float], width: int = 120, height: int = 24) -> str:
    """A tiny inline SVG line (no script, no request)."""
    top = max(values, default=0) or 1.0
    step = width / max(1, len(values) - 1)
    points = " ".join(
        f"{i * step:.1f},{height - 2 - (v / top) * (height - 4):.1f}" for i, v in enumerate(values)
    )
    label = escape(", ".join(f"${v:,.0f}" for v in values))
    return (
        f'<svg class="spark" width="{width}" height="{height}" role="img" '
        f'aria-label="{label}"><polyline fill="none" stroke="#2b6cb0" stroke-width="1.5" '
        f'points="{points}"/></svg>'
    )


def _table(headers: list[tuple[str, bool]], rows: list[list[str]], table_id: str) -> str:
    head = "".join(f'<th class="{"n" if n else ""}">{escape(h)}</th>' for h, n in headers)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="{"n" if headers[i][1] else ""}">{cell}</td>' for i, cell in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    return scroll(
        f'<table id="{table_id}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
    )


def scroll(table: str) -> str:
    """A table in a box of its own that scrolls sideways when the page is narrower than the
    table, so the page itself never does."""
    return f'<div class="scroll">{table}</div>'


def _figure(fig: go.Figure, div_id: str) -> str:
    fig.update_layout(
        template="plotly_white", height=320, margin={"l": 50, "r": 20, "t": 40, "b": 40}
    )
    return fig.to_html(
        include_plotlyjs=False, full_html=False, div_id=div_id, config={"displaylogo": False}
    )


def _severity(finding: dict[str, Any]) -> str:
    severity = escape(finding["severity"])
    return f'<span class="sev-{severity}">{severity}</span>'


def _findings_table(report: dict[str, Any]) -> str:
    """Every open finding by severity and job (`new` ones marked when an earlier analysis
    tells them apart), then the resolved ones."""
    compared = report["compared_with_earlier_analysis"]
    rows = [
        [
            "new" if f.get("new") else ("open" if compared else ""),
            _severity(f),
            escape(f["job_name"]),
            escape(f["title"]),
        ]
        for f in report["open_findings"]
    ]
    rows += [
        ["resolved", _severity(f), escape(f["job_name"]), escape(f["title"])]
        for f in report["resolved_findings"]
    ]
    return _table(
        [("", False), ("severity", False), ("job", False), ("finding", False)],
        rows,
        "finding-changes",
    )


def render(report: dict[str, Any]) -> str:
    t, failures = report["totals"], report["failures"]
    weekly = report["weekly"]
    names = [w["week"] for w in weekly]
    if t.get("partial_week"):  # its bar is not a whole week's
        names[-1] += " (partial)"
    trend = go.Figure(go.Bar(x=names, y=[w["usd"] for w in weekly], name="cost"))
    if t["four_week_average_usd"] is not None:
        average = f"{t['history_weeks']}-week average"
        trend.add_hline(
            y=t["four_week_average_usd"],
            line_dash="dot",
            annotation_text=average + (" of the same days" if t.get("data_through") else ""),
        )
    trend.update_layout(title="Cost per week (USD)")
    kinds = report["by_worker_type"]
    workers = go.Figure(
        go.Bar(
            x=[escape(worker_label(k["worker_type"])) for k in kinds], y=[k["usd"] for k in kinds]
        )
    )
    workers.update_layout(title="Cost by worker type this week (USD)")
    cards = [
        (
            "Cost",
            f'<span id="total-usd" data-usd="{_data_usd(t["usd"])}">'
            f"{_money(t['usd'], t['unpriced_runs'])}</span>",
            # static words, dollar figures and _change's spans: nothing from the store
            comparison_text(t, _change),
        ),
        (
            "DPU-hours",
            f'<span id="total-dpu" data-dpu="{t["dpu_hours"]:.4f}">{t["dpu_hours"]:,.1f}</span>',
            f'<span id="total-runs" data-runs="{t["runs"]}">{t["runs"]:,}</span> runs, '
            f"{t['failed_runs']:,} failed",
        ),
        (
            "Burned by failures",
            f'<span id="failed-usd">{_money(failures["usd"], failures["unpriced_runs"])}</span>',
            f"retries {_money(failures['retry_usd'], failures['retry_unpriced_runs'])}",
        ),
        (
            "Savings found",
            _money(report["savings_total_usd_month"]),
            "per month: the savings of the best set of fixes that combine, per job "
            f"({plural(len(report['savings']), 'finding')} with a saving; overlapping ones are "
            "not added up)" + escape(resource_findings_note(report)),
        ),
    ]
    card_html = "".join(
        f'<div class="card"><div class="muted">{escape(title)}</div><div class="v">{value}</div>'
        f'<div class="muted">{note}</div></div>'
        for title, value, note in cards
    )
    places = several_places(report)
    where = [("account", False), ("region", False)] if places else []
    jobs = _table(
        [
            ("job", False),
            *where,
            ("type", False),
            ("workers", False),
            ("class", False),
            ("runs", True),
            ("failed", True),
            ("DPU-hours", True),
            ("cost", True),
            ("last 8 weeks", False),
        ],
        [
            [
                escape(str(j["job_name"])),
                *([escape(str(j["account"])), escape(str(j["region"]))] if places else []),
                escape(str(j["job_type"])),
                escape(str(j["workers"])),
                escape(str(j["execution_class"])),
                f"{j['runs']:,}",
                f"{j['failed_runs']:,}",
                f"{j['dpu_hours']:,.1f}",
                _money(j["usd"], j["unpriced_runs"]),
                sparkline_svg(j["weekly_usd"]),
            ]
            for j in report["top_jobs"]
        ],
        "top-jobs",
    )

    by_place = _table(
        [
            ("account", False),
            ("region", False),
            ("jobs", True),
            ("runs", True),
            ("failed", True),
            ("DPU-hours", True),
            ("cost", True),
        ],
        [
            [
                escape(str(g["account"])),
                escape(str(g["region"])),
                f"{g['jobs']:,}",
                f"{g['runs']:,}",
                f"{g['failed_runs']:,}",
                f"{g['dpu_hours']:,.1f}",
                f'<span data-usd="{_data_usd(g["usd"])}">'
                f"{_money(g['usd'], g['unpriced_runs'])}</span>",
            ]
            for g in report.get("by_place") or []
        ],
        "by-place",
    )
    place_section = f"<h2>Cost by account and region</h2>{by_place}" if places else ""

    def grouped(key: str, title: str, table_id: str) -> str:
        shown = worker_label if key == "worker_type" else str
        return _table(
            [(title, False), ("runs", True), ("DPU-hours", True), ("cost", True)],
            [
                [
                    escape(shown(g[key])),
                    f"{g['runs']:,}",
                    f"{g['dpu_hours']:,.1f}",
                    _money(g["usd"], g["unpriced_runs"]),
                ]
                for g in report[f"by_{key}"]
            ],
            table_id,
        )

    causes = _table(
        [("root cause", False), ("failed runs", True), ("DPU-hours", True), ("cost", True)],
        [
            [
                escape(v.get("label") or cause_label(c)),
                f"{v['runs']:,}",
                f"{v['dpu_hours']:,.1f}",
                _money(v["usd"], v["unpriced_runs"]),
            ]
            for c, v in failures["by_cause"].items()
        ],
        "failure-causes",
    )
    savings = _table(
        [("per month", True), ("job", False), ("finding", False), ("exact fix", False)],
        [
            [
                _money(s["usd_month"]),
                escape(s["job_name"]),
                f'<span class="sev-{escape(s["severity"])}">{escape(s["severity"])}</span> '
                f"{escape(s['title'])}",
                escape(s["fix"]),
            ]
            for s in report["savings"]
        ],
        "savings",
    )
    changes = _findings_table(report)
    anomalies = _table(
        [("job", False), ("run", False), ("x median", True), ("extra cost", True), ("why", False)],
        [
            [
                escape(a["job_name"]),
                escape(a["run_id"]),
                f"{a['ratio']:.1f}",
                _money(a["extra_usd"]),
                escape("; ".join(a["reasons"])),
            ]
            for a in report["anomalies"]
        ],
        "anomalies",
    )
    coverage = _table(
        [("job", False), ("what the advisor cannot see, and what to enable", False)],
        [[escape(c["job_name"]), escape("; ".join(c["missing"]))] for c in report["coverage"]],
        "coverage",
    )
    week = escape(report["week"])
    partial = partial_text(t)
    scope = place_text(**(report.get("filter") or {}))
    heading = week + (f" ({escape(scope)})" if scope else "")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Glue cost report {heading}</title><style>{STYLE}</style>
<script>{get_plotlyjs()}</script></head>
<body>
<h1>Glue cost report, {heading}</h1>
<p class="muted">{escape(report["start"][:10])} to {escape(last_day(report))} (UTC), from the
glue-advisor store. Costs are DPU-hours x the configured rates.</p>
{f'<p class="warn" id="partial-week">{escape(partial)}</p>' if partial else ""}
<div class="cards">{card_html}</div>
{_figure(trend, "trend")}
{place_section}
<h2>Cost by job (top {len(report["top_jobs"])} of {len(report["jobs"])})</h2>{jobs}
<h2>By job type, worker type and execution class</h2>
{grouped("job_type", "job type", "by-job-type")}
{_figure(workers, "by-worker-type-chart")}
{grouped("worker_type", "worker type", "by-worker-type")}
{grouped("execution_class", "execution class", "by-execution-class")}
<h2>Money burned by failed runs and retries</h2>{causes}
<h2>Savings opportunities, by dollars</h2>{savings}
<h2>Findings, by severity and job</h2>
<p class="muted">{escape(findings_headline(report))}</p>{changes}
<h2>Anomalous runs</h2>{anomalies}
{render_changes(report["changes"]) if report.get("changes") else ""}
{render_bill(report["bill"], t["unpriced_runs"]) if report.get("bill") else ""}
<h2>Coverage</h2>{coverage}
</body></html>
"""
