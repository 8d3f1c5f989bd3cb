"""Terminal renderers (rich) for what the CLI prints; pure functions of store rows."""

from __future__ import annotations

from collections.abc import Sequence
from copy import copy
from typing import Any

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderResult
from rich.markup import escape
from rich.measure import Measurement
from rich.table import Column, Table
from rich.text import Text

from advisor.analysis.runstats import SEVERITIES
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


TEXT_MIN = 12  # a text column is not squeezed below this: the table is folded instead


def numbers_kept_whole(table: Table, keys: tuple[int, ...] = (0,)) -> KeptWhole:
    """Never cut a number (`1,5…`) nor squeeze the job out of sight when the terminal is narrow
    or output is piped: number columns (right-justified, or no_wrap) are as wide as their
    widest cell, text columns wrap; a table that still does not fit is folded into parts that
    each repeat the `keys` columns (the job)."""
    for column in table.columns:
        whole = column.justify == "right" or column.no_wrap
        column.no_wrap, column.overflow = whole, "ellipsis" if whole else "fold"
        if whole and isinstance(column.header, str):  # a header may wrap, its numbers not
            column.header = Text(column.header, no_wrap=False, overflow="fold")
    return KeptWhole(table, keys)


class KeptWhole:
    """A rich renderable: the table laid out (or folded) for the width it is printed at."""

    def __init__(self, table: Table, keys: tuple[int, ...] = (0,)):
        self.table, self.keys = table, keys

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement.get(console, options, self.table)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        groups = _fold(self.table, self.keys, options.max_width)
        for number, columns in enumerate(groups):
            yield _part(self.table, columns, options.max_width, number, len(groups))


def _cell_width(cell: Any) -> int:
    text = cell if isinstance(cell, Text) else Text.from_markup(str(cell))
    return max((cell_len(line) for line in text.plain.splitlines()), default=0)


def _natural(column: Column) -> int:
    """The column's width with no cell wrapped."""
    return max([_cell_width(column.header), *map(_cell_width, column.cells)])


def _least(column: Column) -> int:
    """The narrowest the column may be: its numbers whole (the header may wrap at its spaces),
    text TEXT_MIN or less."""
    if not column.no_wrap:
        return min(_natural(column), TEXT_MIN)
    words = str(column.header).split() or [""]
    return max([*map(cell_len, words), *map(_cell_width, column.cells)])


def _overhead(table: Table, count: int) -> int:
    """Borders and padding of `count` columns of `table` (rich's own arithmetic)."""
    _top, right, _bottom, left = table.padding
    if table.collapse_padding:
        left = 0
    pads = [left + right] * count
    if pads and not table.pad_edge:
        pads[0] -= left
        pads[-1] -= right
    edges = (2 if table.box and table.show_edge else 0) + (count - 1 if table.box else 0)
    return sum(pads) + edges


def _fits(table: Table, columns: list[int], width: int) -> bool:
    least = sum(_least(table.columns[i]) for i in columns)
    return least + _overhead(table, len(columns)) <= width


def _fold(table: Table, keys: tuple[int, ...], width: int) -> list[list[int]]:
    """Column indexes of each part: all in one when they fit, else the `keys` columns and as
    many of the others, in order, as fit beside them."""
    everything = list(range(len(table.columns)))
    if _fits(table, everything, width):
        return [everything]
    keys = tuple(k for k in keys if k < len(everything))
    groups: list[list[int]] = [[]]
    for index in (i for i in everything if i not in keys):
        if groups[-1] and not _fits(table, sorted([*keys, *groups[-1], index]), width):
            groups.append([])
        groups[-1].append(index)
    return [sorted([*keys, *group]) for group in groups]


def _share(room: int, least: list[int], natural: list[int]) -> list[int]:
    """Widths from `least` towards `natural`: while `room` lasts, a character to the narrowest
    column that wants more (so no text column is starved for a long one)."""
    widths = list(least)
    for _ in range(max(0, room - sum(least))):
        wanting = [i for i, (w, n) in enumerate(zip(widths, natural, strict=True)) if w < n]
        if not wanting:
            break
        widths[min(wanting, key=lambda i: widths[i])] += 1
    return widths


def _part(table: Table, indexes: list[int], width: int, number: int, parts: int) -> Table:
    """`table` with only these columns, text columns sized to share what numbers leave."""
    part = copy(table)
    part.columns = [copy(table.columns[i]) for i in indexes]
    for position, column in enumerate(part.columns):
        column._index = position
    if number:
        part.title = f"{table.title} (continued)" if table.title else None
    if number < parts - 1:
        part.caption = None
    if sum(map(_natural, part.columns)) + _overhead(part, len(part.columns)) <= width:
        return part  # rich lays it out: nothing needs squeezing
    spare = width - _overhead(part, len(part.columns)) - sum(map(_least, part.columns))
    # text columns widen first, then what is left unwraps the number columns' headers
    for columns in (
        [c for c in part.columns if not c.no_wrap],
        [c for c in part.columns if c.no_wrap],
    ):
        least = [_least(c) for c in columns]
        widths = _share(spare + sum(least), least, [_natural(c) for c in columns])
        spare -= sum(widths) - sum(least)
        for column, share in zip(columns, widths, strict=True):
            column.width = share
    return part


def cost_table(rows: Sequence[dict[str, Any]], title: str) -> KeptWhole:
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
        table.add_column(name, justify=justify)
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


def place_table(places: Sequence[dict[str, Any]], title: str) -> KeptWhole:
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
        table.add_column(name, justify=justify)
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


def by_severity(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Findings most severe first (critical ... info), then by the saving at stake, then by
    score: the order a reader expects of "top findings"."""
    rank = {severity: index for index, severity in enumerate(SEVERITIES)}
    return sorted(
        rows,
        key=lambda r: (
            -rank.get(r["severity"], -1),
            -(r["savings_usd_month"] or 0),
            -(r.get("score") or 0),
        ),
    )


def findings_table(rows: Sequence[dict[str, Any]], title: str) -> KeptWhole:
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
    return numbers_kept_whole(table, keys=(1,))  # folded, each part names the job


def whatif_table(result: dict[str, Any]) -> KeptWhole:
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
