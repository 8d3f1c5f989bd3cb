"""`advisor mcp`: the store over the Model Context Protocol, driven by the SDK's own client.

The server runs as a subprocess over stdio (mcp.client.stdio.stdio_client + ClientSession), on a
copy of the analysed sample fleet that nothing else opens, so the copy's bytes show what the
server wrote: nothing. Each tool's JSON is compared with what the CLI prints with --format json
for the same arguments (click's runner, on the original store).

A job is (account, region, name): the sample fleet imported a second time as eu-west-1 gives
every job a namesake, and the tools must answer for the place asked (in process, through the
server's own call_tool), refuse an ambiguous name, and read a live job only as its account.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import sqlite3
import sys
from pathlib import Path
from typing import Any

import anyio
import boto3
import pytest
import requests
from click.testing import CliRunner
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

from advisor.cli import main
from advisor.error_sources import ERROR_SOURCES
from advisor.fix.secrets import mask_update
from advisor.identity import job_key
from advisor.mcp_server import (
    ReadOnlyStore,
    ReadOnlyStoreError,
    StoreUnavailable,
    build_server,
    mcp_cmd,
)
from advisor.store import Store, migrations
from tests.conftest import SAMPLE as SAMPLE_FLEET

TOOLS = {
    "list_jobs",
    "costs",
    "recommend",
    "whatif",
    "fix_payload",
    "errors",
    "findings",
    "facts",
    "rules",
    "weekly_report",
    "reconcile",
    "changes",
    "explain",
}
REGION = "us-east-1"
EMPTY_WEEK = "2026-W30"  # before the sample fleet's first run
CHANGED_JOB = "product_catalog_sync"  # its workers changed on 2026-11-03
OTHER_REGION = "eu-west-1"
ACCOUNT = "123456789012"  # the sample fleet's (its role ARNs'), and moto's default
FIX_JOB = "orders_daily_etl"
FIX_KEY = job_key(ACCOUNT, REGION, FIX_JOB)
LIVE_SECRET = "mcp-live-secret-4711"
NO_CREDENTIALS = {
    "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/credentials",
    "AWS_CONFIG_FILE": "/nonexistent/config",
    "AWS_EC2_METADATA_DISABLED": "true",
}
CREDENTIALS = NO_CREDENTIALS | {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "x"}

# the sample fleet's job count, read from it: the fleet grows
SAMPLE_JOBS = len(json.loads((SAMPLE_FLEET / "jobs.json").read_text())["Jobs"])


def server_args(db: Path) -> list[str]:
    """`advisor mcp` once cli.py registers it; until then the same click command directly."""
    if "mcp" in main.commands:
        return ["-m", "advisor", "mcp", "--db", str(db)]
    return ["-m", "advisor.mcp_server", "--db", str(db)]


def run_session(
    db: Path,
    calls: dict[str, tuple[str, dict[str, Any]]],
    log: Path,
    *,
    options: tuple[str, ...] = (),
    env: dict[str, str] | None = None,
) -> tuple[list[Any], dict[str, Any]]:
    """Start the server, list its tools, make every call, hang up."""

    async def session() -> tuple[list[Any], dict[str, Any]]:
        params = StdioServerParameters(
            command=sys.executable, args=[*server_args(db), *options], env=env or NO_CREDENTIALS
        )
        with log.open("a") as errlog:
            async with (
                stdio_client(params, errlog=errlog) as (read, write),
                ClientSession(read, write) as client,
            ):
                await client.initialize()
                tools = (await client.list_tools()).tools
                results = {}
                for key, (name, arguments) in calls.items():
                    results[key] = await client.call_tool(name, arguments)
                return tools, results

    return asyncio.run(asyncio.wait_for(session(), timeout=120))


def text(result: Any) -> str:
    assert result.content, result
    return result.content[0].text


def answer(result: Any) -> Any:
    assert not result.is_error, text(result)
    return json.loads(text(result))


def cli_json(*args: str, env: dict[str, str] | None = None) -> Any:
    result = CliRunner(env=env).invoke(main, [*args, "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def files_of(db: Path) -> dict[str, str]:
    """The store and its WAL, hashed; a WAL that is absent holds what an empty one holds."""

    def digest(path: Path) -> str:
        return hashlib.sha256(path.read_bytes() if path.exists() else b"").hexdigest()

    return {"db": digest(db), "wal": digest(Path(f"{db}-wal"))}


@pytest.fixture(scope="module")
def served_db(analysed_sample_db, tmp_path_factory) -> Path:
    """A consistent copy of the analysed store, in WAL mode with no -wal file, like a real one."""
    path = tmp_path_factory.mktemp("mcp") / "advisor.db"
    source = sqlite3.connect(f"{Path(analysed_sample_db).resolve().as_uri()}?mode=ro", uri=True)
    target = sqlite3.connect(path)
    source.backup(target)
    source.close()
    target.close()
    Store(path).close()  # WAL on, checkpointed, -wal removed on close
    assert not Path(f"{path}-wal").exists()
    return path


@pytest.fixture(scope="module")
def newest_run(analysed_sample_db) -> str:
    store = Store(analysed_sample_db)
    row = store.db.execute(
        "select glue_run_id from job_runs where job_name = ? order by started_on desc limit 1",
        [FIX_KEY],
    ).fetchone()
    store.close()
    return row[0]


@pytest.fixture(scope="module")
def live_definition(analysed_sample_db, moto_endpoint) -> dict[str, Any]:
    """FIX_JOB created in moto as the store last saw it, so its fix applies to the live job."""
    requests.post(f"{moto_endpoint}/moto-api/reset", timeout=10)
    store = Store(analysed_sample_db)
    definition = store.latest_definition(FIX_KEY)
    store.close()
    keep = ("Role", "Command", "DefaultArguments", "ExecutionProperty", "GlueVersion", "Timeout")
    keep += ("WorkerType", "NumberOfWorkers", "MaxRetries", "ExecutionClass")
    live = {k: definition[k] for k in keep}
    live["DefaultArguments"] = {**live["DefaultArguments"], "--db_password": LIVE_SECRET}
    glue(moto_endpoint).create_job(Name=FIX_JOB, **live)
    return definition


def glue(endpoint: str, region: str = REGION):
    return boto3.client(
        "glue",
        region_name=region,
        endpoint_url=endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="x",
    )


@pytest.fixture(scope="module")
def session(served_db, newest_run, live_definition, moto_endpoint, tmp_path_factory):
    """One session of the server over stdio, every call made in it; GetJob goes to moto."""
    calls = {
        "list_jobs": ("list_jobs", {"since": "all"}),
        "costs": ("costs", {}),
        "costs_all": ("costs", {"since": "all"}),
        "recommend": ("recommend", {"job": "marketing_attribution"}),
        "recommend_all": ("recommend", {"job": "marketing_attribution", "since": "all"}),
        "recommend_run": (
            "recommend",
            {"job": FIX_JOB, "since": "12w", "run_id": newest_run},
        ),
        "whatif": ("whatif", {"job": FIX_JOB}),
        "whatif_sla": ("whatif", {"job": FIX_JOB, "sla": 0.25}),
        "errors": ("errors", {}),
        "errors_import": ("errors", {"source": "import"}),
        "findings": ("findings", {}),
        "findings_high": ("findings", {"min_severity": "high"}),
        "facts": ("facts", {}),
        "rules": ("rules", {}),
        "report": ("weekly_report", {}),
        "report_week": ("weekly_report", {"week": "2026-W45"}),
        "fix": ("fix_payload", {"job": FIX_JOB}),
        "fix_rule": ("fix_payload", {"job": FIX_JOB, "rules": ["timeout_risk"]}),
        "fix_not_live": ("fix_payload", {"job": "marketing_attribution"}),
        "unknown_recommend": ("recommend", {"job": "orders_daly_etl"}),
        "unknown_whatif": ("whatif", {"job": "marketing_atribution"}),
        "unknown_fix": ("fix_payload", {"job": "orders_daly_etl"}),
        "unknown_findings": ("findings", {"job": "orders_daly"}),
        "bad_since": ("costs", {"since": "forever"}),
        "bad_week": ("weekly_report", {"week": "2026-47"}),
        "report_empty": ("weekly_report", {"week": EMPTY_WEEK}),
        "errors_s3": ("errors", {"source": "s3"}),
        "errors_eventlog": ("errors", {"source": "eventlog"}),
        "reconcile": ("reconcile", {}),
        "reconcile_month": ("reconcile", {"month": "2026-11"}),
        "reconcile_days": ("reconcile", {"since": "2026-11-02", "until": "2026-11-09"}),
        "reconcile_bad": ("reconcile", {"month": "2026-13"}),
        "changes": ("changes", {}),
        "changes_all": ("changes", {"since": "all"}),
        "changes_job": ("changes", {"job": CHANGED_JOB, "since": "all"}),
        "explain": ("explain", {}),
        "explain_job": ("explain", {"job": CHANGED_JOB, "week": "2026-W45"}),
        "explain_bad_week": ("explain", {"week": "2026-45"}),
        "bad_run": ("recommend", {"job": FIX_JOB, "run_id": "jr_nope"}),
        "no_job": ("recommend", {}),
    }
    before = files_of(served_db)
    log = tmp_path_factory.mktemp("mcp-log") / "server.log"
    options = ("--endpoint-url", moto_endpoint, "--region", REGION)
    tools, results = run_session(served_db, calls, log, options=options, env=CREDENTIALS)
    return {"tools": tools, "results": results, "before": before, "after": files_of(served_db)}


def test_every_tool_is_listed_with_an_input_schema_and_a_description(session):
    tools = {tool.name: tool for tool in session["tools"]}
    assert set(tools) == TOOLS
    for tool in tools.values():
        assert tool.input_schema["type"] == "object"
        assert len(tool.description) > 60
        assert tool.annotations.read_only_hint is True
        assert tool.annotations.destructive_hint is False
    assert tools["recommend"].input_schema["required"] == ["job"]
    assert set(tools["recommend"].input_schema["properties"]) == {
        "job",
        "since",
        "run_id",
        "account",
        "region",
    }
    for name in ("list_jobs", "costs", "recommend", "whatif", "fix_payload", "findings"):
        assert {"account", "region"} <= set(tools[name].input_schema["properties"]), name
    # every source the collectors record, as `advisor errors --source` takes them
    errors_source = tools["errors"].input_schema["properties"]["source"]
    assert {"enum": list(ERROR_SOURCES), "type": "string"} in errors_source["anyOf"]
    assert {"s3", "eventlog", "sts", "organizations", "billing"} <= set(ERROR_SOURCES)
    for name, arguments in (
        ("reconcile", {"month", "since", "until", "account", "region"}),
        ("changes", {"job", "since", "account", "region"}),
        ("explain", {"job", "week", "account", "region"}),
        ("weekly_report", {"week", "account", "region"}),
    ):
        assert set(tools[name].input_schema["properties"]) == arguments, name
        assert not tools[name].input_schema.get("required"), name
    month = tools["reconcile"].input_schema["properties"]["month"]
    assert any(option.get("pattern") == r"^\d{4}-\d{2}$" for option in month["anyOf"])
    assert "NEVER APPLIED" in tools["fix_payload"].description


@pytest.mark.parametrize(
    ("key", "args"),
    [
        ("costs", ["costs"]),
        ("costs_all", ["costs", "--since", "all"]),
        ("recommend", ["recommend", "marketing_attribution"]),
        ("recommend_all", ["recommend", "marketing_attribution", "--since", "all"]),
        ("whatif", ["whatif", FIX_JOB]),
        ("whatif_sla", ["whatif", FIX_JOB, "--sla", "0.25"]),
        ("errors", ["errors"]),
        ("errors_import", ["errors", "--source", "import"]),
        ("facts", ["facts"]),
        ("rules", ["rules", "list"]),
        ("report", ["report"]),
        ("report_week", ["report", "--week", "2026-W45"]),
        ("errors_s3", ["errors", "--source", "s3"]),
        ("errors_eventlog", ["errors", "--source", "eventlog"]),
        ("reconcile", ["reconcile"]),
        ("reconcile_month", ["reconcile", "--month", "2026-11"]),
        ("reconcile_days", ["reconcile", "--since", "2026-11-02", "--until", "2026-11-09"]),
        ("changes", ["changes"]),
        ("changes_all", ["changes", "--since", "all"]),
        ("changes_job", ["changes", "--job", CHANGED_JOB, "--since", "all"]),
        ("explain", ["explain"]),
        ("explain_job", ["explain", CHANGED_JOB, "--week", "2026-W45"]),
    ],
)
def test_each_tool_answers_what_the_cli_prints(session, analysed_sample_db, key, args):
    assert answer(session["results"][key]) == cli_json("--db", analysed_sample_db, *args)


def test_recommend_with_a_window_and_a_run_matches_the_cli(session, analysed_sample_db, newest_run):
    args = ["recommend", FIX_JOB, "--since", "12w", "--run-id", newest_run]
    got = answer(session["results"]["recommend_run"])
    assert got == cli_json("--db", analysed_sample_db, *args)
    assert got["run"] is not None
    assert got["window"]["days"] == 84


def test_list_jobs_agrees_with_costs_and_findings(session):
    results = session["results"]
    jobs = answer(results["list_jobs"])["jobs"]
    costs = {row["job_name"]: row for row in answer(results["costs_all"])["jobs"]}
    assert len(jobs) == SAMPLE_JOBS
    for job in jobs:  # a job with no run in the store has no row in costs
        cost = costs.get(job["name"], {"cost_usd": None, "runs": 0})
        assert (job["cost_usd"], job["runs"]) == (cost["cost_usd"], cost["runs"])
    assert {job["name"] for job in jobs} >= set(costs)
    findings = answer(results["findings"])
    assert sum(job["open_findings"] for job in jobs) == findings["count"]
    marketing = next(job for job in jobs if job["name"] == "marketing_attribution")
    assert (marketing["type"], marketing["worker_type"]) == ("glueetl", "G.2X")
    for job in jobs:  # one place: every name is its own label, and the place is stated
        assert (job["account"], job["region"]) == (ACCOUNT, REGION)
        assert (
            job["job_key"]
            == job_key(ACCOUNT, REGION, job["name"])
            == job_key(ACCOUNT, REGION, job["glue_name"])
        )
    for row in answer(results["costs_all"])["jobs"]:
        assert row["job_key"] == job_key(row["account"], row["region"], row["job_name"])
    for finding in findings["findings"]:
        assert (finding["account"], finding["region"]) == (ACCOUNT, REGION)
        assert finding["job_key"] == job_key(ACCOUNT, REGION, finding["job_name"])


def test_findings_filter_by_severity_most_important_first(session, analysed_sample_db):
    high = answer(session["results"]["findings_high"])
    store = Store(analysed_sample_db)
    expected = store.db.execute(
        "select count(*) from findings where status = 'open' and severity in ('high', 'critical')"
    ).fetchone()[0]
    store.close()
    assert high["count"] == expected > 0
    assert {f["severity"] for f in high["findings"]} <= {"high", "critical"}
    scores = [f["score"] for f in high["findings"]]
    assert scores == sorted(scores, reverse=True)
    assert all(f["fix_command"].startswith("advisor fix ") for f in high["findings"] if f["change"])


def test_an_unknown_job_is_a_tool_error_naming_the_closest_jobs(session):
    results = session["results"]
    for key, closest in (
        ("unknown_recommend", "orders_daily_etl"),
        ("unknown_whatif", "marketing_attribution"),
        ("unknown_fix", "orders_daily_etl"),
        ("unknown_findings", "orders_daily_etl"),
    ):
        assert results[key].is_error, key
        assert "no job named" in text(results[key])
        assert f"Did you mean: {closest}" in text(results[key])


def test_bad_arguments_are_tool_errors_not_crashes(session):
    results = session["results"]
    assert results["bad_since"].is_error
    assert "30d" in text(results["bad_since"])
    assert results["bad_week"].is_error
    assert "2026-W47" in text(results["bad_week"])
    assert results["bad_run"].is_error
    assert results["no_job"].is_error


def test_reconcile_changes_and_explain_answer_with_the_stores_data(session):
    """Not only equal to the CLI (above): about something, so an empty answer cannot pass."""
    results = session["results"]
    reconciled = answer(results["reconcile_month"])
    assert reconciled["period"] == {"since": "2026-11-01", "until": "2026-12-01"}
    assert reconciled["jobs"] and reconciled["billing_data"]["last_day"] >= "2026-11"
    changed = answer(results["changes_job"])
    assert changed and {c["job"] for c in changed} == {CHANGED_JOB}
    explained = answer(results["explain_job"])
    assert (explained["week"], explained["previous_week"]) == ("2026-W45", "2026-W44")
    assert explained["causes"]
    fleet = answer(results["explain"])
    assert fleet["jobs"]
    assert results["reconcile_bad"].is_error
    assert "'2026-13-01' is not a day" in text(results["reconcile_bad"])
    assert results["explain_bad_week"].is_error
    assert "2026-W47" in text(results["explain_bad_week"])


def test_a_week_without_runs_is_the_clis_refusal_not_a_free_report(session, analysed_sample_db):
    result = session["results"]["report_empty"]
    assert result.is_error
    cli = CliRunner().invoke(main, ["report", "--db", analysed_sample_db, "--week", EMPTY_WEEK])
    assert cli.exit_code == 1
    refusal = " ".join(cli.stderr.split())  # the console wraps it
    assert refusal.startswith(f"no runs in {EMPTY_WEEK}: the store holds runs from ")
    assert " ".join(text(result).split()).endswith(refusal)


def test_findings_savings_are_the_best_compatible_sets_not_their_sum(session, analysed_sample_db):
    """What the findings save together is what the dashboard and report show: per job the
    best set of fixes that combine, never the sum of overlapping findings."""
    listed = answer(session["results"]["findings"])
    assert "savings_usd_month_sum" not in listed
    store = Store(analysed_sample_db)
    fleet = round(store.fleet_saving_usd_month(), 2)
    store.close()
    overlapping = round(sum(f["savings_usd_month"] or 0 for f in listed["findings"]), 2)
    assert listed["combined_savings_usd_month"] == fleet < overlapping
    report = cli_json("--db", analysed_sample_db, "report")
    assert report["savings_total_usd_month"] == listed["combined_savings_usd_month"]
    high = answer(session["results"]["findings_high"])
    assert 0 <= high["combined_savings_usd_month"] <= fleet


def _recorded_sources() -> set[str]:
    """Every source advisor/ records an error under: the first argument of record() and
    record_error() (a literal, or a module constant), and the literals handed to a call along
    with a recorder (collect/runner.py's _guarded)."""
    import ast

    found: set[str] = set()
    for path in (Path(__file__).parent.parent / "advisor").rglob("*.py"):
        tree = ast.parse(path.read_text())
        constants = {
            target.id: node.value.value
            for node in tree.body
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
            for target in node.targets
            if isinstance(target, ast.Name)
        }
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            called = getattr(node.func, "attr", None) or getattr(node.func, "id", None)
            if called in ("record", "record_error") and node.args:
                first = node.args[0]
                if isinstance(first, ast.Constant):
                    found.add(first.value)
                elif isinstance(first, ast.Name) and first.id in constants:
                    found.add(constants[first.id])
            elif any(getattr(a, "attr", getattr(a, "id", None)) == "record" for a in node.args):
                found |= {a.value for a in node.args if isinstance(a, ast.Constant)}
    return found


def test_the_error_sources_are_every_source_the_collectors_record():
    assert set(ERROR_SOURCES) == _recorded_sources()
    assert len(set(ERROR_SOURCES)) == len(ERROR_SOURCES)


def _cli_error_sources() -> tuple[str, ...]:
    (option,) = [p for p in main.commands["errors"].params if p.name == "source"]
    return tuple(option.type.choices)


def test_the_errors_tool_takes_every_source_the_cli_takes():
    assert set(_cli_error_sources()) <= set(ERROR_SOURCES)


def test_the_cli_takes_the_shared_error_sources():
    assert _cli_error_sources() == ERROR_SOURCES


def test_fix_payload_without_aws_credentials_is_a_clear_tool_error(served_db, monkeypatch):
    """In process (the transport is the session's): the tool as the server registers it."""
    from mcp.server.mcpserver.exceptions import ToolError

    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in NO_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    server = build_server(served_db)
    with pytest.raises(ToolError, match="no AWS credentials"):
        anyio.run(server.call_tool, "fix_payload", {"job": FIX_JOB})


def test_the_session_left_the_store_and_its_wal_as_they_were(session):
    assert session["after"] == session["before"]


def test_fix_payload_is_the_cli_payload_from_the_live_job_never_applied(
    session, analysed_sample_db, live_definition, moto_endpoint
):
    results = session["results"]
    fix = ["fix", FIX_JOB, "--db", analysed_sample_db, "--endpoint-url", moto_endpoint]
    fix += ["--region", REGION]
    payload = answer(results["fix"])
    complete = cli_json(*fix, env=CREDENTIALS)
    assert complete["DefaultArguments"]["--db_password"] == LIVE_SECRET  # the CLI's, asked for
    assert payload == mask_update(complete)  # the assistant's: the same, secrets masked
    assert LIVE_SECRET not in str(results["fix"])
    assert payload["Timeout"] == 310  # timeout_risk's change, on the live definition
    assert payload["Role"] == live_definition["Role"]
    with_rule = cli_json(*fix, "--rule", "timeout_risk", env=CREDENTIALS)
    assert answer(results["fix_rule"]) == mask_update(with_rule)
    assert results["fix_not_live"].is_error
    assert "not found in us-east-1 (GetJob)" in text(results["fix_not_live"])
    live = glue(moto_endpoint).get_job(JobName=FIX_JOB)["Job"]
    assert live["Timeout"] == live_definition["Timeout"]  # printed, not applied


def test_the_server_refuses_a_store_that_does_not_exist(tmp_path):
    missing = tmp_path / "nowhere" / "advisor.db"
    result = CliRunner().invoke(mcp_cmd, ["--db", str(missing)])
    assert result.exit_code == 2
    assert f"advisor mcp: no store at {missing}" in result.stderr
    assert not missing.parent.exists()


def test_the_read_only_store_refuses_every_write(served_db):
    store = ReadOnlyStore(served_db)
    try:
        assert len(store.jobs()) == SAMPLE_JOBS
        with pytest.raises(ReadOnlyStoreError):
            store.set_state("glue", "k", "v", "2026-11-30T00:00:00+00:00")
        with pytest.raises(sqlite3.OperationalError, match=r"readonly|read-only"):
            store.db.execute("delete from findings")
    finally:
        store.close()


# ---- older stores --------------------------------------------------------------------------


def test_a_store_an_older_advisor_made_is_refused_until_a_writer_migrates_it(tmp_path):
    """A read-only connection cannot apply the identity migration (m014, with m012 and m013
    before it): the server says which command migrates the store, and leaves it as it was."""
    from sqlite_utils import Database

    from advisor.mcp_server import job_list

    path = tmp_path / "old.db"
    old = Database(path)
    migrations.apply(old, stop_before="m012_incremental_analysis")
    old["jobs"].insert(
        {
            "name": "orders",
            "region": OTHER_REGION,
            "role": "arn:aws:iam::210987654321:role/glue",
            "command_name": "glueetl",
        }
    )
    old.close()
    before = files_of(path)

    with pytest.raises(StoreUnavailable) as refused:
        ReadOnlyStore(path)
    message = str(refused.value)
    assert "m012_incremental_analysis, m013_collector_calls, m014_job_identity" in message
    assert f"`advisor analyze --db {path}`" in message
    result = CliRunner().invoke(mcp_cmd, ["--db", str(path)])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"advisor mcp: the store at {path} was made by an older")
    assert files_of(path) == before

    migrated = CliRunner().invoke(main, ["analyze", "--db", str(path)])
    assert migrated.exit_code == 0, migrated.output
    store = ReadOnlyStore(path)
    try:
        (job,) = job_list(store, "all")["jobs"]
    finally:
        store.close()
    assert (job["name"], job["account"], job["region"]) == ("orders", "210987654321", OTHER_REGION)
    assert job["job_key"] == job_key("210987654321", OTHER_REGION, "orders")


