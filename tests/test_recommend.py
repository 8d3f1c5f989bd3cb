"""`advisor recommend <job>`: every format and exit code, on the analysed sample fleet."""

from __future__ import annotations

import json
import re
import shlex

import click
import pytest
from click.testing import CliRunner

from advisor.cli import main
from advisor.collect.importer import import_directory
from advisor.identity import job_key
from advisor.report.labels import md_text
from advisor.report.remediation import snippets, terraform_snippet
from advisor.store import Store
from tests.conftest import SAMPLE

ACCOUNT, REGION = "123456789012", "us-east-1"  # the sample fleet's role ARNs, import's default


def key(name: str) -> str:
    return job_key(ACCOUNT, REGION, name)


FINDING_KEYS = {
    "rule_id",
    "problem",
    "severity",
    "title",
    "message",
    "advice",
    "evidence",
    "savings",
}


@pytest.fixture(scope="module")
def db(analysed_sample_db):
    return analysed_sample_db


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def recommend_json(db: str, job: str, *extra: str) -> dict:
    result = run("recommend", job, "--db", db, "--format", "json", *extra)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_json_lists_findings_with_the_documented_fields(db):
    rec = recommend_json(db, "marketing_attribution")
    assert rec["job"]["name"] == "marketing_attribution"  # the label: no other place has one
    assert rec["job"]["glue_name"] == "marketing_attribution"
    assert (rec["job"]["account"], rec["job"]["region"]) == (ACCOUNT, REGION)
    assert rec["job"]["key"] == key("marketing_attribution")
    assert rec["job"]["worker_type"] == "G.2X" and rec["job"]["number_of_workers"] == 40
    assert rec["findings"], "the sample plants over-provisioning on this job"
    for finding in rec["findings"]:
        assert set(finding) >= FINDING_KEYS
        assert isinstance(finding["advice"], list) and isinstance(finding["evidence"], dict)
        assert set(finding["savings"]) == {"dpu_hours_month", "usd_month"}
    assert "over_provisioned" in {f["problem"] for f in rec["findings"]}
    store = Store(db)
    scores = {r["rule_id"]: r["score"] for r in store.open_findings(key("marketing_attribution"))}
    ordered = [scores[f["rule_id"]] for f in rec["findings"]]
    assert ordered == sorted(ordered, reverse=True)


def test_header_totals_are_the_stores_sums(db):
    rec = recommend_json(db, "orders_daily_etl")
    window = rec["window"]
    store = Store(db)
    usd, runs = store.db.execute(
        "select sum(c.cost_usd), count(*) from job_runs r join run_costs c on c.run_id = r.id "
        "where r.job_name = ? and r.started_on >= ? and r.started_on < ?",
        [key("orders_daily_etl"), window["start"], window["end"]],
    ).fetchone()
    assert rec["summary"]["runs"] == runs and rec["summary"]["usd"] == pytest.approx(usd, abs=0.01)
    assert sum(w["usd"] for w in rec["summary"]["weekly_usd"]) == pytest.approx(usd, abs=0.05)
    sources = rec["sources"]
    assert sources["run_history"]["available"] and sources["eventlogs"]["available"]
    assert sources["cloudwatch"]["runs_with_metrics"] > 0


def test_a_job_without_metrics_says_what_is_missing(db):
    rec = recommend_json(db, "json_to_parquet_raw")
    assert rec["sources"]["cloudwatch"]["available"] is False
    assert rec["sources"]["cloudwatch"]["relevant"] is True
    markdown = run("recommend", "json_to_parquet_raw", "--db", db, "--format", "markdown").stdout
    assert "no CloudWatch metrics (--enable-metrics is off)" in markdown


@pytest.mark.parametrize("job", ["py_shell_api_pull", "ray_feature_scoring"])
def test_jobs_without_glue_job_metrics_are_not_told_to_enable_them(db, job):
    """Glue's job metrics (--enable-metrics) are Spark's: Python shell and Ray jobs have none
    the advisor reads, so asking for them would be advice that changes nothing."""
    rec = recommend_json(db, job)
    assert rec["sources"]["cloudwatch"]["relevant"] is False
    assert rec["sources"]["eventlogs"]["relevant"] is False
    markdown = run("recommend", job, "--db", db, "--format", "markdown").stdout
    assert "enable-metrics" not in markdown and "CloudWatch" not in markdown


