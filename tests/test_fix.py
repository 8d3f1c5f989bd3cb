"""`advisor fix`: the complete JobUpdate from the LIVE job, against moto's real server.

moto 5.2 has no UpdateJob and drops JobMode, JobRunQueuingEnabled and MaintenanceWindow, and
its GetJob omits the MaxCapacity AWS reports beside a worker type. The fixture below adds
those the way AWS documents them: UpdateJob REPLACES the definition ("unspecified
configuration is removed or reset to default values", GlueVersion excepted) and refuses
MaxCapacity beside workers, so applying a payload that lost a field loses it for real.

A job is (account, region, name): the store keys it `account/region/name`. moto keeps each
region, and each account (AssumeRole into another account gives credentials whose calls land
there), apart, so the same job name with different definitions is read from the right place.
"""

from __future__ import annotations

import copy
import json
import logging
import os
import shlex
import socket
import stat
from typing import Any

import boto3
import pytest
import requests
from click.testing import CliRunner
from moto.core import DEFAULT_ACCOUNT_ID
from moto.core.responses import ActionResult
from moto.glue.exceptions import InvalidInputException
from moto.glue.models import FakeJob, glue_backends
from moto.glue.responses import GlueResponse

from advisor import facts
from advisor.fix.cli import fix_cmd
from advisor.fix.compose import Proposal, compose
from advisor.fix.jobupdate import apply_changes, job_to_update, jobupdate_members, merge_conf
from advisor.fix.validate import botocore_problems, validate
from advisor.identity import job_key
from advisor.store import Store

REGION = "us-east-1"
OTHER_REGION = "eu-west-1"
ACCOUNT = DEFAULT_ACCOUNT_ID  # what moto's plain test credentials are
OTHER_ACCOUNT = "111111111111"
SECRET = "hunter2-real"
TOKEN = "tok-123-real-token"
CONF_SECRET = "confS3cretValue"
GIT_TOKEN = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
SECRETS = (SECRET, TOKEN, CONF_SECRET, GIT_TOKEN)
READ_ONLY = ("Name", "CreatedOn", "LastModifiedOn", "ProfileName", "AutoUpgradeMetadata")

# ---- moto, made to behave like Glue where the fix depends on it ---------------------------

_UPDATABLE = {
    "Description": "description",
    "LogUri": "log_uri",
    "Role": "role",
    "Command": "command",
    "NonOverridableArguments": "non_overridable_arguments",
    "Connections": "connections",
    "MaxRetries": "max_retries",
    "AllocatedCapacity": "allocated_capacity",
    "Timeout": "timeout",
    "MaxCapacity": "max_capacity",
    "WorkerType": "worker_type",
    "NumberOfWorkers": "number_of_workers",
    "SecurityConfiguration": "security_configuration",
    "NotificationProperty": "notification_property",
    "CodeGenConfigurationNodes": "code_gen_configuration_nodes",
    "SourceControlDetails": "source_control_details",
    "JobMode": "job_mode",
    "JobRunQueuingEnabled": "job_run_queuing_enabled",
    "MaintenanceWindow": "maintenance_window",
}
_EXTRA = {"JobMode": "job_mode", "JobRunQueuingEnabled": "job_run_queuing_enabled"}
_EXTRA["MaintenanceWindow"] = "maintenance_window"


def _update_job(self: GlueResponse) -> ActionResult:
    """UpdateJob as AWS documents it: the JobUpdate replaces the definition."""
    name = self._get_param("JobName")
    update = self._get_param("JobUpdate") or {}
    capacity = update.get("MaxCapacity") is not None
    if capacity and (update.get("WorkerType") or update.get("NumberOfWorkers")):
        raise InvalidInputException(
            "UpdateJob",
            "Please do not set Max Capacity if using Worker Type and Number of Workers.",
        )
    job = self.glue_backend.get_job(name)
    for key, attr in _UPDATABLE.items():
        setattr(job, attr, update.get(key))
    job.execution_property = update.get("ExecutionProperty") or {}
    job.default_arguments = update.get("DefaultArguments") or {}
    job.execution_class = update.get("ExecutionClass") or "STANDARD"
    if update.get("GlueVersion"):
        job.glue_version = update["GlueVersion"]
    return ActionResult({"JobName": name})


_original_as_dict = FakeJob.as_dict


def _as_dict(self: FakeJob) -> dict[str, Any]:
    data = _original_as_dict(self)
    for key, attr in _EXTRA.items():
        data[key] = getattr(self, attr, None)
    # AWS reports the capacity a worker job has as MaxCapacity too
    if self.worker_type and self.number_of_workers and self.max_capacity is None:
        data["MaxCapacity"] = float(
            self.number_of_workers * (facts.dpu_per_worker(self.worker_type) or 1)
        )
    return data


@pytest.fixture
def glue(moto_endpoint, monkeypatch):
    """An un-guarded Glue client on a fresh moto account (the test's own 'admin' access)."""
    requests.post(f"{moto_endpoint}/moto-api/reset", timeout=10)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setattr(GlueResponse, "update_job", _update_job, raising=False)
    monkeypatch.setattr(FakeJob, "as_dict", _as_dict)
    client = boto3.client("glue", region_name=REGION, endpoint_url=moto_endpoint)
    client.endpoint, client.account = moto_endpoint, ACCOUNT
    return client


def _set_extras(name: str, account: str = ACCOUNT, region: str = REGION, **extras: Any) -> None:
    job = glue_backends[account][region].jobs[name]
    for key, value in extras.items():
        setattr(job, _EXTRA[key], value)


NODES = {
    "node-1": {
        "S3CsvSource": {
            "Name": "orders csv",
            "Paths": ["s3://raw/orders/"],
            "QuoteChar": "quote",
            "Separator": "comma",
            "WithHeader": True,
        }
    },
    "node-2": {
        "ApplyMapping": {
            "Name": "rename",
            "Inputs": ["node-1"],
            "Mapping": [
                {"ToKey": "order_id", "FromPath": ["id"], "FromType": "string", "ToType": "long"},
                {"ToKey": "amount", "FromPath": ["amt"], "FromType": "string", "ToType": "double"},
            ],
        }
    },
    "node-3": {
        "S3DirectTarget": {
            "Name": "orders parquet",
            "Inputs": ["node-2"],
            "Path": "s3://curated/orders/",
            "Format": "parquet",
            "Compression": "snappy",
        }
    },
}