# ---- one name in two regions, and in another account -----------------------------------------

WEST_KEY = job_key(ACCOUNT, OTHER_REGION, FIX_JOB)
OTHER_ACCOUNT = "111111111111"


@pytest.fixture(scope="module")
def two_place_db(analysed_sample_db, tmp_path_factory) -> Path:
    """The analysed sample fleet, and the same files imported again as eu-west-1: every job
    name is in two regions."""
    from advisor.analysis.findings import analyze
    from advisor.collect.importer import import_directory
    from tests.conftest import SAMPLE

    path = tmp_path_factory.mktemp("mcp-places") / "advisor.db"
    source = sqlite3.connect(f"{Path(analysed_sample_db).resolve().as_uri()}?mode=ro", uri=True)
    target = sqlite3.connect(path)
    source.backup(target)
    source.close()
    target.close()
    store = Store(path)
    import_directory(store, SAMPLE, region=OTHER_REGION)
    analyze(store)
    store.close()
    return path


def call(server: Any, tool: str, **arguments: Any) -> Any:
    return answer(anyio.run(server.call_tool, tool, arguments))


def refused(server: Any, tool: str, **arguments: Any) -> str:
    from mcp.server.mcpserver.exceptions import ToolError

    with pytest.raises(ToolError) as error:
        anyio.run(server.call_tool, tool, arguments)
    return str(error.value)


