"""CloudWatch query planning: the period each data age allows, and the 500-query batches."""

from __future__ import annotations

from datetime import timedelta

import pytest

from advisor.collect.cloudwatch import MAX_QUERIES, CloudWatchCollector, Series, _Query, period_for
from advisor.collect.metrics import dims_key, stats_for
from advisor.timeutil import iso, parse_ts
from tests.awsfake import NOW


@pytest.mark.parametrize(
    ("age", "period"),
    [
        (timedelta(hours=1), 60),
        (timedelta(days=14, hours=23), 60),
        (timedelta(days=15, hours=1), 300),
        (timedelta(days=62), 300),
        (timedelta(days=64), 3600),
        (timedelta(days=400), 3600),
    ],
)
def test_period_follows_cloudwatch_retention(age, period):
    assert period_for(NOW - age, NOW) == period


def test_batches_respect_the_query_and_datapoint_limits():
    runs, queries = {}, []
    for i in range(40):  # 40 runs of 2 hours, each with 30 series
        start = NOW - timedelta(days=3, hours=3 * i)
        run_id = f"jr_{i}"
        runs[run_id] = {"started_on": iso(start), "completed_on": iso(start + timedelta(hours=2))}
        for k in range(30):
            series = Series(f"glue.{k}.jvm.heap.used", (("JobName", "j"), ("JobRunId", run_id)))
            queries.append(_Query(run_id, "j", series, "Average"))
    collector = CloudWatchCollector(store=None, cloudwatch=None, now=NOW)
    batches = list(collector._batches(queries, runs))
    assert sum(len(b) for b, _, _ in batches) == len(queries)
    assert len(batches) < len(queries) / 100  # batching, not one call per series
    for batch, (start, end), period in batches:
        assert len(batch) <= MAX_QUERIES and period == 60
        # a series holds data only inside its own run, so this bounds what one call returns
        returned = 0
        for q in batch:
            run = runs[q.run_id]
            run_start, run_end = parse_ts(run["started_on"]), parse_ts(run["completed_on"])
            assert start <= run_start and run_end <= end  # the call's window covers the run
            returned += (run_end - run_start).total_seconds() / period
        assert returned <= 100_800


def test_statistics_and_dimension_keys():
    assert stats_for("glue.driver.aggregate.bytesRead") == ("Sum",)
    assert stats_for("glue.ALL.jvm.heap.usage") == ("Average", "Maximum")
    assert stats_for("glue.error.ALL", "count") == ("Sum",)
    dims = [
        {"Name": "JobName", "Value": "j"},
        {"Name": "Sink", "Value": "ALL"},
        {"Name": "Type", "Value": "gauge"},
        {"Name": "JobRunId", "Value": "jr_1"},
    ]
    assert dims_key(dims) == "Sink=ALL"
