"""The `advisor` command line: one small function per verb, each calling one library function.

Exit codes: 0 done; 1 failed; 2 bad usage (or an unknown job); 3 `--fail-on` found a finding at
or above the given severity; 4 done, but some items were skipped (see `advisor errors`).
"""

from __future__ import annotations

import logging
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import click
import orjson
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TransferSpeedColumn,
)

from advisor import __version__
from advisor.cli_options import (
    ROOT_DB_HELP,
    STORELESS_VERBS,
    account_option,
    db_option,
    format_option,
    place_options,
)
from advisor.config import load_config
from advisor.error_sources import ERROR_SOURCES
from advisor.identity import label
from advisor.report.terminal import SafeConsole
from advisor.safe_text import terminal_safe
from advisor.store import Store
from advisor.timeutil import iso, parse_since, parse_ts

EXIT_PARTIAL = 4


def _click_errors_shown_safely() -> None:
    """Click's error messages quote what the command line gave (an extra argument, a bad
    value) and what our checks say of the store's names: shown as the consoles show them."""
    import click.exceptions as click_errors

    raw_echo = click_errors.echo

    def echo(message: Any = None, *args: Any, **kwargs: Any) -> None:
        safe = terminal_safe(message) if isinstance(message, str) else message
        raw_echo(safe, *args, **kwargs)

    click_errors.echo = echo  # type: ignore[assignment]


_click_errors_shown_safely()
# both show control characters in data as escapes (advisor/report/terminal.py)
console = SafeConsole(stderr=True, soft_wrap=True)  # messages stay one line, whatever the width
out = SafeConsole(width=None if sys.stdout.isatty() else 120)


def _since(_ctx: Any, _param: Any, value: str | None) -> timedelta | None:
    """--since AGE as a timedelta; 'all' (None) is the whole history, wherever --since is."""
    if value in (None, "", "all"):
        return None
    try:
        return parse_since(value)
    except ValueError as exc:
        raise click.BadParameter(f"{exc}, or all") from exc


def open_store(db: str | None, *, create: bool = False, **identity: str | None) -> Store:
    """The store at --db (or the configured one). Only import, collect and demo may create a
    store: a mistyped path elsewhere would silently give an empty one. `identity` (account,
    region): what an older store's jobs that do not say are given when it is migrated."""
    return existing_store(load_config(db).db_path, create=create, **identity)


def existing_store(path: Path, *, create: bool = False, **identity: str | None) -> Store:
    if not create and not Path(path).exists():
        console.print(
            f"[red]no store at {escape(str(path))}[/]: check --db, or make one with "
            "`advisor import`, `advisor collect` or `advisor demo`"
        )
        sys.exit(2)
    return Store(path, **identity)


def print_markdown(text: str) -> None:
    """Prose through rich; fenced code (commands, Terraform, JSON) printed exactly as it is,
    never wrapped or cut to the terminal's width, so it can be copied and run."""
    from rich.markdown import Markdown

    for index, part in enumerate(text.split("```")):
        if index % 2:  # inside a fence: drop the language tag line, keep the code verbatim
            code = part.split("\n", 1)[1] if "\n" in part else part
            click.echo(terminal_safe(code.rstrip("\n")))
        elif part.strip():
            out.print(Markdown(part))


def emit_json(value: Any) -> None:
    click.echo(orjson.dumps(value, option=orjson.OPT_INDENT_2).decode())


def progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )


VERBOSITY_FLAGS = ("-q", "--quiet", "-v", "-vv", "-vvv", "--verbose")


class AdvisorGroup(click.Group):
    """-q and -v work after the verb too (`advisor collect -q`), as people type them."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        end = args.index("--") if "--" in args else len(args)
        hoisted = [a for a in args[:end] if a in VERBOSITY_FLAGS]
        rest = [a for a in args[:end] if a not in VERBOSITY_FLAGS] + args[end:]
        return super().parse_args(ctx, hoisted + rest)

    def invoke(self, ctx: click.Context) -> Any:
        """`advisor facts --db X`: say why --db is refused there (the verb reads no store)."""
        try:
            return super().invoke(ctx)
        except click.NoSuchOption as exc:
            verb = exc.ctx.command_path.split()[1:2] if exc.ctx else []
            if exc.option_name == "--db" and verb and verb[0] in STORELESS_VERBS:
                exc.message = f"{exc.message} `advisor {verb[0]}` reads no store."
            raise


@click.group(cls=AdvisorGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="advisor")
@click.option("-v", "--verbose", count=True, help="More logging (-vv for debug).")
@click.option("-q", "--quiet", is_flag=True, help="Only errors.")
@click.option("--db", "db", metavar="PATH", help=ROOT_DB_HELP)
def main(verbose: int, quiet: bool, db: str | None) -> None:
    """glue-advisor: find the AWS Glue jobs that waste money, and say exactly what to change.

    Data flows one way: collect (or import) -> store -> analyze -> findings -> outputs.
    """
    level = (
        logging.ERROR if quiet else [logging.WARNING, logging.INFO, logging.DEBUG][min(verbose, 2)]
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_TerminalSafeFormatter("%(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=level, handlers=[handler])


_OUR_LOGGERS = ("advisor", "dashboards")


class _TerminalSafeFormatter(logging.Formatter):
    """The advisor's log lines quote file names and records: their control characters are
    shown, not sent, and a line break in one (a file may be named so) cannot start a forged
    log line. Other libraries' lines (the dashboard's server) keep their own colours."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        line = super().formatMessage(record)
        if not record.name.startswith(_OUR_LOGGERS):
            return line
        return terminal_safe(line).replace("\n", "\\n")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        # a traceback (-vv) keeps its lines
        return terminal_safe(line) if record.name.startswith(_OUR_LOGGERS) else line


