"""The sources that record what they skipped (the `source` of ingest_errors rows), in one place
so `advisor errors --source` and the MCP `errors` tool accept the same ones."""

from __future__ import annotations

ERROR_SOURCES: tuple[str, ...] = (
    "glue",  # the Glue collector: jobs, runs, crawlers, sessions, endpoints
    "cloudwatch",  # run metrics
    "s3",  # event logs fetched from S3
    "eventlog",  # event logs reduced but not yet linked to a run
    "import",  # the offline import (`advisor import DIR`)
    "sts",  # accounts a collect could not enter (AssumeRole, GetCallerIdentity)
    "organizations",  # accounts a collect could not list
    "billing",  # billing exports read from S3 (`advisor collect --billing`)
)
