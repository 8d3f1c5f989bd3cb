"""`advisor mcp`: the store served to AI assistants over the Model Context Protocol (stdio).

Every tool answers with the JSON the matching `advisor ... --format json` prints, built by the
same library function. Read-only by construction:

- the store is opened through SQLite's read-only URI (`mode=ro`) with `PRAGMA query_only`, and
  every Store method that writes fails before it sends anything (its transaction refuses);
- a store that does not exist is never created: the server refuses to start;
- the only call that leaves this machine is `fix_payload`'s GetJob, made through the advisor's
  guarded AWS clients, which refuse any operation that is not a read (so never UpdateJob): the
  payload is printed for a person to apply, never applied.

Only this module's click command is imported with the CLI; the MCP SDK is imported when the
server starts, so the other verbs do not pay for it.
"""

import difflib
import sqlite3
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import click
import orjson

from advisor import __version__
from advisor.cli_options import db_from_anywhere
from advisor.config import load_config
from advisor.store import BUSY_TIMEOUT_MS, Store, migrations
from advisor.timeutil import parse_since

INSTRUCTIONS = (
    "glue-advisor's store of AWS Glue (Spark) jobs: their runs, DPU-hours and dollars, the "
    "findings `advisor analyze` made and the exact changes that fix them. Start with list_jobs or "
    "costs; recommend explains one job. Every tool only reads: fix_payload prints the JobUpdate "
    "for a person to apply with the AWS CLI; nothing here ever changes a job or the store."
)


class StoreUnavailable(Exception):
    """The store cannot be served: missing, unreadable, or from an older advisor."""


class ReadOnlyStoreError(Exception):
    """A write was attempted on the MCP server's read-only store."""


class ReadOnlyStore(Store):
    """The project's Store on a connection SQLite keeps from writing.

    Store.__init__ opens read-write, turns WAL on and migrates; this one does none of that:
    it opens `file:...?mode=ro`, sets `query_only`, refuses a store whose schema is behind, and
    its transaction() raises, so every writer (all go through it) fails before any SQL.
    """

    def __init__(self, path: str | Path):
        from sqlite_utils import Database

        self.path = Path(path)
        if not self.path.is_file():
            raise StoreUnavailable(
                f"no store at {self.path}: run `advisor import` or `advisor collect`, then "
                "`advisor analyze` (the MCP server never creates one)"
            )
        uri = f"{self.path.resolve().as_uri()}?mode=ro"
        try:
            conn = sqlite3.connect(uri, uri=True)
            conn.isolation_level = None
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            conn.execute("PRAGMA query_only = ON")
            self.db = Database(conn)
            self._columns: dict[str, set[str]] = {}
            pending = migrations.pending(self.db)
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"cannot read the store at {self.path}: {exc}") from None
        if pending:
            self.close()
            raise StoreUnavailable(
                f"the store at {self.path} was made by an older advisor: run `advisor analyze` "
                "once (it migrates the store), then start the MCP server again"
            )

    @contextmanager
    def transaction(self) -> Iterator[Store]:
        raise ReadOnlyStoreError(f"the MCP server opened {self.path} read-only: no write")
        yield self  # pragma: no cover - never reached


def as_json(value: Any) -> str:
    """The text `advisor ... --format json` prints (the CLI's emit_json, without the echo)."""
    return orjson.dumps(value, option=orjson.OPT_INDENT_2).decode()


def costs_window(store: Store, since: str) -> tuple[str | None, str | None]:
    """`costs --since`: a window ending at the newest run; 'all' (or empty) for everything."""
    from advisor.report.window import window

    return window(store, None if since in ("", "all") else parse_since(since))


def unknown_job_message(store: Store, job: str) -> str:
    """What `known_job_or_exit` says in the CLI, closest names included."""
    names = [j["name"] for j in store.jobs()]
    close = difflib.get_close_matches(job, names, n=5, cutoff=0.4)
    hint = f" Did you mean: {', '.join(close)}?" if close else ""
    return f"no job named {job!r} in {store.path}.{hint}"