@main.command("collect")
@db_option
@click.option("--profile", help="AWS profile to use (default: the standard credential chain).")
@click.option(
    "--region",
    "regions",
    multiple=True,
    metavar="REGION",
    help="Region to collect; repeat for several (default: the profile's region).",
)
@click.option("--job", "jobs", multiple=True, metavar="NAME", help="Only this job; repeatable.")
@click.option(
    "--since",
    callback=_since,
    metavar="AGE",
    help="On a first collect, ignore runs older than this (30d, 12h, 2w; 'all' keeps every run).",
)
@click.option("--no-metrics", is_flag=True, help="Skip CloudWatch metrics.")
@click.option(
    "--no-eventlogs",
    is_flag=True,
    help="Skip Spark event logs (read from each job's and interactive session's "
    "--spark-event-logs-path); with "
    "--eventlog-facts, only the facts are read.",
)
@click.option(
    "--eventlog-facts",
    metavar="S3_URL",
    help="Read event-log facts already reduced on Spark (python -m advisor.spark_reduce) from "
    "s3://bucket/prefix/ and link them to their runs; the logs they name are not read.",
)
@click.option(
    "--retry-mode",
    type=click.Choice(["standard", "adaptive"]),
    default="standard",
    show_default=True,
    help="botocore retry mode (adaptive also rate-limits the client).",
)
@click.option(
    "--max-attempts",
    type=click.IntRange(1, 20),
    default=10,
    show_default=True,
    help="Attempts per API call, retries included.",
)
@click.option("--endpoint-url", metavar="URL", help="Send API calls here (moto, LocalStack).")
@click.option(
    "--role-arn",
    "role_arns",
    multiple=True,
    metavar="ARN",
    help="Collect the account of this read-only role (sts:AssumeRole); repeatable.",
)
@click.option("--external-id", metavar="ID", help="sts:ExternalId the member roles require.")
@click.option(
    "--organization",
    is_flag=True,
    help="Collect every ACTIVE account of the organization (organizations:ListAccounts), "
    "through --role-name; the caller's own account with the current credentials.",
)
@click.option(
    "--role-name",
    default="GlueAdvisorReadOnly",
    show_default=True,
    metavar="NAME",
    help="Role assumed in each account of --organization.",
)
@click.option(
    "--include-caller",
    is_flag=True,
    help="With --role-arn, collect the current credentials' account too.",
)
@click.option(
    "--metric-series",
    type=click.Choice(["advisor", "all"]),
    default="advisor",
    show_default=True,
    help="CloudWatch series to fetch: those the advisor reads, or every one a run has "
    "(per executor too; GetMetricData bills each).",
)
@click.option(
    "--no-other-costs",
    is_flag=True,
    help="Skip crawlers, interactive sessions and development endpoints (the Glue costs "
    "beside job runs).",
)
@click.option(
    "--billing",
    metavar="S3_URL",
    help="Also read an AWS Data Exports (CUR 2.0) export under s3://bucket/prefix/ "
    "(.csv, .csv.gz, .parquet), for `advisor reconcile`.",
)
@click.option("--print-policy", is_flag=True, help="Print the minimal IAM policy and exit.")
@click.option(
    "--print-member-role",
    type=click.Choice(["cloudformation", "terraform"]),
    help="Print the role each member account gives the central one, and exit.",
)
@format_option("text", "json")
def collect_cmd(
    db,
    profile,
    regions,
    jobs,
    since,
    no_metrics,
    no_eventlogs,
    eventlog_facts,
    retry_mode,
    max_attempts,
    endpoint_url,
    role_arns,
    external_id,
    organization,
    role_name,
    include_caller,
    metric_series,
    no_other_costs,
    billing,
    print_policy,
    print_member_role,
    fmt,
):
    """Collect job definitions, run history, CloudWatch metrics and Spark event logs.

    Read-only and incremental: a re-run fetches only what is new, and an interrupted collect
    resumes where it stopped. Event logs come from each job's --spark-event-logs-path on S3,
    and from each interactive session's (the one its %%configure names).
    Other accounts are read through a read-only role (--role-arn, --organization); the end
    says what the collect called and what AWS bills for it.
    """
    from advisor.collect.accounts import (
        is_role_arn,
        member_role_cloudformation,
        member_role_terraform,
    )
    from advisor.collect.aws import iam_policy
    from advisor.collect.runner import CollectOptions, collect

    if print_policy:
        emit_json(iam_policy(role_name))
        return
    if print_member_role:
        render = {"cloudformation": member_role_cloudformation, "terraform": member_role_terraform}
        click.echo(render[print_member_role](role_name))
        return
    for arn in role_arns:
        if not is_role_arn(arn):
            raise click.BadParameter(
                f"{arn!r} is not an IAM role ARN (arn:aws:iam::123456789012:role/NAME)",
                param_hint="--role-arn",
            )
    if not regions:
        import boto3

        configured = boto3.Session(profile_name=profile).region_name
        if configured is None:  # say it: the prices and the jobs found depend on it
            console.print(
                "no region given (--region, the profile, AWS_REGION or AWS_DEFAULT_REGION): "
                "collecting us-east-1"
            )
        regions = (configured or "us-east-1",)
    options = CollectOptions(
        regions=list(regions),
        profile=profile,
        jobs=list(jobs) or None,
        since=since,
        metrics=not no_metrics,
        eventlogs=not no_eventlogs,
        endpoint_url=endpoint_url,
        retry_mode=retry_mode,
        max_attempts=max_attempts,
        role_arns=list(role_arns),
        external_id=external_id,
        organization=organization,
        role_name=role_name,
        include_caller=include_caller,
        metric_series=metric_series,
        resources=not no_other_costs,
        billing=billing,
        eventlog_facts=eventlog_facts,
    )
    from advisor.collect.billing_s3 import split_s3_url

    for url, hint in ((billing, "--billing"), (eventlog_facts, "--eventlog-facts")):
        if url is None:
            continue
        try:
            split_s3_url(url)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint=hint) from None
    store = open_store(db, create=True)
    with progress() as bar:
        task = bar.add_task("collecting", total=None)

        def on_job(name: str, index: int, total: int) -> None:
            # a Glue name may read as markup ("team[/]etl"): shown as it is
            bar.update(task, description=f"collecting {escape(name)}", completed=index, total=total)

        report = collect(store, options, on_job=on_job)
    if fmt == "json":
        emit_json(report.as_dict())
        sys.exit(EXIT_PARTIAL if report.errors else 0)
    from rich.table import Table

    from advisor.report.text import numbers_kept_whole

    def counts(r: Any) -> str:
        return (
            f"{r.jobs} jobs, {r.runs_upserted} runs stored, {r.runs_refreshed} unfinished runs "
            f"re-read, {r.metric_points} metric points, {r.eventlog_apps} event logs reduced"
        )

    def other_costs(p: Any) -> str:
        if not (p.crawlers or p.sessions or p.dev_endpoints):
            return ""
        return (
            f"; {p.crawlers} crawlers ({p.crawls} crawls), {p.sessions} interactive sessions, "
            f"{p.dev_endpoints} development endpoints"
        )

    for place in report.places:
        line = (
            f"{place.account} {place.region} ({escape(place.via)}): {counts(place)}"
            f"{other_costs(place)}"
        )
        out.print(line, soft_wrap=True)
    for account in report.accounts:
        if not account["collected"]:
            out.print(
                f"{account['account']}: not collected ({escape(account['via'])}: "
                f"{escape(str(account['error']))}; see `advisor errors`)",
                soft_wrap=True,
            )
    out.print(f"In all: {counts(report)}.", soft_wrap=True)
    if billing:
        out.print(
            f"Billing export {escape(billing)}: {report.billing_files} files, "
            f"{report.billing_lines:,} Glue lines (see `advisor reconcile`).",
            soft_wrap=True,
        )
    if report.eventlog_facts:
        facts = report.eventlog_facts
        out.print(
            f"Event-log facts {escape(facts['url'])}: {facts['files']} files read "
            f"({facts['unchanged']} unchanged since the last collect), {facts['applications']:,} "
            f"applications, {facts['linked']:,} linked to their runs.",
            soft_wrap=True,
        )
    bill = report.api_cost

    def usd(value: float | None, confirmed: bool = True) -> str:
        if value is None:
            return "unpriced"
        text = "$0" if value == 0 else f"${value:.6f}" if value < 0.01 else f"${value:,.4f}"
        return text if confirmed else "~" + text

    table = Table(
        title="What this collect called, and what AWS bills for it",
        title_justify="left",
        caption=f"{bill['prices']}; ~ a rate not confirmed on an AWS page (`advisor facts`)",
        caption_justify="left",
    )
    for name, justify in (("operation", "left"), ("calls", "right"), ("billed units", "right")):
        table.add_column(name, justify=justify)
    table.add_column("cost", justify="right")
    for op in bill["operations"]:
        table.add_row(
            op["operation"],
            f"{op['calls']:,}",
            f"{op['billed_units']:,} {op['unit']}{'' if op['billed_units'] == 1 else 's'}",
            usd(op["cost_usd"], op["confirmed"]),
        )
    table.add_row("total", f"{bill['calls']:,}", "", usd(bill["total_usd"], bill["confirmed"]))
    out.print(numbers_kept_whole(table))
    _print_errors(report.errors)
    sys.exit(EXIT_PARTIAL if report.errors else 0)


