"""Read a job's live definition (GetJob) through read-only guarded clients, as the right account.

A job is (account, region, name): GetJob goes to the job's own region, and before it is sent
the credentials' account (sts:GetCallerIdentity) must be the job's, so a fix never reads (or
prints) the job of the same name in another account. `--role-arn` assumes a role in the job's
account first, with a session policy that allows nothing but glue:GetJob.

The clients' guard allows only FIX_OPERATIONS (a subset of the collectors' read-only list), so
a fix can never call UpdateJob, nor anything else. Every failure becomes a LiveError with one
clear line and an exit code (2: the job, the profile or the account is wrong; 1: anything
else), never a traceback.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ProfileNotFound,
    ReadTimeoutError,
)

from advisor.collect.aws import ACCESS_DENIED_CODES, AwsClients, ReadOnlyViolation, is_read_only

DEFAULT_REGION = "us-east-1"  # what `advisor collect` falls back to
# botocore logs whole response bodies at DEBUG: GetJob's holds the job's live secrets
BODY_LOGGERS = ("botocore.parsers", "botocore.endpoint", "botocore.hooks")
# everything a fix may call: read the job, say whose credentials these are, assume a role
FIX_OPERATIONS: dict[str, frozenset[str]] = {
    "glue": frozenset({"GetJob"}),
    "sts": frozenset({"GetCallerIdentity", "AssumeRole"}),
}
ROLE_SESSION_NAME = "glue-advisor-fix"
ROLE_SESSION_SECONDS = 900  # AssumeRole's minimum: a fix takes seconds
# the assumed session may only read jobs, whatever the role itself allows
# (sts:GetCallerIdentity needs no permission)
SESSION_POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": ["glue:GetJob"], "Resource": "*"}],
    }
)
_SERVICE_NAMES = {"glue": "Glue", "sts": "STS"}


class LiveError(Exception):
    def __init__(self, message: str, exit_code: int = 1):
        super().__init__(message)
        self.exit_code = exit_code


class FixClients(AwsClients):
    """The advisor's guarded clients, allowed only what a fix needs (FIX_OPERATIONS)."""

    def _before_call(self, model: Any, **kwargs: Any) -> None:
        service = model.service_model.service_name
        if model.name not in FIX_OPERATIONS.get(service, frozenset()):
            raise ReadOnlyViolation(f"{service}:{model.name} is not an operation a fix may call")
        super()._before_call(model=model, **kwargs)


def fix_operations_are_read_only() -> bool:
    return all(is_read_only(s, op) for s, ops in FIX_OPERATIONS.items() for op in ops)


def resolve_region(region: str | None, stored: str | None, profile: str | None) -> str:
    """--region, then the region the job was collected from, then the profile's, then default."""
    if region:
        return region
    if stored:
        return stored
    try:
        return boto3.Session(profile_name=profile).region_name or DEFAULT_REGION
    except ProfileNotFound as exc:
        raise LiveError(f"AWS profile not found: {exc}", 2) from None


@contextmanager
def _aws_errors(operation: str, region: str, subject: str | None = None) -> Iterator[None]:
    """botocore's failures of `operation` ("glue:GetJob") as one-line LiveErrors."""
    service, _, action = operation.partition(":")
    on = f" on {subject!r}" if subject else ""
    try:
        yield
    except ClientError as exc:
        error = exc.response.get("Error", {})
        code = error.get("Code", "")
        if code == "EntityNotFoundException" and operation == "glue:GetJob":
            raise LiveError(f"job {subject!r} not found in {region} (GetJob)", 2) from None
        if code in ACCESS_DENIED_CODES:
            raise LiveError(f"access denied for {operation}{on} in {region} ({code})", 1) from None
        raise LiveError(f"{action} failed: {code}: {error.get('Message', '')}", 1) from None
    except ProfileNotFound as exc:
        raise LiveError(f"AWS profile not found: {exc}", 2) from None
    except (NoCredentialsError, PartialCredentialsError):
        raise LiveError(
            "no AWS credentials: use --profile, or set AWS_PROFILE / AWS_ACCESS_KEY_ID", 1
        ) from None
    except NoRegionError:
        raise LiveError("no AWS region: use --region", 2) from None
    except (EndpointConnectionError, ConnectTimeoutError, ReadTimeoutError) as exc:
        name = _SERVICE_NAMES.get(service, service)
        raise LiveError(f"cannot reach the {name} endpoint: {exc}", 1) from None
    except BotoCoreError as exc:
        raise LiveError(f"{action} failed: {exc}", 1) from None
    except ValueError as exc:  # botocore's check of --endpoint-url / AWS_ENDPOINT_URL
        raise LiveError(f"cannot use the endpoint: {exc}", 1) from None


def connect(
    region: str,
    *,
    profile: str | None = None,
    endpoint_url: str | None = None,
    role_arn: str | None = None,
) -> FixClients:
    """Clients in `region`: the profile's (or the chain's) credentials, or, with `role_arn`,
    that role's, assumed with them (session glue-advisor-fix, allowed only glue:GetJob)."""
    with _aws_errors("sts:AssumeRole", region, role_arn):
        clients = FixClients(region, profile=profile, endpoint_url=endpoint_url, max_attempts=3)
        if not role_arn:
            return clients
        answer = clients.sts.assume_role(
            RoleArn=role_arn,
            RoleSessionName=ROLE_SESSION_NAME,
            DurationSeconds=ROLE_SESSION_SECONDS,
            Policy=SESSION_POLICY,
        )["Credentials"]
    session = boto3.Session(
        aws_access_key_id=answer["AccessKeyId"],
        aws_secret_access_key=answer["SecretAccessKey"],
        aws_session_token=answer["SessionToken"],
        region_name=region,
    )
    return FixClients(region, endpoint_url=endpoint_url, max_attempts=3, session=session)


def caller_account(clients: AwsClients) -> str:
    """The account of the clients' credentials (sts:GetCallerIdentity, which needs no
    permission)."""
    with _aws_errors("sts:GetCallerIdentity", clients.region):
        return str(clients.sts.get_caller_identity()["Account"])


def fetch_job(clients: AwsClients, job_name: str) -> dict[str, Any]:
    """The Job structure GetJob returns now, `job_name` being the Glue name."""
    with _aws_errors("glue:GetJob", clients.region, job_name), _bodies_unlogged():
        return clients.glue.get_job(JobName=job_name)["Job"]


@contextmanager
def _bodies_unlogged() -> Iterator[None]:
    """Keep botocore's DEBUG logging (`advisor -vv`) from writing GetJob's body anywhere."""
    loggers = [logging.getLogger(name) for name in BODY_LOGGERS]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(max(logger.getEffectiveLevel(), logging.INFO))
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)
