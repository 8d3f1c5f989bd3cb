"""One store, three places holding the same job names: the sample fleet imported as it is
(account 123456789012 from its role ARNs, us-east-1), again with --region eu-west-1 and again
with --account 210987654321. Every output names each job so that it is told apart (its label
is its key when the name is shared), totals by account and region, and filters by them.

Prices use each run's region: eu-west-1 may price differently, or not at all for some job
types, so its figures are checked against the facts registry and a store of its own, never
against us-east-1 dollars.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from advisor import facts
from advisor.cli import main
from advisor.identity import job_key
from advisor.store import Store
from tests.conftest import SAMPLE

HOME = ("123456789012", "us-east-1")  # the sample fleet as imported by default
EU = ("123456789012", "eu-west-1")
OTHER = ("210987654321", "us-east-1")
PLACES = {HOME, EU, OTHER}
JOB = "orders_daily_etl"  # a Glue 4.0 Spark job on 10 x G.1X, STANDARD: the `etl` price line
EVIL = "<img src=x onerror=alert(1)>|[x](http://evil)"


def cli(*args: str, ok: bool = True):
    result = CliRunner().invoke(main, [str(a) for a in args])
    if ok:
        assert result.exit_code == 0, result.output
    return result


def as_json(*args: str) -> dict:
    return json.loads(cli(*args, "--format", "json").stdout)


def import_and_analyze(db: Path, *imports: tuple[Path, list[str]]) -> str:
    for directory, options in imports:
        cli("import", directory, "--db", db, *options)
    cli("analyze", "--db", db)
    return str(db)


@pytest.fixture(scope="module")
def places_db(tmp_path_factory) -> str:
    db = tmp_path_factory.mktemp("places") / "advisor.db"
    return import_and_analyze(
        db,
        (SAMPLE, []),
        (SAMPLE, ["--region", "eu-west-1"]),
        (SAMPLE, ["--account", "210987654321"]),
    )


@pytest.fixture(scope="module")
def eu_db(tmp_path_factory) -> str:
    """The sample fleet alone in eu-west-1: what that place must total in the shared store."""
    db = tmp_path_factory.mktemp("eu") / "advisor.db"
    return import_and_analyze(db, (SAMPLE, ["--region", "eu-west-1"]))


@pytest.fixture(scope="module")
def single_dbs(analysed_sample_db, eu_db) -> dict[tuple[str, str], str]:
    """A store of its own for each place (another account, same files and region: the same
    figures as the default import)."""
    return {HOME: analysed_sample_db, OTHER: analysed_sample_db, EU: eu_db}


def place(row: dict) -> tuple[str, str]:
    return row["account"], row["region"]


# ---- naming one job ------------------------------------------------------------------------


def test_a_shared_name_exits_2_listing_each_place(places_db):
    result = cli("recommend", JOB, "--db", places_db, ok=False)
    assert result.exit_code == 2
    for account, region in PLACES:
        assert f"{account}/{region}/{JOB}" in result.stderr
    # one option may still leave two places: us-east-1 is in both accounts
    result = cli("recommend", JOB, "--db", places_db, "--region", "us-east-1", ok=False)
    assert result.exit_code == 2
    assert job_key(*HOME, JOB) in result.stderr and job_key(*OTHER, JOB) in result.stderr
    assert job_key(*EU, JOB) not in result.stderr


@pytest.mark.parametrize(
    ("ref", "options", "expected"),
    [
        (JOB, ["--region", "eu-west-1"], EU),
        (job_key(*EU, JOB), [], EU),
        (JOB, ["--account", "210987654321"], OTHER),
        (JOB, ["--account", "123456789012", "--region", "us-east-1"], HOME),
    ],
    ids=["region", "key", "account", "both"],
)
def test_a_place_names_one_job_and_the_json_carries_it(places_db, ref, options, expected):
    rec = as_json("recommend", ref, "--db", places_db, *options)
    key = job_key(*expected, JOB)
    head = rec["job"]
    assert (head["account"], head["region"], head["glue_name"], head["key"]) == (
        *expected,
        JOB,
        key,
    )
    assert head["name"] == key  # the label: the name is shared, so the key
    store = Store(places_db)
    runs = store.db.execute(
        "select count(*) from job_runs where job_name = ? and started_on >= ? and started_on < ?",
        [key, rec["window"]["start"], rec["window"]["end"]],
    ).fetchone()[0]
    store.close()
    assert rec["summary"]["runs"] == runs > 0
    markdown = cli("recommend", ref, "--db", places_db, *options, "--format", "markdown").stdout
    assert f"Account {expected[0]}, region {expected[1]}" in markdown
    text = cli("recommend", ref, "--db", places_db, *options).stdout
    assert expected[0] in text and expected[1] in text


def test_run_id_is_looked_up_in_the_jobs_place(places_db):
    store = Store(places_db)
    glue_id = store.db.execute(
        "select glue_run_id from job_runs where job_name = ? order by started_on desc limit 1",
        [job_key(*EU, JOB)],
    ).fetchone()[0]
    store.close()
    # the same Glue run id is in all three places (one export imported three times)
    for where, options in ((EU, ["--region", "eu-west-1"]), (OTHER, ["--account", OTHER[0]])):
        rec = as_json("recommend", JOB, "--db", places_db, *options, "--run-id", glue_id)
        assert rec["run"]["id"] == glue_id
        assert rec["run"]["key"] == f"{where[0]}/{where[1]}/{glue_id}"
    elsewhere = f"{HOME[0]}/{HOME[1]}/{glue_id}"
    wrong = cli(
        "recommend",
        JOB,
        "--db",
        places_db,
        "--region",
        "eu-west-1",
        "--run-id",
        elsewhere,
        ok=False,
    )
    assert wrong.exit_code == 2 and "not a run of" in wrong.output


def test_printed_fix_commands_resolve_to_the_same_job(places_db):
    from advisor.fix.cli import job_key as fix_resolves

    rec = as_json("recommend", JOB, "--db", places_db, "--region", "eu-west-1")
    commands = [f["remediation"].get("fix_command") for f in rec["findings"]]
    commands = [c for c in commands if c]
    if rec["saving"]["fix_command"]:
        commands.append(rec["saving"]["fix_command"])
    assert commands, "the sample plants at least one fixable finding on this job"
    text = cli("recommend", JOB, "--db", places_db, "--region", "eu-west-1").stdout.splitlines()
    store = Store(places_db)
    try:
        for command in commands:
            assert command in text  # printed whole, ready to copy
            words = shlex.split(command)
            assert words[:2] == ["advisor", "fix"]
            ref = next(w for w in words[2:] if w not in ("--", "--rule") and "/" in w)
            assert ref == rec["job"]["key"]  # the name is shared: the command names the key
            assert fix_resolves(store, ref, None, None) == rec["job"]["key"]
    finally:
        store.close()
    for finding in rec["findings"]:
        terraform = finding["remediation"].get("terraform")
        if terraform:
            first = terraform.splitlines()[0]
            assert first.startswith(f'resource "aws_glue_job" "{JOB}" {{')
            assert "account 123456789012, region eu-west-1" in first


# ---- costs ---------------------------------------------------------------------------------


def totals(costs: dict) -> dict:
    jobs = costs["jobs"]
    priced = [j["cost_usd"] for j in jobs if j["cost_usd"] is not None]
    return {
        "jobs": len(jobs),
        "runs": sum(j["runs"] for j in jobs),
        "failed_runs": sum(j["failed_runs"] for j in jobs),
        "dpu_hours": sum(j["dpu_hours"] or 0 for j in jobs),
        "cost_usd": sum(priced) if priced else None,
        "unpriced_runs": sum(j["unpriced_runs"] for j in jobs),
    }


def assert_same_totals(got: dict, expected: dict) -> None:
    for name in ("jobs", "runs", "failed_runs", "unpriced_runs"):
        assert got[name] == expected[name], name
    assert got["dpu_hours"] == pytest.approx(expected["dpu_hours"])
    if expected["cost_usd"] is None:
        assert got["cost_usd"] is None
    else:
        assert got["cost_usd"] == pytest.approx(expected["cost_usd"])


def test_costs_total_each_place_as_a_store_of_its_own(places_db, single_dbs):
    costs = as_json("costs", "--db", places_db, "--since", "all")
    by_place = {place(p): p for p in costs["by_place"]}
    assert set(by_place) == PLACES
    for where, db in single_dbs.items():
        assert_same_totals(by_place[where], totals(as_json("costs", "--db", db, "--since", "all")))
    assert sum(p["runs"] for p in by_place.values()) == sum(j["runs"] for j in costs["jobs"])
    for job in costs["jobs"]:
        assert (
            job["job_key"] == f"{job['account']}/{job['region']}/{job['job_name'].split('/')[-1]}"
        )
        assert job["job_name"] == job["job_key"]  # every name is shared here
    # eu-west-1 is priced at eu-west-1's rates, as the facts registry has them
    eu_job = next(j for j in costs["jobs"] if j["job_key"] == job_key(*EU, JOB))
    rate = (facts.rate_entry("eu-west-1", "etl") or {}).get("usd")
    if rate is None:
        assert eu_job["cost_usd"] is None and eu_job["unpriced_runs"] == eu_job["runs"]
    else:
        assert eu_job["cost_usd"] == pytest.approx(eu_job["dpu_hours"] * rate)
    streaming = [j for j in costs["jobs"] if j["command_name"] == "gluestreaming"]
    for job in streaming:
        rate = (facts.rate_entry(job["region"], "streaming") or {}).get("usd")
        assert (job["cost_usd"] is None) == (rate is None), job["job_key"]
    text = cli("costs", "--db", places_db, "--since", "all").stdout
    assert "By account and region" in text
    for account, region in PLACES:
        assert account in text and region in text


def test_costs_region_counts_only_that_region(places_db, eu_db):
    costs = as_json("costs", "--db", places_db, "--since", "all", "--region", "eu-west-1")
    assert costs["jobs"] and {place(j) for j in costs["jobs"]} == {EU}
    [only] = costs["by_place"]
    assert place(only) == EU
    single = totals(as_json("costs", "--db", eu_db, "--since", "all"))
    assert_same_totals(totals(costs), single)
    assert_same_totals(only, single)
    assert costs["dpu_hours"] == pytest.approx(single["dpu_hours"])
    text = cli("costs", "--db", places_db, "--since", "all", "--region", "eu-west-1").stdout
    assert "By account and region" not in text and "us-east-1" not in text
    account = as_json("costs", "--db", places_db, "--since", "all", "--account", OTHER[0])
    assert {place(j) for j in account["jobs"]} == {OTHER}
    us = as_json("costs", "--db", places_db, "--since", "all", "--region", "us-east-1")
    assert {place(p) for p in us["by_place"]} == {HOME, OTHER}
    nowhere = cli("costs", "--db", places_db, "--region", "eu-west-2", ok=False)
    assert nowhere.exit_code == 2 and "eu-west-1" in nowhere.stderr
    bad = cli("costs", "--db", places_db, "--account", "12345", ok=False)
    assert bad.exit_code == 2


# ---- the weekly report -------------------------------------------------------------------------


def test_the_report_totals_each_place_in_every_format(places_db, single_dbs, tmp_path):
    report = as_json("report", "--db", places_db)
    week = report["week"]
    by_place = {place(p): p for p in report["by_place"]}
    assert set(by_place) == PLACES
    for where, db in single_dbs.items():
        single = as_json("report", "--db", db, "--week", week)
        got = by_place[where]
        assert got["runs"] == single["totals"]["runs"] and got["jobs"] == len(single["jobs"])
        assert got["dpu_hours"] == pytest.approx(single["totals"]["dpu_hours"], abs=1e-3)
        assert got["unpriced_runs"] == single["totals"]["unpriced_runs"]
        if single["totals"]["usd"] is None:
            assert got["usd"] is None
        else:
            assert got["usd"] == pytest.approx(single["totals"]["usd"], abs=0.01)
    assert sum(p["runs"] for p in by_place.values()) == report["totals"]["runs"]
    for job in report["jobs"]:
        assert place(job) in PLACES and job["job_name"] == job["job_key"]
    rows = list(
        csv.DictReader(io.StringIO(cli("report", "--db", places_db, "--format", "csv").stdout))
    )
    jobs = [r for r in rows if r["level"] == "job"]
    places = [r for r in rows if r["level"] == "place"]
    assert len(jobs) == len(report["jobs"]) and all(r["account"] and r["region"] for r in jobs)
    assert {(r["account"], r["region"]) for r in places} == PLACES
    assert sum(int(r["runs"]) for r in places) == sum(int(r["runs"]) for r in jobs)
    markdown = cli("report", "--db", places_db, "--format", "markdown").stdout
    section = markdown[markdown.index("## Cost by account and region") :]
    for account, region in PLACES:
        assert f"| {account} | {region} | " in section
    page = tmp_path / "r.html"
    cli("report", "--db", places_db, "--out", page)
    html = page.read_text()
    assert "Cost by account and region" in html and 'id="by-place"' in html
    table = html[html.index('id="by-place"') : html.index("</table>", html.index('id="by-place"'))]
    assert table.count("<tr>") == 1 + len(PLACES)


def test_the_report_of_one_region(places_db, eu_db, tmp_path):
    report = as_json("report", "--db", places_db, "--region", "eu-west-1")
    single = as_json("report", "--db", eu_db, "--week", report["week"])
    assert report["filter"] == {"account": None, "region": "eu-west-1"}
    assert report["totals"]["runs"] == single["totals"]["runs"]
    assert report["totals"]["dpu_hours"] == pytest.approx(single["totals"]["dpu_hours"], abs=1e-3)
    assert {place(j) for j in report["jobs"]} == {EU}
    assert [place(p) for p in report["by_place"]] == [EU]
    assert {f["region"] for f in report["open_findings"]} == {"eu-west-1"}
    assert len(report["open_findings"]) == len(single["open_findings"])
    markdown = cli("report", "--db", places_db, "--region", "eu-west-1", "--format", "markdown")
    assert "(region eu-west-1)" in markdown.stdout.splitlines()[0]
    assert "Cost by account and region" not in markdown.stdout
    cli(
        "report",
        "--db",
        places_db,
        "--region",
        "eu-west-1",
        "--format",
        "html",
        "--out",
        tmp_path / "eu.html",
    )
    assert 'id="by-place"' not in (tmp_path / "eu.html").read_text()
    nowhere = cli("report", "--db", places_db, "--account", "999999999999", ok=False)
    assert nowhere.exit_code == 2


# ---- names that are markup, in two places ----------------------------------------------------


def tiny_fleet(root: Path, names: list[str]) -> Path:
    (root / "job-runs").mkdir(parents=True)
    jobs = [
        {
            "Name": name,
            "Role": "arn:aws:iam::123456789012:role/r",
            "Command": {"Name": "glueetl", "ScriptLocation": "s3://b/s.py"},
            "GlueVersion": "4.0",
            "WorkerType": "G.1X",
            "NumberOfWorkers": 2,
            "Timeout": 2880,
        }
        for name in names
    ]
    (root / "jobs.json").write_text(json.dumps({"Jobs": jobs}))
    for index, name in enumerate(names):
        runs = [
            {
                "Id": f"jr_{index:02d}{i:062x}",
                "Attempt": 0,
                "JobName": name,
                "StartedOn": f"2026-11-{i + 1:02d}T01:00:00+00:00",
                "CompletedOn": f"2026-11-{i + 1:02d}T01:10:00+00:00",
                "JobRunState": "FAILED" if i % 3 == 0 else "SUCCEEDED",
                "ErrorMessage": "java.lang.OutOfMemoryError: Java heap space",
                "ExecutionTime": 600,
                "WorkerType": "G.1X",
                "NumberOfWorkers": 2,
                "GlueVersion": "4.0",
            }
            for i in range(21)
        ]
        (root / "job-runs" / f"{index}.json").write_text(json.dumps({"JobRuns": runs}))
    return root


def test_names_are_escaped_and_a_name_of_one_place_stays_short(tmp_path):
    both = tiny_fleet(tmp_path / "both", [EVIL, "solo_job"])
    evil_only = tiny_fleet(tmp_path / "evil", [EVIL])
    db = import_and_analyze(tmp_path / "a.db", (both, []), (evil_only, ["--region", "eu-west-1"]))
    evil_key = job_key(*EU, EVIL)
    report = as_json("report", "--db", db, "--week", "2026-W46")
    assert {place(p) for p in report["by_place"]} == {HOME, EU}
    names = {j["job_key"]: j["job_name"] for j in report["jobs"]}
    assert names[evil_key] == evil_key and names[job_key(*HOME, "solo_job")] == "solo_job"
    markdown = cli("report", "--db", db, "--week", "2026-W46", "--format", "markdown").stdout
    assert "<img" not in markdown and "[x](http://evil)" not in markdown
    assert "&lt;img src=x onerror=alert(1)&gt;\\|\\[x\\](http://evil)" in markdown
    assert "## Cost by account and region" in markdown
    page = tmp_path / "r.html"
    cli("report", "--db", db, "--week", "2026-W46", "--out", page)
    html = page.read_text()
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert 'id="by-place"' in html
    rows = list(
        csv.DictReader(
            io.StringIO(cli("report", "--db", db, "--week", "2026-W46", "--format", "csv").stdout)
        )
    )
    assert evil_key in {r["job_name"] for r in rows}
    text = cli("costs", "--db", db, "--since", "all").stdout
    assert "<img src=x" in text and "solo_job" in text and "By account and region" in text
    costs = as_json("costs", "--db", db, "--since", "all")
    assert {j["job_name"] for j in costs["jobs"]} == {evil_key, job_key(*HOME, EVIL), "solo_job"}
    # the printed command names the job so that `advisor fix` finds this one
    from advisor.fix.cli import job_key as fix_resolves
    from advisor.report.remediation import fix_command

    store = Store(db)
    try:
        for key in (evil_key, job_key(*HOME, EVIL), job_key(*HOME, "solo_job")):
            words = shlex.split(fix_command(key))
            assert fix_resolves(store, words[-1], None, None) == key
        assert fix_command(job_key(*HOME, "solo_job")) == "advisor fix solo_job"
    finally:
        store.close()
    rec = as_json("recommend", evil_key, "--db", db)
    assert rec["job"]["name"] == evil_key and rec["job"]["glue_name"] == EVIL
    markdown = cli("recommend", evil_key, "--db", db, "--format", "markdown").stdout
    # outside code (fences, and spans, whose text markdown shows as it is) no tag survives
    prose = re.sub(r"`[^`\n]*`", "", "".join(markdown.split("```")[::2]))
    assert "<img" not in prose
