"""`advisor reconcile`: what AWS billed against what the advisor computed, per job and day."""

from __future__ import annotations

import csv
import io
import re
import sys
from datetime import date, timedelta
from typing import Any

import click
from rich.markup import escape
from rich.table import Table

from advisor.analysis.bill import reconcile_in_store
from advisor.analysis.reconcile import ROUNDING_USD
from advisor.cli_options import db_option, format_option, place_options
from advisor.identity import label
from advisor.report.labels import category_label, csv_safe, money
from advisor.timeutil import FIRST_DAY, LAST_DAY

_MONTH = re.compile(r"^\d{4}-\d{2}$")
EXPLAIN = (
    "Billed more than computed on a day: runs the store does not hold (collect again, or "
    "import older runs) or a rate the facts registry has wrong (`advisor facts`). Computed "
    "more than billed: runs AWS bills in another period, or usage covered by a discount. "
    "A cent or less per job and day is rounding."
)


def _day(value: str, option: str) -> str:
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not a day (YYYY-MM-DD)", param_hint=option
        ) from None
    if not FIRST_DAY <= day < LAST_DAY:
        raise click.BadParameter(
            f"{value} is outside {FIRST_DAY.year}-{LAST_DAY.year}", param_hint=option
        )
    return day.isoformat()


def period(
    month: str | None, since: str | None, until: str | None, last_day: str
) -> tuple[str, str]:
    """[since, until) as UTC days: --month, else --since/--until, else the month of the
    newest billing line."""
    if month is not None:
        if not _MONTH.match(month):
            raise click.BadParameter(f"{month!r} is not a month (YYYY-MM)", param_hint="--month")
        first = _day(month + "-01", "--month")
    elif since is None and until is None:
        first = last_day[:7] + "-01"
    else:
        start = _day(since, "--since") if since else FIRST_DAY.isoformat()
        end = (
            _day(until, "--until")
            if until
            else (date.fromisoformat(last_day) + timedelta(days=1)).isoformat()
        )
        if end <= start:
            raise click.BadParameter(
                f"--until {end} is not after --since {start}", param_hint="--until"
            )
        return start, end
    day = date.fromisoformat(first)
    following = date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return first, following.isoformat()


@click.command("reconcile")
@db_option
@click.option("--month", metavar="YYYY-MM", help="One calendar month (UTC).")
@click.option("--since", metavar="DAY", help="First day (YYYY-MM-DD, UTC).")
@click.option("--until", metavar="DAY", help="Day after the last (YYYY-MM-DD, UTC).")
@place_options
@format_option("text", "json", "csv", help="Output format (json and csv are for scripts).")
def reconcile_cmd(db, month, since, until, account, region, fmt):
    """What AWS billed against what the advisor computed, per job and day.

    Reads the billing exports imported from DIR/billing/ (CUR 2.0 or the Cost and Usage
    Report, CSV or Parquet) and the priced runs (`advisor analyze`). Lists each job's computed
    and billed dollars and DPU-hours and the days they differ, jobs billed but unknown to the
    store, the other Glue costs (crawlers, sessions, catalog, ...) and credits, refunds and
    tax apart. Default period: the month of the newest billing line.
    """
    from advisor import cli as base

    store = base.open_store(db)
    _first, last = store.billing_days()
    if last is None:
        base.console.print(
            "[red]no billing data in the store[/]: put AWS billing exports (CUR 2.0 CSV, "
            "CSV.gz or Parquet) in DIR/billing/ and run `advisor import DIR`"
        )
        sys.exit(2)
    base.place_or_exit(store, account, region)
    result = reconcile_result(store, month, since, until, account, region)
    if fmt == "json":
        base.emit_json(result)
    elif fmt == "csv":
        click.echo(_csv(result), nl=False)
    else:
        _print(base.out, result)


CSV_COLUMNS = (
    "job",
    "account",
    "region",
    "computed_usd",
    "billed_usd",
    "difference_usd",
    "computed_dpu_hours",
    "billed_dpu_hours",
    "days_differing",
)


CSV_ROUNDING = {
    "computed_usd": 2,
    "billed_usd": 2,
    "difference_usd": 2,
    "computed_dpu_hours": 4,
    "billed_dpu_hours": 4,
}


