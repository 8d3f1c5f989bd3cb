"""AWS clients for the collectors: botocore retries, a read-only guard and an API-call count.

The guard refuses, before anything is sent, any operation outside READ_ONLY_OPERATIONS, so a
bug can never make the advisor change an account. The same list is the README's IAM policy.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import boto3
from botocore.config import Config

READ_ONLY_OPERATIONS: dict[str, frozenset[str]] = {
    "glue": frozenset({"GetJobs", "GetJob", "GetJobRuns", "GetJobRun"}),
    "cloudwatch": frozenset({"ListMetrics", "GetMetricData"}),
    # ListObjectsV2 needs s3:ListBucket; GetObject and HeadObject need s3:GetObject.
    "s3": frozenset({"ListObjectsV2", "GetObject", "HeadObject"}),
}
IAM_ACTIONS = (
    "glue:GetJobs",
    "glue:GetJob",
    "glue:GetJobRuns",
    "glue:GetJobRun",
    "cloudwatch:ListMetrics",
    "cloudwatch:GetMetricData",
    "s3:ListBucket",
    "s3:GetObject",
)
ACCESS_DENIED_CODES = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "UnauthorizedOperation",
        "UnrecognizedClientException",
        "InvalidClientTokenId",
        "ExpiredToken",
        "ExpiredTokenException",
    }
)


class ReadOnlyViolation(RuntimeError):
    """An attempt to call an AWS operation that the advisor must never call."""


class AwsClients:
    """Glue, CloudWatch and S3 clients for one region, sharing retries, guard and counters."""

    def __init__(
        self,
        region: str,
        *,
        profile: str | None = None,
        endpoint_url: str | None = None,
        retry_mode: str = "standard",
        max_attempts: int = 10,
        session: boto3.Session | None = None,
    ):
        self.region = region
        self.calls: Counter[str] = Counter()
        self.session = session or boto3.Session(profile_name=profile, region_name=region)
        self._config = Config(
            region_name=region,
            retries={"mode": retry_mode, "max_attempts": max_attempts},
            user_agent_extra="glue-advisor",
            connect_timeout=10,
            read_timeout=60,
        )
        self._endpoint_url = endpoint_url
        self._clients: dict[str, Any] = {}

    def client(self, service: str) -> Any:
        if service not in self._clients:
            client = self.session.client(
                service, config=self._config, endpoint_url=self._endpoint_url
            )
            client.meta.events.register("before-call.*.*", self._before_call)
            self._clients[service] = client
        return self._clients[service]

    @property
    def glue(self) -> Any:
        return self.client("glue")

    @property
    def cloudwatch(self) -> Any:
        return self.client("cloudwatch")

    @property
    def s3(self) -> Any:
        return self.client("s3")

    def _before_call(self, model: Any, **_: Any) -> None:
        service = model.service_model.service_name
        if model.name not in READ_ONLY_OPERATIONS.get(service, frozenset()):
            raise ReadOnlyViolation(f"{service}:{model.name} is not a read-only operation")
        self.calls[f"{service}:{model.name}"] += 1


def iam_policy() -> dict[str, Any]:
    """The minimal IAM policy the collectors need (printed by `advisor collect --print-policy`)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "GlueAdvisorReadOnly",
                "Effect": "Allow",
                "Action": list(IAM_ACTIONS),
                "Resource": "*",
            }
        ],
    }
