"""`advisor changes` (what each configuration change did, against what was predicted) and
`advisor explain` (why a job's or the fleet's cost moved from one week to the next)."""

from __future__ import annotations

import sys
from datetime import timedelta
from typing import Any

import click
from rich.markup import escape
from rich.table import Table

from advisor.analysis.attribution import explain_in_store
from advisor.analysis.changes import changes_in_store
from advisor.analysis.changes_data import job_keys
from advisor.cli_options import db_option, format_option, place_options
from advisor.report.labels import money, size
from advisor.report.text import numbers_kept_whole
from advisor.report.weekly import last_full_week, parse_week, week_label
from advisor.report.window import window
from advisor.timeutil import parse_since

STATUS_STYLE = {
    "saving": "green",
    "costing": "red",
    "neutral": "default",
    "too_early": "yellow",
    "no_baseline": "yellow",
}
CAUSE_TEXT = {
    "schedule": "number of runs",
    "input_volume": "input volume",
    "configuration": "configuration change",
    "runtime": "runtime at the same volume",
    "rate": "rate per DPU-hour",
    "failures": "failures and retries",
}


def _since(_ctx: Any, _param: Any, value: str | None) -> timedelta | None:
    if value in (None, "", "all"):
        return None
    try:
        return parse_since(value)
    except ValueError as exc:
        raise click.BadParameter(f"{exc}, or all") from exc


@click.command("changes")
@db_option
@click.option("--job", metavar="JOB", help="Only this job (its name, or account/region/name).")
@click.option(
    "--since",
    default="90d",
    show_default=True,
    callback=_since,
    help="Changes made in this window before the newest run in the store (90d, 12w, all).",
)
@place_options
@format_option("text", "json")
def changes_cmd(db, job, since, account, region, fmt):
    """What each configuration change of a job did, against what was predicted.

    A change is found in the stored job definitions and in the runs themselves (worker type
    and count, capacity, execution class, Glue version, timeout, Auto Scaling, --conf), so
    changes made between two collections are seen too. Runs before and after are compared
    per GB read when CloudWatch or an event log saw the volume (data growth is not blamed on
    the change), and the realised saving a month at the job's current run rate is given with
    a 90% interval; `too_early` until five runs follow. A finding whose change it carried out
    is shown with its predicted saving.
    """
    from advisor import cli as base

    store = base.open_store(db)
    base.place_or_exit(store, account, region)
    jobs = [base.job_key_or_exit(store, job, account, region)] if job else None
    if jobs is None and (account or region):
        jobs = job_keys(store, account, region)
    start, _end = window(store, since)
    found = [c.as_dict() for c in changes_in_store(store, jobs, start)]
    if fmt == "json":
        base.emit_json(found)
        return
    _print_changes(base.out, found, start)


@click.command("explain")
@db_option
@click.argument("job", required=False)
@click.option(
    "--week",
    metavar="YYYY-Www",
    help="ISO week (UTC), against the week before; default the last full week.",
)
@place_options
@format_option("text", "json")
def explain_cmd(db, job, week, account, region, fmt):
    """Why a job's cost (or, without JOB, the fleet's) moved from one week to the next.

    The change is split into the number of runs, input volume, configuration changes (by
    field), runtime at the same volume, the rate per DPU-hour (region, Flex, worker type's
    price line) and failed runs; the parts add up to the change to the cent (a Shapley split
    of runs x GB per run x DPU-hours per GB x rate, documented in
    advisor/analysis/attribution.py).
    """
    from advisor import cli as base

    store = base.open_store(db)
    base.place_or_exit(store, account, region)
    if week is None:
        monday = last_full_week(store)
        if monday is None:
            base.console.print("[red]no runs in the store[/]: import or collect some first")
            sys.exit(2)
    else:
        try:
            monday = parse_week(week)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--week") from None
    if job:
        result = explain_in_store(
            store, monday, [base.job_key_or_exit(store, job, account, region)]
        )
    else:
        scope = job_keys(store, account, region) if account or region else None
        result = explain_in_store(store, monday, scope, fleet=True)
    result["previous_week"] = week_label(monday - timedelta(days=7))
    if fmt == "json":
        base.emit_json(result)
        return
    _print_explain(base.out, result)