def full_job(name: str = "orders-etl", **override: Any) -> dict[str, Any]:
    """CreateJob arguments with every optional field, and real secrets in the arguments."""
    spec: dict[str, Any] = {
        "Name": name,
        "Description": "Nightly orders load " + "x" * 300,
        "LogUri": "s3://logs/orders/",
        "Role": "arn:aws:iam::123456789012:role/glue-orders",
        "ExecutionProperty": {"MaxConcurrentRuns": 3},
        "Command": {
            "Name": "glueetl",
            "ScriptLocation": "s3://scripts/orders.py",
            "PythonVersion": "3",
        },
        "DefaultArguments": {
            "--TempDir": "s3://tmp/orders/",
            "--db_password": SECRET,
            "--enable-metrics": "true",
            "--conf": "spark.sql.shuffle.partitions=200 --conf spark.jdbc.password="
            + CONF_SECRET
            + " --conf spark.sql.adaptive.enabled=false",
        },
        "NonOverridableArguments": {"--api_token": TOKEN, "--env": "prod"},
        "Connections": {"Connections": ["orders-postgres"]},
        "MaxRetries": 2,
        "Timeout": 120,
        "WorkerType": "G.1X",
        "NumberOfWorkers": 10,
        "SecurityConfiguration": "orders-sec",
        "Tags": {"team": "data", "cost-center": "42"},
        "NotificationProperty": {"NotifyDelayAfter": 15},
        "GlueVersion": "4.0",
        "CodeGenConfigurationNodes": NODES,
        "ExecutionClass": "STANDARD",
        "SourceControlDetails": {
            "Provider": "GITHUB",
            "Repository": "orders-jobs",
            "Owner": "acme",
            "Branch": "main",
            "Folder": "jobs",
            "AuthStrategy": "PERSONAL_ACCESS_TOKEN",
            "AuthToken": GIT_TOKEN,
        },
    }
    spec.update(override)
    return {k: v for k, v in spec.items() if v is not None}


def create(glue, spec: dict[str, Any], **extras: Any) -> dict[str, Any]:
    glue.create_job(**spec)
    _set_extras(spec["Name"], glue.account, glue.meta.region_name, **extras)
    return glue.get_job(JobName=spec["Name"])["Job"]


def glue_in(glue, region: str = REGION, account: str = ACCOUNT):
    """An un-guarded Glue client on the same moto server, in another region or account (the
    account's through AssumeRole, as moto gives it)."""
    credentials: dict[str, str] = {}
    if account != ACCOUNT:
        sts = boto3.client("sts", region_name=region, endpoint_url=glue.endpoint)
        answer = sts.assume_role(
            RoleArn=f"arn:aws:iam::{account}:role/admin", RoleSessionName="test-admin"
        )["Credentials"]
        credentials = {
            "aws_access_key_id": answer["AccessKeyId"],
            "aws_secret_access_key": answer["SecretAccessKey"],
            "aws_session_token": answer["SessionToken"],
        }
    client = boto3.client("glue", region_name=region, endpoint_url=glue.endpoint, **credentials)
    client.endpoint, client.account = glue.endpoint, account
    return client


EXTRAS = {"JobMode": "VISUAL", "JobRunQueuingEnabled": True, "MaintenanceWindow": "Sun:03"}

# ---- the store -----------------------------------------------------------------------------


def seed(
    path,
    job: str,
    findings: list[tuple[str, str, dict | None]],
    status="open",
    *,
    account: str = ACCOUNT,
    region: str = REGION,
) -> str:
    """A store knowing the Glue job `job` of `account` (collected in `region`) with findings
    (rule, severity, change); seeding another place of the same store adds a job beside it."""
    key = job_key(account, region, job)
    store = Store(path)
    store.db["jobs"].insert(
        {
            "name": key,
            "account": account,
            "region": region,
            "glue_name": job,
            "command_name": "glueetl",
        },
        alter=True,
    )
    rows = [
        {
            "id": f"{rule}-{key}",
            "rule_id": rule,
            "problem": rule,
            "job_name": key,
            "severity": severity,
            "score": 1.0,
            "title": rule,
            "message": "",
            "advice": "[]",
            "remediation": "{}",
            "evidence": "{}",
            "savings_dpu_hours_month": 0.0,
            "savings_usd_month": 10.0,
            "status": status,
            "first_seen": "2026-11-01",
            "last_seen": "2026-11-20",
            "resolved_at": None,
            "change": json.dumps(change) if change is not None else None,
        }
        for rule, severity, change in findings
    ]
    store.db["findings"].insert_all(rows, alter=True)
    store.close()
    return str(path)


def run(db: str, glue, job: str, *args: str, region: str | None = REGION):
    where = ["--region", region] if region else []
    return CliRunner().invoke(
        fix_cmd, [job, "--db", db, "--endpoint-url", glue.endpoint, *where, *args]
    )


def payload_of(db, glue, job, *args, region: str | None = REGION) -> dict[str, Any]:
    result = run(db, glue, job, "--format", "json", *args, region=region)
    assert result.exit_code == 0, result.stdout + result.stderr
    return json.loads(result.stdout)


def updatable(job: dict[str, Any]) -> dict[str, Any]:
    """What GetJob returned, minus read-only fields (the test's own reading of the contract)."""
    return {k: v for k, v in job.items() if k not in READ_ONLY}