def test_list_jobs_costs_and_findings_answer_per_place(two_place_db):
    server = build_server(two_place_db)
    every = call(server, "list_jobs", since="all")["jobs"]
    assert len(every) == 2 * SAMPLE_JOBS
    east = call(server, "list_jobs", since="all", region=REGION)["jobs"]
    west = call(server, "list_jobs", since="all", region=OTHER_REGION)["jobs"]
    assert len(east) == len(west) == SAMPLE_JOBS
    assert {(j["account"], j["region"]) for j in west} == {(ACCOUNT, OTHER_REGION)}
    assert {j["glue_name"] for j in west} == {j["glue_name"] for j in east}
    # every name is in both regions, so each job is named by its key
    assert all(j["name"] == j["job_key"] for j in every)
    nowhere = refused(server, "list_jobs", since="all", account="210987654321")
    assert "no jobs in account 210987654321: the store holds jobs in " in nowhere
    assert f"{ACCOUNT}/{OTHER_REGION}, {ACCOUNT}/{REGION}" in nowhere
    assert len(call(server, "list_jobs", since="all", account=ACCOUNT)["jobs"]) == 2 * SAMPLE_JOBS
    assert "pattern" in refused(server, "list_jobs", account="12345")

    total = call(server, "costs", since="all")
    parts = [call(server, "costs", since="all", region=r) for r in (REGION, OTHER_REGION)]
    assert len(total["jobs"]) == sum(len(p["jobs"]) for p in parts) > SAMPLE_JOBS
    assert total["cost_usd"] == pytest.approx(sum(p["cost_usd"] for p in parts))
    assert total == cli_json("--db", str(two_place_db), "costs", "--since", "all")
    assert {(p["account"], p["region"]) for p in total["by_place"]} == {
        (ACCOUNT, REGION),
        (ACCOUNT, OTHER_REGION),
    }
    for part, region in zip(parts, (REGION, OTHER_REGION), strict=True):
        assert {(r["account"], r["region"]) for r in part["jobs"]} == {(ACCOUNT, region)}
        assert all(r["job_name"] == r["job_key"] for r in part["jobs"])
        assert [(p["account"], p["region"]) for p in part["by_place"]] == [(ACCOUNT, region)]
        cli = cli_json("--db", str(two_place_db), "costs", "--since", "all", "--region", region)
        assert part == cli

    ambiguous = refused(server, "findings", job=FIX_JOB)
    assert FIX_KEY in ambiguous and WEST_KEY in ambiguous
    west_findings = call(server, "findings", job=FIX_JOB, region=OTHER_REGION)
    assert west_findings == call(server, "findings", job=WEST_KEY)
    assert west_findings["count"] > 0
    for finding in west_findings["findings"]:
        assert finding["job_name"] == finding["job_key"] == WEST_KEY
        assert finding["region"] == OTHER_REGION
        if finding["change"]:
            assert finding["fix_command"].startswith(f"advisor fix {WEST_KEY}")
    counts = [call(server, "findings", region=r)["count"] for r in (REGION, OTHER_REGION)]
    assert sum(counts) == call(server, "findings")["count"]
    assert "no jobs in account 210987654321" in refused(server, "findings", account="210987654321")


