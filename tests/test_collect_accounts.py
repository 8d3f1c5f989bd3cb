"""Collecting several accounts (--role-arn, --organization) and the advisor's own AWS bill,
against moto's server over HTTP.

moto keeps one backend per account: calls made with the credentials AssumeRole returns for a
role in account B land in B's backend, so the same job names can live in two accounts and two
regions at once. The default account (the `testing` credentials) is 123456789012.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from click.testing import CliRunner
from moto.core import DEFAULT_ACCOUNT_ID
from moto.glue.models import glue_backends

from advisor.cli import main
from advisor.collect import runner
from advisor.collect.accounts import member_role_cloudformation, member_role_terraform
from advisor.collect.api_cost import billed_units, price_calls, price_of, summarize
from advisor.collect.aws import (
    ADVISOR_METRICS,
    IAM_ACTIONS,
    READ_ONLY_OPERATIONS,
    AwsClients,
    ReadOnlyViolation,
)
from advisor.collect.runner import CollectOptions, collect
from advisor.store import Store
from tests.awsfake import NOW, AwsLikeJobRun, RawBody, session

ROOT = Path(__file__).resolve().parent.parent
CALLER = DEFAULT_ACCOUNT_ID
MEMBER = "111111111111"
REFUSED = "222222222222"
REGIONS = ("us-east-1", "eu-west-1")
NAMES = ("orders", "team/clicks")


def role(account: str, name: str = "GlueAdvisorReadOnly") -> str:
    return f"arn:aws:iam::{account}:role/{name}"


# ---- a fleet in several accounts and regions --------------------------------------------


def account_session(endpoint: str, account: str, region: str) -> boto3.Session:
    """Credentials that land in `account`'s moto backend."""
    if account == CALLER:
        return session(region)
    sts = session().client("sts", endpoint_url=endpoint)
    creds = sts.assume_role(RoleArn=role(account, "seeder"), RoleSessionName="seed")
    c = creds["Credentials"]
    return boto3.Session(
        aws_access_key_id=c["AccessKeyId"],
        aws_secret_access_key=c["SecretAccessKey"],
        aws_session_token=c["SessionToken"],
        region_name=region,
    )


def workers(account: str, region: str, name: str) -> int:
    """A different size in every place, so each copy can be told apart in the store."""
    return 2 + int(account) % 7 * 4 + REGIONS.index(region) * 2 + NAMES.index(name)


def seed(endpoint: str, account: str, region: str, *, runs: int = 2) -> None:
    """The same job names, and the same run ids, in this account and region; one heap gauge,
    one bytes-read count and one per-executor series (which the advisor does not read)."""
    boto = account_session(endpoint, account, region)
    glue = boto.client("glue", endpoint_url=endpoint)
    cloudwatch = boto.client("cloudwatch", endpoint_url=endpoint)
    for name in NAMES:
        glue.create_job(
            Name=name,
            Role=f"arn:aws:iam::{account}:role/glue",
            Command={"Name": "glueetl", "ScriptLocation": f"s3://scripts/{name}.py"},
            DefaultArguments={"--enable-metrics": "true"},
            GlueVersion="4.0",
            WorkerType="G.1X",
            NumberOfWorkers=workers(account, region, name),
        )
        job = glue_backends[account][region].jobs[name]
        for i in range(runs):
            run_id = f"jr_{name.replace('/', '_')}_{i}"
            started = NOW - timedelta(hours=3 * (i + 1))
            job.job_runs.append(AwsLikeJobRun(job, run_id, started, "SUCCEEDED", 600, {}))
            data = [
                {
                    "MetricName": metric,
                    "Timestamp": started + timedelta(minutes=m, seconds=30),
                    "Value": 0.5,
                    "Dimensions": [
                        {"Name": "JobName", "Value": name},
                        {"Name": "JobRunId", "Value": run_id},
                        {"Name": "Type", "Value": kind},
                    ],
                }
                for m in range(3)
                for metric, kind in (
                    ("glue.driver.jvm.heap.usage", "gauge"),
                    ("glue.driver.aggregate.bytesRead", "count"),
                    ("glue.1.jvm.heap.usage", "gauge"),
                )
            ]
            cloudwatch.put_metric_data(Namespace="Glue", MetricData=data)


# ---- refusals, as real STS error responses ------------------------------------------------