def assert_no_secret(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text


# ---- the whole verb, against moto -----------------------------------------------------------


def test_payload_keeps_every_live_field_and_applying_it_loses_nothing(glue, tmp_path):
    live = create(glue, full_job(), **EXTRAS)
    assert {"JobMode", "MaintenanceWindow", "CodeGenConfigurationNodes", "MaxCapacity"} <= set(live)
    changes = {
        "timeout_risk": {"Timeout": 240},
        "missing_observability": {"DefaultArguments.--enable-observability-metrics": "true"},
        "spark_conf": {
            "SparkConf.spark.sql.adaptive.enabled": "true",
            "SparkConf.spark.sql.files.maxPartitionBytes": "268435456",
        },
        "over_provisioned": {"WorkerType": "G.1X", "NumberOfWorkers": 6},
    }
    db = seed(tmp_path / "a.db", "orders-etl", [(r, "medium", c) for r, c in changes.items()])

    payload = payload_of(db, glue, "orders-etl")

    expected = updatable(live)
    expected.pop("MaxCapacity")  # beside WorkerType/NumberOfWorkers UpdateJob refuses it
    expected["Timeout"] = 240
    expected["NumberOfWorkers"] = 6
    expected["DefaultArguments"] = {
        **live["DefaultArguments"],
        "--enable-observability-metrics": "true",
        "--conf": "spark.sql.shuffle.partitions=200 --conf spark.jdbc.password="
        + CONF_SECRET
        + " --conf spark.sql.adaptive.enabled=true"
        " --conf spark.sql.files.maxPartitionBytes=268435456",
    }
    assert payload == expected
    assert payload["DefaultArguments"]["--db_password"] == SECRET
    assert payload["SourceControlDetails"]["AuthToken"] == GIT_TOKEN
    assert botocore_problems(payload, "orders-etl") == []
    assert validate(payload, "orders-etl") == []

    glue.update_job(JobName="orders-etl", JobUpdate=payload)
    after = glue.get_job(JobName="orders-etl")["Job"]
    for key, value in updatable(live).items():
        if key in ("Timeout", "NumberOfWorkers", "DefaultArguments", "MaxCapacity"):
            continue
        assert after.get(key) == value, key
    assert after["Timeout"] == 240 and after["NumberOfWorkers"] == 6
    assert after["DefaultArguments"] == expected["DefaultArguments"]
    assert after["CreatedOn"] == live["CreatedOn"]
    assert glue.get_tags(ResourceArn=_arn("orders-etl"))["Tags"] == {
        "team": "data",
        "cost-center": "42",
    }


def _arn(job: str) -> str:
    return f"arn:aws:glue:{REGION}:{DEFAULT_ACCOUNT_ID}:job/{job}"


def test_a_partial_payload_would_really_lose_fields(glue):
    """The replace semantics the fix guards against are real in this fixture."""
    create(glue, full_job(), **EXTRAS)
    glue.update_job(
        JobName="orders-etl",
        JobUpdate={"Role": "r", "Command": {"Name": "glueetl", "ScriptLocation": "s3://s/x.py"}},
    )
    after = glue.get_job(JobName="orders-etl")["Job"]
    assert "Description" not in after and "CodeGenConfigurationNodes" not in after
    assert after["DefaultArguments"] == {}


def test_text_mode_masks_secrets_and_shows_what_changes(glue, tmp_path, caplog):
    create(glue, full_job(), **EXTRAS)
    db = seed(
        tmp_path / "a.db",
        "orders-etl",
        [
            ("timeout_risk", "high", {"Timeout": 240}),
            ("spark_conf", "low", {"SparkConf.spark.sql.adaptive.enabled": "true"}),
        ],
    )
    with caplog.at_level(logging.DEBUG):
        result = run(db, glue, "orders-etl")
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert_no_secret(out)
    assert_no_secret(result.stderr)
    assert_no_secret(caplog.text)
    assert "Timeout: 120 -> 240" in out
    assert "DefaultArguments --conf:" in out and "***REDACTED***" in out
    assert "spark.sql.adaptive.enabled=true" in out
    assert "Kept as they are:" in out and "CodeGenConfigurationNodes" in out
    # text never prints the payload: it goes to a file, then update-job reads the file
    write, apply = out.strip().splitlines()[-2:]
    assert shlex.split(write)[:2] == ["advisor", "fix"] and "--out" in shlex.split(write)
    assert shlex.split(write)[-2:] == ["--", "orders-etl"]
    assert apply.startswith("aws glue update-job --job-name=orders-etl --region us-east-1")
    assert apply.endswith("--job-update file://fix-update.json")


def test_out_file_holds_the_secret_with_mode_0600(glue, tmp_path, caplog):
    create(glue, full_job(), **EXTRAS)
    db = seed(tmp_path / "a.db", "orders-etl", [("timeout_risk", "high", {"Timeout": 240})])
    expected = payload_of(db, glue, "orders-etl")
    target = tmp_path / "fix.json"
    target.write_text("old and world readable")
    os.chmod(target, 0o644)

    with caplog.at_level(logging.DEBUG):
        result = run(db, glue, "orders-etl", "--out", str(target))
    assert result.exit_code == 0, result.stderr
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert json.loads(target.read_text()) == expected
    assert SECRET in target.read_text()
    assert_no_secret(result.stdout + result.stderr + caplog.text)
    run_line = result.stdout.strip().splitlines()[-1]
    assert run_line.endswith(f"--job-update file://{target.resolve()}")

    fresh = tmp_path / "fix.sh"
    result = run(db, glue, "orders-etl", "--format", "shell", "--out", str(fresh))
    assert result.exit_code == 0, result.stderr
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o600
    assert_no_secret(result.stdout)
    # the secrets go to the AWS CLI on stdin, never on its command line (`ps`, shell history)
    command, *body = fresh.read_text().splitlines()
    assert SECRET not in command
    words = shlex.split(command.split(" <<")[0])
    assert words[:3] == ["aws", "glue", "update-job"]
    assert words[words.index("--job-update") + 1] == "file:///dev/stdin"
    assert command.endswith("<<'ADVISOR_JOB_UPDATE'") and body[-1] == "ADVISOR_JOB_UPDATE"
    assert json.loads("\n".join(body[:-1])) == expected


def test_live_secrets_are_not_printed_to_a_terminal(glue, tmp_path, monkeypatch):
    """json and shell print the payload for a script (a pipe, a file); to a terminal a payload
    with live secrets is refused, and --out still writes it (mode 0600)."""
    import advisor.fix.cli as fix_cli

    create(glue, full_job(), **EXTRAS)
    db = seed(tmp_path / "a.db", "orders-etl", [("timeout_risk", "high", {"Timeout": 240})])
    monkeypatch.setattr(fix_cli, "_terminal", lambda: True)
    for fmt in ("json", "shell"):
        refused = run(db, glue, "orders-etl", "--format", fmt)
        assert refused.exit_code == 2 and "--out" in refused.stderr, fmt
        assert_no_secret(refused.stdout + refused.stderr)
    written = run(db, glue, "orders-etl", "--format", "json", "--out", str(tmp_path / "f.json"))
    assert written.exit_code == 0 and SECRET in (tmp_path / "f.json").read_text()
    assert_no_secret(written.stdout)
    # a job without secrets prints as before
    spec = full_job("plain-etl", SourceControlDetails=None, NonOverridableArguments=None)
    spec["DefaultArguments"] = {"--TempDir": "s3://tmp/plain/"}
    create(glue, spec)
    db = seed(tmp_path / "b.db", "plain-etl", [("timeout_risk", "high", {"Timeout": 240})])
    assert run(db, glue, "plain-etl", "--format", "shell").exit_code == 0


def test_shell_prints_the_whole_runnable_command_on_one_line(glue, tmp_path):
    spec = full_job("plain-etl", SourceControlDetails=None, NonOverridableArguments=None)
    spec["DefaultArguments"] = {"--TempDir": "s3://tmp/plain/", "--enable-metrics": "true"}
    create(glue, spec)
    db = seed(tmp_path / "a.db", "plain-etl", [("timeout_risk", "high", {"Timeout": 240})])
    expected = payload_of(db, glue, "plain-etl")

    shell = run(db, glue, "plain-etl", "--format", "shell")
    assert shell.exit_code == 0, shell.stderr
    command = shell.stdout.strip()
    assert "\n" not in command and len(command) > 500  # one line, never wrapped or cut
    words = shlex.split(command)
    assert words[3] == "--job-name=plain-etl"
    assert words[words.index("--job-update") + 1] == json.dumps(expected, separators=(",", ":"))


def test_rule_filter_applies_only_that_finding(glue, tmp_path):
    create(glue, full_job(), **EXTRAS)
    db = seed(
        tmp_path / "a.db",
        "orders-etl",
        [
            ("timeout_risk", "high", {"Timeout": 240}),
            ("over_provisioned", "medium", {"WorkerType": "G.1X", "NumberOfWorkers": 4}),
        ],
    )
    payload = payload_of(db, glue, "orders-etl", "--rule", "timeout_risk")
    assert payload["Timeout"] == 240 and payload["NumberOfWorkers"] == 10

    result = run(db, glue, "orders-etl", "--rule", "no_such_rule")
    assert result.exit_code == 2 and "no_such_rule" in result.stderr


def test_composition_notes_reliability_beats_cost_and_larger_timeout_wins(glue, tmp_path):
    create(glue, full_job(), **EXTRAS)
    db = seed(
        tmp_path / "a.db",
        "orders-etl",
        [
            ("over_provisioned", "high", {"WorkerType": "G.1X", "NumberOfWorkers": 4}),
            ("oom_risk", "low", {"WorkerType": "G.2X", "NumberOfWorkers": 8}),
            ("timeout_risk", "medium", {"Timeout": 240}),
            ("runtime_anomaly", "high", {"Timeout": 180}),
        ],
    )
    result = run(db, glue, "orders-etl", "--format", "json")
    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.stdout)
    assert (payload["WorkerType"], payload["NumberOfWorkers"], payload["Timeout"]) == (
        "G.2X",
        8,
        240,
    )
    assert "MaxCapacity" not in payload
    assert "oom_risk wins (reliability beats cost)" in result.stderr
    assert "the larger wins" in result.stderr

    text = run(db, glue, "orders-etl").stdout
    assert "sizing: oom_risk (reliability, low) wants 8 x G.2X" in text
    assert "over_provisioned (cost, high) wants 4 x G.1X" in text


