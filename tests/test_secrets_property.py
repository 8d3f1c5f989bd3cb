"""Property: no planted secret, of any shape real Glue users leak, ever reaches the store's bytes
(the SQLite file, its -wal and -shm, before and after the last connection closes) or any output
the CLI, the weekly report, the what-if plot or the dashboard builds from it. Hostile job names
never break an output.

Each example builds an import folder (jobs.json, job-runs/, metrics/, eventlogs/) with secrets
planted where Hypothesis chooses, runs `advisor import` and `advisor analyze`, then every output
that reads the store (and `advisor eventlog summarize` / `whatif --eventlog`, which read the
event log directly), and searches everything written for the secrets.
"""

from __future__ import annotations

import base64
import csv
import gc
import io
import json
import logging
import re
import shutil
import sqlite3
import tempfile
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from advisor.cli import main

ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
JOB = "orders_etl"
BROKEN_JOB = "zz_broken_record_job"
FIRST_START = datetime(2026, 10, 1, 6, 0, tzinfo=UTC)
RUNS = 12  # one every two days: the weekly report has full weeks before the newest run
RUN_IDS = [f"jr_{i:02d}" + "ab" * 30 for i in range(RUNS)]  # newest first
NEWEST, FAILED = RUN_IDS[0], RUN_IDS[1]
EXECUTION_S = 900

# ---- secrets -------------------------------------------------------------------------------


def needles_of(secret: str) -> list[str]:
    """What must never be found: the secret, each of its marked runs of letters and digits
    (a '/' or '@' inside must not let half of it through) and their first / last 8 characters
    (a secret cut short by truncation is still a leak)."""
    found = {secret}
    for run in re.findall(r"[A-Za-z0-9]{8,}", secret):
        if run.startswith(("Zk", "AKIA")):
            found |= {run, run[:8] if run.startswith("Zk") else run[:12]}
        if run.endswith("Q9"):
            found |= {run, run[-8:]}
    return sorted(found)


def tokens(seps: str = "") -> st.SearchStrategy[str]:
    """A distinctive secret: 'Zk' + letters/digits [+ one of seps + letters/digits] + 'Q9'."""
    return st.builds(
        lambda a, sep, b: f"Zk{a}{sep}{b}Q9",
        st.text(ALNUM, min_size=8, max_size=11),
        st.sampled_from(["", *seps]),
        st.text(ALNUM, min_size=6, max_size=9),
    )


# AKIA + 16 upper-case letters or digits; a 40-character mixed-case secret access key
access_key_ids = st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", min_size=16, max_size=16).map(
    lambda s: "AKIA" + s
)
secret_access_keys = st.builds(
    lambda a, sep, b: f"Zk{a}{sep}{b}Q9",
    st.text(ALNUM, min_size=17, max_size=17),
    st.sampled_from(["/", "+", "x"]),
    st.text(ALNUM, min_size=18, max_size=18),
)

Leak = tuple[str, list[str]]  # (text to plant, needles that must never be found)


def _token_shape(render: Callable[[str], str], seps: str) -> st.SearchStrategy[Leak]:
    return tokens(seps).map(lambda s: (render(s), needles_of(s)))


def _basic(secret: str) -> Leak:
    encoded = base64.b64encode(f"etl_user:{secret}".encode()).decode()
    return f"Authorization: Basic {encoded}", [encoded.rstrip("="), *needles_of(secret)]


