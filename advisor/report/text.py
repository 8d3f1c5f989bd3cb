"""Terminal renderers (rich) for what the CLI prints; pure functions of store rows."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.markup import escape
from rich.table import Table
from rich.text import Text

from advisor.identity import label, run_label, split_key
from advisor.report.labels import money


def _money(value: float | None) -> str:
    return "—" if value is None else f"${value:,.2f}"


JOB_TYPES = {
    "glueetl": "spark",
    "gluestreaming": "streaming",
    "pythonshell": "python shell",
    "glueray": "ray",
}


def numbers_kept_whole(table: Table) -> Table:
    """Never cut a number (`1,5…`) when the terminal is narrow or output is piped: number
    columns (right-justified) are as wide as their widest cell; text columns wrap instead."""
    for column in table.columns:
        if column.justify == "right":
            widths = [Text.from_markup(str(c)).cell_len for c in column.cells]
            column.min_width = max([*widths, Text(str(column.header)).cell_len])
            column.no_wrap = True
        else:
            column.no_wrap, column.overflow = False, "fold"
    return table


def cost_table(rows: Sequence[dict[str, Any]], title: str) -> Table:
    table = Table(title=title, title_justify="left")
    for name, justify in (
        ("job", "left"),
        ("type", "left"),
        ("workers", "left"),
        ("runs", "right"),
        ("failed", "right"),
        ("DPU-hours", "right"),
        ("cost", "right"),
        ("share", "right"),
    ):
        table.add_column(name, justify=justify, no_wrap=True)
    total_dpu = sum(r["dpu_hours"] or 0 for r in rows) or 1.0
    for r in rows:
        workers = (
            f"{r['number_of_workers']} x {r['worker_type']}"
            if r["number_of_workers"]
            else (r["worker_type"] or "—")
        )
        # dollars at a rate AWS's pages did not confirm are marked (advisor facts lists them)
        cost = money(r["cost_usd"], r["unpriced_runs"]) + ("~" if r.get("unconfirmed_runs") else "")
        table.add_row(
            escape(label(r["job_name"])),
            escape(JOB_TYPES.get(r["command_name"], r["command_name"] or "?")),
            escape(workers),
            f"{r['runs']:,}",
            f"{r['failed_runs']:,}",
            f"{r['dpu_hours'] or 0:,.1f}",
            cost,
            f"{100 * (r['dpu_hours'] or 0) / total_dpu:.1f}%",
        )
    dpu = sum(r["dpu_hours"] or 0 for r in rows)
    priced = [r["cost_usd"] for r in rows if r["cost_usd"] is not None]
    usd = sum(priced) if priced or not rows else None
    unpriced = sum(r["unpriced_runs"] or 0 for r in rows)
    table.add_section()
    table.add_row(
        "total",
        "",
        "",
        f"{sum(r['runs'] for r in rows):,}",
        f"{sum(r['failed_runs'] for r in rows):,}",
        f"{dpu:,.1f}",
        money(usd, unpriced),
        "100%",
    )
    return numbers_kept_whole(table)


def place_totals(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """`cost_by_job` rows (keyed jobs) totalled by account and region, most expensive first:
    `cost_usd` is None when none of a place's runs could be priced (unpriced is not $0.00)."""
    places: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in rows:
        account, region, _name = split_key(r["job_name"])
        places.setdefault((account, region), []).append(r)
    out = []
    for (account, region), members in places.items():
        priced = [r["cost_usd"] for r in members if r["cost_usd"] is not None]
        out.append(
            {
                "account": account,
                "region": region,
                "jobs": len(members),
                "runs": sum(r["runs"] for r in members),
                "failed_runs": sum(r["failed_runs"] or 0 for r in members),
                "dpu_hours": sum(r["dpu_hours"] or 0 for r in members),
                "cost_usd": sum(priced) if priced else None,
                "unpriced_runs": sum(r["unpriced_runs"] or 0 for r in members),
            }
        )
    return sorted(
        out, key=lambda p: (-(p["cost_usd"] or 0), -p["dpu_hours"], p["account"], p["region"])
    )