def _csv(result: dict[str, Any]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for job in result["jobs"]:
        row = {**job, "days_differing": len(job["days_differing"])}
        # dollars to the cent and DPU-hours to four places, as the JSON's readers would
        # round them: no 1.9999999949504854e-06 from summing hourly lines
        for column, places in CSV_ROUNDING.items():
            if isinstance(row.get(column), float):
                row[column] = round(row[column], places) + 0.0  # + 0.0: never "-0.0"
        writer.writerow([csv_safe(row[c]) for c in CSV_COLUMNS])
    return buffer.getvalue()


def _print(out: Any, result: dict[str, Any]) -> None:
    p, totals = result["period"], result["totals"]
    until = (date.fromisoformat(p["until"]) - timedelta(days=1)).isoformat()
    out.print(f"Glue bill reconciliation, {p['since']} to {until} (UTC days)")
    table = Table(
        "job",
        "computed",
        "billed",
        "difference",
        "DPU-h computed",
        "DPU-h billed",
        "days differing",
    )
    differing = [j for j in result["jobs"] if abs(j["difference_usd"]) > ROUNDING_USD]
    for job in sorted(differing, key=lambda j: -abs(j["difference_usd"])):
        table.add_row(
            escape(label(job["job"])),
            money(job["computed_usd"]),
            money(job["billed_usd"]),
            _signed(job["difference_usd"]),
            f"{job['computed_dpu_hours']:,.1f}",
            f"{job['billed_dpu_hours']:,.1f}",
            ", ".join(d["day"] for d in job["days_differing"][:5])
            + (f" +{len(job['days_differing']) - 5}" if len(job["days_differing"]) > 5 else ""),
        )
    agree = len(result["jobs"]) - len(differing)
    out.print(f"{agree:,} of {len(result['jobs']):,} jobs agree to the cent per day.")
    if differing:
        out.print(table)
    if result["unknown_jobs"]:
        out.print(
            "Billed for jobs the store does not know (deleted, or runs older than Glue keeps):"
        )
        for job in result["unknown_jobs"]:
            out.print(f"  {escape(job['resource_id'])}  {money(job['billed_usd'])}")
    if result["other"]:
        out.print("Other Glue costs (computed from the collected crawls, sessions, endpoints):")
        other = Table("category", "resource", "computed", "billed", "difference")
        for line in result["other"]:
            computed = line.get("computed_usd")
            other.add_row(
                category_label(line["category"]),
                escape(_resource_label(line["resource_id"])),
                "not collected" if computed is None else money(computed),
                money(line["billed_usd"]),
                "" if computed is None else _signed(line["billed_usd"] - computed),
            )
        out.print(other)
    if result["adjustments"]:
        out.print("Adjustments (not usage):")
        for adjustment in result["adjustments"]:
            out.print(f"  {escape(adjustment['line_type']):<20} {_signed(adjustment['usd'])}")
    out.print(
        f"Computed {money(totals['computed_usd'])}, billed for jobs "
        f"{money(totals['billed_usd'])}, unexplained {_signed(totals['unexplained_usd'])}; "
        f"other Glue costs billed {money(totals['other_usd'])} (computed "
        f"{money(totals['other_computed_usd'])}); adjustments "
        f"{_signed(totals['adjustments_usd'])}."
    )
    if differing or result["unknown_jobs"]:
        out.print(EXPLAIN)


def reconcile_result(
    store: Any,
    month: str | None = None,
    since: str | None = None,
    until: str | None = None,
    account: str | None = None,
    region: str | None = None,
) -> dict[str, Any]:
    """What `advisor reconcile --format json` prints (the MCP tool's answer too). LookupError
    without billing data; click.BadParameter for a bad month or day."""
    first, last = store.billing_days()
    if last is None:
        raise LookupError("no billing data in the store")
    start, end = period(month, since, until, last)
    result = reconcile_in_store(store, start, end, (account, region), last)
    result["billing_data"] = {"first_day": first, "last_day": last}
    return result


def _resource_label(resource_id: str | None) -> str:
    """An ARN's resource part (crawler/NAME, session/ID): the account and region are the
    report's; JSON and CSV keep the whole ARN."""
    if not resource_id:
        return "(no resource)"
    return resource_id.split(":", 5)[-1] if resource_id.startswith("arn:") else resource_id


def _signed(value: float) -> str:
    if abs(value) < 0.005:  # what rounds to nothing has no sign
        return money(0.0)
    return ("-" if value < 0 else "+") + money(abs(value))