# free-text shapes, planted under innocent keys, in error messages, event logs and labels
SHAPES: dict[str, st.SearchStrategy[Leak]] = {
    "s3a_conf": _token_shape(
        lambda s: f"spark.hadoop.fs.s3a.secret.key={s} --conf spark.sql.shuffle.partitions=8",
        "/+=",
    ),
    "json_password": _token_shape(
        lambda s: json.dumps({"user": "etl", "password": s}, separators=(",", ":")), "/@+="
    ),
    "python_repr_password": _token_shape(lambda s: repr({"password": s}), "/@+="),
    "escaped_json_password": _token_shape(
        lambda s: json.dumps(json.dumps({"user": "etl", "password": s}))[1:-1], "/@+="
    ),
    "password_single_quoted": _token_shape(lambda s: f"user='etl' password='{s}'", "/@+="),
    "secret_key_double_quoted": _token_shape(lambda s: f'secret.key="{s}"', "/@+="),
    "yaml_password": _token_shape(lambda s: f"user: etl\npassword: {s}\nhost: db", "/@+="),
    "jdbc_userinfo": _token_shape(
        lambda s: f"jdbc:postgresql://etl_user:{s}@db.internal:5432/finance", "/@+="
    ),
    "oracle_thin": _token_shape(
        lambda s: f"jdbc:oracle:thin:scott/{s}@db.example.com:1521/orcl", "/+="
    ),
    "slack_webhook": _token_shape(
        lambda s: f"https://hooks.slack.com/services/T0000/B0000/{s}", ""
    ),
    "s3_presigned_url": _token_shape(
        lambda s: f"https://b.s3.amazonaws.com/k?X-Amz-Signature={s}&X-Amz-Date=1", ""
    ),
    "azure_sas_url": _token_shape(
        lambda s: f"https://acct.blob.core.windows.net/c?sv=1&sig={s}", "/+="
    ),
    "bearer": _token_shape(lambda s: f"Authorization: Bearer {s}", "/+"),
    "basic_auth": tokens("/@+=").map(_basic),
    "mongodb_srv": _token_shape(
        lambda s: f"mongodb+srv://app:{s}@cluster0.abcd.mongodb.net/prod?retryWrites=true",
        "/@+=",
    ),
    "sqlserver_password": _token_shape(
        lambda s: f"jdbc:sqlserver://db:1433;databaseName=dw;user=etl;password={s};encrypt=true",
        "/@+=",
    ),
    "kafka_jaas": _token_shape(
        lambda s: f'PlainLoginModule required username="svc" password="{s}";', "/@+="
    ),
    "azure_account_key_conf": _token_shape(
        lambda s: f"spark.hadoop.fs.azure.account.key.acct.dfs.core.windows.net={s}", "/+="
    ),
    "api_key_query": _token_shape(
        lambda s: f"https://api.example.com/v1/export?api_key={s}&page=2", ""
    ),
    "passphrase": _token_shape(lambda s: f"sftp.passphrase={s}", "/@+="),
    "token_as_url_user": _token_shape(lambda s: f"https://{s}@github.com/acme/etl.git", ""),
    "redis_no_user": _token_shape(lambda s: f"redis://:{s}@cache.internal:6379/0", "/@+="),
    "access_key_id": access_key_ids.map(lambda k: (f"using {k} for s3://b/", needles_of(k))),
    "secret_access_key": secret_access_keys.map(lambda k: (k, needles_of(k))),
    "aws_key_pair": st.tuples(access_key_ids, secret_access_keys).map(
        lambda p: (f"aws_access_key_id={p[0]} {p[1]}", needles_of(p[0]) + needles_of(p[1]))
    ),
}
# a bare secret, for keys whose name says it is one
RAW_SECRETS: st.SearchStrategy[Leak] = st.one_of(
    tokens("/@+=").map(lambda s: (s, needles_of(s))),
    secret_access_keys.map(lambda k: (k, needles_of(k))),
)
SECRET_KEYS = [
    "--db_password",
    "--user-pw",
    "--snowflake_pw",
    "--pat",
    "--sig",
    "--apiToken",
    "--SECRET_KEY",
    "--jdbc-password",
    "--client_secret",
    "--aws_secret_access_key",
    "--kafka.sasl.jaas.config",
]
INNOCENT_KEYS = ["--conf", "--connection_options", "--extra", "--url"]
ERROR_PREFIXES = [
    "An error occurred while calling o12.load: FATAL: password authentication failed for ",
    "py4j.protocol.Py4JJavaError: java.sql.SQLException: cannot connect to ",
    "Command failed with exit code 1 - ",
    "ERROR: job failed\nCaused by: ",
]