def place_table(places: Sequence[dict[str, Any]], title: str) -> Table:
    """place_totals() as a small table: what each account and region spent."""
    table = Table(title=title, title_justify="left")
    for name, justify in (
        ("account", "left"),
        ("region", "left"),
        ("jobs", "right"),
        ("runs", "right"),
        ("failed", "right"),
        ("DPU-hours", "right"),
        ("cost", "right"),
    ):
        table.add_column(name, justify=justify, no_wrap=True)
    for p in places:
        table.add_row(
            escape(p["account"]),
            escape(p["region"]),
            f"{p['jobs']:,}",
            f"{p['runs']:,}",
            f"{p['failed_runs']:,}",
            f"{p['dpu_hours']:,.1f}",
            money(p["cost_usd"], p["unpriced_runs"]),
        )
    return numbers_kept_whole(table)


def errors_table(rows: Sequence[dict[str, Any]]) -> Table:
    table = Table(title="Skipped during collection or import", title_justify="left")
    for name in ("source", "item", "reason", "recorded"):
        table.add_column(name, overflow="fold")
    for r in rows:
        table.add_row(
            *(escape(str(r[k] or "")) for k in ("source", "item", "reason", "recorded_at"))
        )
    return table


SEVERITY_STYLE = {
    "critical": "bold red",
    "high": "red",
    "medium": "yellow",
    "low": "cyan",
    "info": "dim",
}


def findings_table(rows: Sequence[dict[str, Any]], title: str) -> Table:
    table = Table(title=title, title_justify="left")
    for name, justify in (
        ("severity", "left"),
        ("job", "left"),
        ("finding", "left"),
        ("saving / month", "right"),
    ):
        table.add_column(name, justify=justify, overflow="fold")
    for r in rows:
        saving = _money(r["savings_usd_month"]) if r["savings_usd_month"] else "—"
        table.add_row(
            f"[{SEVERITY_STYLE.get(r['severity'], '')}]{escape(r['severity'])}[/]",
            escape(label(r["job_name"])),
            escape(r["title"]),
            saving,
        )
    return numbers_kept_whole(table)


def whatif_table(result: dict[str, Any]) -> Table:
    """The runtime/cost frontier of one job, with today's configuration and the pick."""
    current, best = result["current"], result["best"]
    error = result["model_error"]
    trust = "trusted" if result["trusted"] else "NOT trusted: " + "; ".join(result["doubts"])
    caption = (
        f"Replay of run {run_label(result['run_id'])} ({result['log_config']}); model error on "
        f"its own configuration {'unknown' if error is None else f'{error:.1%}'}; {trust}."
    )
    if best is not None and result["trusted"]:
        saving = result["saving_usd_month"]
        caption += f"\nCheapest within {result['sla']:.0%} of today's runtime: {best['label']}" + (
            f", {_money(saving)} a month less." if saving else "."
        )
    table = Table(
        title=f"What-if: {escape(label(str(result['job_name'])))}",
        caption=escape(caption),
        title_justify="left",
        caption_justify="left",
    )
    for name in ("configuration", "runtime", "DPU-h/run", "cost/run", "slots busy", "note"):
        table.add_column(name, justify="left" if name in ("configuration", "note") else "right")
    shown = list(result["frontier"])
    for extra in (current, best):
        if extra is not None and extra not in shown:
            shown.append(extra)
    for row in sorted(shown, key=lambda r: r["runtime_s"]):
        picks = (("now", current), ("pick", best if result["trusted"] else None))
        marks = [m for m, c in picks if c == row]
        table.add_row(
            escape(row["label"] + (f"  <- {', '.join(marks)}" if marks else "")),
            f"{row['runtime_s'] / 60:.1f} min",
            f"{row['dpu_hours']:.2f}",
            _money(row["usd"]),
            f"{row['slot_utilization']:.0%}",
            escape(row["note"] or ""),
        )
    return numbers_kept_whole(table)
