"""Write the sample fleet's other Glue costs and its bill, so the demo shows `advisor reconcile`.

Writes, beside the jobs and runs generate_fleet.py writes:
  crawlers.json, crawls/<name>.json   aws glue get-crawlers / list-crawls
  sessions.json                       aws glue list-sessions
  dev-endpoints.json                  aws glue get-dev-endpoints
  billing/glue-2026-11.csv.gz         a Data Exports (CUR 2.0) export, daily lines, November

The bill is what AWS would charge for the sample's priced runs (the advisor's own computation:
run this after generate_fleet.py), with planted differences the demo explains:
  - a run of marketing_attribution AWS billed that the store lacks (2026-11-12),
  - a deleted job, legacy_orders_export, still billed in early November,
  - a crawler billed a little more than its crawls cost (a crawl older than the history kept),
  - (for the resource rules) a crawler re-crawling everything every four hours, one crawling
    every three hours for data that lands once a day, a session left to its default 2,880-minute
    idle timeout (on ten workers its Spark work did not need) and a development endpoint nobody
    deleted,
  - a credit, and a line of another service (S3), which is passed over.

Deterministic: `python sample_metrics/generate_billing.py` twice writes the same bytes.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import shutil
import sys
import tempfile
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from advisor.analysis.findings import analyze  # noqa: E402
from advisor.analysis.other_costs import costs_by_resource  # noqa: E402
from advisor.analysis.reconcile import spread_over_days  # noqa: E402
from advisor.collect.cur import EXPORT_COLUMNS  # noqa: E402
from advisor.collect.importer import import_directory  # noqa: E402
from advisor.identity import split_key  # noqa: E402
from advisor.store import Store  # noqa: E402
from advisor.timeutil import parse_ts  # noqa: E402

ACCOUNT, REGION = "123456789012", "us-east-1"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/GlueServiceRole"
MONTH, NEXT_MONTH = "2026-11-01", "2026-12-01"
END = datetime(2026, 11, 27, tzinfo=UTC)  # generate_fleet.FLEET_END
COLUMNS = EXPORT_COLUMNS


def stamp(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S+00:00")


def summary(partitions: int) -> str:
    """ListCrawls' Summary: what a crawl changed in the catalog, as JSON text."""
    return json.dumps({"PARTITION": {"ADD": {"Count": partitions}}, "TABLE": {}})


def crawls(
    first: datetime, every: timedelta, minutes: float, dpu_hours: float, changed_every: int = 1
) -> list[dict]:
    """Crawls from `first` to the fleet's end; one in `changed_every` finds new partitions."""
    out, at, index = [], first, 0
    while at < END:
        out.append(
            {
                "CrawlId": f"{index:08d}-0000-4000-8000-{int(at.timestamp()):012d}",
                "State": "COMPLETED",
                "StartTime": stamp(at),
                "EndTime": stamp(at + timedelta(minutes=minutes)),
                "DPUHour": dpu_hours,
                "Summary": summary(4 if index % changed_every == 0 else 0),
            }
        )
        at, index = at + every, index + 1
    return out