@main.command("import")
@db_option
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--region",
    default="us-east-1",
    show_default=True,
    help="Region the files came from (sets the price list).",
)
@account_option(
    "AWS account the files came from (default: the one in the job definitions' role ARNs, "
    "else 'unknown')."
)
@format_option("text", "json")
def import_cmd(db, directory, region, account, fmt):
    """Build the store from AWS CLI output files (no credentials needed).

    The layout is in the README: jobs.json, job-runs/<job>.json,
    metrics/<run id>/<metric>.json, eventlogs/<run id>/... Jobs are kept apart by account,
    region and name: the same job name imported with another --region or --account is
    another job.
    """
    store = open_store(db, create=True, account=account, region=region)
    report = _import(store, directory, region, account)
    if fmt == "json":
        emit_json(report.__dict__)
    else:
        out.print(
            f"imported {report.jobs} jobs, {report.runs} runs, {report.metric_points} "
            f"metric points and {report.eventlog_files} event-log files "
            f"({report.eventlog_apps} applications reduced)"
            + (f", {report.billing_lines:,} billing lines" if report.billing_lines else "")
            + f" from {directory}"
        )
        _print_errors(report.errors)
    sys.exit(EXIT_PARTIAL if report.errors else 0)


def _import(store: Store, directory: Path, region: str, account: str | None = None):
    from advisor.bulk import collector_paused
    from advisor.collect.importer import Importer

    with progress() as bar:
        task = bar.add_task("importing", total=None)
        importer = Importer(
            store,
            directory,
            region=region,
            account=account,
            on_progress=lambda name: bar.update(
                task, description=f"importing {escape(name[:60])}", advance=1
            ),
        )
        with collector_paused():
            return importer.run()