# where a secret is planted: a place taking a bare secret under a secret-named key, or free text
KEYED_PLACES = [
    "job.DefaultArguments[secret key]",
    "job.NonOverridableArguments[secret key]",
    "run.Arguments[secret key]",
    "eventlog.spark.glue.<secret key>",
    "eventlog.spark.hadoop.fs.s3a.secret.key",
]
TEXT_PLACES = [
    "job.DefaultArguments[innocent key]",
    "job.NonOverridableArguments[innocent key]",
    "run.Arguments[innocent key]",
    "run.ErrorMessage",
    "job.<wrong-typed field>",
    "run.<wrong-typed field>",
    "eventlog.spark.glue.<innocent key>",
    "eventlog.task failure",
    "eventlog.stage Failure Reason",
    "eventlog.job failure",
    "eventlog.executor Removed Reason",
    "eventlog.sql description and error",
    "eventlog.app name",
    "eventlog.damaged line",
    "eventlog.non-object line",
    "eventlog.wrong-typed field",
    "metric.Label",
]
# free text the event-log reducer keeps (and cuts to its first line, 200 or 300 characters)
EVENTLOG_TEXT_PLACES = [
    "eventlog.task failure",
    "eventlog.stage Failure Reason",
    "eventlog.job failure",
    "eventlog.executor Removed Reason",
    "eventlog.sql description and error",
    "eventlog.app name",
]
# Spark's failure messages are long: a secret may straddle where the reducer cuts them
LONG_SPARK_PREFIX = (
    "Job aborted due to stage failure: Task 3 in stage 0.0 failed 4 times, most recent failure: "
    "Lost task 3.3 in stage 0.0 (TID 12) (172.35.10.4 executor 2): java.sql.SQLException: "
    "[Amazon](500150) Error setting/closing connection: Connection refused. at "
    "com.amazon.redshift.client.PGClient.connect(Unknown Source) while opening url="
).ljust(300, ".")
# cut anywhere, but never glued to the secret: a secret run into the word before it
# ("java.sqZk00...Q9") is one token no redactor can tell apart from its neighbour
EVENTLOG_PREFIXES = [
    "",
    *(
        p + " " if p[-1].isalnum() else p
        for p in (LONG_SPARK_PREFIX[:n] for n in (160, 185, 240, 265, 280))
    ),
]
LIST_PLACES = [
    "job.DefaultArguments as a list",
    "run.Arguments as a list",
    "run.Arguments as a string",
]
JOB_NUMBER_FIELDS = ["NumberOfWorkers", "Timeout", "MaxCapacity", "MaxRetries", "Command"]
RUN_NUMBER_FIELDS = ["NumberOfWorkers", "ExecutionTime", "DPUSeconds", "StartedOn", "Attempt"]


@dataclass(frozen=True)
class Plant:
    place: str
    shape: str
    key: str
    text: str
    needles: tuple[str, ...]


@st.composite
def plants(draw: st.DrawFn) -> Plant:
    place = draw(st.sampled_from(KEYED_PLACES + TEXT_PLACES + LIST_PLACES))
    if place in KEYED_PLACES or place in LIST_PLACES:
        shape, (text, needles) = "bare secret", draw(RAW_SECRETS)
        key = draw(st.sampled_from(SECRET_KEYS))
    else:
        shape = draw(st.sampled_from(sorted(SHAPES)))
        text, needles = draw(SHAPES[shape])
        if place.startswith("job.<wrong"):
            key = draw(st.sampled_from(JOB_NUMBER_FIELDS))
        elif place.startswith("run.<wrong"):
            key = draw(st.sampled_from(RUN_NUMBER_FIELDS))
        elif place == "run.ErrorMessage":
            key = draw(st.sampled_from(ERROR_PREFIXES))
        elif place in EVENTLOG_TEXT_PLACES:
            key = draw(st.sampled_from(EVENTLOG_PREFIXES))
        else:
            key = draw(st.sampled_from(INNOCENT_KEYS))
    return Plant(place, shape, key, text, tuple(needles))


# ---- hostile job names ---------------------------------------------------------------------

HOSTILE_NAMES = [
    "etl[/bold]",
    "[bold red]x[/]",
    "<script>alert(1)</script>",
    '<a href=x onclick="alert(1)">',
    "<img src=x onerror=alert(1)>",
    "=cmd|' /C calc'!A0",
    "+1-2",
    "-v",
    "@SUM(A1)",
    "del\x7fhere",  # DEL and the C1 controls are in Glue's name pattern (facts: names);
    "csi\x9b31mred",  # line breaks and other C0 controls are refused at the import
    "tab\there",
    "quote\"'`",
    "back\\slash\\",
    "[x](http://e)",
    "a|b|c",
    "**bold** _it_ `code`",
    "# heading",
    "{{ x }} ${HOME} %s %(x)s",
    "ünïcødé 名前 🚀",
    "x" * 255,
    " leading and trailing ",
]
glue_chars = st.characters(min_codepoint=0x20, exclude_categories=("Cs",)) | st.sampled_from(
    "\t\x7f\x85\x9b"
)
hostile_names = st.one_of(
    st.sampled_from(HOSTILE_NAMES),
    st.text(glue_chars, min_size=1, max_size=40),
    st.lists(st.sampled_from(HOSTILE_NAMES), min_size=2, max_size=3).map("".join),
).filter(lambda name: 0 < len(name) <= 255 and name != BROKEN_JOB and name.strip())
RAW_HTML = ["<script>alert(1)", "alert(1)</script>", "<a href=x", "<img src=x onerror"]


# ---- the import folder ----------------------------------------------------------------------


def ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def run_start(index: int) -> datetime:
    return FIRST_START + timedelta(days=2 * (RUNS - 1 - index))