def test_same_worker_type_prefers_the_more_severe_count():
    def p(rule, severity, category, change):
        return Proposal(f"{rule}-id", rule, severity, category, 0.0, change)

    merged = compose(
        [
            p("worker_type_mismatch", "low", "cost", {"WorkerType": "G.2X", "NumberOfWorkers": 5}),
            p(
                "under_provisioned",
                "high",
                "performance",
                {"WorkerType": "G.2X", "NumberOfWorkers": 12},
            ),
            p("flex_candidate", "low", "cost", {"ExecutionClass": "FLEX"}),
        ]
    )
    assert merged.change == {"WorkerType": "G.2X", "NumberOfWorkers": 12, "ExecutionClass": "FLEX"}
    assert merged.sources["NumberOfWorkers"] == "under_provisioned"
    assert len(merged.notes) == 1 and "high severity beats low" in merged.notes[0]

    agreed = compose(
        [
            p("a", "low", "cost", {"Timeout": 60, "DefaultArguments.--x": "1"}),
            p("b", "high", "reliability", {"Timeout": 60, "DefaultArguments.--x": "2"}),
        ]
    )
    assert agreed.change == {"Timeout": 60, "DefaultArguments.--x": "2"}
    assert agreed.notes == [
        'DefaultArguments.--x: b (reliability, high) wants "2", a (cost, low) wants "1"; b wins (reliability beats cost)'
    ]


def test_upgrading_a_standard_1_0_job_moves_to_workers(glue, tmp_path):
    spec = full_job(
        "legacy-etl",
        GlueVersion="1.0",
        WorkerType="Standard",
        NumberOfWorkers=10,
        ExecutionClass=None,
        CodeGenConfigurationNodes=None,
        Command={"Name": "glueetl", "ScriptLocation": "s3://scripts/l.py", "PythonVersion": "2"},
    )
    live = create(glue, spec)
    assert live["WorkerType"] == "Standard" and live["MaxCapacity"] == 10.0
    db = seed(
        tmp_path / "a.db", "legacy-etl", [("legacy_glue_version", "high", {"GlueVersion": "5.0"})]
    )

    result = run(db, glue, "legacy-etl", "--format", "json")
    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["GlueVersion"] == "5.0"
    assert (payload["WorkerType"], payload["NumberOfWorkers"]) == ("G.1X", 10)
    assert "MaxCapacity" not in payload and "AllocatedCapacity" not in payload
    assert payload["Command"]["PythonVersion"] == "3"
    assert "does not offer Standard workers: 10 x Standard" in result.stderr
    assert validate(payload, "legacy-etl") == []
    glue.update_job(JobName="legacy-etl", JobUpdate=payload)
    after = glue.get_job(JobName="legacy-etl")["Job"]
    assert after["WorkerType"] == "G.1X" and after["DefaultArguments"] == live["DefaultArguments"]


def test_upgrading_a_max_capacity_1_0_job_converts_dpus_to_workers(glue, tmp_path):
    spec = full_job(
        "capacity-etl",
        GlueVersion="1.0",
        WorkerType=None,
        NumberOfWorkers=None,
        MaxCapacity=7.0,
        ExecutionClass=None,
        CodeGenConfigurationNodes=None,
    )
    create(glue, spec)
    db = seed(
        tmp_path / "a.db", "capacity-etl", [("legacy_glue_version", "high", {"GlueVersion": "5.0"})]
    )
    payload = payload_of(db, glue, "capacity-etl")
    assert (payload["WorkerType"], payload["NumberOfWorkers"]) == ("G.1X", 7)
    assert "MaxCapacity" not in payload
    assert validate(payload, "capacity-etl") == []


INVALID = [
    # (job overrides, change, problem text)
    (
        {
            "Command": {"Name": "gluestreaming", "ScriptLocation": "s3://s/x.py"},
            "CodeGenConfigurationNodes": None,
        },
        {"ExecutionClass": "FLEX"},
        "ExecutionClass FLEX is not available",
    ),
    (
        {"GlueVersion": "3.0"},
        {"WorkerType": "R.1X", "NumberOfWorkers": 4},
        "WorkerType R.1X is not available",
    ),
    ({}, {"WorkerType": "Standard", "NumberOfWorkers": 4}, "WorkerType Standard is not available"),
    ({}, {"Timeout": 20000}, "Timeout 20000 is outside"),
    ({}, {"MaxCapacity": 10.0}, "refuses MaxCapacity for Spark jobs"),
    (
        {
            "GlueVersion": "1.0",
            "WorkerType": None,
            "NumberOfWorkers": None,
            "MaxCapacity": 10.0,
            "ExecutionClass": None,
            "CodeGenConfigurationNodes": None,
        },
        {"MaxCapacity": 500.0},
        "MaxCapacity 500 is outside",
    ),
    (
        {
            "Command": {
                "Name": "pythonshell",
                "ScriptLocation": "s3://s/x.py",
                "PythonVersion": "3.9",
            },
            "GlueVersion": "3.0",
            "WorkerType": None,
            "NumberOfWorkers": None,
            "MaxCapacity": 1.0,
            "ExecutionClass": None,
            "CodeGenConfigurationNodes": None,
        },
        {"MaxCapacity": 0.5},
        "MaxCapacity 0.5 is not one of",
    ),
    (
        {},
        {"NumberOfWorkers": "many"},
        "botocore: Invalid type for parameter JobUpdate.NumberOfWorkers",
    ),
    ({}, {"WorkerType": None}, "WorkerType and NumberOfWorkers must be set together"),
]