@main.command("analyze")
@db_option
@click.option("--as-of", metavar="TIME", help="End of the analysis window (default: newest run).")
@click.option(
    "--full",
    is_flag=True,
    help="Price every run and analyse every job again, not only what changed since the last "
    "analysis (the result is the same; this only takes longer).",
)
@format_option("text", "json")
def analyze_cmd(db, as_of, full, fmt):
    """Run every analysis on the store, offline: price runs, compute features, apply the rules.

    Only jobs with new or changed data are analysed again (a new release, new rates, rules or
    advisor.toml make it analyse everything); the result is the one a full analysis gives.
    Findings are kept in the store: new ones open, ones whose rule stops firing are resolved,
    ones muted in advisor.toml are kept but hidden.
    """
    from advisor.analysis.findings import analyze

    config = load_config(db)
    store = existing_store(config.db_path)
    with console.status("analysing", spinner="dots") as status:
        report = analyze(
            store,
            config=config.raw,
            rates=config.rates,
            as_of=as_of,
            full=full,
            on_phase=lambda what: status.update(f"analysing: {what}"),
        )
    if fmt == "json":
        emit_json(report.__dict__)
        return
    counts = report.findings
    if report.mode == "full":
        scope = f"full analysis ({report.why}): priced {report.runs_priced:,} runs"
    else:
        scope = (
            f"incremental analysis: priced {report.runs_priced:,} new or changed runs, "
            f"{report.jobs_changed:,} jobs with new data"
        )
    out.print(
        f"{scope}; {report.rules} rules on {report.jobs:,} jobs: "
        f"{counts.get('new', 0)} new findings, {counts.get('open', 0)} still open, "
        f"{counts.get('resolved', 0)} resolved; {report.not_evaluated} rule checks not "
        f"evaluated for lack of data; {len(report.rule_errors)} rule errors."
    )
    _print_findings(store.open_findings())


def _print_findings(rows: list[dict], limit: int = 15) -> None:
    """The most severe open findings, then the costliest, saying so in the title."""
    from advisor.report.text import by_severity, findings_table

    if rows:
        shown = by_severity(rows)[:limit]
        title = f"Top findings by severity, then saving ({len(shown)} of {len(rows)})"
        out.print(findings_table(shown, title))


@main.command("costs")
@db_option
@click.option(
    "--since",
    callback=_since,
    default="30d",
    show_default=True,
    metavar="AGE",
    help="Window ending at the newest run, as in recommend and the report (30d, 2w; 'all' for "
    "everything stored).",
)
@place_options
@format_option("text", "json")
def costs_cmd(db, since, account, region, fmt):
    """DPU-hours and dollars per job over a window, most expensive first.

    With jobs in more than one account or region, a second table totals each; --account and
    --region count only the jobs there.
    """
    from advisor.report.labels import in_place, place_text
    from advisor.report.window import window

    store = open_store(db)
    place_or_exit(store, account, region)
    start, end = window(store, since)
    rows = [
        r
        for r in store.cost_by_job(since=start, until=end)
        if in_place(r["job_name"], account, region)
    ]
    where = place_text(account, region)
    title = f"Glue cost by job since {start[:10] if start else 'the first run'}"
    _print_costs(rows, title + (f" ({where})" if where else ""), fmt)


def place_or_exit(store: Store, account: str | None, region: str | None) -> None:
    """Exit 2 when --account / --region name a place the store holds no job of (a typo would
    read as a free month), listing the places it does hold."""
    if account is None and region is None:
        return
    places = store.places()
    if any(account in (None, p["account"]) and region in (None, p["region"]) for p in places):
        return
    from advisor.report.labels import place_text

    held = ", ".join(f"{p['account']}/{p['region']}" for p in places) or "none"
    console.print(
        f"[red]no jobs in {escape(place_text(account, region))}[/]: the store holds jobs in "
        f"{escape(held)}"
    )
    sys.exit(2)


def _print_costs(rows: list[dict], title: str, fmt: str) -> None:
    """Cost by job (`cost_by_job` rows, jobs by key), then by account and region when there
    is more than one; JSON names each job by its label with its account, region and key."""
    from advisor.report.labels import job_fields
    from advisor.report.text import cost_table, place_table, place_totals

    places = place_totals(rows)
    if fmt == "json":
        emit_json(
            {
                "jobs": [{**r, **job_fields(r["job_name"])} for r in rows],
                "dpu_hours": sum(r["dpu_hours"] or 0 for r in rows),
                "cost_usd": sum(r["cost_usd"] or 0 for r in rows),
                "by_place": places,
            }
        )
        return
    if not rows:
        out.print(
            "No priced runs in this window: run `advisor collect` or `advisor import`, "
            "then `advisor analyze`."
        )
        return
    out.print(cost_table(rows, title))
    if len(places) > 1:
        out.print(place_table(places, "By account and region"))
    if any(r.get("unconfirmed_runs") for r in rows):
        out.print(
            "~ priced at a rate not confirmed on an AWS page (`advisor facts` shows which); "
            "set your own under \\[rates.<region>] in advisor.toml."
        )
    if any(r["unpriced_runs"] for r in rows):
        out.print(
            "Unpriced runs have no dollar figure: the facts registry has no rate for their "
            "region and price line (set one under "
            "\\[rates.<region>] in advisor.toml)."
        )