def write_resources() -> None:
    crawlers = [
        {
            # every four hours, re-crawling every folder of an append-only prefix
            "Name": "raw_events_crawler",
            "Role": ROLE,
            "DatabaseName": "raw",
            "Targets": {"S3Targets": [{"Path": "s3://example-lake/raw/events/"}]},
            "Schedule": {"ScheduleExpression": "cron(0 */4 * * ? *)", "State": "SCHEDULED"},
            "RecrawlPolicy": {"RecrawlBehavior": "CRAWL_EVERYTHING"},
            "SchemaChangePolicy": {"UpdateBehavior": "UPDATE_IN_DATABASE"},
            "State": "READY",
        },
        {
            "Name": "orders_crawler",
            "Role": ROLE,
            "DatabaseName": "sales",
            "Targets": {"S3Targets": [{"Path": "s3://example-lake/sales/orders/"}]},
            "Schedule": {"ScheduleExpression": "cron(30 2 * * ? *)", "State": "SCHEDULED"},
            "RecrawlPolicy": {"RecrawlBehavior": "CRAWL_NEW_FOLDERS_ONLY"},
            "State": "READY",
        },
        {
            # every three hours, for reference data that lands once a day
            "Name": "reference_data_crawler",
            "Role": ROLE,
            "DatabaseName": "reference",
            "Targets": {"S3Targets": [{"Path": "s3://example-lake/reference/"}]},
            "Schedule": {"ScheduleExpression": "cron(0 */3 * * ? *)", "State": "SCHEDULED"},
            "RecrawlPolicy": {"RecrawlBehavior": "CRAWL_NEW_FOLDERS_ONLY"},
            "State": "READY",
        },
    ]
    (HERE / "crawlers.json").write_text(json.dumps({"Crawlers": crawlers}, indent=1) + "\n")
    folder = HERE / "crawls"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    start = datetime(2026, 11, 1, tzinfo=UTC)
    for name, made in (
        ("raw_events_crawler", crawls(start, timedelta(hours=4), 26, 0.62)),
        (
            "orders_crawler",
            crawls(start + timedelta(hours=2, minutes=30), timedelta(days=1), 3, 0.05),
        ),
        # a 4-minute crawl of 0.1 DPU-hour, billed as ten minutes; one in eight finds data
        ("reference_data_crawler", crawls(start, timedelta(hours=3), 4, 0.1, changed_every=8)),
    ):
        (folder / f"{name}.json").write_text(json.dumps({"Crawls": made}) + "\n")
    sessions = [
        {
            # opened, used for an hour, then left until its default idle timeout ended it
            "Id": "notebook-alice-3f2a",
            "Role": ROLE,
            "Status": "STOPPED",
            "Command": {"Name": "glueetl", "PythonVersion": "3"},
            "GlueVersion": "4.0",
            "WorkerType": "G.1X",
            "NumberOfWorkers": 10,
            "IdleTimeout": 2880,
            # its %%configure wrote Spark event logs (eventlogs/notebook-alice-3f2a/, made by
            # generate_eventlogs.py): 10 workers for statements that never ran 4 tasks at once
            "DefaultArguments": {
                "--enable-spark-ui": "true",
                "--spark-event-logs-path": "s3://acme-glue-logs/sparkui/sessions/",
            },
            "CreatedOn": "2026-11-16T09:05:00+00:00",
            "CompletedOn": "2026-11-18T10:05:00+00:00",
            "ExecutionTime": 176400.0,
        },
        {
            "Id": "notebook-bob-91c0",
            "Role": ROLE,
            "Status": "STOPPED",
            "Command": {"Name": "glueetl", "PythonVersion": "3"},
            "GlueVersion": "4.0",
            "WorkerType": "G.1X",
            "NumberOfWorkers": 2,
            "IdleTimeout": 30,
            "CreatedOn": "2026-11-20T14:00:00+00:00",
            "CompletedOn": "2026-11-20T15:10:00+00:00",
            "ExecutionTime": 4200.0,
        },
    ]
    (HERE / "sessions.json").write_text(json.dumps({"Sessions": sessions}, indent=1) + "\n")
    endpoints = [
        {
            # a Glue 1.0 development endpoint nobody deleted
            "EndpointName": "legacy-dev-endpoint",
            "RoleArn": ROLE,
            "Status": "READY",
            "GlueVersion": "1.0",
            "WorkerType": "Standard",
            "NumberOfNodes": 5,
            "CreatedTimestamp": "2026-08-03T11:20:00+00:00",
            "LastModifiedTimestamp": "2026-08-03T11:32:00+00:00",
        }
    ]
    (HERE / "dev-endpoints.json").write_text(
        json.dumps({"DevEndpoints": endpoints}, indent=1) + "\n"
    )


def line(key: str, day: str, usage_type: str, operation: str, resource: str, amount: float,
         cost: float, kind: str = "Usage", product: str = "AWSGlue") -> list[str]:  # fmt: skip
    start = datetime.fromisoformat(day).replace(tzinfo=UTC)
    end = start + timedelta(days=1)
    rate = cost / amount if amount else 0.0
    return [
        key,
        f"{stamp(start)}/{stamp(end)}",
        ACCOUNT,
        kind,
        stamp(start),
        stamp(end),
        product,
        usage_type,
        operation,
        resource,
        f"{amount:.6f}",
        f"{rate:.6f}",
        f"{cost:.6f}",
        REGION,
    ]