def test_recommend_and_whatif_answer_for_the_place_asked(two_place_db):
    server = build_server(two_place_db)
    for tool in ("recommend", "whatif"):
        ambiguous = refused(server, tool, job=FIX_JOB)
        assert FIX_KEY in ambiguous and WEST_KEY in ambiguous
        assert "account/region/name" in ambiguous
        missing = refused(server, tool, job=FIX_JOB, account="210987654321")
        assert "in 210987654321/any region; it exists as" in missing
        assert FIX_KEY in missing and WEST_KEY in missing
    db = str(two_place_db)
    for region, key in ((REGION, FIX_KEY), (OTHER_REGION, WEST_KEY)):
        rec = call(server, "recommend", job=FIX_JOB, region=region)
        assert rec == call(server, "recommend", job=key)
        assert rec == cli_json("--db", db, "recommend", FIX_JOB, "--region", region)
        whatif = call(server, "whatif", job=key)
        assert whatif == cli_json("--db", db, "whatif", key)


def test_reconcile_changes_explain_and_the_report_answer_for_the_place_asked(two_place_db):
    server = build_server(two_place_db)
    db = str(two_place_db)
    for tool in ("changes", "explain"):
        ambiguous = refused(server, tool, job=CHANGED_JOB)
        assert job_key(ACCOUNT, REGION, CHANGED_JOB) in ambiguous
        assert job_key(ACCOUNT, OTHER_REGION, CHANGED_JOB) in ambiguous
        assert "no jobs in account 210987654321" in refused(server, tool, account="210987654321")
    west = call(server, "changes", job=CHANGED_JOB, region=OTHER_REGION, since="all")
    assert west and {c["job"] for c in west} == {job_key(ACCOUNT, OTHER_REGION, CHANGED_JOB)}
    cli = ["changes", "--job", CHANGED_JOB, "--region", OTHER_REGION, "--since", "all"]
    assert west == cli_json("--db", db, *cli)
    assert call(server, "changes", region=OTHER_REGION) == cli_json(
        "--db", db, "changes", "--region", OTHER_REGION
    )
    assert call(server, "explain", region=OTHER_REGION, week="2026-W45") == cli_json(
        "--db", db, "explain", "--region", OTHER_REGION, "--week", "2026-W45"
    )
    assert call(server, "reconcile", region=OTHER_REGION) == cli_json(
        "--db", db, "reconcile", "--region", OTHER_REGION
    )
    report = call(server, "weekly_report", region=OTHER_REGION)
    assert report == cli_json("--db", db, "report", "--region", OTHER_REGION)
    assert {j["region"] for j in report["jobs"]} == {OTHER_REGION}


