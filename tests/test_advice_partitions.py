"""A fix for spill or memory failures raises shuffle partitions: it must never lower what the
job's --conf sets, even when the run's event log shows another number (a script's own setting,
or a log from before the --conf changed)."""

from __future__ import annotations

from advisor.analysis.advice_features import memory_features, suggested_partitions
from advisor.analysis.features import definition_features

SPARK = {"is_spark": True, "executor_cores": 4}


def test_the_jobs_conf_is_read_into_the_definition_features():
    job = {
        "name": "1/us-east-1/spill",
        "command_name": "glueetl",
        "default_arguments": '{"--conf": "spark.sql.adaptive.enabled=true --conf '
        'spark.sql.shuffle.partitions=200"}',
    }
    assert definition_features(job)["definition_shuffle_partitions"] == 200
    assert (
        definition_features({**job, "default_arguments": "{}"})["definition_shuffle_partitions"]
        is None
    )


def test_a_run_with_fewer_partitions_than_the_conf_never_lowers_the_conf():
    # the sample's sales_aggregate_spill: --conf says 200, its local log ran with 8
    features = {**SPARK, "definition_shuffle_partitions": 200, "shuffle_partitions": 8,
                "max_mb_per_task": 300.0}  # fmt: skip
    suggested = suggested_partitions(features)
    assert suggested >= 400
    today = memory_features(features)["current_shuffle_partitions"]
    assert today.startswith("200 in the job's --conf") and "ran with 8" in today


def test_the_run_sizes_the_suggestion_when_it_agrees_with_the_conf():
    features = {**SPARK, "definition_shuffle_partitions": 200, "shuffle_partitions": 200,
                "max_mb_per_task": 1000.0}  # fmt: skip
    # the biggest task at 128 MB: 200 x 1000 / 128 = 1,563, in whole waves of 4 tasks
    assert suggested_partitions(features) == 1564
    assert memory_features(features)["current_shuffle_partitions"] == "200"
    # nothing set anywhere: Spark's default of 200
    assert memory_features(SPARK)["current_shuffle_partitions"] == "200"
    assert suggested_partitions(SPARK) == 400