def bill(store: Store) -> list[list[str]]:
    """Daily lines of what the store computes, then the planted differences."""
    cells: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0.0, 0.0])
    for run in store.priced_runs_between(MONTH, NEXT_MONTH):
        seconds = run["billed_seconds"] or run["execution_time_s"] or 0
        start = parse_ts(run["started_on"])
        for day, usd, dpu in spread_over_days(start, seconds, run["cost_usd"], run["dpu_hours"]):
            if MONTH <= day < NEXT_MONTH:
                cells[(run["job_name"], day)][0] += usd
                cells[(run["job_name"], day)][1] += dpu
    rows = []
    for (job, day), (usd, dpu) in sorted(cells.items()):
        account, region, name = split_key(job)
        extra = (0.0, 0.0)
        if name == "marketing_attribution" and day == "2026-11-12":
            extra = (4.0, 4.0 * 0.44)  # a run the store lacks: 4 DPU-hours more
        rows.append(
            line(
                f"{name}-{day}",
                day,
                "USE1-ETL-DPU-Hour",
                "Jobrun",
                f"arn:aws:glue:{region}:{account}:job/{name}",
                dpu + extra[0],
                usd + extra[1],
            )
        )
    for day in ("2026-11-02", "2026-11-03", "2026-11-04"):
        rows.append(
            line(f"legacy-{day}", day, "USE1-ETL-DPU-Hour", "Jobrun",
                 f"arn:aws:glue:{REGION}:{ACCOUNT}:job/legacy_orders_export", 10.0, 4.40)
        )  # fmt: skip
    usage_type = {
        "crawler": ("USE1-Crawler-DPU-Hour", "CrawlerRun"),
        "interactive_session": ("USE1-GlueInteractiveSession-DPU-Hour", "GlueInteractiveSession"),
        "dev_endpoint": ("USE1-DEVED-DPU-Hour", "DevEndpoint"),
    }
    now = END
    for day_start in range(26):
        day = (datetime(2026, 11, 1) + timedelta(days=day_start)).date().isoformat()
        following = (datetime(2026, 11, 2) + timedelta(days=day_start)).date().isoformat()
        for other in costs_by_resource(store.resource_usage(), day, following, now):
            kind, operation = usage_type[other["category"]]
            usd = other["computed_usd"]
            if other["name"] == "raw_events_crawler" and day == "2026-11-01":
                usd += 0.55  # a crawl the history no longer holds
            rows.append(
                line(f"{other['name']}-{day}", day, kind, operation, other["resource_id"],
                     other["dpu_hours"], usd)
            )  # fmt: skip
    rows.append(
        line("catalog-2026-11", "2026-11-01", "USE1-Catalog-Request", "CatalogRequest",
             "", 1500000.0, 1.50)
    )  # fmt: skip
    rows.append(
        line("credit-2026-11", "2026-11-01", "USE1-ETL-DPU-Hour", "Jobrun", "", 0.0, -25.0,
             kind="Credit")
    )  # fmt: skip
    rows.append(
        line("s3-2026-11", "2026-11-01", "USE1-TimedStorage-ByteHrs", "StandardStorage",
             "example-lake", 5000.0, 115.0, product="AmazonS3")
    )  # fmt: skip
    return rows


def main() -> None:
    write_resources()
    with tempfile.TemporaryDirectory() as folder:
        store = Store(str(Path(folder) / "sample.db"))
        import_directory(store, HERE)
        analyze(store)
        rows = bill(store)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows(rows)
    out = HERE / "billing"
    out.mkdir(exist_ok=True)
    target = out / "glue-2026-11.csv.gz"
    target.write_bytes(gzip.compress(buffer.getvalue().encode(), mtime=0))
    print(f"wrote {target.relative_to(HERE.parent)}: {len(rows)} lines")


if __name__ == "__main__":
    main()