@main.command("errors")
@db_option
@click.option(
    "--source",
    # every source that records what it skipped (advisor/error_sources.py, shared with MCP)
    type=click.Choice(list(ERROR_SOURCES)),
    help="Only this source.",
)
@format_option("text", "json")
def errors_cmd(db, source, fmt):
    """What collection and import skipped, and why."""
    rows = open_store(db).errors(source)
    if fmt == "json":
        emit_json(rows)
    elif rows:
        _print_errors(rows, out)  # the answer, so stdout: `advisor errors > f` keeps it
    else:
        out.print("Nothing was skipped.")


def _print_errors(rows: list[dict], to: Console = console) -> None:
    """After an import or collect the skipped items are diagnostics (stderr); asked for with
    `advisor errors` they are the answer (stdout)."""
    from advisor.report.text import errors_table

    if rows:
        to.print(errors_table(rows))


@main.group("eventlog")
def eventlog_group():
    """Spark event logs: summarize any log, linked to a Glue run or not."""


@eventlog_group.command("summarize")
@click.argument("paths", nargs=-1, required=True, metavar="PATH...")
@click.option("--profile", help="AWS profile for s3:// paths.")
@click.option("--region", help="AWS region for s3:// paths.")
@click.option("--endpoint-url", metavar="URL", help="S3 endpoint (moto, MinIO).")
@format_option("text", "json")
def eventlog_summarize_cmd(paths, profile, region, endpoint_url, fmt):
    """Reduce event logs (file, folder, rolling folder or s3:// prefix) to one summary per app.

    Reads plain, zstd, lz4, snappy, lzf and gz logs, rolling or not, complete or in progress;
    the JSON schema is in docs/eventlog-summary.md. Exits 4 when lines were skipped.
    """
    from advisor.sparklog.reduce import summarize_paths

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task("reading event logs", total=None)
        try:
            summaries = summarize_paths(
                list(paths),
                s3_factory=_s3_factory(profile, region, endpoint_url),
                on_total=lambda n: bar.update(task, total=n),
                on_bytes=lambda n: bar.advance(task, n),
            )
        except (OSError, ValueError) as exc:  # a path that is not there, or not readable
            console.print(f"[red]{escape(str(exc))}[/]")
            sys.exit(2)
    if not summaries:
        console.print(f"no Spark event logs found in {escape(', '.join(paths))}")
        sys.exit(1)
    from advisor.report.eventlog_text import is_not_a_spark_log, summary_renderable

    strangers = [s for s in summaries if is_not_a_spark_log(s)]
    for summary in strangers:
        console.print(
            f"{escape(str(summary['source']))}: not a Spark event log (no line of it is a "
            "Spark event)"
        )
    if fmt == "json":
        emit_json(summaries)
    else:
        for summary in summaries:
            if summary not in strangers:
                out.print(summary_renderable(summary))
    damaged = strangers or any(s["problems"] for s in summaries)
    sys.exit(EXIT_PARTIAL if damaged else 0)


def _s3_factory(profile: str | None, region: str | None, endpoint_url: str | None):
    def make():
        import boto3

        from advisor.collect.aws import AwsClients

        session = boto3.Session(profile_name=profile, region_name=region)
        return AwsClients(
            session.region_name or "us-east-1", endpoint_url=endpoint_url, session=session
        ).s3

    return make


def _register_fix() -> None:
    from advisor.fix.cli import fix_cmd

    main.add_command(fix_cmd)


_register_fix()


def _register_mcp() -> None:
    from advisor.mcp_server import mcp_cmd

    main.add_command(mcp_cmd)


_register_mcp()


def _register_reconcile() -> None:
    from advisor.report.reconcile_cli import reconcile_cmd

    main.add_command(reconcile_cmd)


_register_reconcile()


def _register_changes() -> None:
    from advisor.report.changes_cli import changes_cmd, explain_cmd

    main.add_command(changes_cmd)
    main.add_command(explain_cmd)


_register_changes()


def _register_resources() -> None:
    from advisor.report.resources_cli import resources_cmd

    main.add_command(resources_cmd)


_register_resources()


