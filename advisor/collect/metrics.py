"""Which CloudWatch statistics each Glue metric needs, and how its dimensions are keyed.

Shared by the CloudWatch collector and the offline importer so both store the same series.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

NAMESPACE = "Glue"
# Dimensions implied by the metric itself or by the run the row belongs to.
_IMPLIED_DIMENSIONS = {"JobName", "JobRunId", "Type", "ObservabilityGroup"}

# Classic job metrics (--enable-metrics) queried for runs that ListMetrics no longer returns
# (it forgets metrics with no data in the last two weeks).
CLASSIC_RUN_METRICS: tuple[tuple[str, str], ...] = (
    ("glue.driver.aggregate.bytesRead", "count"),
    ("glue.driver.aggregate.recordsRead", "count"),
    ("glue.driver.aggregate.elapsedTime", "count"),
    ("glue.driver.aggregate.numCompletedTasks", "count"),
    ("glue.driver.aggregate.numFailedTasks", "count"),
    ("glue.driver.aggregate.numCompletedStages", "count"),
    ("glue.driver.aggregate.shuffleBytesWritten", "count"),
    ("glue.driver.aggregate.shuffleLocalBytesRead", "count"),
    ("glue.driver.jvm.heap.usage", "gauge"),
    ("glue.ALL.jvm.heap.usage", "gauge"),
    ("glue.driver.BlockManager.disk.diskSpaceUsed_MB", "gauge"),
    ("glue.driver.ExecutorAllocationManager.executors.numberAllExecutors", "gauge"),
    ("glue.driver.ExecutorAllocationManager.executors.numberMaxNeededExecutors", "gauge"),
    ("glue.ALL.system.cpuSystemLoad", "gauge"),
)


# The CloudWatch series the advisor reads (analysis/observed.py, store/queries.py, the
# dashboard), each with the one statistic it reads. Glue publishes many more per run (one per
# executor for heap, CPU, S3 bytes...) and GetMetricData bills every metric and statistic
# requested: with `--metric-series advisor` (the default) the collector asks for these only.
ADVISOR_STATISTIC: dict[str, str] = {
    "glue.driver.aggregate.bytesRead": "Sum",
    # S3 bytes read by every executor: the input volume a change's effect is normalised by
    "glue.ALL.s3.filesystem.read_bytes": "Sum",
    "glue.driver.ExecutorAllocationManager.executors.numberAllExecutors": "Average",
    "glue.driver.ExecutorAllocationManager.executors.numberMaxNeededExecutors": "Maximum",
    "glue.driver.jvm.heap.usage": "Maximum",
    "glue.ALL.jvm.heap.usage": "Maximum",
    "glue.driver.BlockManager.disk.diskSpaceUsed_MB": "Maximum",
    "glue.driver.workerUtilization": "Average",
    "glue.driver.skewness.job": "Maximum",
    "glue.driver.filesRead": "Maximum",
}
ADVISOR_METRICS = frozenset(ADVISOR_STATISTIC)


def is_count_metric(metric: str, type_dimension: str | None = None) -> bool:
    """Delta metrics are summed; gauges keep their average and peak."""
    if type_dimension:
        return type_dimension == "count"
    return ".aggregate." in metric or metric.startswith(("glue.error.", "glue.succeed."))


def stats_for(metric: str, type_dimension: str | None = None) -> tuple[str, ...]:
    return ("Sum",) if is_count_metric(metric, type_dimension) else ("Average", "Maximum")


def advisor_stats(metric: str, type_dimension: str | None = None) -> tuple[str, ...]:
    """The statistics to ask CloudWatch for when only what the advisor reads is collected."""
    if metric in ADVISOR_STATISTIC:
        return (ADVISOR_STATISTIC[metric],)
    return stats_for(metric, type_dimension)


def dims_key(dimensions: Iterable[Mapping[str, str]] | Mapping[str, str]) -> str:
    """Canonical text for the dimensions that distinguish series of one metric (e.g. Sink=ALL)."""
    if isinstance(dimensions, Mapping):
        pairs = dimensions.items()
    else:
        pairs = ((d["Name"], d["Value"]) for d in dimensions)
    return ",".join(f"{k}={v}" for k, v in sorted(pairs) if k not in _IMPLIED_DIMENSIONS)


def type_dimension(dimensions: Iterable[Mapping[str, str]]) -> str | None:
    for d in dimensions:
        if d["Name"] == "Type":
            return d["Value"]
    return None