def cost_summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """`advisor costs --format json` (built inline in the CLI's _print_costs)."""
    return {
        "jobs": rows,
        "dpu_hours": sum(r["dpu_hours"] or 0 for r in rows),
        "cost_usd": sum(r["cost_usd"] or 0 for r in rows),
    }


def job_list(store: Store, since: str) -> dict[str, Any]:
    """Every job with its definition, its cost over the window and its open findings."""
    from advisor.analysis.runstats import SEVERITIES

    start, end = costs_window(store, since)
    costs = {r["job_name"]: r for r in store.cost_by_job(since=start, until=end)}
    findings = store.open_findings()
    counts = Counter(f["job_name"] for f in findings)
    worst: dict[str, str] = {}
    for f in findings:
        now = worst.get(f["job_name"])
        if now is None or SEVERITIES.index(f["severity"]) > SEVERITIES.index(now):
            worst[f["job_name"]] = f["severity"]
    jobs = []
    for job in store.jobs():
        cost = costs.get(job["name"]) or {}
        jobs.append(
            {
                "name": job["name"],
                "type": job.get("command_name"),
                "glue_version": job.get("glue_version"),
                "worker_type": job.get("worker_type"),
                "number_of_workers": job.get("number_of_workers"),
                "max_capacity": job.get("max_capacity"),
                "execution_class": job.get("execution_class") or "STANDARD",
                "region": job.get("region"),
                "runs": cost.get("runs", 0),
                "failed_runs": cost.get("failed_runs", 0),
                "dpu_hours": cost.get("dpu_hours") or 0,
                "cost_usd": cost.get("cost_usd"),
                "open_findings": counts.get(job["name"], 0),
                "worst_severity": worst.get(job["name"]),
            }
        )
    return {"since": since, "start": start, "jobs": jobs}


def open_findings_list(
    store: Store, min_severity: str | None = None, job: str | None = None
) -> dict[str, Any]:
    """Open findings, most important first (the order `advisor analyze` prints them in)."""
    from advisor.report.recommend import severity_at_least
    from advisor.report.remediation import fix_command

    rows = [
        r
        for r in store.open_findings(job)
        if min_severity is None or severity_at_least(r["severity"], min_severity)
    ]
    findings = []
    for r in rows:
        change = orjson.loads(r.get("change") or "{}")
        findings.append(
            {
                "id": r["id"],
                "job_name": r["job_name"],
                "rule_id": r["rule_id"],
                "problem": r["problem"],
                "severity": r["severity"],
                "score": r["score"],
                "title": r["title"],
                "message": r["message"],
                "advice": orjson.loads(r["advice"] or "[]"),
                "change": change,
                "savings_usd_month": r["savings_usd_month"],
                "savings_dpu_hours_month": r["savings_dpu_hours_month"],
                "first_seen": r["first_seen"],
                "last_seen": r["last_seen"],
                "fix_command": fix_command(r["job_name"], r["rule_id"]) if change else None,
            }
        )
    return {
        "count": len(findings),
        "savings_usd_month_sum": round(sum(f["savings_usd_month"] or 0 for f in findings), 2),
        "findings": findings,
    }


def rule_list() -> list[dict[str, Any]]:
    """`advisor rules list --format json`."""
    from advisor.analysis.rules import rule_rows

    return rule_rows()