@pytest.mark.parametrize(("override", "change", "problem"), INVALID)
def test_invalid_payloads_are_refused(glue, tmp_path, override, change, problem):
    create(glue, full_job("bad-job", **override))
    db = seed(tmp_path / "a.db", "bad-job", [("flex_candidate", "medium", change)])
    for fmt in ("text", "json", "shell"):
        result = run(db, glue, "bad-job", "--format", fmt)
        assert result.exit_code == 2
        assert problem in result.stderr
        assert "update-job" not in result.stdout
        assert_no_secret(result.stdout + result.stderr)


def test_minimum_workers_come_from_the_registry(monkeypatch):
    update = {
        "Command": {"Name": "glueetl"},
        "GlueVersion": "4.0",
        "WorkerType": "G.1X",
        "NumberOfWorkers": 1,
    }
    minimum = facts.registry()["limits"]["number_of_workers_min_spark"]
    assert f"NumberOfWorkers 1 is below Glue's minimum of {minimum}" in validate(update, "j")
    assert not [p for p in validate({**update, "NumberOfWorkers": minimum}, "j") if "minimum" in p]
    patched = copy.deepcopy(facts.registry())
    del patched["limits"]["number_of_workers_min_spark"]
    monkeypatch.setattr(facts, "registry", lambda: patched)
    assert not [p for p in validate(update, "j") if "minimum" in p]


# ---- the quiet exits -------------------------------------------------------------------------


def test_unknown_job_in_store_exits_2(glue, tmp_path):
    db = seed(tmp_path / "a.db", "orders-etl", [])
    result = run(db, glue, "nope")
    assert result.exit_code == 2 and f"no job named 'nope' in {db}" in result.stderr
    close = run(db, glue, "orders-et")
    assert close.exit_code == 2 and "Did you mean: orders-etl?" in close.stderr


def test_no_open_finding_with_a_change_exits_0(glue, tmp_path):
    db = seed(
        tmp_path / "a.db",
        "orders-etl",
        [("data_skew", "high", {}), ("gc_pressure", "high", None)],
    )
    seed_more = Store(db)
    seed_more.db["findings"].insert(
        {
            "id": "old",
            "rule_id": "timeout_risk",
            "job_name": job_key(ACCOUNT, REGION, "orders-etl"),
            "severity": "high",
            "status": "resolved",
            "change": json.dumps({"Timeout": 5}),
        },
        alter=True,
    )
    seed_more.close()
    result = run(db, glue, "orders-etl")  # no GetJob needed: moto has no such job
    assert result.exit_code == 0, result.stderr
    assert "no open finding with a change" in result.stdout


def test_already_applied_says_so(glue, tmp_path):
    create(glue, full_job(), **EXTRAS)
    db = seed(tmp_path / "a.db", "orders-etl", [("timeout_risk", "high", {"Timeout": 120})])
    result = run(db, glue, "orders-etl")
    assert result.exit_code == 0 and "already has every change" in result.stdout


