"""Read a job's live definition (GetJob) through the advisor's read-only guarded clients.

Every failure becomes a LiveError with one clear line and an exit code (2: the job or the
profile does not exist; 1: anything else), never a traceback.
"""

from __future__ import annotations

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

from advisor.collect.aws import ACCESS_DENIED_CODES, AwsClients

DEFAULT_REGION = "us-east-1"  # what `advisor collect` falls back to
# botocore logs whole response bodies at DEBUG: GetJob's holds the job's live secrets
BODY_LOGGERS = ("botocore.parsers", "botocore.endpoint", "botocore.hooks")


class LiveError(Exception):
    def __init__(self, message: str, exit_code: int = 1):
        super().__init__(message)
        self.exit_code = exit_code


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


def fetch_job(
    job_name: str,
    *,
    region: str,
    profile: str | None = None,
    endpoint_url: str | None = None,
) -> dict[str, Any]:
    """The Job structure GetJob returns now."""
    try:
        clients = AwsClients(region, profile=profile, endpoint_url=endpoint_url, max_attempts=3)
        with _bodies_unlogged():
            return clients.glue.get_job(JobName=job_name)["Job"]
    except ClientError as exc:
        error = exc.response.get("Error", {})
        code = error.get("Code", "")
        if code == "EntityNotFoundException":
            raise LiveError(f"job {job_name!r} not found in {region} (GetJob)", 2) from None
        if code in ACCESS_DENIED_CODES:
            raise LiveError(
                f"access denied for glue:GetJob on {job_name!r} in {region} ({code})", 1
            ) from None
        raise LiveError(f"GetJob failed: {code}: {error.get('Message', '')}", 1) from None
    except ProfileNotFound as exc:
        raise LiveError(f"AWS profile not found: {exc}", 2) from None
    except (NoCredentialsError, PartialCredentialsError):
        raise LiveError(
            "no AWS credentials: use --profile, or set AWS_PROFILE / AWS_ACCESS_KEY_ID", 1
        ) from None
    except NoRegionError:
        raise LiveError("no AWS region: use --region", 2) from None
    except (EndpointConnectionError, ConnectTimeoutError, ReadTimeoutError) as exc:
        raise LiveError(f"cannot reach the Glue endpoint: {exc}", 1) from None
    except BotoCoreError as exc:
        raise LiveError(f"GetJob failed: {exc}", 1) from None
    except ValueError as exc:  # botocore's check of --endpoint-url / AWS_ENDPOINT_URL
        raise LiveError(f"cannot use the endpoint: {exc}", 1) from None


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