def compact(event: dict[str, Any]) -> str:
    return json.dumps(event, separators=(",", ":"), ensure_ascii=False)


def event_log_lines(job: str, run_id: str, where: dict[str, list[Plant]]) -> list[str]:
    """A small Glue 4.0 event log: 2 executors x 4 cores, one job with one stage of 4 tasks,
    one SQL execution; planted text where the plants say."""
    start = ms(run_start(RUN_IDS.index(run_id)))

    def text(place: str, default: str) -> str:
        chosen = where.get(place)
        return " ; ".join(p.key + p.text for p in chosen) if chosen else default

    props = {
        "spark.master": "jes",
        "spark.executor.cores": "4",
        "spark.executor.memory": "10g",
        "spark.driver.memory": "10g",
        "spark.sql.shuffle.partitions": "200",
        "spark.app.name": "nativespark-" + job + "-" + run_id,
        "spark.glue.JOB_NAME": job,
        "spark.glue.JOB_RUN_ID": run_id,
        "spark.glue.--enable-metrics": "true",
    }
    for plant in where.get("eventlog.spark.glue.<secret key>", []):
        props["spark.glue." + plant.key] = plant.text
    for plant in where.get("eventlog.spark.hadoop.fs.s3a.secret.key", []):
        props["spark.hadoop.fs.s3a.secret.key"] = plant.text
    for plant in where.get("eventlog.spark.glue.<innocent key>", []):
        props["spark.glue." + plant.key] = plant.text
    stage = {
        "Stage ID": 0,
        "Stage Attempt ID": 0,
        "Stage Name": "load at NativeMethodAccessorImpl.java:0",
        "Number of Tasks": 4,
        "RDD Info": [],
        "Parent IDs": [],
        "Details": "",
        "Accumulables": [],
    }
    failed_stage = "eventlog.stage Failure Reason" in where
    failed_task = "eventlog.task failure" in where
    events: list[dict[str, Any]] = [
        {"Event": "SparkListenerLogStart", "Spark Version": "3.3.0-amzn-1"},
        {
            "Event": "SparkListenerApplicationStart",
            "App Name": text("eventlog.app name", "nativespark-" + job + "-" + run_id),
            "App ID": "spark-application-" + str(start),
            "Timestamp": start,
            "User": "spark",
        },
        {
            "Event": "SparkListenerEnvironmentUpdate",
            "JVM Information": {"Java Version": "17"},
            "Spark Properties": props,
            "Hadoop Properties": {},
            "System Properties": {"java.version": "17"},
            "Classpath Entries": {},
        },
    ]
    for executor in ("1", "2"):
        events.append(
            {
                "Event": "SparkListenerExecutorAdded",
                "Timestamp": start + 5_000,
                "Executor ID": executor,
                "Executor Info": {"Host": f"10.0.0.{executor}", "Total Cores": 4},
            }
        )
    events += [
        {
            "Event": "SparkListenerJobStart",
            "Job ID": 0,
            "Submission Time": start + 10_000,
            "Stage Infos": [stage],
            "Stage IDs": [0],
        },
        {
            "Event": "org.apache.spark.sql.execution.ui.SparkListenerSQLExecutionStart",
            "executionId": 0,
            "description": text("eventlog.sql description and error", "load orders"),
            "details": "",
            "physicalPlanDescription": "",
            "sparkPlanInfo": {
                "nodeName": "Scan",
                "simpleString": "",
                "children": [],
                "metrics": [],
            },
            "time": start + 9_000,
        },
        {
            "Event": "SparkListenerStageSubmitted",
            "Stage Info": {**stage, "Submission Time": start + 10_000},
        },
    ]
    for task in range(4):
        info = {
            "Task ID": task,
            "Index": task,
            "Attempt": 0,
            "Launch Time": start + 11_000,
            "Executor ID": str(task % 2 + 1),
            "Host": f"10.0.0.{task % 2 + 1}",
            "Locality": "PROCESS_LOCAL",
            "Speculative": False,
            "Getting Result Time": 0,
            "Finish Time": 0,
            "Failed": False,
            "Killed": False,
            "Accumulables": [],
        }
        events.append(
            {
                "Event": "SparkListenerTaskStart",
                "Stage ID": 0,
                "Stage Attempt ID": 0,
                "Task Info": info,
            }
        )
        fails = failed_task and task == 3
        reason: dict[str, Any] = {"Reason": "Success"}
        if fails:
            reason = {
                "Reason": "ExceptionFailure",
                "Class Name": "java.sql.SQLException",
                "Description": text("eventlog.task failure", ""),
                "Stack Trace": [],
                "Full Stack Trace": text("eventlog.task failure", ""),
                "Accumulator Updates": [],
            }
        events.append(
            {
                "Event": "SparkListenerTaskEnd",
                "Stage ID": 0,
                "Stage Attempt ID": 0,
                "Task Type": "ResultTask",
                "Task End Reason": reason,
                "Task Info": {**info, "Finish Time": start + 71_000, "Failed": fails},
                "Task Metrics": {
                    "Executor Deserialize Time": 5,
                    "Executor Deserialize CPU Time": 1_000_000,
                    "Executor Run Time": 60_000,
                    "Executor CPU Time": 50_000_000_000,
                    "Result Size": 1_000,
                    "JVM GC Time": 200,
                    "Result Serialization Time": 0,
                    "Memory Bytes Spilled": 0,
                    "Disk Bytes Spilled": 0,
                    "Peak Execution Memory": 1_000_000,
                    "Shuffle Read Metrics": {
                        "Remote Blocks Fetched": 0,
                        "Local Blocks Fetched": 0,
                        "Fetch Wait Time": 0,
                        "Remote Bytes Read": 0,
                        "Local Bytes Read": 0,
                        "Total Records Read": 0,
                    },
                    "Shuffle Write Metrics": {
                        "Shuffle Bytes Written": 0,
                        "Shuffle Write Time": 0,
                        "Shuffle Records Written": 0,
                    },
                    "Input Metrics": {"Bytes Read": 50_000_000, "Records Read": 100_000},
                    "Output Metrics": {"Bytes Written": 0, "Records Written": 0},
                    "Updated Blocks": [],
                },
            }
        )
    completed = {**stage, "Submission Time": start + 10_000, "Completion Time": start + 72_000}
    if failed_stage:
        completed["Failure Reason"] = text("eventlog.stage Failure Reason", "")
    events.append({"Event": "SparkListenerStageCompleted", "Stage Info": completed})
    job_result: dict[str, Any] = {"Result": "JobSucceeded"}
    if "eventlog.job failure" in where:
        job_result = {
            "Result": "JobFailed",
            "Exception": {"Message": text("eventlog.job failure", ""), "Stack Trace": []},
        }
    events += [
        {
            "Event": "SparkListenerJobEnd",
            "Job ID": 0,
            "Completion Time": start + 72_500,
            "Job Result": job_result,
        },
        {
            "Event": "org.apache.spark.sql.execution.ui.SparkListenerSQLExecutionEnd",
            "executionId": 0,
            "time": start + 73_000,
            **(
                {"errorMessage": text("eventlog.sql description and error", "")}
                if "eventlog.sql description and error" in where
                else {}
            ),
        },
    ]
    if "eventlog.executor Removed Reason" in where:
        events.append(
            {
                "Event": "SparkListenerExecutorRemoved",
                "Timestamp": start + 74_000,
                "Executor ID": "2",
                "Removed Reason": text("eventlog.executor Removed Reason", ""),
            }
        )
    events.append({"Event": "SparkListenerApplicationEnd", "Timestamp": start + 80_000})
    lines = [compact(e) for e in events]
    for plant in where.get("eventlog.damaged line", []):
        # a line cut short: the reader reports it with its first bytes
        lines.insert(3, '{"Event":"SparkListenerLogStart","x":' + json.dumps(plant.text)[:-1])
    for plant in where.get("eventlog.non-object line", []):
        # valid JSON, but not an event: the reader reports it with its first bytes
        lines.insert(3, json.dumps([plant.text]))
    for plant in where.get("eventlog.wrong-typed field", []):
        lines.insert(
            -1,
            compact(
                {
                    "Event": "SparkListenerJobEnd",
                    "Job ID": plant.text,
                    "Completion Time": start + 79_000,
                    "Job Result": {"Result": "JobSucceeded"},
                }
            ),
        )
    return lines


