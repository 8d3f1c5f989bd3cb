"""What collecting costs on the AWS bill: measured on a synthetic fleet in moto's server.

    python benchmarks/collector_cost.py [--jobs 5] [--runs-per-day 1] [--executors 9]
        [--no-observability] [--no-eventlogs] [--fleet 1000] [--days 30]

Seeds a fleet that looks like Glue's to the collector: every job has `--enable-metrics` (and
`--enable-observability-metrics`), two weeks of CloudWatch series that ListMetrics still lists,
per run the classic job metrics for the driver, `ALL` and each executor (heap, CPU, S3 bytes),
the driver's aggregates and executor-allocation gauges, and one Spark event log under a prefix
per job. Then it collects a first day, adds the next day's runs, collects again, and measures
that second, steady-state collect: calls and billed units per operation, with
`--metric-series advisor` (the default: the series the advisor reads) and `all`. It prints
the units per job and per run and projects them to a fleet (`--fleet` jobs collected daily,
`--runs-per-day` runs each, over `--days`) at the facts registry's prices
(advisor/collect/api_cost.py). About two minutes with the defaults (moto answers slowly).
"""

from __future__ import annotations

import argparse
import logging
import socket
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from moto.glue.models import FakeJob
from moto.server import ThreadedMotoServer

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from advisor.collect.api_cost import monthly_projection
from advisor.collect.runner import CollectOptions, collect
from advisor.store import Store
from tests.awsfake import NOW, REGION, AwsLikeJobRun, Fleet, aws_order, session

LOG = Path(__file__).resolve().parent.parent / "tests/fixtures/spark-events/sparklens"
BUCKET = "glue-assets"
PER_RUN = ("cloudwatch:GetMetricData", "s3:GetObject", "s3:HeadObject")
PER_COLLECT = ("sts:GetCallerIdentity",)
RUN_SECONDS = 300
COUNTS = (  # the driver's aggregates (Type=count)
    "bytesRead",
    "elapsedTime",
    "numCompletedStages",
    "numCompletedTasks",
    "numFailedTasks",
    "numKilledTasks",
    "recordsRead",
    "shuffleBytesWritten",
    "shuffleLocalBytesRead",
)
OBSERVABILITY = (  # (name, ObservabilityGroup), gauges, Glue 4.0+
    ("glue.driver.workerUtilization", "resource_utilization"),
    ("glue.driver.skewness.stage", "job_performance"),
    ("glue.driver.skewness.job", "job_performance"),
    ("glue.driver.memory.heap.used.percentage", "memory_utilization"),
    ("glue.ALL.memory.heap.used.percentage", "memory_utilization"),
    ("glue.driver.memory.non-heap.used.percentage", "memory_utilization"),
    ("glue.driver.disk.used.percentage", "disk_utilization"),
    ("glue.ALL.disk.used.percentage", "disk_utilization"),
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_series(executors: int, observability: bool) -> list[tuple[str, str, str | None]]:
    """(metric, Type, ObservabilityGroup) of every series Glue publishes for one run."""
    series: list[tuple[str, str, str | None]] = [
        (f"glue.driver.aggregate.{name}", "count", None) for name in COUNTS
    ]
    series += [
        ("glue.driver.BlockManager.disk.diskSpaceUsed_MB", "gauge", None),
        ("glue.driver.ExecutorAllocationManager.executors.numberAllExecutors", "gauge", None),
        ("glue.driver.ExecutorAllocationManager.executors.numberMaxNeededExecutors", "gauge", None),
    ]
    for who in ("driver", "ALL", *(str(i) for i in range(1, executors + 1))):
        series += [
            (f"glue.{who}.jvm.heap.usage", "gauge", None),
            (f"glue.{who}.jvm.heap.used", "gauge", None),
            (f"glue.{who}.system.cpuSystemLoad", "gauge", None),
            (f"glue.{who}.s3.filesystem.read_bytes", "count", None),
            (f"glue.{who}.s3.filesystem.write_bytes", "count", None),
        ]
    if observability:
        series += [(name, "gauge", group) for name, group in OBSERVABILITY]
    return series


def put_series(cloudwatch, job: str, run_id: str, started, series) -> None:
    data = []
    for metric, kind, group in series:
        dims = [
            {"Name": "JobName", "Value": job},
            {"Name": "JobRunId", "Value": run_id},
            {"Name": "Type", "Value": kind},
        ]
        if group:
            dims.append({"Name": "ObservabilityGroup", "Value": group})
        stamp = started + timedelta(seconds=90)
        data.append({"MetricName": metric, "Timestamp": stamp, "Value": 1.0, "Dimensions": dims})
    for i in range(0, len(data), 500):
        cloudwatch.put_metric_data(Namespace="Glue", MetricData=data[i : i + 500])


class SyntheticFleet:
    def __init__(self, endpoint: str, args: argparse.Namespace):
        self.fleet = Fleet(endpoint)
        self.args = args
        self.cloudwatch = session().client("cloudwatch", endpoint_url=endpoint)
        self.s3 = session().client("s3", endpoint_url=endpoint)
        self.series = run_series(args.executors, args.observability)
        self.names: list[str] = []

    def seed(self, history_days: int, first_day) -> None:
        if self.args.eventlogs:
            self.s3.create_bucket(Bucket=BUCKET)
        for i in range(self.args.jobs):
            name = f"etl_{i:04d}"
            arguments = {"--enable-metrics": "true"}
            if self.args.observability:
                arguments["--enable-observability-metrics"] = "true"
            if self.args.eventlogs:
                arguments["--enable-spark-ui"] = "true"
                arguments["--spark-event-logs-path"] = f"s3://{BUCKET}/sparkui/{name}/"
            self.fleet.create_job(name, arguments)
            self.names.append(name)
            # series ListMetrics still lists (two weeks) of runs the store will never hold
            for day in range(history_days, 0, -1):
                for k in range(self.args.runs_per_day):
                    started = first_day - timedelta(days=day, hours=k)
                    put_series(self.cloudwatch, name, f"jr_old_{day}_{k}", started, self.series)

    def add_day(self, day_start, label: str) -> int:
        """Each job's runs of one day, their metrics and event logs; returns runs added."""
        added = 0
        for name in self.names:
            job = self.fleet.backend_job(name)
            for k in range(self.args.runs_per_day):
                run_id = f"jr_{label}_{k}_{name}"
                started = day_start + timedelta(hours=k)
                job.job_runs.append(
                    AwsLikeJobRun(job, run_id, started, "SUCCEEDED", RUN_SECONDS, {"Attempt": 0})
                )
                self.fleet.runs[name].append(run_id)
                put_series(self.cloudwatch, name, run_id, started, self.series)
                if self.args.eventlogs:
                    self.s3.upload_file(
                        str(LOG / "local-1532512550423"),
                        BUCKET,
                        f"sparkui/{name}/spark-application-{label}-{k}",
                    )
                added += 1
        return added


def collect_once(store: Store, endpoint: str, series: str, now) -> dict[str, dict[str, int]]:
    options = CollectOptions(
        regions=[REGION],
        endpoint_url=endpoint,
        session_factory=lambda region: session(region),
        metric_series=series,
    )
    report = collect(store, options, now=now)
    ops: dict[str, dict[str, int]] = {}
    for row in report.calls:
        entry = ops.setdefault(row["operation"], {"calls": 0, "units": 0})
        entry["calls"] += row["calls"]
        entry["units"] += row["billed_units"]
    return ops


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=5, help="jobs in the synthetic fleet")
    parser.add_argument("--runs-per-day", type=int, default=1)
    parser.add_argument("--executors", type=int, default=9, help="executors per run (G.1X x10)")
    parser.add_argument("--history-days", type=int, default=13, help="days ListMetrics lists")
    parser.add_argument("--no-observability", dest="observability", action="store_false")
    parser.add_argument("--no-eventlogs", dest="eventlogs", action="store_false")
    parser.add_argument("--fleet", type=int, default=1000, help="jobs to project to")
    parser.add_argument("--days", type=int, default=30, help="days to project over")
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    logging.getLogger("advisor").setLevel(logging.ERROR)
    FakeJob.get_job_runs = aws_order  # AWS returns newest first; moto 5.2 oldest first
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=free_port(), verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    day0 = NOW - timedelta(days=1)
    try:
        started = time.perf_counter()
        fleet = SyntheticFleet(endpoint, args)
        fleet.seed(args.history_days, day0)
        fleet.add_day(day0, "d0")
        per_run_series = len(fleet.series)
        print(
            f"synthetic fleet: {args.jobs} jobs, {args.runs_per_day} run(s) a day each, "
            f"{per_run_series} CloudWatch series a run ({args.executors} executors"
            f"{', observability metrics' if args.observability else ''}), "
            f"{args.history_days} earlier days listed by ListMetrics"
            f"{', one event log a run' if args.eventlogs else ''}; seeded in "
            f"{time.perf_counter() - started:.0f} s"
        )
        measured = {}
        with tempfile.TemporaryDirectory() as tmp:
            stores = {mode: Store(Path(tmp) / f"{mode}.db") for mode in ("advisor", "all")}
            for mode, store in stores.items():  # the first day: the whole history
                collect_once(store, endpoint, mode, day0 + timedelta(hours=20))
            runs = fleet.add_day(day0 + timedelta(days=1), "d1")
            for mode, store in stores.items():  # the next day: what a daily collect costs
                measured[mode] = collect_once(store, endpoint, mode, NOW + timedelta(hours=20))
        for mode, ops in measured.items():
            report(mode, ops, args, runs)
    finally:
        server.stop()