@main.command("import-facts")
@db_option
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--account", help="The account of their runs (default: the store's only one).")
@click.option("--region", help="The region of their runs (default: the store's only one).")
def import_facts_cmd(db, paths, account, region):
    """Load reduced event-log facts (JSON lines from `python -m advisor.spark_reduce`) and link
    them to their runs, without reading a log. Exits 4 when lines were skipped."""
    from advisor.collect.eventlog_link import relink
    from advisor.collect.facts_import import import_facts_file
    from advisor.identity import UNKNOWN_ACCOUNT, UNKNOWN_REGION
    from advisor.timeutil import iso, utcnow

    store = open_store(db)  # facts link to runs: the store must exist
    places = store.places()
    if account is None and len({p["account"] for p in places}) == 1:
        account = places[0]["account"]
    if region is None and len({p["region"] for p in places}) == 1:
        region = places[0]["region"]
    skipped: list[str] = []
    stored = linked = 0
    at = iso(utcnow())

    def skip(item: str, why: str) -> None:
        row = store.record_error("import", item, why, at=at)  # redacted, as stored
        skipped.append(f"{row['item']}: {row['reason']}")

    for path in paths:
        one, two = import_facts_file(
            store,
            Path(path),
            at=at,
            place=(account or UNKNOWN_ACCOUNT, region or UNKNOWN_REGION),
            on_error=skip,
        )
        stored, linked = stored + one, linked + two
    linked += relink(store)
    out.print(f"{stored:,} applications loaded, {linked:,} linked to their runs.")
    for line in skipped:
        console.print(f"skipped {escape(line)}")
    sys.exit(EXIT_PARTIAL if skipped else 0)


@main.command("facts")
@format_option("text", "json")
def facts_cmd(fmt):
    """The Glue facts the advisor relies on (versions, end-of-life dates, worker types,
    features, limits, rates per region), each with the AWS page it comes from and when it was
    checked."""
    from advisor.report.facts_text import facts_document, print_facts

    if fmt == "json":
        emit_json(facts_document())
        return
    print_facts(out)


@main.group("rules")
def rules_group():
    """The rules in rules/*.yaml: list them, show one, test them (validate each file and run
    its examples)."""


@rules_group.command("list")
@format_option("text", "json")
def rules_list_cmd(fmt):
    """Every rule with its problem, category, scope and the data it needs."""
    from advisor.analysis.rules import rule_rows

    rows = rule_rows()
    if fmt == "json":
        emit_json(rows)
        return
    from rich.table import Table

    from advisor.report.text import numbers_kept_whole

    table = Table(title=f"{len(rows)} rules", title_justify="left")
    for name in ("id", "problem", "category", "scope", "requires", "title"):
        table.add_column(name, no_wrap=name == "id")  # a rule id is never cut
    for r in rows:
        table.add_row(
            r["id"], r["problem"], r["category"], r["scope"], ", ".join(r["requires"]), r["title"]
        )
    out.print(numbers_kept_whole(table))


@rules_group.command("show")
@click.argument("rule_id")
def rules_show_cmd(rule_id):
    """Print one rule's definition (thresholds, texts, savings method, examples)."""
    from advisor.analysis.rules import default_rules_dir

    path = default_rules_dir() / f"{rule_id}.yaml"
    if not path.exists():
        raise click.BadParameter(f"no rule {rule_id!r}; see `advisor rules list`")
    click.echo(path.read_text())


@rules_group.command("test")
def rules_test_cmd():
    """Validate every rule file and run each rule's examples; exit 1 if any fails."""
    from advisor.analysis.rules import RuleError, check_examples, default_rules_dir, load_rule

    failed = 0
    for path in sorted(default_rules_dir().glob("*.yaml")):
        try:
            problems = check_examples(load_rule(path))
        except RuleError as exc:
            problems = [str(exc)]
        status = "[green]ok[/]" if not problems else "[red]FAILED[/]"
        out.print(f"{status} {escape(path.stem)}")
        for problem in problems:
            out.print(f"    {escape(str(problem))}")
        failed += bool(problems)
    sys.exit(1 if failed else 0)


def job_key_or_exit(
    store: Store, job: str, account: str | None = None, region: str | None = None
) -> str:
    """The key of the job the user names; exit 2 for one the store does not know (naming the
    closest ones) or a name several accounts or regions share (naming each)."""
    from advisor.jobref import AmbiguousJob, JobNotFound, resolve_job
    from advisor.mcp_server import unknown_job_message

    try:
        return resolve_job(store, job, account, region)
    except AmbiguousJob as exc:
        console.print(f"[red]{escape(str(exc))}[/]")
    except JobNotFound as exc:
        console.print(f"[red]{escape(unknown_job_message(store, job, exc))}[/]")
    sys.exit(2)


@main.command("recommend")
@db_option
@click.argument("job")
@click.option(
    "--since",
    default="30d",
    show_default=True,
    callback=_since,
    metavar="AGE",
    help="Window before the newest run in the store (30d, 12w, ...; 'all' for the job's whole "
    "history).",
)
@click.option(
    "--run-id",
    metavar="ID",
    help="Also show this run of the job in detail (its Glue run id, jr_..., in the job's "
    "account and region).",
)
@click.option(
    "--fail-on",
    type=click.Choice(["low", "medium", "high", "critical"]),
    help="Exit 3 when an open finding is at least this severe (for CI pipelines).",
)
@place_options
@format_option("text", "markdown", "json")
def recommend_cmd(db, job, since, run_id, fail_on, account, region, fmt):
    """What to change on one job, and why: cost, data sources, findings with exact fixes.

    Reads what `advisor analyze` stored. Findings come by severity and dollars at stake, each
    with its evidence, the saving, the `advisor fix` command that applies it (reading the job
    live) and a Terraform snippet. JOB is a job name, or account/region/name when several
    accounts or regions have a job of that name (or use --account and --region). Exit codes:
    0 done; 2 unknown or ambiguous job (closest names, or each place, are shown); 3 a finding
    at or above --fail-on.
    """
    from advisor.report.recommend import recommendation, severity_at_least
    from advisor.report.recommend_markdown import render

    store = open_store(db)
    job = job_key_or_exit(store, job, account, region)
    try:
        rec = recommendation(store, job, since=since, run_id=run_id)
    except LookupError as exc:
        raise click.BadParameter(str(exc.args[0]), param_hint="--run-id") from exc
    if fmt == "json":
        emit_json(rec)
    elif fmt == "markdown":  # for people (chat, email): no control character acts on a terminal
        click.echo(terminal_safe(render(rec)), nl=False)
    else:
        print_markdown(render(rec))
    if fail_on and any(severity_at_least(f["severity"], fail_on) for f in rec["findings"]):
        sys.exit(3)


@main.command("report")
@db_option
@click.option(
    "--week", metavar="YYYY-Www", help="ISO week, e.g. 2026-W47 (default: the last full week)."
)
@click.option(
    "--out",
    "out_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write here (default: glue-cost-<week>.html for html, else standard output).",
)
@place_options
@format_option("html", "markdown", "csv", "json")
def report_cmd(db, week, out_path, account, region, fmt):
    """The weekly cost report: totals and trend, cost by account and region (when there is
    more than one), cost by job, type, worker type and execution class, money burned by
    failures, savings with their fixes, new and resolved findings, anomalous runs and coverage.

    HTML is one self-contained file (plotly inlined, no network request); markdown is for chat
    or email; csv (cost by job) and json are for finance tools and scripts. The default week is
    the last full ISO week before the newest run in the store. --account and --region report
    only the jobs there.
    """
    from advisor.report.labels import money, place_text
    from advisor.report.weekly import parse_week, to_csv, to_markdown, weekly_report

    store = open_store(db)
    place_or_exit(store, account, region)
    try:
        monday = parse_week(week) if week else None
        report = weekly_report(store, monday, account=account, region=region)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--week") from exc
    except LookupError as exc:
        console.print(f"[red]{escape(str(exc))}[/]")
        sys.exit(1)
    where = place_text(account, region)
    if not report["totals"]["runs"]:  # a $0.00 report would read as a free week
        first, last = store.run_time_span()
        console.print(
            f"[yellow]no runs in {report['week']}{escape(f' ({where})' if where else '')}[/]: "
            f"the store holds runs from {(first or '?')[:10]} to {(last or '?')[:10]}; "
            "no report written"
        )
        sys.exit(1)
    if fmt == "html":
        from advisor.report.weekly_html import render

        text = render(report)
        suffix = "".join(f"-{part}" for part in (account, region) if part)
        out_path = out_path or Path(f"glue-cost-{report['week']}{suffix}.html")
    elif fmt == "markdown":
        text = terminal_safe(to_markdown(report))
    elif fmt == "csv":
        text = to_csv(report)
    else:
        text = orjson.dumps(report, option=orjson.OPT_INDENT_2).decode() + "\n"
    if out_path is None:
        click.echo(text, nl=False)
        return
    out_path.write_text(text, encoding="utf-8")
    totals = report["totals"]
    console.print(
        f"wrote {escape(str(out_path))} ({report['week']}: {totals['runs']:,} runs, "
        f"{escape(money(totals['usd'], totals['unpriced_runs']))})"
    )


@main.command("dashboard")
@db_option
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Interface to bind; the default serves this machine only.",
)
@click.option(
    "--port",
    default=8050,
    show_default=True,
    type=click.IntRange(1, 65535),
    help="TCP port to serve the dashboard on.",
)
@click.option("--debug", is_flag=True, help="Dash's debug mode (reloads, error pages).")
def dashboard_cmd(db, host, port, debug):
    """Serve the Dash web app on the store: overview, jobs, one job, findings.

    It reads what `advisor analyze` stored and never runs analysis. It binds to 127.0.0.1 by
    default; to share it, put it behind a production WSGI server (see the README).
    """
    serve_dashboard(load_config(db).db_path, host, port, debug)