def test_findings_point_to_the_live_fix_and_a_complete_terraform_snippet(db):
    rec = recommend_json(db, "marketing_attribution")
    finding = next(f for f in rec["findings"] if f["rule_id"] == "over_provisioned")
    remediation = finding["remediation"]
    # no update-job is built from the stored (redacted, partial) definition
    assert "aws_cli" not in remediation
    assert shlex.split(remediation["fix_command"]) == [
        "advisor",
        "fix",
        "marketing_attribution",
        "--rule",
        "over_provisioned",
    ]
    assert f"number_of_workers = {finding['change']['NumberOfWorkers']}" in remediation["terraform"]
    assert rec["saving"]["fix_command"] == "advisor fix marketing_attribution"


def test_terraform_removes_max_capacity_and_never_prints_a_stored_secret():
    definition = {
        "Role": "r",
        "MaxCapacity": 10.0,
        "DefaultArguments": {"--db-password": "***REDACTED***", "--conf": "spark.a=1", "--x": "1"},
    }
    change = {
        "WorkerType": "G.1X",
        "NumberOfWorkers": 10,
        "SparkConf.spark.sql.shuffle.partitions": 400,
    }
    hcl = snippets("finance", definition, change, "oom_risk")["terraform"]
    assert 'worker_type = "G.1X"' in hcl and "number_of_workers = 10" in hcl
    assert "# remove max_capacity" in hcl
    assert '"--conf" = "spark.a=1 --conf spark.sql.shuffle.partitions=400"' in hcl
    assert "REDACTED" not in hcl and "--db-password" not in hcl  # only the keys to change
    assert "keep the others" in hcl
    clean = {"Role": "r", "DefaultArguments": {"--x": "1"}}
    hcl = snippets("j", clean, {"DefaultArguments.--enable-metrics": "true"}, "r")["terraform"]
    assert '"--x" = "1"' in hcl and '"--enable-metrics" = "true"' in hcl  # the whole map
    assert snippets("x", None, {"Timeout": 5}, "r")["notes"][-1].startswith("the job's definition")
    # GetJob reports MaxCapacity for a worker job too: there is nothing to remove
    workers = {"Role": "r", "WorkerType": "G.1X", "NumberOfWorkers": 3, "MaxCapacity": 3.0}
    hcl = snippets("w", workers, {"WorkerType": "G.1X", "NumberOfWorkers": 6}, "r")["terraform"]
    assert "number_of_workers = 6" in hcl and "max_capacity" not in hcl


def test_terraform_never_evaluates_a_template_from_a_job_argument(tmp_path):
    """HCL strings are templates: `${...}` and `%{...}` in an argument value are written so
    Terraform reads them back as the same text, never as an expression it evaluates."""
    value = 's3://b/${file("~/.aws/credentials")}/%{ if true }x%{ endif }$$${a}/😀\x9b'
    definition = {"Role": "r", "DefaultArguments": {"--path": value}}
    hcl = snippets("j", definition, {"DefaultArguments.--x": "1"}, "r")["terraform"]
    line = next(x for x in hcl.splitlines() if '"--path"' in x)
    written = line.split(" = ", 1)[1]
    assert "${file" not in written.replace("$${", "") and "%{ if" not in written.replace("%%{", "")
    # HCL refuses a \\u escape of half a UTF-16 pair: 😀 is written as itself, CSI escaped
    assert "😀" in written and "\\ud83d" not in written and "\\u009b" in written
    # reading it back as HCL does (JSON string, then $${ -> ${ and %%{ -> %{) gives the value
    assert json.loads(written).replace("$${", "${").replace("%%{", "%{") == value


def test_fix_commands_and_terraform_name_the_job_in_its_place():
    """The command names the job so that it resolves to this job: by its Glue name while no
    other place has one, else by its key; Terraform names the Glue job and says where it is."""
    from advisor import identity
    from advisor.report.remediation import fix_command

    there = job_key("210987654321", "eu-west-1", "nightly etl")
    first = terraform_snippet(there, {"Timeout": 60}, {"Role": "r"}).splitlines()[0]
    assert first == (
        'resource "aws_glue_job" "nightly_etl" {  # nightly etl (account 210987654321, '
        "region eu-west-1): change these attributes"
    )
    saved = set(identity._SHARED_NAMES)
    try:
        identity.learn_shared_names(set())
        assert shlex.split(fix_command(there, "timeout_risk")) == [
            "advisor",
            "fix",
            "nightly etl",
            "--rule",
            "timeout_risk",
        ]
        identity.learn_shared_names({"nightly etl", "-dash"})
        assert shlex.split(fix_command(there)) == ["advisor", "fix", there]
        dashed = job_key("210987654321", "eu-west-1", "-dash")
        assert fix_command(dashed) == f"advisor fix {dashed}"  # a key never starts with a dash
        identity.learn_shared_names(set())
        assert shlex.split(fix_command(dashed)) == ["advisor", "fix", "--", "-dash"]
    finally:
        identity.learn_shared_names(saved)