def build_folder(root: Path, job: str, chosen: list[Plant]) -> None:
    where: dict[str, list[Plant]] = {}
    for plant in chosen:
        where.setdefault(plant.place, []).append(plant)
    created = "2026-01-05T10:00:00+00:00"
    default_args = {
        "--enable-metrics": "true",
        "--enable-spark-ui": "true",
        "--spark-event-logs-path": "s3://acme-logs/spark/",
        "--job-language": "python",
        "--TempDir": "s3://acme-tmp/",
    }
    non_overridable: dict[str, str] = {}
    for plant in where.get("job.DefaultArguments[secret key]", []) + where.get(
        "job.DefaultArguments[innocent key]", []
    ):
        default_args[plant.key] = plant.text
    for plant in where.get("job.NonOverridableArguments[secret key]", []) + where.get(
        "job.NonOverridableArguments[innocent key]", []
    ):
        non_overridable[plant.key] = plant.text
    job_def = {
        "Name": job,
        "Description": "nightly orders",
        "Role": "arn:aws:iam::123456789012:role/GlueJobRole",
        "CreatedOn": created,
        "LastModifiedOn": created,
        "Command": {
            "Name": "glueetl",
            "ScriptLocation": "s3://acme-scripts/orders.py",
            "PythonVersion": "3",
        },
        "DefaultArguments": default_args,
        "NonOverridableArguments": non_overridable,
        "MaxRetries": 0,
        "Timeout": 120,
        "WorkerType": "G.1X",
        "NumberOfWorkers": 10,
        "GlueVersion": "4.0",
        "ExecutionClass": "STANDARD",
    }
    jobs = [job_def]
    for plant in where.get("job.<wrong-typed field>", []):
        jobs.append({**job_def, "Name": BROKEN_JOB, plant.key: plant.text})
    for plant in where.get("job.DefaultArguments as a list", []):
        jobs.append({**job_def, "Name": BROKEN_JOB, "DefaultArguments": [plant.key, plant.text]})

    run_args = {"--JOB_NAME": job, "--job-bookmark-option": "job-bookmark-disable"}
    for plant in where.get("run.Arguments[secret key]", []) + where.get(
        "run.Arguments[innocent key]", []
    ):
        run_args[plant.key] = plant.text
    runs = []
    for index, run_id in enumerate(RUN_IDS):
        started = run_start(index)
        run = {
            "Id": run_id,
            "Attempt": 0,
            "JobName": job,
            "StartedOn": started.isoformat(),
            "LastModifiedOn": (started + timedelta(seconds=EXECUTION_S + 30)).isoformat(),
            "CompletedOn": (started + timedelta(seconds=EXECUTION_S + 30)).isoformat(),
            "JobRunState": "SUCCEEDED",
            "Arguments": run_args,
            "PredecessorRuns": [],
            "AllocatedCapacity": 10,
            "ExecutionTime": EXECUTION_S,
            "Timeout": 120,
            "MaxCapacity": 10.0,
            "WorkerType": "G.1X",
            "NumberOfWorkers": 10,
            "LogGroupName": "/aws-glue/jobs",
            "GlueVersion": "4.0",
            "ExecutionClass": "STANDARD",
        }
        if run_id == FAILED:
            errors = where.get("run.ErrorMessage", [])
            run["JobRunState"] = "FAILED"
            run["ErrorMessage"] = (
                "\n".join(p.key + p.text for p in errors)
                if errors
                else "An error occurred while calling o99.save: Job aborted."
            )
        runs.append(run)
    bad = 0
    for plant in where.get("run.<wrong-typed field>", []):
        bad += 1
        runs.append({**runs[2], "Id": f"jr_bad_{bad}", plant.key: plant.text})
    for plant in where.get("run.Arguments as a list", []):
        bad += 1
        runs.append({**runs[2], "Id": f"jr_bad_{bad}", "Arguments": [plant.key, plant.text]})
    for plant in where.get("run.Arguments as a string", []):
        bad += 1
        runs.append({**runs[2], "Id": f"jr_bad_{bad}", "Arguments": f"{plant.key} {plant.text}"})

    (root / "job-runs").mkdir(parents=True)
    (root / "jobs.json").write_text(json.dumps({"Jobs": jobs}, ensure_ascii=False))
    (root / "job-runs" / "runs.json").write_text(json.dumps({"JobRuns": runs}, ensure_ascii=False))

    labels = where.get("metric.Label", [])
    metric_dir = root / "metrics" / NEWEST
    metric_dir.mkdir(parents=True)
    start = run_start(0)
    points = [
        {
            "Timestamp": (start + timedelta(minutes=m)).isoformat(),
            "Average": 0.4 + m / 100,
            "Maximum": 0.5 + m / 100,
            "Unit": "None",
        }
        for m in range(5)
    ]
    (metric_dir / "glue.driver.jvm.heap.usage.json").write_text(
        json.dumps(
            {
                "Label": " ".join(p.text for p in labels) or "glue.driver.jvm.heap.usage",
                "Datapoints": points,
            }
        )
    )
    log_dir = root / "eventlogs" / NEWEST
    log_dir.mkdir(parents=True)
    lines = event_log_lines(job, NEWEST, where)
    (log_dir / "spark-application-1").write_text("\n".join(lines) + "\n", encoding="utf-8")