def _create_live(endpoint: str, region: str, definition: dict[str, Any], **clients: Any) -> None:
    client = boto3.client(
        "glue", region_name=region, endpoint_url=endpoint, **(clients or _TEST_CREDENTIALS)
    )
    client.delete_job(JobName=definition["Name"])  # Glue's DeleteJob of no job succeeds
    client.create_job(**definition)


_TEST_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "x"}
_KEEP = ("Role", "Command", "DefaultArguments", "ExecutionProperty", "GlueVersion", "Timeout")
_KEEP += ("WorkerType", "NumberOfWorkers", "MaxRetries", "ExecutionClass")


def test_fix_payload_reads_the_live_job_of_the_place_asked(
    two_place_db, live_definition, moto_endpoint, monkeypatch
):
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    west = {k: live_definition[k] for k in _KEEP}
    west["DefaultArguments"] = {
        **west["DefaultArguments"],
        "--db_password": "west-" + LIVE_SECRET,
        "--place": "west",
    }
    _create_live(moto_endpoint, OTHER_REGION, {"Name": FIX_JOB, **west})
    server = build_server(two_place_db, endpoint_url=moto_endpoint)

    ambiguous = refused(server, "fix_payload", job=FIX_JOB)
    assert FIX_KEY in ambiguous and WEST_KEY in ambiguous
    result = anyio.run(server.call_tool, "fix_payload", {"job": FIX_JOB, "region": OTHER_REGION})
    payload = answer(result)
    assert payload["DefaultArguments"]["--place"] == "west"
    assert payload["DefaultArguments"]["--db_password"] == "***REDACTED***"
    assert payload["Timeout"] == 310
    assert LIVE_SECRET not in str(result)
    notes = result.content[1].text
    assert f"--job-name {FIX_JOB} --region {OTHER_REGION}" in notes
    assert f"advisor fix {WEST_KEY} --format json" in notes
    east = call(server, "fix_payload", job=FIX_KEY)
    assert "--place" not in east["DefaultArguments"]
    assert {k: v for k, v in east.items() if k != "DefaultArguments"} == {
        k: v for k, v in payload.items() if k != "DefaultArguments"
    }


