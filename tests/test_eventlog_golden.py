"""Golden tests: the reducer's numbers on real Spark logs, checked against independent figures.

Three independent sources: (1) a deliberately naive reference computed here with the standard
library's json over every raw event; (2) each stage's own totals as Spark wrote them
(StageCompleted's internal.metrics accumulables); (3) the figures published beside the fixtures
(tests/fixtures/spark-events/README.md), computed by another parser.
"""

from __future__ import annotations

import contextlib
import functools
import io
import json
import math
from collections import defaultdict
from pathlib import Path

import pytest
import zstandard

from advisor.sparklog.codecs import DECODERS, codec_of
from advisor.sparklog.reader import find_logs
from advisor.sparklog.reduce import reduce_log
from advisor.sparklog.summary import summarize
from tests.conftest import SAMPLE

FIXTURES = Path(__file__).parent / "fixtures" / "spark-events"
ROLLING = FIXTURES / "spark-rapids-tools" / "eventlog_v2_local-1623876083964"
SINGLE_FILES = sorted(
    p
    for p in FIXTURES.rglob("*")
    if p.is_file()
    and p.suffix not in (".md", ".txt")
    and not p.name.startswith("appstatus")
    and p.parent != ROLLING
)
PUBLIC = [*SINGLE_FILES, ROLLING]
# real logs written for this project: the sample fleet's (Spark 3.5.4) and Spark 4.0.1's defaults
SAMPLES = sorted(p for p in (SAMPLE / "eventlogs").iterdir()) + sorted(
    (Path(__file__).parent / "fixtures" / "spark4").glob("eventlog_v2_*")
)
HAND_EDITED = {"app-20231025121456-0004-eventLog-finished-exec-removed"}  # tasks cut out


@functools.cache
def raw_events(path: Path) -> list[dict]:
    """Every decodable event, read the plainest way (stdlib json; zstandard directly)."""
    if path.is_dir() and not path.name.startswith("eventlog_v2_"):  # a run's folder
        [path] = [p for p in path.iterdir() if not p.name.startswith(".")]
    parts = (
        sorted(path.glob("events_*"), key=lambda p: int(p.name.split("_")[1]))
        if path.is_dir()
        else [path]
    )
    events = []
    for part in parts:
        raw = part.read_bytes()
        if part.suffix == ".zstd":
            raw = (
                zstandard.ZstdDecompressor()
                .stream_reader(io.BytesIO(raw), read_across_frames=True)
                .read()
            )
        elif codec_of(part.name):
            raw = b"".join(DECODERS[codec_of(part.name)](io.BytesIO(raw)))
        for line in raw.decode().splitlines():
            with contextlib.suppress(ValueError):  # the malformed fixture's broken line
                events.append(json.loads(line))
    return events


def reference(events: list[dict]) -> dict:
    ends = [e for e in events if e["Event"] == "SparkListenerTaskEnd"]
    metrics = [e.get("Task Metrics") or {} for e in ends]

    def total(*path):
        out = 0
        for m in metrics:
            for key in path[:-1]:
                m = m.get(key) or {}
            out += m.get(path[-1]) or 0
        return out

    failed = [e for e in ends if e["Task End Reason"]["Reason"] not in ("Success", "TaskKilled")]
    return {
        "tasks": len(ends),
        "failed_tasks": len(failed),
        "executor_run_time_ms": total("Executor Run Time"),
        "gc_time_ms": total("JVM GC Time"),
        "memory_bytes_spilled": total("Memory Bytes Spilled"),
        "disk_bytes_spilled": total("Disk Bytes Spilled"),
        "input_bytes": total("Input Metrics", "Bytes Read"),
        "output_bytes": total("Output Metrics", "Bytes Written"),
        "shuffle_read_bytes": total("Shuffle Read Metrics", "Remote Bytes Read")
        + total("Shuffle Read Metrics", "Local Bytes Read"),
        "shuffle_write_bytes": total("Shuffle Write Metrics", "Shuffle Bytes Written"),
        "complete": any(e["Event"] == "SparkListenerApplicationEnd" for e in events),
    }


def ours(path: Path) -> dict:
    [log] = find_logs(path)
    return summarize(reduce_log(log))


@pytest.fixture(scope="module")
def summaries():
    return {p: ours(p) for p in PUBLIC + SAMPLES}


@pytest.mark.parametrize("path", PUBLIC + SAMPLES, ids=lambda p: p.name[:40])
def test_totals_match_an_independent_reading(path, summaries):
    expected = reference(raw_events(path))
    got = summaries[path]
    for key, value in expected.items():
        assert got[key] == value, key
    cpu = (
        sum(
            (e.get("Task Metrics") or {}).get("Executor CPU Time") or 0
            for e in raw_events(path)
            if e["Event"] == "SparkListenerTaskEnd"
        )
        / 1e6
    )
    assert got["executor_cpu_time_ms"] == pytest.approx(cpu, abs=0.01)