def serve_dashboard(db_path: Path, host: str, port: int, debug: bool = False) -> None:
    from dashboards.app import create_app

    if not Path(db_path).exists():
        raise click.UsageError(f"no store at {db_path}: run `advisor demo` or `advisor import`")
    app = create_app(db_path)
    console.print(f"glue-advisor dashboard on http://{host}:{port}/ (Ctrl-C stops it)")
    app.run(host=host, port=port, debug=debug)


@main.command("whatif")
@db_option
@click.argument("job", required=False)
@click.option(
    "--eventlog",
    type=click.Path(exists=True, path_type=Path),
    help="Simulate any Spark event log (file or folder) instead of a job's newest one.",
)
@click.option("--executors", type=click.IntRange(min=1), help="With --eventlog: executors.")
@click.option(
    "--cores", type=click.IntRange(min=1), help="With --eventlog: cores each (default: the log's)."
)
@click.option(
    "--sla",
    type=click.FloatRange(min=0),
    help="Allowed slowdown, 0.1 = 10 % (default: advisor.toml sla_slowdown, else 0.1).",
)
@click.option(
    "--plot",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the runtime/cost frontier as a self-contained HTML file.",
)
@place_options
@format_option("text", "json")
def whatif_cmd(db, job, eventlog, executors, cores, sla, plot, account, region, fmt):
    """What a job would take and cost on other Glue workers, replayed from its event log.

    JOB: simulate the job's newest event log on every worker type and count it may use, with
    Auto Scaling off and on, and name the cheapest configuration within the allowed slowdown.
    --eventlog PATH --executors N [--cores C]: simulate any Spark application on N executors.
    """
    if eventlog is not None:
        _whatif_eventlog(eventlog, executors, cores, fmt)
        return
    if not job:
        raise click.UsageError("name a JOB, or give --eventlog PATH --executors N")
    from advisor.analysis.sizing import job_sla, job_whatif
    from advisor.report.text import whatif_table
    from advisor.report.whatif_figure import whatif_figure

    config = load_config(db)
    store = existing_store(config.db_path)
    job = job_key_or_exit(store, job, account, region)
    features = store.stored_job_features(job)
    if features is None:
        console.print("[red]no analysis yet: run `advisor analyze` first.[/]")
        sys.exit(1)
    app = store.latest_spark_app_of(job)
    if app is None:
        console.print(
            f"[red]no event log of {escape(label(job))} in the store: nothing to replay.[/] "
            "Turn on the Spark "
            "UI (--enable-spark-ui true with --spark-event-logs-path) and collect again."
        )
        sys.exit(1)
    # `advisor analyze` stored the result for the configured slowdown: replay only for another
    stored = store.stored_whatif(job) if sla is None else None
    if stored is not None and stored["run_id"] == app["run_id"]:
        result = stored
    else:
        allowed = sla if sla is not None else job_sla(config.raw, job)
        result = job_whatif(store, features, app, allowed).as_dict()
    if plot:
        whatif_figure(result).write_html(plot, include_plotlyjs=True)
    if fmt == "json":
        emit_json(result)
        return
    out.print(whatif_table(result))