@dataclass
class Refuse:
    """Answers an STS operation with AccessDenied, as STS does (query protocol, HTTP 403);
    only for requests naming `account` when given."""

    operation: str
    account: str | None = None
    refused: list[str] = field(default_factory=list)

    def install(self, boto: boto3.Session) -> boto3.Session:
        events = boto._session.get_component("event_emitter")
        events.register(f"before-send.sts.{self.operation}", self._send)
        return boto

    def _send(self, request: Any, **_: Any) -> AWSResponse | None:
        body = request.body.decode() if isinstance(request.body, bytes) else str(request.body)
        if self.account and self.account not in body:
            return None
        self.refused.append(body)
        error = (
            "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>User "
            f"is not authorized to perform: sts:{self.operation}</Message></Error>"
            "</ErrorResponse>"
        ).encode()
        return AWSResponse(request.url, 403, {"Content-Type": "text/xml"}, RawBody(error))


def cli(db: Path, endpoint: str, *args: str) -> Any:
    result = CliRunner().invoke(
        main, ["collect", "--db", str(db), "--endpoint-url", endpoint, *args]
    )
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result


def regions_args() -> list[str]:
    return [arg for region in REGIONS for arg in ("--region", region)]


# ---- tests ----------------------------------------------------------------------------------


def test_the_same_jobs_in_two_accounts_and_two_regions_are_four_jobs(fleet, tmp_path):
    for account in (CALLER, MEMBER):
        for region in REGIONS:
            seed(fleet.endpoint, account, region, runs=1 + REGIONS.index(region))
    db = tmp_path / "fleet.db"

    result = cli(
        db, fleet.endpoint, *regions_args(), "--role-arn", role(MEMBER), "--include-caller",
        "--format", "json",
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["caller"] == CALLER
    assert [(a["account"], a["via"], a["collected"]) for a in report["accounts"]] == [
        (CALLER, "current credentials", True),
        (MEMBER, role(MEMBER), True),
    ]
    places = {(p["account"], p["region"]): p for p in report["places"]}
    assert set(places) == {(a, r) for a in (CALLER, MEMBER) for r in REGIONS}
    for (_, region), place in places.items():
        assert place["jobs"] == len(NAMES)
        assert place["runs_upserted"] == len(NAMES) * (1 + REGIONS.index(region))

    store = Store(db)
    jobs = {j["name"]: j for j in store.jobs()}
    expected = {f"{a}/{r}/{n}" for a in (CALLER, MEMBER) for r in REGIONS for n in NAMES}
    assert set(jobs) == expected  # e.g. 111111111111/eu-west-1/orders
    for key, job in jobs.items():
        account, region, name = key.split("/", 2)
        assert (job["account"], job["region"]) == (account, region)
        assert job["number_of_workers"] == workers(account, region, name)
    runs = store.db.execute(
        "select account, region, count(*) from job_runs group by 1, 2 order by 1, 2"
    ).fetchall()
    assert runs == [
        (account, region, len(NAMES) * (1 + REGIONS.index(region)))
        for account in sorted((CALLER, MEMBER))
        for region in sorted(REGIONS)
    ]
    # each copy's metrics stay with its own runs; the per-executor series is not fetched
    metric_runs = {r[0] for r in store.db.execute("select distinct run_id from run_metrics")}
    assert metric_runs == {r[0] for r in store.db.execute("select id from job_runs")}
    metrics = {r[0] for r in store.db.execute("select distinct metric from run_metrics")}
    assert metrics == {"glue.driver.jvm.heap.usage", "glue.driver.aggregate.bytesRead"}

    # the bill: per account, region and operation; the role is assumed from the caller's
    calls = {(c["account"], c["region"], c["operation"]): c for c in store.collector_calls()}
    assert calls[(CALLER, REGIONS[0], "sts:AssumeRole")]["calls"] == 1
    assert calls[(CALLER, REGIONS[0], "sts:GetCallerIdentity")]["calls"] == 1
    for account in (CALLER, MEMBER):
        for region in REGIONS:
            runs_here = len(NAMES) * (1 + REGIONS.index(region))
            data = calls[(account, region, "cloudwatch:GetMetricData")]
            # only what the advisor reads: heap Maximum, bytes read Sum, for every run
            assert (data["billed_units"], data["unit"]) == (2 * runs_here, "metric")
            assert calls[(account, region, "glue:GetJobRuns")]["calls"] == len(NAMES)


def test_a_member_whose_role_is_refused_is_reported_and_the_others_collected(
    fleet, tmp_path, monkeypatch
):
    for account in (CALLER, MEMBER, REFUSED):
        seed(fleet.endpoint, account, REGIONS[0])
    refuse = Refuse("AssumeRole", REFUSED)
    monkeypatch.setattr(
        runner._Run, "own_session", lambda self, region: refuse.install(session(region))
    )
    db = tmp_path / "partial.db"
    args = ["--region", REGIONS[0], "--role-arn", role(REFUSED), "--role-arn", role(MEMBER)]

    result = cli(db, fleet.endpoint, *args, "--include-caller")

    assert result.exit_code == 4, result.output  # done, but something was skipped
    assert refuse.refused  # the refusal really went over the wire
    assert f"{REFUSED}: not collected" in result.stdout
    store = Store(db)
    [error] = store.errors("sts")
    assert (error["item"], error["reason"]) == (f"{REFUSED}/AssumeRole", "AccessDenied")
    collected = {j["account"] for j in store.jobs()}
    assert collected == {CALLER, MEMBER}
    listed = CliRunner().invoke(main, ["errors", "--db", str(db)])
    assert f"{REFUSED}/AssumeRole" in listed.stdout
    only = CliRunner().invoke(main, ["errors", "--db", str(db), "--source", "sts"])
    assert only.exit_code == 0 and f"{REFUSED}/AssumeRole" in only.stdout


def test_when_sts_cannot_say_who_the_caller_is_the_jobs_are_kept_as_unknown(fleet, store):
    seed(fleet.endpoint, CALLER, REGIONS[0], runs=1)
    refuse = Refuse("GetCallerIdentity")
    options = CollectOptions(
        regions=[REGIONS[0]],
        endpoint_url=fleet.endpoint,
        session_factory=lambda region: refuse.install(session(region)),
    )

    report = collect(store, options, now=NOW)

    assert [(e["source"], e["item"]) for e in report.errors] == [
        ("sts", "unknown/GetCallerIdentity")
    ]
    assert {j["name"] for j in store.jobs()} == {f"unknown/{REGIONS[0]}/{n}" for n in NAMES}
    assert report.runs_upserted == len(NAMES)


def test_organization_collects_every_active_account(fleet, tmp_path):
    org = session().client("organizations", endpoint_url=fleet.endpoint)
    org.create_organization(FeatureSet="ALL")
    members = [
        org.create_account(Email=f"m{i}@example.com", AccountName=f"m{i}")["CreateAccountStatus"][
            "AccountId"
        ]
        for i in range(3)
    ]
    closed = members.pop()
    org.close_account(AccountId=closed)
    for account in (CALLER, *members, closed):
        seed(fleet.endpoint, account, REGIONS[0], runs=1)
    db = tmp_path / "org.db"

    result = cli(db, fleet.endpoint, "--region", REGIONS[0], "--organization", "--format", "json")

    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    via = {a["account"]: a["via"] for a in report["accounts"]}
    # the caller (here the management account) with its own credentials, not through a role
    assert via == {CALLER: "current credentials", **{m: role(m) for m in members}}
    assert report["api_calls"]["organizations:ListAccounts"] >= 1
    assert report["api_calls"]["sts:AssumeRole"] == len(members)
    store = Store(db)
    assert {j["account"] for j in store.jobs()} == {CALLER, *members}
    # another role name is used as given
    other = tmp_path / "other.db"
    named = cli(other, fleet.endpoint, "--region", REGIONS[0], "--organization", "--role-name",
                "Auditor", "--format", "json")  # fmt: skip
    assert {a["via"] for a in json.loads(named.stdout)["accounts"]} >= {role(members[0], "Auditor")}


def test_collector_calls_are_stored_and_priced_from_the_facts_registry(fleet, tmp_path):
    seed(fleet.endpoint, CALLER, REGIONS[0], runs=2)
    db = tmp_path / "bill.db"

    result = cli(db, fleet.endpoint, "--region", REGIONS[0], "--format", "json")

    assert result.exit_code == 0, result.output
    bill = json.loads(result.stdout)["api_cost"]
    rows = Store(db).collector_calls()
    assert rows == sorted(bill["rows"], key=lambda r: (r["account"], r["region"], r["operation"]))
    assert {r["account"] for r in rows} == {CALLER}
    by_op = {r["operation"]: r for r in rows}
    assert set(by_op) >= {
        "sts:GetCallerIdentity",
        "glue:GetJobs",
        "glue:GetJobRuns",
        "cloudwatch:ListMetrics",
        "cloudwatch:GetMetricData",
    }
    runs = 2 * len(NAMES)
    assert by_op["cloudwatch:GetMetricData"]["billed_units"] == 2 * runs  # heap max, bytes
    assert (
        by_op["cloudwatch:ListMetrics"]["billed_units"] == by_op["cloudwatch:ListMetrics"]["calls"]
    )
    for row in rows:  # every price is the registry's, none written in code
        price = price_of(row["operation"], row["region"])
        assert row["cost_usd"] == pytest.approx(row["billed_units"] * price.usd / price.per)
    assert by_op["cloudwatch:GetMetricData"]["cost_usd"] > 0
    assert by_op["glue:GetJobRuns"]["cost_usd"] == by_op["sts:GetCallerIdentity"]["cost_usd"] == 0
    assert bill["total_usd"] == pytest.approx(sum(r["cost_usd"] for r in rows))
    assert bill["calls"] == sum(r["calls"] for r in rows)

    # every series a run has: the per-executor one is fetched, and billed, too
    again = cli(tmp_path / "all.db", fleet.endpoint, "--region", REGIONS[0],
                "--metric-series", "all", "--format", "json")  # fmt: skip
    all_rows = {r["operation"]: r for r in json.loads(again.stdout)["api_cost"]["rows"]}
    assert all_rows["cloudwatch:GetMetricData"]["billed_units"] == 5 * runs

    text = cli(tmp_path / "text.db", fleet.endpoint, "--region", REGIONS[0])
    assert f"{CALLER} {REGIONS[0]} (current credentials): 2 jobs" in text.stdout
    assert "cloudwatch:GetMetricData" in text.stdout and "total" in text.stdout
    assert "8 metrics" in text.stdout


def test_the_guard_allows_exactly_the_reads(fleet):
    assert {f"{s}:{op}" for s, ops in READ_ONLY_OPERATIONS.items() for op in ops} == {
        "glue:GetJobs",
        "glue:GetJob",
        "glue:GetJobRuns",
        "glue:GetJobRun",
        "glue:GetCrawlers",
        "glue:GetCrawlerMetrics",
        "glue:ListCrawls",
        "glue:ListSessions",
        "glue:GetDevEndpoints",
        "cloudwatch:ListMetrics",
        "cloudwatch:GetMetricData",
        "s3:ListObjectsV2",
        "s3:GetObject",
        "s3:HeadObject",
        "sts:AssumeRole",
        "sts:GetCallerIdentity",
        "organizations:ListAccounts",
    }
    seed(fleet.endpoint, CALLER, REGIONS[0], runs=1)
    clients = AwsClients(REGIONS[0], endpoint_url=fleet.endpoint, session=session())
    writes = [
        lambda: clients.glue.update_job(JobName="orders", JobUpdate={"NumberOfWorkers": 50}),
        lambda: clients.glue.start_job_run(JobName="orders"),
        lambda: clients.sts.get_session_token(),
        lambda: clients.sts.assume_role_with_web_identity(
            RoleArn=role(MEMBER), RoleSessionName="xx", WebIdentityToken="t" * 10
        ),
        lambda: clients.organizations.create_account(Email="x@example.com", AccountName="x"),
        lambda: clients.organizations.describe_organization(),
        lambda: clients.cloudwatch.put_metric_data(
            Namespace="Glue", MetricData=[{"MetricName": "m", "Value": 1.0}]
        ),
    ]
    for write in writes:
        with pytest.raises(ReadOnlyViolation):
            write()
    job = glue_backends[CALLER][REGIONS[0]].jobs["orders"]
    assert job.number_of_workers == workers(CALLER, REGIONS[0], "orders")
    assert not clients.calls and not clients.units  # refused calls are neither sent nor billed
    clients.sts.get_caller_identity()
    clients.sts.assume_role(RoleArn=role(MEMBER), RoleSessionName="glue-advisor")
    assert clients.calls == {"sts:GetCallerIdentity": 1, "sts:AssumeRole": 1}


def test_the_policies_name_only_reads_and_the_member_role_trusts_the_central_account():
    policy = json.loads(CliRunner().invoke(main, ["collect", "--print-policy"]).stdout)
    actions = {a for s in policy["Statement"] for a in s["Action"]}
    assert actions == set(IAM_ACTIONS) | {"sts:AssumeRole", "organizations:ListAccounts"}
    [assume] = [s for s in policy["Statement"] if s["Action"] == ["sts:AssumeRole"]]
    assert assume["Resource"] == "arn:aws:iam::*:role/GlueAdvisorReadOnly"

    printed = CliRunner().invoke(main, ["collect", "--print-member-role", "cloudformation"])
    assert printed.exit_code == 0
    template = json.loads(printed.stdout)
    assert template == json.loads(member_role_cloudformation())
    props = template["Resources"]["GlueAdvisorRole"]["Properties"]
    [statement] = props["Policies"][0]["PolicyDocument"]["Statement"]
    assert statement["Action"] == list(IAM_ACTIONS) and statement["Effect"] == "Allow"
    [trust] = props["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Action"] == "sts:AssumeRole"
    assert "${CentralAccountId}:root" in json.dumps(trust["Principal"])
    assert "sts:ExternalId" in json.dumps(trust["Condition"])

    terraform = CliRunner().invoke(main, ["collect", "--print-member-role", "terraform"]).stdout
    assert terraform == member_role_terraform() + "\n"
    assert all(f'"{action}"' in terraform for action in IAM_ACTIONS)
    assert '"sts:AssumeRole"' in terraform and "sts:ExternalId" in terraform
    assert 'name                 = "GlueAdvisorReadOnly"' in terraform
    named = CliRunner().invoke(
        main, ["collect", "--print-member-role", "terraform", "--role-name", "Auditor"]
    )
    assert '"Auditor"' in named.stdout
    for text in (json.dumps(template), terraform, json.dumps(policy)):
        assert not re.search(r'"(glue|s3|cloudwatch):(Put|Update|Create|Delete|Start)', text)


def test_a_role_arn_that_is_not_one_is_refused_before_anything_is_called(tmp_path):
    result = CliRunner().invoke(
        main, ["collect", "--db", str(tmp_path / "x.db"), "--role-arn", "111111111111"]
    )
    assert result.exit_code == 2 and "not an IAM role ARN" in result.output
    assert not (tmp_path / "x.db").exists()


def test_billed_units_and_prices():
    queries = [
        {"Id": "a", "MetricStat": {"Metric": {}, "Period": 60, "Stat": "Average"}},
        {"Id": "b", "MetricStat": {"Metric": {}, "Period": 60, "Stat": "Maximum"}},
        {"Id": "c", "Expression": "a + b"},  # metric math is not a metric requested
    ]
    assert billed_units("cloudwatch:GetMetricData", {"MetricDataQueries": queries}) == 2
    assert billed_units("s3:GetObject", {"Bucket": "b", "Key": "k"}) == 1
    home, away = price_of("s3:GetObject", "us-east-1"), price_of("s3:GetObject", "eu-west-1")
    assert away.usd == home.usd and not away.confirmed  # us-east-1's rate, said unconfirmed
    assert price_of("cloudwatch:GetMetricData", "us-east-1").confirmed
    assert price_of("cloudwatch:GetMetricData", "ap-south-1").confirmed is False
    rows = price_calls(
        {"cloudwatch:GetMetricData": 2, "ec2:DescribeThings": 1},
        {"cloudwatch:GetMetricData": 1500, "ec2:DescribeThings": 1},
        collected_at="t",
        account=CALLER,
        region="us-east-1",
    )
    by_op = {r["operation"]: r for r in rows}
    gmd = price_of("cloudwatch:GetMetricData", "us-east-1")
    assert by_op["cloudwatch:GetMetricData"]["cost_usd"] == pytest.approx(1500 * gmd.usd / gmd.per)
    assert by_op["ec2:DescribeThings"]["cost_usd"] is None  # unpriced, not $0.00
    bill = summarize(rows)
    assert bill["unpriced"] == ["ec2:DescribeThings"]
    assert bill["total_usd"] == pytest.approx(by_op["cloudwatch:GetMetricData"]["cost_usd"])


def test_the_advisor_series_are_every_metric_the_advisor_reads():
    """--metric-series advisor keeps only ADVISOR_METRICS: a metric the analysis, the store's
    queries or the dashboard name must be among them, or it would never be collected."""
    named: set[str] = set()
    metric = re.compile(r"^glue\.(?:driver|ALL)\.[\w.]+$")
    for folder in ("advisor/analysis", "advisor/store", "dashboards"):
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Constant) and isinstance(node.value, str):
                    found = (m.rstrip(".") for m in re.findall(r"glue\.[\w.]+", node.value))
                    named |= set(filter(metric.match, found))
    assert named, "no metric names found: the scan is broken"
    assert named <= ADVISOR_METRICS, sorted(named - ADVISOR_METRICS)
