"""Test helpers for AWS: a Glue fleet seeded into moto's server, and an HTTP fault layer.

moto 5.2 returns job runs oldest first, never sets DPUSeconds/ExecutionClass/ErrorMessage and
hard-codes ExecutionTime and GlueVersion. AwsLikeJobRun fills those fields the way AWS does and
`aws_order` makes GetJobRuns newest first, as AWS documents, so the collector is tested
against the real contract. Faults are real HTTP error responses, built in each service's own
protocol, returned from botocore's `before-send` hook so botocore's retry logic handles them.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import orjson
from botocore.awsrequest import AWSResponse
from moto.core import DEFAULT_ACCOUNT_ID
from moto.glue.models import FakeJob, FakeJobRun, glue_backends

REGION = "us-east-1"
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
SECRET = "hunter2-do-not-store"


class AwsLikeJobRun(FakeJobRun):
    """A job run with the fields and fixed state real Glue returns."""

    def __init__(
        self,
        job: FakeJob,
        run_id: str,
        started: datetime,
        state: str,
        execution_s: int,
        extra: dict[str, Any],
    ):
        super().__init__(
            job_name=job.name,
            arguments=extra.pop("Arguments", None),
            worker_type=job.worker_type,
            number_of_workers=job.number_of_workers,
            allocated_capacity=None,
            max_capacity=None,
            timeout=job.timeout,
        )
        self.job_run_id = run_id
        self.started_on = started
        self.completed_on = started + timedelta(seconds=execution_s + 15)
        self.modified_on = self.completed_on
        self.fixed_state = state
        self.execution_s = execution_s
        self.glue_version = job.glue_version
        self.extra = extra

    @property
    def status(self) -> str:
        return self.fixed_state

    @status.setter
    def status(self, value: str) -> None:
        self.fixed_state = value

    def as_dict(self) -> dict[str, Any]:
        data = super().as_dict()
        data.pop("AllocatedCapacity", None)
        data.pop("MaxCapacity", None)
        data.pop("PreviousRunId", None)
        data.update(
            {
                "ExecutionTime": self.execution_s,
                "GlueVersion": self.glue_version,
                "JobRunState": self.fixed_state,
                **self.extra,
            }
        )
        if self.fixed_state in ("RUNNING", "STARTING"):
            data.pop("CompletedOn", None)
        return data


def aws_order(self: FakeJob) -> list[FakeJobRun]:
    return sorted(self.job_runs, key=lambda run: run.started_on, reverse=True)


def run_id_for(job: str, index: int) -> str:
    return "jr_" + hashlib.sha256(f"{job}|{index}".encode()).hexdigest()


def session(region: str = REGION) -> boto3.Session:
    return boto3.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=region
    )


@dataclass
class Fleet:
    endpoint: str
    runs: dict[str, list[str]] = field(default_factory=dict)

    def backend_job(self, name: str) -> FakeJob:
        return glue_backends[DEFAULT_ACCOUNT_ID][REGION].jobs[name]

    def create_jobs(self, count: int, prefix: str = "job") -> list[str]:
        glue = session().client("glue", endpoint_url=self.endpoint)
        names = []
        for i in range(count):
            name = f"{prefix}_{i:03d}"
            glue.create_job(
                Name=name,
                Role="arn:aws:iam::123456789012:role/glue",
                Command={"Name": "glueetl", "ScriptLocation": f"s3://scripts/{name}.py"},
                DefaultArguments={
                    "--enable-metrics": "true",
                    "--db-password": SECRET,
                    "--conf": f"spark.hadoop.fs.s3a.secret.key={SECRET}",
                },
                GlueVersion="4.0",
                WorkerType="G.1X",
                NumberOfWorkers=2 + i % 9,
                Timeout=120,
            )
            names.append(name)
            self.runs[name] = []
        return names

    def create_job(self, name: str, arguments: dict[str, str]) -> None:
        glue = session().client("glue", endpoint_url=self.endpoint)
        glue.create_job(
            Name=name,
            Role="arn:aws:iam::123456789012:role/glue",
            Command={"Name": "glueetl", "ScriptLocation": f"s3://scripts/{name}.py"},
            DefaultArguments=arguments,
            GlueVersion="4.0",
            WorkerType="G.1X",
            NumberOfWorkers=4,
        )
        self.runs[name] = []

    def add_run(
        self, job: str, run_id: str, started: datetime, execution_s: int, state: str = "SUCCEEDED"
    ) -> None:
        fake = self.backend_job(job)
        fake.job_runs.append(
            AwsLikeJobRun(fake, run_id, started, state, execution_s, {"Attempt": 0})
        )
        self.runs[job].append(run_id)

    def add_runs(
        self,
        job: str,
        count: int,
        *,
        state: str = "SUCCEEDED",
        end: datetime = NOW,
        spacing: timedelta = timedelta(hours=1),
    ) -> list[str]:
        """Append `count` runs, the newest starting `spacing` before `end`."""
        fake = self.backend_job(job)
        rng = random.Random(f"{job}|{len(self.runs[job])}")
        added = []
        for k in range(count):
            index = len(self.runs[job])
            started = end - spacing * (count - k)
            failed = state == "SUCCEEDED" and rng.random() < 0.1
            extra: dict[str, Any] = {
                "Attempt": 0,
                "Arguments": {"--run_date": started.date().isoformat(), "--api-token": SECRET},
            }
            if failed:
                extra["ErrorMessage"] = (
                    f"java.sql.SQLException: connect failed for jdbc:mysql://etl:{SECRET}@db:3306/x"
                )
            run = AwsLikeJobRun(
                fake,
                run_id_for(job, index),
                started,
                "FAILED" if failed else state,
                300 + rng.randint(0, 900),
                extra,
            )
            fake.job_runs.append(run)
            self.runs[job].append(run.job_run_id)
            added.append(run.job_run_id)
        return added

    def set_state(self, job: str, run_id: str, state: str) -> None:
        for run in self.backend_job(job).job_runs:
            if run.job_run_id == run_id:
                run.status = state

    def put_metrics(self, job: str, run_ids: list[str]) -> int:
        """Heap (gauge) and bytes read (count) every minute of each run, as Glue emits them."""
        cw = session().client("cloudwatch", endpoint_url=self.endpoint)
        runs = {r.job_run_id: r for r in self.backend_job(job).job_runs}
        points = 0
        for run_id in run_ids:
            run = runs[run_id]
            data = []
            minutes = max(1, run.execution_s // 60)
            for m in range(minutes):
                stamp = run.started_on + timedelta(minutes=m, seconds=30)
                for name, kind, value in (
                    ("glue.driver.jvm.heap.usage", "gauge", 0.3 + m / 100),
                    ("glue.driver.aggregate.bytesRead", "count", 1e6 * m),
                ):
                    data.append(
                        {
                            "MetricName": name,
                            "Timestamp": stamp,
                            "Value": value,
                            "Dimensions": [
                                {"Name": "JobName", "Value": job},
                                {"Name": "JobRunId", "Value": run_id},
                                {"Name": "Type", "Value": kind},
                            ],
                        }
                    )
            for i in range(0, len(data), 500):
                cw.put_metric_data(Namespace="Glue", MetricData=data[i : i + 500])
            points += len(data)
        return points


# ---- faults ----------------------------------------------------------------------------------


def _cbor_text(text: str) -> bytes:
    raw = text.encode()
    return (bytes([0x60 + len(raw)]) if len(raw) < 24 else bytes([0x78, len(raw)])) + raw


def _cbor_map(values: dict[str, str]) -> bytes:
    out = bytes([0xA0 + len(values)])
    for key, value in values.items():
        out += _cbor_text(key) + _cbor_text(value)
    return out


class RawBody:
    """A canned HTTP body, as botocore reads a real one."""

    def __init__(self, body: bytes):
        self.body = body

    def stream(self, **_: Any):
        yield self.body

    def read(self, *_: Any) -> bytes:
        return self.body


class SimulatedCrash(BaseException):
    """The process dies mid-collection (not an Exception: nothing may catch it)."""


def wire_protocol(request: Any) -> str:
    """How this request is encoded (botocore picks per service and version), from its headers."""
    headers = {k.lower(): v for k, v in request.headers.items()}
    if "smithy-protocol" in headers:
        return "smithy-rpc-v2-cbor"
    if "x-amz-target" in headers:
        return "json"
    return "xml"


def error_response(request: Any, code: str, message: str) -> AWSResponse:
    """A real AWS error response, encoded the way the request's protocol expects."""
    protocol = wire_protocol(request)
    if protocol == "smithy-rpc-v2-cbor":
        body = _cbor_map({"__type": code, "message": message})
        headers = {"smithy-protocol": "rpc-v2-cbor", "Content-Type": "application/cbor"}
    elif protocol == "json":
        body = orjson.dumps({"__type": code, "message": message})
        headers = {"x-amzn-ErrorType": code, "Content-Type": "application/x-amz-json-1.1"}
    else:
        body = (f"<Error><Code>{code}</Code><Message>{message}</Message></Error>").encode()
        sent = request.body or b""
        if b"Action=" in (sent.encode() if isinstance(sent, str) else bytes(sent)):
            # the query protocol (STS, Organizations' older kin) wraps it in ErrorResponse
            body = b"<ErrorResponse>" + body + b"</ErrorResponse>"
        headers = {"Content-Type": "application/xml"}
    return AWSResponse(request.url, 400, headers, RawBody(body))


@dataclass
class FaultLayer:
    """Counts every request and answers some with faults, deterministically."""

    throttle_rate: float = 0.0
    crash_at: int | None = None
    deny: tuple[str, ...] = ()  # services answered with AccessDeniedException
    seed: int = 7
    sent: int = 0
    throttled: int = 0
    operations: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    def install(self, boto_session: boto3.Session) -> boto3.Session:
        events = boto_session._session.get_component("event_emitter")
        events.register("before-call", self._record_call)
        events.register("before-send", self._before_send)
        return boto_session

    def _record_call(self, model: Any, **_: Any) -> None:
        self.operations.append(f"{model.service_model.service_name}:{model.name}")

    def _before_send(self, request: Any, event_name: str, **_: Any) -> AWSResponse | None:
        service = event_name.split(".")[1]
        self.sent += 1
        if self.crash_at is not None and self.sent == self.crash_at:
            raise SimulatedCrash(f"crash at request {self.sent}")
        if service in self.deny:
            return error_response(
                request, "AccessDeniedException", "User is not authorized to perform this action"
            )
        if self.throttle_rate and self.rng.random() < self.throttle_rate:
            self.throttled += 1
            return error_response(request, "ThrottlingException", "Rate exceeded")
        return None