def _whatif_eventlog(path: Path, executors: int | None, cores: int | None, fmt: str) -> None:
    from advisor.analysis.whatif import load_eventlog_model
    from advisor.sparklog.simulate import model_error, simulate, trust

    if executors is None:
        raise click.UsageError("--eventlog needs --executors N")
    model = load_eventlog_model(path)
    error = model_error(model)
    trusted, doubts = trust(model, error)
    result = simulate(model, executors, cores)
    report = {
        "eventlog": str(path),
        "app_id": model.app_id,
        "executors": executors,
        "cores": result.cores,
        "runtime_s": round(result.runtime_s, 3),
        "slot_utilization": round(result.slot_utilization, 4),
        "busy_executor_s": round(result.busy_executor_s, 3),
        "model_error": None if error is None else round(error, 4),
        "trusted": trusted,
        "doubts": doubts,
        "log": {
            "executors": model.executors,
            "cores": model.cores,
            "runtime_s": model.duration_ms / 1000,
            "driver_only_s": model.fixed_ms / 1000,
            "tasks": model.tasks,
        },
    }
    if fmt == "json":
        emit_json(report)
        return
    out.print(
        f"{model.app_id}: ran {report['log']['runtime_s']:.1f} s on {model.executors} executor(s) "
        f"x {model.cores} core(s), {model.tasks:,} tasks, {model.fixed_ms / 1000:.1f} s of it "
        "driver-only."
    )
    out.print(
        f"On {executors} executor(s) x {result.cores} core(s): {result.runtime_s:.1f} s "
        f"(slots busy {result.slot_utilization:.0%} of the stage time)."
    )
    error_text = "unknown" if error is None else f"{error:.1%}"
    out.print(
        f"Model error on its own configuration: {error_text}; "
        + ("trusted." if trusted else "[yellow]not trusted[/]: " + "; ".join(doubts))
    )


def sample_dir() -> Path:
    return Path(__file__).resolve().parent.parent / "sample_metrics"


@main.command("demo")
@db_option
@click.option(
    "--sample",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Sample fleet folder (default: sample_metrics/ of this checkout).",
)
@click.option(
    "--dashboard/--no-dashboard",
    default=True,
    show_default=True,
    help="Then serve the dashboard on http://127.0.0.1:PORT/.",
)
@click.option(
    "--port",
    default=8050,
    show_default=True,
    type=click.IntRange(1, 65535),
    help="TCP port of the dashboard (with --dashboard).",
)
def demo_cmd(db, sample, dashboard, port):
    """One command: import the sample fleet, analyse it, show where the money goes, then open
    the dashboard on it."""
    from advisor.analysis.findings import analyze

    sample = sample or sample_dir()
    if not (sample / "jobs.json").exists():
        raise click.UsageError(f"no sample fleet at {sample}; pass --sample DIR")
    config = load_config(db)
    store = Store(config.db_path)
    report = _import(store, sample, "us-east-1")
    first, last = store.run_time_span()
    # the advisor as a team would have run it three weeks earlier too: the sample's
    # right-sizings made since then close the findings that asked for them, so `advisor
    # changes` shows each realised saving beside its prediction
    if last:
        earlier = iso(parse_ts(last) - timedelta(weeks=3))
        analyze(store, config=config.raw, rates=config.rates, as_of=earlier)
    analysis = analyze(store, config=config.raw, rates=config.rates)
    out.print(
        f"[bold]Sample fleet[/] imported into {config.db_path}: {report.jobs} jobs, "
        f"{report.runs:,} runs, {report.metric_points:,} metric points, "
        f"{store.db['spark_apps'].count} Spark applications from event logs "
        f"({first[:10]} to {last[:10]})."
    )
    _print_costs(store.cost_by_job(), f"DPU-hours by job, {first[:10]} to {last[:10]}", "text")
    _print_findings(store.open_findings(), limit=12)
    counts = analysis.findings
    resolved = counts["resolved"]
    out.print(
        f"{counts['new'] + counts['open']} open findings from {analysis.rules} rules"
        + (f"; {resolved} resolved since the analysis three weeks earlier." if resolved else ".")
    )
    _print_errors(report.errors)
    out.print(
        "Next: `advisor recommend marketing_attribution`, `advisor report`, "
        "`advisor whatif fraud_features_build` (a trusted what-if: its event log ran its own "
        "configuration), `advisor changes --since all` (what each configuration change did), "
        "`advisor reconcile` (the sample's November bill), `advisor resources` (crawlers, "
        "sessions, a development endpoint), `advisor costs --since all`."
    )
    if dashboard:
        serve_dashboard(config.db_path, "127.0.0.1", port)