# ---- running everything ---------------------------------------------------------------------


@dataclass
class Sinks:
    """Everything the pipeline wrote: name -> text or bytes."""

    texts: dict[str, str] = field(default_factory=dict)
    blobs: dict[str, bytes] = field(default_factory=dict)
    broken: list[str] = field(default_factory=list)  # outputs that crashed or exited badly


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.lines.append(record.getMessage())
        except Exception:  # a record that cannot format is kept as it came
            self.lines.append(repr(record.msg) + repr(record.args))


def _store_files(db: Path) -> dict[str, bytes]:
    found = {}
    for suffix in ("", "-wal", "-shm", "-journal"):
        path = Path(str(db) + suffix)
        if path.exists():
            found[path.name] = path.read_bytes()
    return found


def _dashboard_texts(db: Path, job: str) -> dict[str, str]:
    """What the dashboard would send to the browser, built by its pure functions."""
    import plotly.utils

    from advisor.report.labels import csv_safe
    from advisor.store import Store
    from dashboards import app as dash_app
    from dashboards import data, figures

    def dump(value: Any) -> str:
        return json.dumps(value, cls=plotly.utils.PlotlyJSONEncoder, ensure_ascii=False)

    texts = {}
    store = Store(db)
    try:
        texts["dashboard overview"] = dump(dash_app.overview(store))
        texts["dashboard jobs"] = dump(dash_app.jobs_page(store))
        texts["dashboard job page"] = dump(dash_app.job_page(store, job))
        texts["dashboard findings page"] = dump(dash_app.findings_page(store))
        frame = data.findings(store)
        texts["dashboard findings rows"] = dump(frame.to_dict("records") if not frame.empty else [])
        buffer = io.StringIO()
        frame.map(csv_safe).to_csv(buffer, index=False)
        texts["dashboard findings csv"] = buffer.getvalue()
        series = data.cost_over_time(store, "job_name")  # the chart that names jobs
        texts["dashboard cost by job"] = dump(
            figures.stacked_cost(series, data.DIMENSIONS["job_name"])
        )
    finally:
        store.close()
    return texts