def test_job_missing_in_aws_exits_2_without_traceback(glue, tmp_path):
    db = seed(tmp_path / "a.db", "gone-etl", [("timeout_risk", "high", {"Timeout": 240})])
    result = run(db, glue, "gone-etl")
    assert result.exit_code == 2
    assert result.stderr.strip() == f"advisor fix: job 'gone-etl' not found in {REGION} (GetJob)"
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_endpoint_down_exits_1_with_one_line(tmp_path, monkeypatch):
    """The account check (STS) comes first; a job of unknown account goes straight to GetJob."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    db = seed(tmp_path / "a.db", "orders-etl", [("timeout_risk", "high", {"Timeout": 240})])
    result = CliRunner().invoke(
        fix_cmd, ["orders-etl", "--db", db, "--endpoint-url", f"http://127.0.0.1:{port}"]
    )
    assert result.exit_code == 1
    assert result.stderr.startswith("advisor fix: cannot reach the STS endpoint")
    assert len(result.stderr.strip().splitlines()) == 1
    assert isinstance(result.exception, SystemExit)

    db = seed(
        tmp_path / "b.db",
        "orders-etl",
        [("timeout_risk", "high", {"Timeout": 240})],
        account="unknown",
    )
    result = CliRunner().invoke(
        fix_cmd, ["orders-etl", "--db", db, "--endpoint-url", f"http://127.0.0.1:{port}"]
    )
    assert result.exit_code == 1
    warning, failure = result.stderr.strip().splitlines()
    assert "does not know which account orders-etl is in" in warning
    assert failure.startswith("advisor fix: cannot reach the Glue endpoint")
    assert isinstance(result.exception, SystemExit)


def test_no_credentials_exits_1(tmp_path, monkeypatch, moto_endpoint):
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    db = seed(tmp_path / "a.db", "orders-etl", [("timeout_risk", "high", {"Timeout": 240})])
    result = CliRunner().invoke(
        fix_cmd, ["orders-etl", "--db", db, "--endpoint-url", moto_endpoint]
    )
    assert result.exit_code == 1
    assert result.stderr.startswith("advisor fix: no AWS credentials")


# ---- the pieces ----------------------------------------------------------------------------


def test_job_to_update_carries_every_jobupdate_member_and_nothing_read_only():
    job = {m: f"value-{m}" for m in jobupdate_members()}
    job.update({k: "x" for k in READ_ONLY})
    job.update(WorkerType="G.1X", NumberOfWorkers=3, MaxCapacity=3.0, AllocatedCapacity=3)
    update = job_to_update(job)
    assert set(update) == set(jobupdate_members()) - {"MaxCapacity", "AllocatedCapacity"}
    assert {
        "Description",
        "LogUri",
        "CodeGenConfigurationNodes",
        "SourceControlDetails",
        "MaintenanceWindow",
        "JobMode",
        "JobRunQueuingEnabled",
        "NonOverridableArguments",
    } <= set(update)
    shell = job_to_update(
        {"Command": {"Name": "pythonshell"}, "MaxCapacity": 1.0, "AllocatedCapacity": 1}
    )
    assert shell == {"Command": {"Name": "pythonshell"}, "MaxCapacity": 1.0}


def test_apply_changes_null_removes_and_capacity_fields_exclude_each_other():
    base = {
        "WorkerType": "G.1X",
        "NumberOfWorkers": 4,
        "MaxRetries": 3,
        "DefaultArguments": {"--a": "1", "--conf": "spark.x=1"},
    }
    out = apply_changes(
        base,
        {
            "MaxRetries": None,
            "DefaultArguments.--a": None,
            "SparkConf.spark.x": None,
            "DefaultArguments.--b": True,
        },
    )
    assert out == {"WorkerType": "G.1X", "NumberOfWorkers": 4, "DefaultArguments": {"--b": "true"}}
    assert base["MaxRetries"] == 3  # the input is left alone
    to_capacity = apply_changes(base, {"MaxCapacity": 10.0})
    assert "WorkerType" not in to_capacity and "NumberOfWorkers" not in to_capacity
    back = apply_changes(
        {"MaxCapacity": 10.0, "AllocatedCapacity": 10}, {"WorkerType": "G.2X", "NumberOfWorkers": 5}
    )
    assert back == {"WorkerType": "G.2X", "NumberOfWorkers": 5}
    with pytest.raises(ValueError, match="not a JobUpdate field"):
        apply_changes(base, {"Name": "renamed"})


def test_merge_conf_keeps_other_settings_and_replaces_the_same_key():
    text = "spark.a=1 --conf spark.b=x=y --conf spark.c=3"
    assert merge_conf(text, "spark.b", "2") == "spark.a=1 --conf spark.b=2 --conf spark.c=3"
    assert merge_conf(text, "spark.d", "4") == text + " --conf spark.d=4"
    assert merge_conf(text, "spark.a", None) == "spark.b=x=y --conf spark.c=3"
    assert merge_conf("spark.a=1", "spark.a", None) is None
    assert merge_conf(None, "spark.a", "1") == "spark.a=1"
    assert merge_conf("spark.a=1 --conf spark.a=2", "spark.a", "3") == "spark.a=3"
    java = "spark.driver.extraJavaOptions=-Dx=1 -Dy=2"
    assert merge_conf(java, "spark.a", "1") == java + " --conf spark.a=1"


# ---- found by attacking the verb ----------------------------------------------------------


def _analysed_as(db: str, definition: dict[str, Any]) -> None:
    """Record the definition the analysis saw (the store's newest job version)."""
    store = Store(db)
    store.db["job_versions"].insert(
        {
            "name": job_key(ACCOUNT, REGION, definition["Name"]),
            "hash": "h",
            "definition": json.dumps(definition, default=str),
            "valid_from": "2026-11-01",
            "first_seen": "2026-11-01",
            "last_seen": "2026-11-02",
        },
        alter=True,
    )
    store.close()


def test_a_finding_on_a_job_that_changed_since_analysis_is_not_applied(glue, tmp_path):
    live = create(glue, full_job(WorkerType="G.1X", NumberOfWorkers=4), **EXTRAS)
    db = seed(
        tmp_path / "a.db",
        "orders-etl",
        [
            ("over_provisioned", "high", {"WorkerType": "G.2X", "NumberOfWorkers": 12}),
            ("timeout_risk", "low", {"Timeout": 240}),
        ],
    )
    # the analysis saw 40 x G.2X: cutting to 12 x G.2X would now triple the job's DPUs
    _analysed_as(db, {**live, "WorkerType": "G.2X", "NumberOfWorkers": 40})
    payload = payload_of(db, glue, "orders-etl")
    assert payload["WorkerType"] == "G.1X" and payload["NumberOfWorkers"] == 4
    assert payload["Timeout"] == 240  # the finding whose field did not move still applies
    text = run(db, glue, "orders-etl")
    assert "changed since it was analysed" in text.stdout and "over_provisioned" in text.stdout
    only_stale = run(db, glue, "orders-etl", "--rule", "over_provisioned")
    assert only_stale.exit_code == 2 and "advisor analyze" in only_stale.stderr


def test_out_refuses_anything_but_a_regular_file(glue, tmp_path):
    create(glue, full_job(), **EXTRAS)
    db = seed(tmp_path / "a.db", "orders-etl", [("timeout_risk", "high", {"Timeout": 240})])
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    result = run(db, glue, "orders-etl", "--out", str(fifo))
    assert result.exit_code == 1 and "not a regular file" in result.stderr
    target = tmp_path / "fix.json"
    target.write_text("old")
    os.link(target, tmp_path / "other-name")
    linked = run(db, glue, "orders-etl", "--out", str(target))
    assert linked.exit_code == 1 and "hard links" in linked.stderr
    assert target.read_text() == "old"


def test_a_bad_endpoint_is_one_line_not_a_traceback(glue, tmp_path):
    create(glue, full_job(), **EXTRAS)
    db = seed(tmp_path / "a.db", "orders-etl", [("timeout_risk", "high", {"Timeout": 240})])
    result = CliRunner().invoke(
        fix_cmd, ["orders-etl", "--db", db, "--endpoint-url", "notaurl", "--region", REGION]
    )
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "endpoint" in result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_a_name_that_starts_with_a_dash_stays_a_value(glue, tmp_path):
    create(glue, full_job("-x"), **EXTRAS)
    db = seed(tmp_path / "a.db", "-x", [("timeout_risk", "high", {"Timeout": 240})])
    result = CliRunner().invoke(
        fix_cmd,
        [
            "--db",
            db,
            "--endpoint-url",
            glue.endpoint,
            "--region",
            REGION,
            "--format",
            "shell",
            "--",
            "-x",
        ],
    )
    assert result.exit_code == 0, result.stderr
    assert shlex.split(result.stdout)[3] == "--job-name=-x"


def shell_parts(output: str) -> tuple[list[str], Any]:
    """The words of a printed update-job command and its payload, inline or (when it carries
    secrets) in the here-document it reads as file:///dev/stdin."""
    command, *body = output.strip().splitlines()
    words = shlex.split(command.split(" <<")[0])
    value = words[words.index("--job-update") + 1]
    if value == "file:///dev/stdin":
        assert body and body[-1] == "ADVISOR_JOB_UPDATE" and SECRET not in command
        return words, json.loads("\n".join(body[:-1]))
    return words, json.loads(value)


def test_a_command_too_long_for_a_shell_goes_to_a_file(glue, tmp_path):
    spec = full_job(SourceControlDetails=None, NonOverridableArguments=None)
    spec["DefaultArguments"] = {f"--big{i}": "v" * 10_000 for i in range(12)}
    create(glue, spec, **EXTRAS)
    db = seed(tmp_path / "a.db", "orders-etl", [("timeout_risk", "high", {"Timeout": 240})])
    result = run(db, glue, "orders-etl", "--format", "shell")
    assert result.exit_code == 2 and "--out" in result.stderr
    written = run(db, glue, "orders-etl", "--out", str(tmp_path / "f.json"))
    assert (
        written.exit_code == 0 and json.loads((tmp_path / "f.json").read_text())["Timeout"] == 240
    )


def test_a_spark_setting_under_a_non_overridable_conf_is_flagged(glue, tmp_path):
    spec = full_job()
    spec["NonOverridableArguments"] = {"--conf": "spark.sql.shuffle.partitions=200"}
    create(glue, spec, **EXTRAS)
    db = seed(
        tmp_path / "a.db",
        "orders-etl",
        [("executor_spill", "high", {"SparkConf.spark.sql.shuffle.partitions": 800})],
    )
    result = run(db, glue, "orders-etl")
    assert result.exit_code == 0 and "NonOverridableArgument" in result.stdout


def test_a_python_shell_upgrade_sets_the_command_python_version(glue, tmp_path):
    spec = full_job("shell-job", GlueVersion="1.0", WorkerType=None, NumberOfWorkers=None)
    spec["Command"] = {"Name": "pythonshell", "ScriptLocation": "s3://b/s.py", "PythonVersion": "3"}
    spec["MaxCapacity"] = 0.0625
    spec = {k: v for k, v in spec.items() if v is not None}
    create(glue, spec, **EXTRAS)
    db = seed(
        tmp_path / "a.db",
        "shell-job",
        [
            (
                "legacy_glue_version",
                "critical",
                {"GlueVersion": "3.0", "Command.PythonVersion": "3.9"},
            )
        ],
    )
    payload = payload_of(db, glue, "shell-job")
    assert payload["GlueVersion"] == "3.0" and payload["Command"]["PythonVersion"] == "3.9"
    assert payload["Command"]["ScriptLocation"] == "s3://b/s.py"


# ---- one name, several places: the right job, or none ---------------------------------------

EAST_KEY = job_key(ACCOUNT, REGION, "orders-etl")
WEST_KEY = job_key(ACCOUNT, OTHER_REGION, "orders-etl")
OTHER_KEY = job_key(OTHER_ACCOUNT, REGION, "orders-etl")
OTHER_ROLE = f"arn:aws:iam::{OTHER_ACCOUNT}:role/GlueAdvisorReadOnly"
TIMEOUT_FIX = [("timeout_risk", "high", {"Timeout": 240})]


@pytest.fixture
def getjob_calls(monkeypatch) -> list[tuple[str, str, str]]:
    """(account, region, job name) of every GetJob moto answers."""
    calls: list[tuple[str, str, str]] = []
    original = GlueResponse.get_job

    def spy(self: GlueResponse) -> Any:
        calls.append((self.current_account, self.region, self._get_param("JobName")))
        return original(self)

    monkeypatch.setattr(GlueResponse, "get_job", spy)
    return calls


def two_regions(glue, tmp_path) -> str:
    """orders-etl in us-east-1 (10 x G.1X) and in eu-west-1 (5 x G.2X, its own secret), both
    with a timeout finding."""
    create(glue, full_job(), **EXTRAS)
    west = full_job(WorkerType="G.2X", NumberOfWorkers=5, Timeout=60)
    west["DefaultArguments"] = {**west["DefaultArguments"], "--region_only": "west"}
    create(glue_in(glue, OTHER_REGION), west, **EXTRAS)
    db = seed(tmp_path / "a.db", "orders-etl", TIMEOUT_FIX)
    return seed(db, "orders-etl", TIMEOUT_FIX, region=OTHER_REGION)


def test_a_name_in_two_regions_is_ambiguous_until_the_region_is_named(glue, tmp_path, getjob_calls):
    db = two_regions(glue, tmp_path)
    getjob_calls.clear()  # the test's own reads
    ambiguous = run(db, glue, "orders-etl", region=None)
    assert ambiguous.exit_code == 2
    assert EAST_KEY in ambiguous.stderr and WEST_KEY in ambiguous.stderr
    assert "account/region/name" in ambiguous.stderr
    assert ambiguous.stdout == "" and getjob_calls == []

    west = payload_of(db, glue, "orders-etl", region=OTHER_REGION)
    assert (west["WorkerType"], west["NumberOfWorkers"], west["Timeout"]) == ("G.2X", 5, 240)
    assert west["DefaultArguments"]["--region_only"] == "west"
    east = payload_of(db, glue, "orders-etl", region=REGION)
    assert (east["WorkerType"], east["NumberOfWorkers"]) == ("G.1X", 10)
    assert "--region_only" not in east["DefaultArguments"]
    assert getjob_calls == [
        (ACCOUNT, OTHER_REGION, "orders-etl"),
        (ACCOUNT, REGION, "orders-etl"),
    ]

    # the key needs no --region: GetJob goes to the key's region, and so does the command
    shell = run(db, glue, WEST_KEY, "--format", "shell", region=None)
    assert shell.exit_code == 0, shell.stderr
    words, payload = shell_parts(shell.stdout)
    assert words[3:6] == ["--job-name=orders-etl", "--region", OTHER_REGION]
    assert payload == west

    # text names the job by its key (its name is shared) and re-reads it from the same place
    text = run(db, glue, WEST_KEY, region=None)
    assert text.exit_code == 0, text.stderr
    assert f"Fix for {WEST_KEY} (timeout_risk)" in text.stdout
    assert f"account {ACCOUNT}, {OTHER_REGION}" in text.stdout
    write, apply = text.stdout.strip().splitlines()[-2:]
    assert shlex.split(write)[-2:] == ["--", WEST_KEY]
    assert shlex.split(write)[shlex.split(write).index("--region") + 1] == OTHER_REGION
    assert apply.startswith(f"aws glue update-job --job-name=orders-etl --region {OTHER_REGION}")


def test_a_region_that_is_not_the_jobs_is_refused(glue, tmp_path, getjob_calls):
    db = two_regions(glue, tmp_path)
    getjob_calls.clear()  # the test's own reads
    conflict = run(db, glue, EAST_KEY, region=OTHER_REGION)
    assert conflict.exit_code == 2
    assert f"--region {OTHER_REGION} conflicts with {EAST_KEY}, a job in {REGION}" in (
        conflict.stderr
    )
    account = run(db, glue, EAST_KEY, "--account", OTHER_ACCOUNT, region=None)
    assert account.exit_code == 2 and f"a job in account {ACCOUNT}" in account.stderr
    only_east = seed(tmp_path / "b.db", "orders-etl", TIMEOUT_FIX)
    elsewhere = run(only_east, glue, "orders-etl", region=OTHER_REGION)
    assert elsewhere.exit_code == 2
    assert f"it exists as {EAST_KEY}" in elsewhere.stderr
    assert getjob_calls == []


def two_accounts(glue, tmp_path) -> str:
    """orders-etl in us-east-1 of the test's account (10 x G.1X) and of OTHER_ACCOUNT (4 x
    G.2X), both in the store."""
    create(glue, full_job(), **EXTRAS)
    other = full_job(WorkerType="G.2X", NumberOfWorkers=4)
    other["Role"] = f"arn:aws:iam::{OTHER_ACCOUNT}:role/glue-orders"
    create(glue_in(glue, REGION, OTHER_ACCOUNT), other, **EXTRAS)
    db = seed(tmp_path / "a.db", "orders-etl", TIMEOUT_FIX)
    return seed(db, "orders-etl", TIMEOUT_FIX, account=OTHER_ACCOUNT)


def test_credentials_of_another_account_are_refused_before_getjob(glue, tmp_path, getjob_calls):
    db = two_accounts(glue, tmp_path)
    getjob_calls.clear()  # the test's own reads
    ambiguous = run(db, glue, "orders-etl")
    assert ambiguous.exit_code == 2
    assert EAST_KEY in ambiguous.stderr and OTHER_KEY in ambiguous.stderr

    for ref, options in ((OTHER_KEY, ()), ("orders-etl", ("--account", OTHER_ACCOUNT))):
        refused = run(db, glue, ref, "--format", "json", *options)
        assert refused.exit_code == 2, refused.stderr
        assert refused.stdout == ""
        message = refused.stderr
        assert f"is in account {OTHER_ACCOUNT}, but the credentials are for account {ACCOUNT}" in (
            message
        )
        assert "--profile" in message and "--role-arn" in message
    assert getjob_calls == []  # nothing of the other account's job was read

    mine = payload_of(db, glue, "orders-etl", "--account", ACCOUNT)
    assert (mine["WorkerType"], mine["NumberOfWorkers"]) == ("G.1X", 10)
    assert getjob_calls == [(ACCOUNT, REGION, "orders-etl")]


def test_role_arn_reads_the_other_accounts_job_read_only(glue, tmp_path, getjob_calls, monkeypatch):
    from moto.sts.models import sts_backends

    from advisor.fix.live import ROLE_SESSION_NAME, SESSION_POLICY

    db = two_accounts(glue, tmp_path)
    getjob_calls.clear()  # the test's own reads
    result = run(db, glue, OTHER_KEY, "--format", "json", "--role-arn", OTHER_ROLE)
    assert result.exit_code == 0, result.stderr
    other = json.loads(result.stdout)
    assert (other["WorkerType"], other["NumberOfWorkers"], other["Timeout"]) == ("G.2X", 4, 240)
    assert other["Role"] == f"arn:aws:iam::{OTHER_ACCOUNT}:role/glue-orders"
    assert f"credentials of account {OTHER_ACCOUNT}" in result.stderr
    assert getjob_calls == [(OTHER_ACCOUNT, REGION, "orders-etl")]
    sessions = [
        r
        for r in sts_backends[OTHER_ACCOUNT]["aws"].assumed_roles
        if r.role_arn == OTHER_ROLE and r.session_name == ROLE_SESSION_NAME
    ]
    assert sessions and sessions[-1].policy == SESSION_POLICY
    assert json.loads(SESSION_POLICY)["Statement"][0]["Action"] == ["glue:GetJob"]

    # the printed command: the Glue name and region, and not the profile the role was assumed
    # with (update-job runs as the job's account); `advisor fix` to re-read keeps both
    profiles = tmp_path / "credentials"
    profiles.write_text("[central]\naws_access_key_id = testing\naws_secret_access_key = testing\n")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(profiles))
    reading = ("--role-arn", OTHER_ROLE, "--profile", "central")
    shell = run(db, glue, OTHER_KEY, "--format", "shell", *reading)
    assert shell.exit_code == 0, shell.stderr
    words, payload = shell_parts(shell.stdout)
    assert words[3:6] == ["--job-name=orders-etl", "--region", REGION]
    assert "--profile" not in words and payload == other
    text = run(db, glue, OTHER_KEY, *reading)
    assert text.exit_code == 0, text.stderr
    write, run_as, apply = text.stdout.strip().splitlines()[-3:]
    again = shlex.split(write)
    assert again[again.index("--role-arn") + 1] == OTHER_ROLE
    assert again[again.index("--profile") + 1] == "central" and again[-1] == OTHER_KEY
    assert f"credentials of account {OTHER_ACCOUNT}" in run_as
    assert apply.startswith(f"aws glue update-job --job-name=orders-etl --region {REGION}")
    assert "--profile" not in apply

    # a role of a third account, or of the caller's for another's job, is refused up front
    third = run(db, glue, OTHER_KEY, "--role-arn", "arn:aws:iam::222222222222:role/r")
    assert third.exit_code == 2
    assert f"a role in account 222222222222, but {OTHER_KEY} is in account {OTHER_ACCOUNT}" in (
        third.stderr
    )
    own = run(db, glue, EAST_KEY, "--role-arn", OTHER_ROLE)
    assert own.exit_code == 2 and f"a role in account {OTHER_ACCOUNT}" in own.stderr
    bad = run(db, glue, OTHER_KEY, "--role-arn", "GlueAdvisorReadOnly")
    assert bad.exit_code == 2 and "not an IAM role ARN" in bad.stderr
    assert len(getjob_calls) == 3