# ---- text ------------------------------------------------------------------------------------


def _signed(value: float | None) -> str:
    if value is None:
        return "—"
    return ("-" if value < 0 else "+") + money(abs(value))


def _money(value: float | None) -> str:
    return "—" if value is None else f"${value:,.2f}"


def _fields(fields: dict[str, list[Any]]) -> str:
    return "; ".join(
        f"{name} {_value(old)} -> {_value(new)}" for name, (old, new) in fields.items()
    )


def _value(value: Any) -> str:
    return "(none)" if value is None else str(value)


def _per_gb(side: dict[str, Any]) -> str:
    value = side.get("usd_per_gb")
    return "—" if value is None else f"${value:,.4f}"


def _side(name: str, side: dict[str, Any]) -> str:
    runtime = "—" if side["runtime_s"] is None else f"{side['runtime_s'] / 60:,.1f} min"
    failed = "—" if side["failure_rate"] is None else f"{side['failure_rate']:.0%}"
    gb = "" if side["gb_per_run"] is None else f", {size(side['gb_per_run'] * 1e9)} read"
    return (
        f"  {name:<7}{side['runs']:>5,} runs  {_money(side['usd_per_run'])} a run, {runtime}, "
        f"{_per_gb(side)} per GB{gb}, {failed} failed"
    )


def _print_changes(out: Any, found: list[dict[str, Any]], start: str | None) -> None:
    since = f"since {start[:10]}" if start else "in the whole history"
    out.print(f"{len(found):,} configuration change(s) {since}; a positive figure saves money.")
    for change in found:
        style = STATUS_STYLE.get(change["status"], "default")
        source = "job definition" if change["source"] == "definition" else "runs"
        out.print(
            f"\n[bold]{escape(change['job'])}[/]  {change['changed_at'][:16].replace('T', ' ')} "
            f"(from its {source})  [{style}]{change['status'].replace('_', ' ')}[/]"
        )
        out.print(f"  {escape(_fields(change['fields']))}")
        out.print(_side("before", change["before"]))
        out.print(_side("after", change["after"]))
        interval = change["interval_usd_month"]
        if change["realised_usd_month"] is not None and interval is not None:
            basis = "per GB read" if change["normalised_by"] == "gb" else "per run"
            out.print(
                f"  realised {_signed(change['realised_usd_month'])} a month at "
                f"{change['runs_month']:,.0f} runs a month (90%: {_signed(interval[0])} to "
                f"{_signed(interval[1])}; compared {basis}, failed runs "
                f"{_signed(change['failures_usd_month'])})"
            )
        out.print(f"  predicted {_predicted(change)}")


def _predicted(change: dict[str, Any]) -> str:
    finding = change.get("finding")
    whatif = change.get("whatif") or {}
    if finding is not None:
        verdict = {True: ", borne out", False: ", not borne out"}.get(finding["as_predicted"], "")
        return (
            f"{_signed(finding['predicted_usd_month'])} a month by "
            f"{escape(finding['rule_id'] or 'a finding')} ({escape(finding['title'] or '')}, "
            f"{finding['status']}{verdict})"
        )
    if whatif.get("predicted_usd_month") is not None:
        return (
            f"{_signed(whatif['predicted_usd_month'])} a month by the what-if ({whatif['config']})"
        )
    return "— (no finding asked for this change)"


def _print_explain(out: Any, result: dict[str, Any]) -> None:
    out.print(
        f"{escape(result['job'])}, {result['week']} against {result['previous_week']}: "
        f"{money(result['previous_usd'])} -> {money(result['this_usd'])} "
        f"({_signed(result['change_usd'])})"
    )
    table = Table("cause", "change", "detail")
    table.columns[1].justify = "right"
    for cause in result["causes"]:
        table.add_row(
            CAUSE_TEXT.get(cause["cause"], cause["cause"]),
            _signed(cause["usd"]),
            escape(cause["detail"]),
        )
    out.print(numbers_kept_whole(table))
    if result.get("unpriced_runs"):
        out.print(f"{result['unpriced_runs']:,} runs at an unknown rate are left out.")
    for job in result.get("jobs", [])[:5]:
        out.print(f"  {escape(job['job'])}: {_signed(job['change_usd'])}")