def run_everything(root: Path, job: str) -> Sinks:
    """Import, analyse, then every output; the store's bytes before and after it is closed."""
    sinks = Sinks()
    db = root.parent / "a.db"
    out = root.parent / "out"
    out.mkdir()
    runner = CliRunner()
    keep: list[Any] = []  # results hold the commands' frames, so their connections stay open
    capture = _Capture()
    logging.getLogger().addHandler(capture)
    keeper: sqlite3.Connection | None = None
    log_file = str(root / "eventlogs" / NEWEST / "spark-application-1")

    def cli(name: str, *args: str, codes: tuple[int, ...] = (0, 4)) -> str:
        result = runner.invoke(main, list(args), catch_exceptions=True)
        keep.append(result)
        text = result.stdout + "\n" + result.stderr
        sinks.texts[name] = text
        crashed = result.exception is not None and not isinstance(result.exception, SystemExit)
        if crashed or result.exit_code not in codes:
            detail = "".join(traceback.format_exception(*result.exc_info)) if crashed else ""
            sinks.broken.append(f"{name}: exit {result.exit_code}\n{text[-1500:]}\n{detail}")
        return result.stdout

    def files(name: str, path: Path) -> None:
        if path.exists():
            sinks.blobs[name] = path.read_bytes()
        else:
            sinks.broken.append(f"{name}: {path.name} was not written")

    try:
        keeper = sqlite3.connect(db)  # holds the WAL open, so it is read before any checkpoint
        d = ["--db", str(db)]
        cli("import", "import", *d, str(root))
        keeper.execute("select count(*) from sqlite_master").fetchall()
        cli("import --format json", "import", *d, "--format", "json", str(root))
        cli("analyze", "analyze", *d)
        for fmt in ("text", "json"):
            cli(f"costs {fmt}", "costs", *d, "--since", "all", "--format", fmt)
            cli(f"errors {fmt}", "errors", *d, "--format", fmt)
        for fmt in ("text", "markdown", "json"):
            cli(f"recommend {fmt}", "recommend", *d, "--format", fmt, "--", job)
            cli(
                f"recommend --run-id {fmt}",
                "recommend",
                *d,
                "--format",
                fmt,
                "--run-id",
                FAILED,
                "--",
                job,
            )
        for fmt, suffix in (("html", "html"), ("markdown", "md"), ("csv", "csv"), ("json", "json")):
            if fmt != "html":  # html without --out writes into the current folder
                cli(f"report {fmt} (stdout)", "report", *d, "--format", fmt)
            target = out / f"report.{suffix}"
            cli(f"report {fmt}", "report", *d, "--format", fmt, "--out", str(target))
            files(f"report {fmt} file", target)
        plot = out / "whatif.html"
        cli("whatif text", "whatif", *d, "--plot", str(plot), "--", job)
        files("whatif plot", plot)
        cli("whatif json", "whatif", *d, "--format", "json", "--", job)
        cli("whatif --eventlog", "whatif", "--eventlog", log_file, "--executors", "3")
        cli(
            "whatif --eventlog json",
            "whatif",
            "--eventlog",
            log_file,
            "--executors",
            "3",
            "--format",
            "json",
        )
        cli("eventlog summarize", "eventlog", "summarize", log_file)
        cli("eventlog summarize json", "eventlog", "summarize", "--format", "json", log_file)
        try:
            sinks.texts.update(_dashboard_texts(db, job))
        except Exception:  # a crash is reported with the rest
            sinks.broken.append("dashboard:\n" + traceback.format_exc())
        for name, blob in _store_files(db).items():
            sinks.blobs[f"{name} (open)"] = blob
    finally:
        logging.getLogger().removeHandler(capture)
        if keeper is not None:
            keeper.close()
        keep.clear()
        gc.collect()  # the commands' connections close: the last one checkpoints the WAL
    for name, blob in _store_files(db).items():
        sinks.blobs[f"{name} (closed)"] = blob
    sinks.texts["log records"] = "\n".join(capture.lines)
    return sinks


