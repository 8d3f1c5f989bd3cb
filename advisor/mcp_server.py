"""`advisor mcp`: the store served to AI assistants over the Model Context Protocol (stdio).

Every tool answers with the JSON the matching `advisor ... --format json` prints, built by the
same library function. A job is (account, region, name): tools take a job as its Glue name, or
as `account/region/name` when jobs in several accounts or regions share the name (or with the
`account` and `region` arguments); an ambiguous name is a tool error listing each place, and
every job in an answer carries its `account` and `region`. Read-only by construction:

- the store is opened through SQLite's read-only URI (`mode=ro`) with `PRAGMA query_only`, and
  every Store method that writes fails before it sends anything (its transaction refuses);
- a store that does not exist is never created, and one an older advisor made (its migrations
  pending) is never migrated: the server refuses to start, and says which command migrates it;
- the only calls that leave this machine are `fix_payload`'s: GetJob, and the STS calls that
  make sure it reads the job's own account, through the fix's guarded AWS clients, which refuse
  any other operation (so never UpdateJob): the payload is printed for a person to apply,
  never applied.

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
from advisor.error_sources import ERROR_SOURCES
from advisor.identity import UNKNOWN_REGION, argument_label, label, place_of, split_key
from advisor.safe_text import shell_word
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
    it opens `file:...?mode=ro`, sets `query_only`, refuses a store whose schema is behind (a
    read-only connection cannot migrate it, and reading it unmigrated would answer with jobs
    that have no account or region), and its transaction() raises, so every writer (all go
    through it) fails before any SQL.
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
            names = ", ".join(m.name for m in pending)
            raise StoreUnavailable(
                f"the store at {self.path} was made by an older advisor and needs migrations "
                f"({names}), which a read-only server cannot apply: run any advisor command "
                f"that writes on it once, e.g. `advisor analyze --db {self.path}` (or `advisor "
                "import DIR --account ID --region R` to say which account and region its jobs "
                "are in), then start the MCP server again"
            )
        try:
            self.learn_names()  # which names outputs must qualify with account/region
        except sqlite3.Error as exc:
            self.close()
            raise StoreUnavailable(f"cannot read the store at {self.path}: {exc}") from None

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


def unknown_job_message(store: Store, job: str, problem: Exception | None = None) -> str:
    """What the CLI says of a job the store does not know, closest names included."""
    if problem is not None and getattr(problem, "hint", ""):  # the name is elsewhere
        return f"{problem} ({store.path})"
    names = sorted({label(j["name"]) for j in store.jobs()})
    close = difflib.get_close_matches(job, names, n=5, cutoff=0.4)
    hint = f" Did you mean: {', '.join(close)}?" if close else ""
    return f"no job named {job!r} in {store.path}.{hint}"


def in_place(key: str, account: str | None = None, region: str | None = None) -> bool:
    """Whether a job key is in `account` and `region` (None: any)."""
    from advisor.report.labels import in_place as within

    return within(key, account, region)


def job_place(key: str) -> dict[str, str]:
    """What every job in an answer carries besides its label: account, region, key."""
    return {**place_of(key), "job_key": key}


def unknown_place_message(store: Store, account: str | None, region: str | None) -> str | None:
    """What `advisor costs --account/--region` says of a place the store holds no job of (a
    typo would read as a free month); None when it holds some, or no place is asked for."""
    from advisor.report.labels import place_text

    if account is None and region is None:
        return None
    places = store.places()
    if any(account in (None, p["account"]) and region in (None, p["region"]) for p in places):
        return None
    held = ", ".join(f"{p['account']}/{p['region']}" for p in places) or "none"
    return f"no jobs in {place_text(account, region)}: the store holds jobs in {held}"


def cost_summary(
    rows: list[dict[str, Any]], account: str | None = None, region: str | None = None
) -> dict[str, Any]:
    """`advisor costs [--account A] [--region R] --format json` from `cost_by_job` rows (jobs by
    key): each job named by its label with its account, region and key, the totals, and the
    totals by account and region."""
    from advisor.report.labels import job_fields
    from advisor.report.text import place_totals

    rows = [r for r in rows if in_place(r["job_name"], account, region)]
    return {
        "jobs": [{**r, **job_fields(r["job_name"])} for r in rows],
        "dpu_hours": sum(r["dpu_hours"] or 0 for r in rows),
        "cost_usd": sum(r["cost_usd"] or 0 for r in rows),
        "by_place": place_totals(rows),
    }


def job_list(
    store: Store, since: str, account: str | None = None, region: str | None = None
) -> dict[str, Any]:
    """Every job (in `account` and `region`, when given) with its definition, its cost over
    the window and its open findings. `name` is the job's label (its Glue name, or its key
    when another account or region has a job of that name)."""
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
        if not in_place(job["name"], account, region):
            continue
        cost = costs.get(job["name"]) or {}
        jobs.append(
            {
                "name": label(job["name"]),
                **job_place(job["name"]),
                "glue_name": job.get("glue_name") or split_key(job["name"])[2],
                "type": job.get("command_name"),
                "glue_version": job.get("glue_version"),
                "worker_type": job.get("worker_type"),
                "number_of_workers": job.get("number_of_workers"),
                "max_capacity": job.get("max_capacity"),
                "execution_class": job.get("execution_class") or "STANDARD",
                "runs": cost.get("runs", 0),
                "failed_runs": cost.get("failed_runs", 0),
                "dpu_hours": cost.get("dpu_hours") or 0,
                "cost_usd": cost.get("cost_usd"),
                "open_findings": counts.get(job["name"], 0),
                "worst_severity": worst.get(job["name"]),
            }
        )
    return {"since": since, "start": start, "account": account, "region": region, "jobs": jobs}


def open_findings_list(
    store: Store,
    min_severity: str | None = None,
    job: str | None = None,
    *,
    account: str | None = None,
    region: str | None = None,
) -> dict[str, Any]:
    """Open findings, most important first (the order `advisor analyze` prints them in): of
    the job whose key is `job`, or of the jobs in `account` and `region`, or all."""
    from advisor.report.recommend import severity_at_least
    from advisor.report.remediation import fix_command

    rows = [
        r
        for r in store.open_findings(job)
        if (min_severity is None or severity_at_least(r["severity"], min_severity))
        and in_place(r["job_name"], account, region)
    ]
    findings = []
    for r in rows:
        change = orjson.loads(r.get("change") or "{}")
        shown = label(r["job_name"])
        findings.append(
            {
                "id": r["id"],
                "job_name": shown,
                **job_place(r["job_name"]),
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
                # the label: the Glue name, or the key `advisor fix` needs for a shared name
                "fix_command": fix_command(shown, r["rule_id"]) if change else None,
            }
        )
    return {
        "count": len(findings),
        # never the findings' sum: two fixes of one job can save the same dollars
        "combined_savings_usd_month": combined_savings_usd_month(store, rows),
        "findings": findings,
    }


def combined_savings_usd_month(store: Store, rows: list[dict[str, Any]]) -> float:
    """What the findings `rows` save together: per job the best compatible set of them, as
    `advisor analyze` stores it (Store.job_savings) and the dashboard and report add it up;
    overlapping findings (fewer workers and a smaller worker type, say) are not added twice."""
    from advisor.analysis.savings import best_compatible_set

    by_job: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_job.setdefault(row["job_name"], []).append(row)
    total = 0.0
    for job, found in by_job.items():
        features = store.stored_job_features(job) or {}
        monthly = features.get("cost_usd_month"), features.get("dpu_hours_month")
        total += best_compatible_set(job, found, *monthly).usd_month
    return round(total, 2)


def rule_list() -> list[dict[str, Any]]:
    """`advisor rules list --format json`."""
    from advisor.analysis.rules import rule_rows

    return rule_rows()


NO_BILLING = (
    "no billing data in the store: put AWS billing exports (CUR 2.0 CSV, CSV.gz or Parquet) "
    "in DIR/billing/ and run `advisor import DIR`"
)


def reconcile_answer(
    store: Store,
    month: str | None = None,
    since: str | None = None,
    until: str | None = None,
    account: str | None = None,
    region: str | None = None,
) -> dict[str, Any]:
    """`advisor reconcile --format json`, from the functions reconcile_cmd calls (its period,
    the priced runs and billing lines of it, the other Glue costs priced up to the bill's
    end). LookupError without billing data; click.BadParameter for a bad month or day."""
    from advisor.report.reconcile_cli import reconcile_result

    if store.billing_days()[1] is None:
        raise LookupError(NO_BILLING)
    return reconcile_result(store, month, since, until, account, region)


def changes_answer(
    store: Store, jobs: list[str] | None, since: timedelta | None
) -> list[dict[str, Any]]:
    """`advisor changes --format json`: the configuration changes of `jobs` (keys; None:
    every job) made in the window `since` long before the newest run (None: all history)."""
    from advisor.analysis.changes import changes_in_store
    from advisor.report.window import window

    start, _end = window(store, since)
    return [change.as_dict() for change in changes_in_store(store, jobs, start)]


def explain_answer(
    store: Store, week: str | None, job: str | None, scope: list[str] | None
) -> dict[str, Any]:
    """`advisor explain [JOB] --format json`: why the job's (key `job`) or the fleet's (of the
    keys `scope`, None: every job) cost moved from the week before to `week` (default: the
    last full one). ValueError for a bad week, LookupError for a store without runs."""
    from advisor.analysis.attribution import explain_in_store
    from advisor.report.weekly import last_full_week, parse_week, week_label

    monday = parse_week(week) if week else last_full_week(store)
    if monday is None:
        raise LookupError("no runs in the store: import or collect some first")
    if job is not None:
        result = explain_in_store(store, monday, [job])
    else:
        result = explain_in_store(store, monday, scope, fleet=True)
    result["previous_week"] = week_label(monday - timedelta(days=7))
    return result


def build_server(
    db_path: Path,
    *,
    config_raw: dict[str, Any] | None = None,
    profile: str | None = None,
    region: str | None = None,
    endpoint_url: str | None = None,
    role_arn: str | None = None,
):
    """The MCPServer with every tool; each call opens the store read-only, answers, closes it.

    `profile`, `role_arn` and `endpoint_url` are fix_payload's AWS access; `region` is where it
    reads a job whose region the store does not know (every other job is read in its own)."""
    from typing import Annotated, Literal

    from mcp.server.mcpserver import MCPServer
    from mcp.server.mcpserver.exceptions import ToolError
    from mcp.types import TextContent, ToolAnnotations
    from pydantic import Field

    server_region = region  # the tools' `region` argument names a job's place
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

    def require_place(opened: Store, account: str | None, region: str | None) -> None:
        message = unknown_place_message(opened, account, region)
        if message:
            raise ToolError(message)

    def job_key(
        opened: Store, job: str, account: str | None = None, region: str | None = None
    ) -> str:
        """The key of the job `job` names (in `account`/`region`); a tool error for a job the
        store does not know (closest names) or a name several places share (each place)."""
        from advisor.jobref import AmbiguousJob, JobNotFound, resolve_job

        try:
            return resolve_job(opened, job, account, region)
        except AmbiguousJob as exc:
            raise ToolError(
                str(exc).replace("--account and --region", "account and region")
            ) from None
        except JobNotFound as exc:
            raise ToolError(unknown_job_message(opened, job, exc)) from None

    def since_delta(since: str) -> timedelta | None:
        try:
            return None if since in ("", "all") else parse_since(since)
        except ValueError as exc:
            raise ToolError(f"since: {exc}") from None

    Job = Annotated[
        str,
        Field(
            min_length=1,
            description="The job as list_jobs names it: its Glue name, or account/region/name "
            "when jobs in several accounts or regions have that name.",
        ),
    ]
    Account = Annotated[
        str | None,
        Field(
            pattern=r"^(\d{12}|unknown)$",
            description="Only the job(s) in this AWS account (12 digits).",
        ),
    ]
    Region = Annotated[
        str | None,
        Field(min_length=1, description="Only the job(s) in this AWS region, e.g. us-east-1."),
    ]
    Since = Annotated[
        str,
        Field(description="A duration like 30d, 12h or 2w, or 'all' for everything stored."),
    ]

    @server.tool(annotations=reads_store, structured_output=False)
    def list_jobs(since: Since = "30d", account: Account = None, region: Region = None) -> str:
        """Every Glue job in the store (or in one account or region): name (the Glue name, or
        account/region/name when another account or region has a job of that name), account,
        region, type, Glue version, worker type and number, execution class; its runs,
        DPU-hours and dollars over the window ending at the newest run; how many findings are
        open on it and the worst one's severity."""
        since_delta(since)
        with store() as opened:
            require_place(opened, account, region)
            return as_json(job_list(opened, since, account, region))

    @server.tool(annotations=reads_store, structured_output=False)
    def costs(since: Since = "30d", account: Account = None, region: Region = None) -> str:
        """DPU-hours and dollars per job (each with its account and region) over a window
        ending at the newest run, most expensive first, with the totals and the totals by
        account and region: the JSON of `advisor costs --since SINCE [--account A] [--region R]
        --format json` (only one account's or region's jobs when given)."""
        since_delta(since)
        with store() as opened:
            require_place(opened, account, region)
            start, end = costs_window(opened, since)
            rows = opened.cost_by_job(since=start, until=end)
            return as_json(cost_summary(rows, account, region))

    @server.tool(annotations=reads_store, structured_output=False)
    def recommend(
        job: Job,
        since: Annotated[
            str,
            Field(
                description="Window before the newest run in the store (30d, 12w, ...), or "
                "'all' for the job's whole history, as `advisor recommend --since`."
            ),
        ] = "30d",
        run_id: Annotated[
            str | None, Field(description="Also detail this run of the job (a JobRun id).")
        ] = None,
        account: Account = None,
        region: Region = None,
    ) -> str:
        """What to change on one job, and why: its cost and trend, data sources, open findings
        with evidence, savings, exact fixes (the `advisor fix` command and a Terraform snippet)
        and the what-if result: the JSON of `advisor recommend JOB --format json`."""
        from advisor.report.recommend import recommendation

        delta = since_delta(since)
        with store() as opened:
            job = job_key(opened, job, account, region)
            try:
                # None: the whole history, as the CLI's --since all
                rec = recommendation(opened, job, since=delta, run_id=run_id)
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
        account: Account = None,
        region: Region = None,
    ) -> str:
        """What the job would take and cost on other Glue worker types and counts, with Auto
        Scaling off and on, replayed from its newest Spark event log, and the cheapest
        configuration within the allowed slowdown: the JSON of `advisor whatif JOB --format
        json`."""
        from advisor.analysis.sizing import job_sla, job_whatif

        with store() as opened:
            job = job_key(opened, job, account, region)
            features = opened.stored_job_features(job)
            if features is None:
                raise ToolError("no analysis yet: run `advisor analyze` first.")
            app = opened.latest_spark_app_of(job)
            if app is None:
                raise ToolError(
                    f"no event log of {label(job)} in the store: nothing to replay. Turn on the "
                    "Spark "
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
        account: Account = None,
        region: Region = None,
    ) -> list[TextContent]:
        """The complete JobUpdate that applies the job's open findings, built from its LIVE
        definition (read with GetJob in the job's own region, as the job's own account: other
        credentials are refused): the JSON of `advisor fix JOB --format json`.
        PRINTED, NEVER APPLIED: nothing here calls UpdateJob. Secrets in the job's live
        arguments are masked (***REDACTED***): an assistant is not where they belong. A person
        writes the complete payload with `advisor fix JOB --format json --out payload.json` and
        applies it with `aws glue update-job --job-name NAME --region REGION --job-update
        file://payload.json`.
        Notes, if any, follow the payload. AWS access is the server's: the credentials,
        --profile, --role-arn and --endpoint-url that `advisor mcp` was started with."""
        from advisor.fix.cli import CLI_PARAMFILE_PREFIXES, payload_json
        from advisor.fix.plan import FixAbort, glue_name, plan_fix
        from advisor.fix.secrets import has_secrets, mask_update, scrub

        rule_ids = tuple(rules or ())
        warnings: list[str] = []
        with store() as opened:
            key = job_key(opened, job, account, region)
            name = glue_name(opened, key)
            if name.startswith(CLI_PARAMFILE_PREFIXES):
                raise ToolError(
                    f"the AWS CLI would read the job name {name!r} as a file or URL: use the SDK"
                )
            # the server's --region only for a job whose region the store does not know
            where = server_region if split_key(key)[1] == UNKNOWN_REGION else None
            try:
                plan = plan_fix(
                    opened,
                    key,
                    rule_ids=rule_ids,
                    region=where,
                    profile=profile,
                    role_arn=role_arn,
                    endpoint_url=endpoint_url,
                    warn=warnings.append,
                )
            except FixAbort as exc:
                raise ToolError(f"advisor fix: {exc}") from None
        job = label(key)
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
        notes = [f"note: {warning}" for warning in warnings]
        notes.append(
            f"note: read live from job {plan.job!r} in {plan.region}; apply it with `aws glue "
            f"update-job --job-name {shell_word(plan.job)} --region {plan.region} --job-update "
            "file://payload.json`"
        )
        notes += [f"note: {scrub(note, plan.after)}" for note in plan.notes]
        if has_secrets(plan.after):
            notes.append(
                "note: secrets are masked here; write the complete payload on your machine "
                f"with `advisor fix {shell_word(argument_label(key))} --format json --out "
                "payload.json`"
            )
        if notes:
            content.append(TextContent(type="text", text="\n".join(notes)))
        return content

    @server.tool(annotations=reads_store, structured_output=False)
    def errors(
        source: Annotated[
            Literal[ERROR_SOURCES] | None,  # the sources `advisor errors --source` takes
            Field(description="Only what this source skipped."),
        ] = None,
    ) -> str:
        """What collection and import skipped, and why (Glue and CloudWatch collection, event
        logs from S3 and unlinked ones, the offline import, accounts not entered or listed,
        billing exports): the JSON of `advisor errors [--source S] --format json`."""
        with store() as opened:
            return as_json(opened.errors(source))

    @server.tool(annotations=reads_store, structured_output=False)
    def findings(
        min_severity: Annotated[
            Literal["info", "low", "medium", "high", "critical"] | None,
            Field(description="Only findings at least this severe."),
        ] = None,
        job: Annotated[
            str | None,
            Field(description="Only this job's findings (a name, or account/region/name)."),
        ] = None,
        account: Account = None,
        region: Region = None,
    ) -> str:
        """The open findings across the fleet (muted ones left out), most important first: the
        job (with its account and region), rule, severity, message, advice, the change that
        fixes it, the monthly saving and the `advisor fix` command. Only one job's, or one
        account's or region's, when given. `combined_savings_usd_month` is what the listed
        findings save together (per job the best set of fixes that combine, the figure the
        dashboard and weekly report show), never the sum of their overlapping savings."""
        with store() as opened:
            require_place(opened, account, region)
            key = job_key(opened, job, account, region) if job is not None else None
            listed = open_findings_list(opened, min_severity, key, account=account, region=region)
            return as_json(listed)

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

    Week = Annotated[
        str | None,
        Field(
            description="ISO week like 2026-W47 (default: the last full week before the "
            "newest run in the store)."
        ),
    ]

    @server.tool(annotations=reads_store, structured_output=False)
    def weekly_report(week: Week = None, account: Account = None, region: Region = None) -> str:
        """The weekly cost report: totals and trend, cost by job, type, worker type and
        execution class, money burned by failures, savings with their fixes, new and resolved
        findings, anomalous runs and coverage: the JSON of `advisor report [--week W]
        [--account A] [--region R] --format json`. A week without runs is an error (as the
        CLI refuses it), never a $0.00 report."""
        from advisor.report.weekly import empty_week_refusal, parse_week
        from advisor.report.weekly import weekly_report as build

        with store() as opened:
            require_place(opened, account, region)
            try:
                monday = parse_week(week) if week else None
                report = build(opened, monday, account=account, region=region)
            except ValueError as exc:
                raise ToolError(f"week: {exc}") from None
            except LookupError as exc:
                raise ToolError(str(exc)) from None
            refusal = empty_week_refusal(opened, report)
            if refusal:
                raise ToolError(refusal)
            return as_json(report)

    Day = Annotated[str | None, Field(pattern=r"^\d{4}-\d{2}-\d{2}$")]

    @server.tool(annotations=reads_store, structured_output=False)
    def reconcile(
        month: Annotated[
            str | None,
            Field(
                pattern=r"^\d{4}-\d{2}$",
                description="One calendar month, YYYY-MM (UTC). Default: the month of the "
                "newest billing line, unless since or until is given.",
            ),
        ] = None,
        since: Annotated[Day, Field(description="First day, YYYY-MM-DD (UTC).")] = None,
        until: Annotated[
            Day, Field(description="The day after the last, YYYY-MM-DD (UTC).")
        ] = None,
        account: Account = None,
        region: Region = None,
    ) -> str:
        """What AWS billed against what the advisor computed, per job and day, from the
        billing exports in the store: each job's computed and billed dollars and DPU-hours and
        the days they differ, jobs billed but unknown to the store, the other Glue costs
        (crawlers, sessions, catalog) and credits, refunds and tax apart: the JSON of
        `advisor reconcile [--month M | --since D --until D] [--account A] [--region R]
        --format json`."""
        with store() as opened:
            require_place(opened, account, region)
            try:
                result = reconcile_answer(opened, month, since, until, account, region)
            except LookupError as exc:
                raise ToolError(str(exc)) from None
            except click.ClickException as exc:
                raise ToolError(exc.format_message()) from None
            return as_json(result)

    @server.tool(annotations=reads_store, structured_output=False)
    def changes(
        job: Annotated[
            str | None,
            Field(description="Only this job's changes (a name, or account/region/name)."),
        ] = None,
        since: Annotated[
            str,
            Field(
                description="Changes made in this window before the newest run in the store "
                "(90d, 12w, ...), or 'all'."
            ),
        ] = "90d",
        account: Account = None,
        region: Region = None,
    ) -> str:
        """What each configuration change of a job (worker type and count, capacity, execution
        class, Glue version, timeout, Auto Scaling, --conf) did, against what was predicted:
        runs before and after (per GB read when the volume is known), the realised saving a
        month with a 90% interval, and the finding or what-if that predicted it: the JSON of
        `advisor changes [--job JOB] [--since SINCE] [--account A] [--region R] --format
        json`."""
        from advisor.analysis.changes_data import job_keys

        delta = since_delta(since)
        with store() as opened:
            require_place(opened, account, region)
            jobs = [job_key(opened, job, account, region)] if job else None
            if jobs is None and (account or region):
                jobs = job_keys(opened, account, region)
            return as_json(changes_answer(opened, jobs, delta))

    @server.tool(annotations=reads_store, structured_output=False)
    def explain(
        job: Annotated[
            str | None,
            Field(description="This job (a name, or account/region/name); default the fleet."),
        ] = None,
        week: Week = None,
        account: Account = None,
        region: Region = None,
    ) -> str:
        """Why a job's cost (or the fleet's) moved from the week before to this one, split
        into the number of runs, input volume, configuration changes, runtime at the same
        volume, the rate per DPU-hour and failed runs (the parts add up to the change to the
        cent): the JSON of `advisor explain [JOB] [--week W] [--account A] [--region R]
        --format json`."""
        from advisor.analysis.changes_data import job_keys

        with store() as opened:
            require_place(opened, account, region)
            key = job_key(opened, job, account, region) if job else None
            fleet_of_place = key is None and (account or region)
            scope = job_keys(opened, account, region) if fleet_of_place else None
            try:
                result = explain_answer(opened, week, key, scope)
            except ValueError as exc:
                raise ToolError(f"week: {exc}") from None
            except LookupError as exc:
                raise ToolError(str(exc)) from None
            return as_json(result)

    return server