STAGE_ACCUMULABLES = {
    "internal.metrics.executorRunTime": "executor_run_time_ms",
    "internal.metrics.jvmGCTime": "gc_time_ms",
    "internal.metrics.memoryBytesSpilled": "memory_bytes_spilled",
    "internal.metrics.diskBytesSpilled": "disk_bytes_spilled",
    "internal.metrics.input.bytesRead": "input_bytes",
    "internal.metrics.output.bytesWritten": "output_bytes",
    "internal.metrics.shuffle.write.bytesWritten": "shuffle_write_bytes",
}


@pytest.mark.parametrize("path", PUBLIC + SAMPLES, ids=lambda p: p.name[:40])
def test_stage_totals_equal_what_spark_recorded_for_the_stage(path, summaries):
    if path.name in HAND_EDITED:
        pytest.skip("tasks were cut out of this fixture: its stage totals cannot match")
    stages = {(s["stage_id"], s["attempt"]): s for s in summaries[path]["stage_list"]}
    checked = 0
    for event in raw_events(path):
        if event["Event"] != "SparkListenerStageCompleted":
            continue
        info = event["Stage Info"]
        row = stages[(info["Stage ID"], info.get("Stage Attempt ID", 0))]
        if row["failed_tasks"] or row["killed_tasks"]:
            continue  # failed tasks' values are counted by some accumulators and not others
        for accum in info.get("Accumulables") or []:
            key = STAGE_ACCUMULABLES.get(accum.get("Name"))
            if key is not None:
                assert row[key] == int(accum["Value"]), (info["Stage ID"], key)
                checked += 1
    if any(
        a.get("Name", "").startswith("internal.metrics.")
        for e in raw_events(path)
        if e["Event"] == "SparkListenerStageCompleted"
        for a in e["Stage Info"].get("Accumulables") or []
    ):
        assert checked > 0  # Spark 2+ writes them; 1.x has none to check against


@pytest.mark.parametrize("path", PUBLIC + SAMPLES, ids=lambda p: p.name[:40])
def test_job_spans_are_the_logged_jobs(path, summaries):
    jobs = {}
    for e in raw_events(path):
        if e["Event"] == "SparkListenerJobStart":
            jobs.setdefault(e["Job ID"], [None, None, []])[::2] = [
                e.get("Submission Time"),
                e.get("Stage IDs"),
            ]
        elif e["Event"] == "SparkListenerJobEnd":
            jobs.setdefault(e["Job ID"], [None, None, []])[1] = e.get("Completion Time")
    assert summaries[path]["job_spans"] == [[k, *v] for k, v in sorted(jobs.items())]


@pytest.mark.parametrize("path", PUBLIC + SAMPLES, ids=lambda p: p.name[:40])
def test_task_duration_quantiles_are_within_the_sketch_error(path, summaries):
    durations = defaultdict(list)
    for e in raw_events(path):
        if e["Event"] == "SparkListenerTaskEnd":
            info = e["Task Info"]
            durations[(e["Stage ID"], e.get("Stage Attempt ID", 0))].append(
                info["Finish Time"] - info["Launch Time"]
            )
    for row in summaries[path]["stage_list"]:
        values = sorted(durations.get((row["stage_id"], row["attempt"]), []))
        if not values:
            continue
        assert row["task_ms_min"] == values[0] and row["task_ms_max"] == values[-1]
        # the simulator's input: exact sum, and a profile with the same mean and maximum
        assert row["task_ms_sum"] == sum(max(v, 0) for v in values)
        profile = row["task_ms_profile"]
        assert len(profile) == min(len(values), 64) and profile[-1] == values[-1]
        if sum(values) > 100 * len(values) ** 0.5:  # rounding to 0.1 ms aside
            mean = sum(max(v, 0) for v in values) / len(values)
            assert sum(profile) / len(profile) == pytest.approx(mean, rel=0.01, abs=0.5)
        for key, q in (("p25", 0.25), ("median", 0.5), ("p75", 0.75), ("p95", 0.95)):
            # Spark's task summary: the sorted value at min(floor(q * n), n - 1)
            spark = values[min(math.floor(q * len(values)), len(values) - 1)]
            assert spark * 0.99 - 0.1 <= row[f"task_ms_{key}"] <= spark * 1.01 + 0.1, key