def test_text_and_markdown_show_every_finding(db):
    rec = recommend_json(db, "marketing_attribution")
    markdown = run("recommend", "marketing_attribution", "--db", db, "--format", "markdown")
    text = run("recommend", "marketing_attribution", "--db", db)
    assert markdown.exit_code == 0 and text.exit_code == 0
    for finding in rec["findings"]:
        assert f"[{finding['severity']}] {finding['title']}" in markdown.stdout
        assert finding["title"] in text.stdout
    assert "```sh" in markdown.stdout
    # commands come out whole on one line, however narrow the terminal
    fix = next(f for f in rec["findings"] if f["remediation"].get("fix_command"))
    assert fix["remediation"]["fix_command"] in text.stdout.splitlines()
    for line in fix["remediation"]["terraform"].splitlines():
        assert line in text.stdout.splitlines()


def test_fail_on_exits_3_at_or_above_the_severity(db):
    rec = recommend_json(db, "marketing_attribution")
    worst = max(
        ["low", "medium", "high", "critical"].index(f["severity"])
        for f in rec["findings"]
        if f["severity"] != "info"
    )
    levels = ["low", "medium", "high", "critical"]
    at = run("recommend", "marketing_attribution", "--db", db, "--fail-on", levels[worst])
    assert at.exit_code == 3
    if worst < 3:
        above = run(
            "recommend", "marketing_attribution", "--db", db, "--fail-on", levels[worst + 1]
        )
        assert above.exit_code == 0


def test_unknown_job_exits_2_with_the_closest_names(db):
    result = run("recommend", "marketing_atribution", "--db", db)
    assert result.exit_code == 2
    assert "marketing_attribution" in result.output


def test_one_run_in_detail(db):
    store = Store(db)
    failed, glue_id = store.db.execute(
        "select id, glue_run_id from job_runs where job_name = ? and state = 'FAILED' "
        "order by started_on desc limit 1",
        [key("py_shell_api_pull")],
    ).fetchone()
    assert failed == f"{ACCOUNT}/{REGION}/{glue_id}"
    # the Glue run id AWS shows, or the run key: the same run, shown by its Glue run id
    for given in (glue_id, failed):
        rec = recommend_json(db, "py_shell_api_pull", "--run-id", given)
        assert rec["run"]["id"] == glue_id and rec["run"]["key"] == failed
        assert rec["run"]["state"] == "FAILED" and rec["run"]["failure_cause"]
    markdown = run(
        "recommend", "py_shell_api_pull", "--db", db, "--run-id", glue_id, "--format", "markdown"
    ).stdout
    assert f"## Run {md_text(glue_id)}" in markdown and failed not in markdown
    other, other_glue_id = store.db.execute(
        "select id, glue_run_id from job_runs where job_name = ? limit 1",
        [key("orders_daily_etl")],
    ).fetchone()
    for given in (other, other_glue_id, "jr_nope"):
        wrong = run("recommend", "py_shell_api_pull", "--db", db, "--run-id", given)
        assert wrong.exit_code == 2 and "not a run of py_shell_api_pull" in wrong.output


def _verbs(group: click.Group, prefix: str = "advisor") -> list[tuple[str, click.Command]]:
    out = []
    for name, command in sorted(group.commands.items()):
        full = f"{prefix} {name}"
        if isinstance(command, click.Group):
            out += _verbs(command, full)
        else:
            out.append((full, command))
    return out


def test_every_cli_verb_has_help_and_is_in_the_readme():
    readme = (SAMPLE.parent / "README.md").read_text()
    for name, command in _verbs(main):
        assert (command.help or "").strip(), f"{name} has no help text"
        result = run(*name.split()[1:], "--help")
        assert result.exit_code == 0 and "Usage:" in result.output, name
        assert re.search(rf"`{re.escape(name)}\b", readme), f"{name} is not in the README"


def test_an_unanalysed_store_says_so(tmp_path):
    store = Store(tmp_path / "raw.db")
    import_directory(store, SAMPLE)
    store.close()
    result = run(
        "recommend", "orders_daily_etl", "--db", str(tmp_path / "raw.db"), "--format", "markdown"
    )
    assert result.exit_code == 0 and "**Not analysed yet**" in result.stdout