def build_server(
    db_path: Path,
    *,
    config_raw: dict[str, Any] | None = None,
    profile: str | None = None,
    region: str | None = None,
    endpoint_url: str | None = None,
):
    """The MCPServer with every tool; each call opens the store read-only, answers, closes it."""
    from typing import Annotated, Literal

    from mcp.server.mcpserver import MCPServer
    from mcp.server.mcpserver.exceptions import ToolError
    from mcp.types import TextContent, ToolAnnotations
    from pydantic import Field

    reads_store = ToolAnnotations(
        read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False
    )
    reads_aws = ToolAnnotations(
        read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=True
    )
    server = MCPServer(
        "glue-advisor", version=__version__, instructions=INSTRUCTIONS, log_level="WARNING"
    )

    @contextmanager
    def store() -> Iterator[ReadOnlyStore]:
        try:
            opened = ReadOnlyStore(db_path)
        except StoreUnavailable as exc:
            raise ToolError(str(exc)) from None
        try:
            yield opened
        except ReadOnlyStoreError as exc:
            raise ToolError(str(exc)) from None
        finally:
            opened.close()

    def require_job(opened: Store, job: str) -> None:
        if opened.job(job) is None:
            raise ToolError(unknown_job_message(opened, job))

    def since_delta(since: str) -> timedelta | None:
        try:
            return None if since in ("", "all") else parse_since(since)
        except ValueError as exc:
            raise ToolError(f"since: {exc}") from None

    Job = Annotated[
        str, Field(min_length=1, description="The Glue job's name, as list_jobs shows it.")
    ]
    Since = Annotated[
        str,
        Field(description="A duration like 30d, 12h or 2w, or 'all' for everything stored."),
    ]

    @server.tool(annotations=reads_store, structured_output=False)
    def list_jobs(since: Since = "30d") -> str:
        """Every Glue job in the store: name, type, Glue version, worker type and number,
        execution class, region; its runs, DPU-hours and dollars over the window ending now;
        how many findings are open on it and the worst one's severity."""
        since_delta(since)
        with store() as opened:
            return as_json(job_list(opened, since))

    @server.tool(annotations=reads_store, structured_output=False)
    def costs(since: Since = "30d") -> str:
        """DPU-hours and dollars per job over a window ending at the newest run, most expensive
        first, with
        the totals: the JSON of `advisor costs --since SINCE --format json`."""
        since_delta(since)
        with store() as opened:
            start, end = costs_window(opened, since)
            return as_json(cost_summary(opened.cost_by_job(since=start, until=end)))

    @server.tool(annotations=reads_store, structured_output=False)
    def recommend(
        job: Job,
        since: Annotated[
            str,
            Field(description="Window before the newest run in the store (30d, 12w, ...)."),
        ] = "30d",
        run_id: Annotated[
            str | None, Field(description="Also detail this run of the job (a JobRun id).")
        ] = None,
    ) -> str:
        """What to change on one job, and why: its cost and trend, data sources, open findings
        with evidence, savings, exact fixes (the `advisor fix` command and a Terraform snippet)
        and the what-if result: the JSON of `advisor recommend JOB --format json`."""
        from advisor.report.recommend import recommendation

        delta = since_delta(since)
        with store() as opened:
            require_job(opened, job)
            try:
                rec = recommendation(opened, job, since=delta or timedelta(days=30), run_id=run_id)
            except LookupError as exc:
                raise ToolError(f"run_id: {exc.args[0]}") from None
            return as_json(rec)

    @server.tool(annotations=reads_store, structured_output=False)
    def whatif(
        job: Job,
        sla: Annotated[
            float | None,
            Field(
                ge=0,
                description="Allowed slowdown, 0.1 = 10 % (default: advisor.toml's, else 0.1).",
            ),
        ] = None,
    ) -> str:
        """What the job would take and cost on other Glue worker types and counts, with Auto
        Scaling off and on, replayed from its newest Spark event log, and the cheapest
        configuration within the allowed slowdown: the JSON of `advisor whatif JOB --format
        json`."""
        from advisor.analysis.sizing import job_sla, job_whatif

        with store() as opened:
            require_job(opened, job)
            features = opened.stored_job_features(job)
            if features is None:
                raise ToolError("no analysis yet: run `advisor analyze` first.")
            app = opened.latest_spark_app_of(job)
            if app is None:
                raise ToolError(
                    f"no event log of {job} in the store: nothing to replay. Turn on the Spark "
                    "UI (--enable-spark-ui true with --spark-event-logs-path) and collect again."
                )
            stored = opened.stored_whatif(job) if sla is None else None
            if stored is not None and stored["run_id"] == app["run_id"]:
                return as_json(stored)
            allowed = sla if sla is not None else job_sla(config_raw, job)
            return as_json(job_whatif(opened, features, app, allowed).as_dict())

    @server.tool(annotations=reads_aws, structured_output=False)
    def fix_payload(
        job: Job,
        rules: Annotated[
            list[str] | None,
            Field(description="Only these rules' findings (default: every open one)."),
        ] = None,
    ) -> list[TextContent]:
        """The complete JobUpdate that applies the job's open findings, built from its LIVE
        definition (read with GetJob): the JSON of `advisor fix JOB --format json`. PRINTED,
        NEVER APPLIED: nothing here calls UpdateJob. Secrets in the job's live arguments are
        masked (***REDACTED***): an assistant is not where they belong. A person writes the
        complete payload with `advisor fix JOB --format json --out payload.json` and applies
        it with `aws glue update-job --job-name JOB --job-update file://payload.json`. Notes,
        if any, follow the payload. AWS access is the server's: the credentials, --profile,
        --region and --endpoint-url that `advisor mcp` was started with."""
        from advisor.fix.cli import CLI_PARAMFILE_PREFIXES, payload_json
        from advisor.fix.plan import FixAbort, job_known, plan_fix
        from advisor.fix.secrets import has_secrets, mask_update, scrub

        rule_ids = tuple(rules or ())
        with store() as opened:
            if not job_known(opened, job):
                raise ToolError(unknown_job_message(opened, job))
            if job.startswith(CLI_PARAMFILE_PREFIXES):
                raise ToolError(
                    f"the AWS CLI would read the job name {job!r} as a file or URL: use the SDK"
                )
            try:
                plan = plan_fix(
                    opened,
                    job,
                    rule_ids=rule_ids,
                    region=region,
                    profile=profile,
                    endpoint_url=endpoint_url,
                )
            except FixAbort as exc:
                raise ToolError(f"advisor fix: {exc}") from None
        if plan is None:
            scope = f" of rule {', '.join(rule_ids)}" if rule_ids else ""
            text = f"{job} has no open finding{scope} with a change to apply."
            return [TextContent(type="text", text=text)]
        if plan.problems:
            lines = [f"refusing to print a fix for {job}: the JobUpdate fails validation"]
            lines += [f"  - {problem}" for problem in plan.problems]
            raise ToolError("\n".join(lines))
        if not plan.changed:
            text = f"{job}'s live definition already has every change its findings propose."
            return [TextContent(type="text", text=text)]
        masked = mask_update(plan.after)
        content = [TextContent(type="text", text=payload_json(masked, indent=2))]
        notes = [f"note: {scrub(note, plan.after)}" for note in plan.notes]
        if has_secrets(plan.after):
            notes.append(
                "note: secrets are masked here; write the complete payload on your machine "
                f"with `advisor fix {job} --format json --out payload.json`"
            )
        if notes:
            content.append(TextContent(type="text", text="\n".join(notes)))
        return content

    @server.tool(annotations=reads_store, structured_output=False)
    def errors(
        source: Annotated[
            Literal["glue", "cloudwatch", "import"] | None,
            Field(description="Only what this source skipped."),
        ] = None,
    ) -> str:
        """What collection and import skipped, and why: the JSON of `advisor errors --format
        json`."""
        with store() as opened:
            return as_json(opened.errors(source))

    @server.tool(annotations=reads_store, structured_output=False)
    def findings(
        min_severity: Annotated[
            Literal["info", "low", "medium", "high", "critical"] | None,
            Field(description="Only findings at least this severe."),
        ] = None,
        job: Annotated[str | None, Field(description="Only this job's findings.")] = None,
    ) -> str:
        """The open findings across the fleet (muted ones left out), most important first: rule,
        severity, message, advice, the change that fixes it, the monthly saving and the
        `advisor fix` command."""
        with store() as opened:
            if job is not None and opened.job(job) is None:
                raise ToolError(unknown_job_message(opened, job))
            return as_json(open_findings_list(opened, min_severity, job))

    @server.tool(annotations=reads_store, structured_output=False)
    def facts() -> str:
        """The Glue facts the advisor relies on (versions and end-of-life dates, worker types,
        features, limits, rates per region), each with its AWS source page and when it was
        checked: the JSON of `advisor facts --format json`."""
        from advisor.report.facts_text import facts_document

        return as_json(facts_document())

    @server.tool(annotations=reads_store, structured_output=False)
    def rules() -> str:
        """Every rule the analysis applies, with its problem, category, scope and the data it
        needs: the JSON of `advisor rules list --format json`."""
        return as_json(rule_list())

    @server.tool(annotations=reads_store, structured_output=False)
    def weekly_report(
        week: Annotated[
            str | None,
            Field(
                description="ISO week like 2026-W47 (default: the last full week before the "
                "newest run in the store)."
            ),
        ] = None,
    ) -> str:
        """The weekly cost report: totals and trend, cost by job, type, worker type and
        execution class, money burned by failures, savings with their fixes, new and resolved
        findings, anomalous runs and coverage: the JSON of `advisor report --format json`."""
        from advisor.report.weekly import parse_week
        from advisor.report.weekly import weekly_report as build

        with store() as opened:
            try:
                monday = parse_week(week) if week else None
                report = build(opened, monday)
            except ValueError as exc:
                raise ToolError(f"week: {exc}") from None
            except LookupError as exc:
                raise ToolError(str(exc)) from None
            return as_json(report)

    return server