def serve(
    db_path: Path,
    *,
    config_raw: dict[str, Any] | None = None,
    profile: str | None = None,
    region: str | None = None,
    endpoint_url: str | None = None,
    role_arn: str | None = None,
) -> None:
    """Check the store can be read, then serve it over stdio until the client hangs up."""
    ReadOnlyStore(db_path).close()  # raises StoreUnavailable before any byte of protocol
    server = build_server(
        db_path,
        config_raw=config_raw,
        profile=profile,
        region=region,
        endpoint_url=endpoint_url,
        role_arn=role_arn,
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
@click.option(
    "--region",
    metavar="R",
    help="Region for fix_payload's GetJob of a job whose region the store does not know "
    "(every other job is read in its own region).",
)
@click.option(
    "--role-arn",
    metavar="ARN",
    help="fix_payload reads jobs through this role (AssumeRole, read-only session "
    "glue-advisor-fix): for jobs of an account the credentials are not for.",
)
@click.option("--endpoint-url", metavar="URL", help="Send GetJob here (moto, LocalStack).")
def mcp_cmd(db, profile, region, role_arn, endpoint_url):
    """Serve the store to AI assistants over the Model Context Protocol (stdio).

    Tools: list_jobs, costs, recommend, whatif, fix_payload, errors, findings, facts, rules,
    weekly_report, reconcile, changes, explain; each answers with the JSON of the matching
    `--format json` verb. A job is named by its Glue name, or account/region/name when several
    accounts or regions have a job of that name. Read-only: the store is opened with SQLite's
    mode=ro, and fix_payload only prints the JobUpdate (its GetJob, in the job's own region and
    account, is the one AWS read). Register it in an MCP client as `advisor mcp --db PATH`; see
    docs/mcp.md.
    """
    from advisor.collect.accounts import is_role_arn

    if role_arn is not None and not is_role_arn(role_arn):
        raise click.BadParameter(
            f"{role_arn!r} is not an IAM role ARN (arn:aws:iam::ID:role/NAME)",
            param_hint="--role-arn",
        )
    config = load_config(db)
    try:
        serve(
            config.db_path,
            config_raw=config.raw,
            profile=profile,
            region=region,
            endpoint_url=endpoint_url,
            role_arn=role_arn,
        )
    except StoreUnavailable as exc:
        click.echo(f"advisor mcp: {exc}", err=True)
        sys.exit(2)


if __name__ == "__main__":
    mcp_cmd()