# Figures published beside the fixtures, computed by an independent reference parser.
PUBLISHED = {
    "spark2-eventlog.zstd": {"tasks": 6, "executors": 1, "util": 0.0007},
    "rapids_join_eventlog.zstd": {"tasks": 213, "failed_tasks": 0},
    "eventlog_v2_local-1623876083964": {"tasks": 2801, "util": 0.88},
    "tasks_executors_fail_compressed_eventlog.zstd": {
        "tasks": 8630,
        "failed_tasks": 53,
        "executors": 8,
        "failed_jobs": 1,
        "failure_reasons": {"resubmitted": 50, "fetch_failure": 2, "executor_lost": 1},
    },
    "eventlog_4nodes_8cores_dynamic_alloc.zstd": {"executors": 15, "util": 0.087, "gc": 0.15},
    "gpu_oom_eventlog.zstd": {
        "tasks": 12416,
        "failed_tasks": 112,
        "failed_jobs": 5,
        "failure_reasons": {"out_of_memory": 112},
    },
    "join_agg_on_yarn_eventlog.zstd": {
        "executors": 10,
        "tasks": 107,
        "files_read": 2,
        "files_written": 16,
        "util": 0.17,
    },
    "python_udf_eventlog": {"tasks": 2, "files_read": 1, "files_written": 1},
    "nds_q72_dataproc_2_2.zstd": {"tasks": 13504, "executors": 8, "files_read": 2741, "util": 0.62},
    "malformed_json_eventlog.zstd": {"executors": 9},
    "local-1532512550423": {"tasks": 8, "util": 0.0015, "gc": 0.48},
    "app-20231025121456-0004-eventLog-finished-exec-removed": {"executors": 2, "tasks": 2},
    "event_log_1": {"tasks": 98, "failed_tasks": 1, "failed_jobs": 1},
    "spark_event_log_example": {"tasks": 204, "executors": 3, "gc": 0.26},
}


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_published_reference_figures(name, summaries):
    [summary] = [s for p, s in summaries.items() if p.name == name]
    for key, value in PUBLISHED[name].items():
        if key == "util":
            digits = max(2, -math.floor(math.log10(value)) + 1)
            assert round(summary["executor_utilization"], digits) == pytest.approx(value), key
        elif key == "gc":
            assert summary["gc_time_ms"] / summary["executor_run_time_ms"] == pytest.approx(
                value, abs=0.01
            )
        else:
            assert summary[key] == value, key


def test_edge_cases_named_in_the_fixtures(summaries):
    by_name = {p.name: s for p, s in summaries.items()}
    truncated = by_name["truncated_eventlog"]
    assert truncated["complete"] is False
    malformed = by_name["malformed_json_eventlog.zstd"]
    assert malformed["problems"] == {"invalid_json": 1}
    assert malformed["problem_examples"][0]["line"] == 4
    assert malformed["properties"] == {}  # the broken line held them
    assert by_name["app-20231025121456-0004-eventLog-finished-exec-removed"]["data_loss"] is True
    clean = [s for p, s in summaries.items() if p.name not in HAND_EDITED]
    assert not any(s["data_loss"] for s in clean)


def test_sample_logs_carry_their_glue_run_and_the_planted_problems(summaries):
    by_job = {s["glue"].get("JOB_NAME"): s for p, s in summaries.items() if p in SAMPLES}
    for path in SAMPLES:
        if path.parent.name == "eventlogs" and path.name.startswith("jr_"):
            assert summaries[path]["glue"]["JOB_RUN_ID"] == path.name
        elif path.parent.name == "eventlogs":  # an interactive session's: no job run named
            assert "JOB_RUN_ID" not in summaries[path]["glue"]
    assert by_job["sales_aggregate_spill"]["disk_bytes_spilled"] > 500_000_000
    assert by_job["s3_access_logs_compaction"]["files_read"] >= 1500
    skewed = max(by_job["recsys_candidates"]["stage_list"], key=lambda s: s["tasks"])
    assert skewed["task_ms_max"] > 3 * skewed["task_ms_median"]


@pytest.mark.parametrize("path", PUBLIC + SAMPLES, ids=lambda p: p.name[:40])
def test_no_real_event_trips_a_handler(path, summaries):
    """A handler that raises on a real Spark event is a reducer bug, not bad input."""
    assert "bad_event" not in summaries[path]["problems"], summaries[path]["problem_examples"]


def test_spark_4_default_log_is_read(summaries):
    [spark4] = [s for p, s in summaries.items() if p.parent.name == "spark4"]
    assert spark4["spark_version"].startswith("4.")
    assert spark4["complete"] and spark4["tasks"] > 0 and spark4["problems"] == {}
    assert spark4["glue"] == {
        "JOB_NAME": "spark4_orders_rollup",
        "JOB_RUN_ID": "jr_spark4_fixture_run",
    }
    assert spark4["files_written"] and spark4["files_read"]