def test_a_job_of_unknown_account_is_read_unchecked_and_says_so(glue, tmp_path, getjob_calls):
    create(glue, full_job(), **EXTRAS)
    db = seed(tmp_path / "a.db", "orders-etl", TIMEOUT_FIX, account="unknown")
    getjob_calls.clear()  # the test's own reads
    result = run(db, glue, "orders-etl", "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["Timeout"] == 240
    assert "the store does not know which account orders-etl is in" in result.stderr
    assert getjob_calls == [(ACCOUNT, REGION, "orders-etl")]


def test_a_job_of_unknown_region_is_read_where_region_says(glue, tmp_path, getjob_calls):
    create(glue, full_job(), **EXTRAS)
    db = seed(tmp_path / "a.db", "orders-etl", TIMEOUT_FIX, region="unknown")
    getjob_calls.clear()
    key = job_key(ACCOUNT, "unknown", "orders-etl")
    by_name = run(db, glue, "orders-etl", region=REGION)
    assert by_name.exit_code == 2 and f"it exists as {key}" in by_name.stderr
    shell = run(db, glue, key, "--format", "shell", region=REGION)
    assert shell.exit_code == 0, shell.stderr
    assert shlex.split(shell.stdout)[3:6] == ["--job-name=orders-etl", "--region", REGION]
    assert getjob_calls == [(ACCOUNT, REGION, "orders-etl")]


def test_the_fix_clients_allow_only_getjob_and_the_account_checks(moto_endpoint, monkeypatch):
    from advisor.collect.aws import ReadOnlyViolation
    from advisor.fix.live import FixClients, fix_operations_are_read_only

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    assert fix_operations_are_read_only()
    clients = FixClients(REGION, endpoint_url=moto_endpoint)
    assert clients.sts.get_caller_identity()["Account"] == ACCOUNT
    for call in (
        lambda: clients.glue.get_jobs(),
        lambda: clients.glue.update_job(JobName="x", JobUpdate={"Role": "r", "Command": {}}),
        lambda: clients.s3.list_objects_v2(Bucket="b"),
    ):
        with pytest.raises(ReadOnlyViolation):
            call()