def leaks(sinks: Sinks, needles: list[str]) -> list[str]:
    found = []
    for needle in needles:
        raw = needle.encode()
        found += [f"{needle!r} in {n}" for n, text in sinks.texts.items() if needle in text]
        found += [f"{needle!r} in {n}" for n, blob in sinks.blobs.items() if raw in blob]
    return found


def hostile_html(sinks: Sinks, job: str) -> list[str]:
    """Markup from the job name reaches HTML outputs escaped (plotly's own <script> blocks
    are the page's, not data)."""
    problems = []
    for name in ("report html file", "whatif plot"):
        page = sinks.blobs.get(name, b"").decode("utf-8", "replace")
        problems += [
            f"{name} holds {raw!r} from the job name unescaped"
            for raw in RAW_HTML
            if raw in job and raw in page
        ]
    return problems


def csv_formulas(sinks: Sinks) -> list[str]:
    """A cell that a spreadsheet would run as a formula (OWASP CSV injection)."""
    problems = []
    for name in ("report csv file", "dashboard findings csv"):
        text = sinks.texts.get(name) or sinks.blobs.get(name, b"").decode("utf-8", "replace")
        for row in csv.reader(io.StringIO(text, newline="")):
            for cell in row:
                number = re.fullmatch(r"-[0-9.eE+-]+", cell)
                if cell.startswith(("=", "+", "@", "\t", "\r", "-")) and not number:
                    problems.append(f"{name}: cell {cell!r} starts a formula")
    return problems


# about 2 s an example (import, analyze, 30 outputs): the file runs in about a minute
SETTINGS = settings(
    max_examples=16,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
HOSTILE_SETTINGS = settings(SETTINGS, max_examples=10)


def _pipeline(job: str, chosen: list[Plant]) -> Sinks:
    tmp = Path(tempfile.mkdtemp(prefix="secrets-"))
    try:
        root = tmp / "fleet"
        build_folder(root, job, chosen)
        return run_everything(root, job)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@SETTINGS
@given(chosen=st.lists(plants(), min_size=1, max_size=4))
def test_no_planted_secret_reaches_the_store_or_any_output(chosen):
    sinks = _pipeline(JOB, chosen)
    needles = sorted({n for p in chosen for n in p.needles})
    found = leaks(sinks, needles)
    planted = "\n".join(f"  {p.place} [{p.key}] {p.shape}: {p.text!r}" for p in chosen)
    assert not found, "secret leaked:\n  " + "\n  ".join(found) + "\nplanted:\n" + planted
    assert not sinks.broken, "an output failed:\n" + "\n".join(sinks.broken)


@HOSTILE_SETTINGS
@given(job=hostile_names)
def test_hostile_job_names_never_break_an_output(job):
    sinks = _pipeline(job, [])
    assert not sinks.broken, f"job {job!r}: an output failed:\n" + "\n".join(sinks.broken)
    problems = hostile_html(sinks, job) + csv_formulas(sinks)
    assert not problems, f"job {job!r}:\n" + "\n".join(problems)
