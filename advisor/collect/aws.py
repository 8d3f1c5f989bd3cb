"""AWS clients for the collectors: botocore retries, a read-only guard and an API-call count.

The guard refuses, before anything is sent, any operation outside READ_ONLY_OPERATIONS, so a
bug can never make the advisor change an account. The same list is the README's IAM policy.
Every call is counted, with what AWS bills it by (requests, or metrics requested for
CloudWatch GetMetricData: advisor/collect/api_cost.py), so each collect knows its own bill.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import boto3
from botocore.config import Config

from advisor.collect.api_cost import billed_units
from advisor.collect.metrics import ADVISOR_METRICS

READ_ONLY_OPERATIONS: dict[str, frozenset[str]] = {
    "glue": frozenset(
        {
            "GetJobs",
            "GetJob",
            "GetJobRuns",
            "GetJobRun",
            # the other Glue costs: crawlers, interactive sessions, development endpoints
            "GetCrawlers",
            "GetCrawlerMetrics",
            "ListCrawls",
            "ListSessions",
            "GetDevEndpoints",
        }
    ),
    "cloudwatch": frozenset({"ListMetrics", "GetMetricData"}),
    # ListObjectsV2 needs s3:ListBucket; GetObject and HeadObject need s3:GetObject.
    "s3": frozenset({"ListObjectsV2", "GetObject", "HeadObject"}),
    # collecting other accounts: assume their read-only role; GetCallerIdentity (which needs
    # no permission) names the account of the current credentials
    "sts": frozenset({"AssumeRole", "GetCallerIdentity"}),
    "organizations": frozenset({"ListAccounts"}),
}
# what a member account's role must allow (the collectors' reads)
IAM_ACTIONS = (
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
    "s3:ListBucket",
    "s3:GetObject",
)
DEFAULT_ROLE_NAME = "GlueAdvisorReadOnly"
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


def is_read_only(service: str, operation: str) -> bool:
    return operation in READ_ONLY_OPERATIONS.get(service, frozenset())


class AwsClients:
    """One region's clients (Glue, CloudWatch, S3, STS, Organizations) of one set of credentials,
    sharing retries, guard and counters."""

    def __init__(
        self,
        region: str,
        *,
        profile: str | None = None,
        endpoint_url: str | None = None,
        retry_mode: str = "standard",
        max_attempts: int = 10,
        session: boto3.Session | None = None,
        metric_series: str = "all",
    ):
        self.region = region
        self.metric_series = metric_series
        self.calls: Counter[str] = Counter()  # service:Operation -> calls
        self.units: Counter[str] = Counter()  # service:Operation -> billed units
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
            # the parameters are seen before the call: what it bills by is counted from them
            client.meta.events.register("before-parameter-build.*.*", self._count_units)
            client.meta.events.register("before-call.*.*", self._before_call)
            self._clients[service] = client
        return self._clients[service]

    @property
    def glue(self) -> Any:
        return self.client("glue")

    @property
    def cloudwatch(self) -> Any:
        client = self.client("cloudwatch")
        return KnownSeriesOnly(client) if self.metric_series == "advisor" else client

    @property
    def s3(self) -> Any:
        return self.client("s3")

    @property
    def sts(self) -> Any:
        return self.client("sts")

    @property
    def organizations(self) -> Any:
        return self.client("organizations")

    def _count_units(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        service = model.service_model.service_name
        if is_read_only(service, model.name):  # a refused call is not sent, nor billed
            operation = f"{service}:{model.name}"
            self.units[operation] += billed_units(operation, params)

    def _before_call(self, model: Any, **_: Any) -> None:
        service = model.service_model.service_name
        if not is_read_only(service, model.name):
            raise ReadOnlyViolation(f"{service}:{model.name} is not a read-only operation")
        self.calls[f"{service}:{model.name}"] += 1


class KnownSeriesOnly:
    """A CloudWatch client whose ListMetrics answers hold only ADVISOR_METRICS: the collector
    asks GetMetricData for what ListMetrics lists, so it then asks for nothing else."""

    def __init__(self, client: Any):
        self._client = client

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def list_metrics(self, **kwargs: Any) -> dict[str, Any]:
        return _known_only(self._client.list_metrics(**kwargs))

    def get_paginator(self, operation: str) -> Any:
        paginator = self._client.get_paginator(operation)
        return _KnownPages(paginator) if operation == "list_metrics" else paginator


class _KnownPages:
    def __init__(self, paginator: Any):
        self._paginator = paginator

    def paginate(self, **kwargs: Any) -> Iterator[dict[str, Any]]:
        for page in self._paginator.paginate(**kwargs):
            yield _known_only(page)


def _known_only(page: dict[str, Any]) -> dict[str, Any]:
    metrics = page.get("Metrics", [])
    return {**page, "Metrics": [m for m in metrics if m.get("MetricName") in ADVISOR_METRICS]}


def read_only_statement(sid: str = "GlueAdvisorReadOnly") -> dict[str, Any]:
    """The collectors' reads: the whole policy of a member account's role."""
    return {"Sid": sid, "Effect": "Allow", "Action": list(IAM_ACTIONS), "Resource": "*"}


def iam_policy(role_name: str = DEFAULT_ROLE_NAME) -> dict[str, Any]:
    """The minimal IAM policy of the identity `advisor collect` runs as (printed by
    `advisor collect --print-policy`): the collectors' reads in its own account, and, to collect
    other accounts, assuming their `role_name` role and listing the organization's accounts."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            read_only_statement(),
            {
                "Sid": "GlueAdvisorAssumeMemberRoles",
                "Effect": "Allow",
                "Action": ["sts:AssumeRole"],
                "Resource": f"arn:aws:iam::*:role/{role_name}",
            },
            {
                "Sid": "GlueAdvisorListAccounts",
                "Effect": "Allow",
                "Action": ["organizations:ListAccounts"],
                "Resource": "*",
            },
        ],
    }