def report(mode: str, ops: dict[str, dict[str, int]], args: argparse.Namespace, runs: int) -> None:
    print(f"\n--metric-series {mode}: one daily collect of {args.jobs} jobs, {runs} new runs")
    print(f"  {'operation':<28}{'calls':>8}{'billed units':>14}{'per job':>10}{'per run':>10}")
    per_job: dict[str, float] = {}
    per_run: dict[str, float] = {}
    per_collect: dict[str, float] = {}
    for op, entry in sorted(ops.items()):
        units = entry["units"]
        if op in PER_RUN:
            per_run[op] = units / runs
        elif op in PER_COLLECT:
            per_collect[op] = units
        else:
            per_job[op] = units / args.jobs
        print(
            f"  {op:<28}{entry['calls']:>8}{units:>14}"
            f"{per_job.get(op, 0):>10.2f}{per_run.get(op, 0):>10.2f}"
        )
    projection = monthly_projection(
        per_job,
        per_run,
        jobs=args.fleet,
        runs_per_job_per_day=args.runs_per_day,
        days=args.days,
    )
    print(
        f"  projected: {args.fleet:,} jobs x {args.runs_per_day} run(s) a day, collected daily, "
        f"{args.days} days (us-east-1 list prices, before free tiers)"
    )
    for line in projection["lines"]:
        cost = "unpriced" if line["cost_usd"] is None else f"${line['cost_usd']:,.2f}"
        print(
            f"    {line['operation']:<28}{line['billed_units']:>14,.0f} {line['unit']}s {cost:>10}"
        )
    print(f"    {'total':<28}{'':>14}{'':>10}{'$' + format(projection['total_usd'], ',.2f'):>10}")


if __name__ == "__main__":
    main()