def test_fix_payload_reads_a_job_only_as_its_account(moto_endpoint, tmp_path, monkeypatch):
    """A job of another account: refused with the server's own credentials, read through
    --role-arn (AssumeRole into that account, as moto gives it)."""
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    sts = boto3.client("sts", region_name=REGION, endpoint_url=moto_endpoint, **_TEST_CREDENTIALS)
    assumed = sts.assume_role(
        RoleArn=f"arn:aws:iam::{OTHER_ACCOUNT}:role/admin", RoleSessionName="test-admin"
    )["Credentials"]
    definition = {
        "Name": "orders-etl",
        "Role": f"arn:aws:iam::{OTHER_ACCOUNT}:role/glue",
        "Command": {"Name": "glueetl", "ScriptLocation": "s3://b/s.py", "PythonVersion": "3"},
        "GlueVersion": "4.0",
        "WorkerType": "G.1X",
        "NumberOfWorkers": 4,
        "Timeout": 60,
    }
    _create_live(
        moto_endpoint,
        REGION,
        definition,
        aws_access_key_id=assumed["AccessKeyId"],
        aws_secret_access_key=assumed["SecretAccessKey"],
        aws_session_token=assumed["SessionToken"],
    )
    key = job_key(OTHER_ACCOUNT, REGION, "orders-etl")
    store = Store(tmp_path / "a.db")
    store.db["jobs"].insert(
        {"name": key, "account": OTHER_ACCOUNT, "region": REGION, "glue_name": "orders-etl"},
        alter=True,
    )
    store.db["findings"].insert(
        {
            "id": "f1",
            "rule_id": "timeout_risk",
            "job_name": key,
            "severity": "high",
            "status": "open",
            "change": json.dumps({"Timeout": 240}),
        },
        alter=True,
    )
    store.close()

    server = build_server(tmp_path / "a.db", endpoint_url=moto_endpoint)
    message = refused(server, "fix_payload", job="orders-etl")
    assert f"is in account {OTHER_ACCOUNT}, but the credentials are for account {ACCOUNT}" in (
        message
    )
    role = f"arn:aws:iam::{OTHER_ACCOUNT}:role/GlueAdvisorReadOnly"
    through = build_server(tmp_path / "a.db", endpoint_url=moto_endpoint, role_arn=role)
    payload = call(through, "fix_payload", job="orders-etl", account=OTHER_ACCOUNT)
    assert payload["Timeout"] == 240 and payload["Role"] == definition["Role"]
    assert payload["NumberOfWorkers"] == 4