def serve(
    db_path: Path,
    *,
    config_raw: dict[str, Any] | None = None,
    profile: str | None = None,
    region: str | None = None,
    endpoint_url: str | None = None,
) -> None:
    """Check the store can be read, then serve it over stdio until the client hangs up."""
    ReadOnlyStore(db_path).close()  # raises StoreUnavailable before any byte of protocol
    server = build_server(
        db_path,
        config_raw=config_raw,
        profile=profile,
        region=region,
        endpoint_url=endpoint_url,
    )
    server.run("stdio")


@click.command("mcp")
@click.option(
    "--db",
    "db",
    metavar="PATH",
    callback=db_from_anywhere,
    help="SQLite store (default ./advisor.db; env ADVISOR_DB); opened read-only, never created.",
)
@click.option("--profile", help="AWS profile for fix_payload's GetJob (default: the chain).")
@click.option("--region", help="Region for fix_payload's GetJob (default: the job's own).")
@click.option("--endpoint-url", metavar="URL", help="Send GetJob here (moto, LocalStack).")
def mcp_cmd(db, profile, region, endpoint_url):
    """Serve the store to AI assistants over the Model Context Protocol (stdio).

    Tools: list_jobs, costs, recommend, whatif, fix_payload, errors, findings, facts, rules,
    weekly_report; each answers with the JSON of the matching `--format json` verb. Read-only:
    the store is opened with SQLite's mode=ro, and fix_payload only prints the JobUpdate (its
    GetJob is the one AWS call). Register it in an MCP client as `advisor mcp --db PATH`; see
    docs/mcp.md.
    """
    config = load_config(db)
    try:
        serve(
            config.db_path,
            config_raw=config.raw,
            profile=profile,
            region=region,
            endpoint_url=endpoint_url,
        )
    except StoreUnavailable as exc:
        click.echo(f"advisor mcp: {exc}", err=True)
        sys.exit(2)


if __name__ == "__main__":
    mcp_cmd()
