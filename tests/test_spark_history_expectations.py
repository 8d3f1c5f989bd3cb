"""Apache Spark's own History Server expectations, held against our reducer.

Spark's HistoryServerSuite replays the event logs in tests/fixtures/spark-history/spark-events/
and requires its REST API to answer exactly the JSON in HistoryServerExpectations/ (source, commit
and licence: tests/fixtures/spark-history/README.md). Here the same logs go through our reader,
reducer and summary (find_logs -> reduce_log -> summarize), and every REST field with a
counterpart in our summary is compared with it, field by field, through the field maps below.

A few REST fields are not what the log says but what the REST layer computes, or Spark's default
where the log has no data: those are skipped on purpose, each with its reason, in DOCUMENTED
(nothing else is skipped). REST fields with no counterpart in our summary at all are listed under
NOT MAPPED and never compared. The tally of fields compared / matched / skipped is printed at the
end of the module's run.

No Spark and no Java: the module's tests take about a second.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import json
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from advisor.collect.eventlog_link import store_summary
from advisor.sparklog.reader import find_logs
from advisor.sparklog.reduce import reduce_log
from advisor.sparklog.summary import summarize
from advisor.store import Store

HERE = Path(__file__).parent / "fixtures" / "spark-history"
LOGS = HERE / "spark-events"
EXPECTED = HERE / "HistoryServerExpectations"

# ---- the field maps: Spark's REST field -> ours ----------------------------------------------
# A plain string is a key of our row; a comment says when ours is derived from several keys.

APP_FIELDS = {  # /applications, one entry per attempt -> one summary per attempt
    "attemptId": "attempt_id",  # Spark's "App Attempt ID" (absent: no attempts) - issue 18
    "startTimeEpoch": "start_ms",
    "endTimeEpoch": "end_ms",
    "duration": "duration_ms",
    "completed": "complete",
    "appSparkVersion": "spark_version",
}
STAGE_FIELDS = {  # /stages, one entry per stage attempt -> stage_list rows
    "numTasks": "num_tasks",
    "numCompleteTasks": "succeeded_tasks",
    "numFailedTasks": "failed_tasks",
    "numKilledTasks": "killed_tasks",
    "submissionTime": "submitted_ms",  # Spark's date string, as epoch ms
    "completionTime": "completed_ms",
    "failureReason": "failure_reason",  # ours keeps the first line
    "executorRunTime": "executor_run_time_ms",
    "executorCpuTime": "executor_cpu_time_ms",  # Spark's ns, as ms to 3 decimals
    "jvmGcTime": "gc_time_ms",
    "inputBytes": "input_bytes",
    "inputRecords": "input_records",
    "outputBytes": "output_bytes",
    "outputRecords": "output_records",
    "shuffleReadBytes": "shuffle_read_bytes",  # remote + local bytes read, in both
    "shuffleFetchWaitTime": "fetch_wait_ms",
    "shuffleWriteBytes": "shuffle_write_bytes",
    "memoryBytesSpilled": "memory_bytes_spilled",
    "diskBytesSpilled": "disk_bytes_spilled",
    "name": "name",
    # derived: status = FAILED when failure_reason else COMPLETE; and
    # numCompleteTasks + numFailedTasks + numKilledTasks = tasks (task-end events)
}
EXECUTOR_FIELDS = {  # /executors -> executor_list rows
    "hostPort": "host",  # the host part
    "totalCores": "cores",
    "maxMemory": "max_memory_bytes",
    "addTime": "added_ms",
    "removeTime": "removed_ms",
    "removeReason": "removed_reason",  # ours keeps the first line
    "isActive": "removed_ms",  # active = never removed
    "totalTasks": "tasks",
    "failedTasks": "failed_tasks",
    "completedTasks": "tasks",  # minus failed_tasks (these apps kill no task)
    "totalGCTime": "gc_time_ms",
    "peakMemoryMetrics.JVMHeapMemory": "peak_jvm_heap_bytes",
    "peakMemoryMetrics.OnHeapExecutionMemory": "peak_on_heap_execution_memory_bytes",
    # summed over executors -> the application's totals
    "sum totalInputBytes": "input_bytes",
    "sum totalShuffleRead": "shuffle_read_bytes",
    "sum totalShuffleWrite": "shuffle_write_bytes",
}
JOB_FIELDS = {  # /jobs -> job_spans [id, submitted, completed, stage ids], failed_job_reasons
    "stageIds": "job_spans[3]",
    "status": "failed_job_reasons",  # FAILED when listed there, else SUCCEEDED
    "submissionTime": "job_spans[1]",
    "completionTime": "job_spans[2]",
    # derived from the job's stage attempts in stage_list:
    "numTasks": "sum num_tasks",
    "numCompletedTasks": "sum succeeded_tasks",
    "numFailedTasks": "sum failed_tasks",
    "numKilledTasks": "sum killed_tasks",
    "numCompletedStages": "attempts without failure_reason",
    "numFailedStages": "attempts with failure_reason",
}
# /stages/{id}/{attempt}/taskSummary "duration" (finish - launch of the stage's SUCCESSFUL tasks)
# at quantile q is the element at index min(floor(q * n), n - 1) of the sorted durations
# (AppStatusStore.taskSummary: `indices = quantiles.map { q => math.min((q * count).toLong,
# count - 1) }`, tasks filtered on status SUCCESS). Ours come from a DDSketch whose documented
# accuracy is 1 % relative (docs/eventlog-summary.md), rounded to 0.1 ms.
QUANTILE_FIELDS = {
    0.25: "task_ms_p25",
    0.5: "task_ms_median",
    0.75: "task_ms_p75",
    0.95: "task_ms_p95",
}
SKETCH_ACCURACY, ROUNDING = 0.01, 0.05

# ---- what is skipped, and why ----------------------------------------------------------------
DOCUMENTED = {
    "rest_driver": "the REST layer replaces the driver's totalGCTime by the application's "
    "TotalGCTime peak metric (and its totalDuration by the application's duration)",
    "wall_time": "totalDuration sums the tasks' wall time (finish - launch); our task_time_ms sums "
    "Executor Run Time, and we keep no per-executor wall time",
    "default_no_data": "Spark's default where the log has no data: zeros in peakMemoryMetrics for "
    "an executor with no executor metrics in the log (logs before Spark 3.0), 0 cores for the "
    "driver (it has no ExecutorAdded); we say null",
    "version_unknown": 'Spark answers appSparkVersion "" when the log has no SparkListenerLogStart '
    "(Spark 1.2/1.3 logs); we say null",
    "peak_sum": "a stage's peakExecutionMemory is Spark's sum of its tasks' peaks; we keep their "
    "max and p95, a different quantity",
}
# NOT MAPPED - REST fields with no counterpart in our summary (never compared): app sparkUser,
# lastUpdated (Spark's own suite blanks it); stage numActiveTasks, numCompletedIndices,
# firstTaskLaunchedTime, executorDeserialize*, resultSize, resultSerializationTime,
# shuffle*Blocks*, shuffleRemote/LocalBytesRead, shuffleReadRecords, shuffleWriteRecords,
# shuffleWriteTime, shuffleMerged*, details, rddIds, accumulatorUpdates, killedTasksSummary,
# speculationSummary, tasks, peakExecutorMetrics (a stage's executorSummary is compared only when
# the app has that one stage); executor rddBlocks, memoryUsed, diskUsed, maxTasks, activeTasks,
# memoryMetrics, the other peakMemoryMetrics, executorLogs, attributes, resources, excluded*,
# blacklisted*; job name, numActive*, numSkipped*, numCompletedIndices, jobTags; the task
# summary's metrics other than duration, and its quantiles other than those in QUANTILE_FIELDS.


class Tally:
    """Fields compared and matched by category, and the documented skips by reason."""

    def __init__(self) -> None:
        self.compared: Counter[str] = Counter()
        self.matched: Counter[str] = Counter()
        self.documented: Counter[tuple[str, str]] = Counter()

    def lines(self) -> list[str]:
        out = [
            f"Spark History Server expectations: {sum(self.compared.values())} fields compared, "
            f"{sum(self.matched.values())} matched, {sum(self.documented.values())} skipped as "
            "documented differences"
        ]
        for category in sorted(self.compared):
            out.append(
                f"  {category:<16} compared {self.compared[category]:>4}  "
                f"matched {self.matched[category]:>4}"
            )
        for (category, reason), count in sorted(self.documented.items()):
            out.append(f"  skipped {count:>3} {category}: {reason}")
        return out


TALLY = Tally()


class Diffs:
    """One comparison's field-by-field checks: every difference is collected, then reported."""

    def __init__(self, category: str, where: str):
        self.category, self.where, self.failures = category, where, []

    def eq(self, spark_field: str, our_field: str, theirs: Any, ours: Any, *, tol: float = 0):
        TALLY.compared[self.category] += 1
        if tol:
            ok = isinstance(ours, int | float) and abs(ours - theirs) <= tol
        else:
            ok = _same_number(theirs, ours) or (theirs == ours and type(theirs) is type(ours))
        if ok:
            TALLY.matched[self.category] += 1
        else:
            self.failures.append(
                f"{self.where}: Spark {spark_field} = {theirs!r}, ours {our_field} = {ours!r}"
            )

    def skip(self, reason: str) -> None:
        assert reason in DOCUMENTED
        TALLY.documented[(self.category, reason)] += 1

    def fail(self, message: str) -> None:
        TALLY.compared[self.category] += 1
        self.failures.append(f"{self.where}: {message}")

    def check(self) -> None:
        assert not self.failures, f"{len(self.failures)} field(s) differ from Spark:\n" + "\n".join(
            self.failures
        )


def _same_number(theirs: Any, ours: Any) -> bool:
    numbers = (int, float)
    return (
        isinstance(theirs, numbers)
        and isinstance(ours, numbers)
        and not isinstance(theirs, bool)
        and not isinstance(ours, bool)
        and theirs == ours
    )


@pytest.fixture(scope="module", autouse=True)
def _print_tally(request):
    yield
    # module teardown runs under output capture: lift it, so the tally shows without -s
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
        print("\n" + "\n".join(TALLY.lines()))


# ---- reading: ours and Spark's ----------------------------------------------------------------


@functools.cache
def summaries() -> dict[str, dict[str, Any]]:
    """Our summary of every fixture log, by file name (each file is one application attempt)."""
    out = {}
    for path in sorted(LOGS.iterdir()):
        [log] = find_logs(path)
        out[path.name] = summarize(reduce_log(log))
    return out


def attempts_of(app_id: str) -> list[dict[str, Any]]:
    return [s for s in summaries().values() if s["app_id"] == app_id]


def ours(app_id: str, attempt: str | None) -> dict[str, Any]:
    """Our summary of one application attempt, found as Spark finds it: by app id and attempt id
    (expects attempt_id in the summary (issue 18))."""
    found = [s for s in attempts_of(app_id) if s.get("attempt_id") == attempt]
    assert len(found) == 1, (
        f"{app_id} attempt {attempt!r}: {len(found)} summaries with this app_id and attempt_id "
        f"(attempt_ids seen: {[s.get('attempt_id', '<no key>') for s in attempts_of(app_id)]}); "
        "expects attempt_id in the summary (issue 18)"
    )
    return found[0]


def expected(name: str) -> Any:
    return json.loads((EXPECTED / f"{name}_expectation.json").read_text())


def epoch_ms(text: str) -> int:
    """Spark's REST date ("2015-02-03T16:43:07.191GMT") as epoch milliseconds."""
    moment = datetime.strptime(text.replace("GMT", "+0000"), "%Y-%m-%dT%H:%M:%S.%f%z")
    return round(moment.timestamp() * 1000)


def first_line(text: str | None) -> str | None:
    return text.strip().splitlines()[0] if text else text


_METRICS_KEYS = {
    "SparkListenerStageExecutorMetrics": "Executor Metrics",
    "SparkListenerExecutorMetricsUpdate": "Executor Metrics Updated",
}


@functools.cache
def executors_with_metrics(log_name: str) -> frozenset[str]:
    """Executors for which the raw log records any executor metrics (read with plain json)."""
    found = set()
    for line in (LOGS / log_name).read_text().splitlines():
        event = json.loads(line)
        name = event["Event"]
        if name == "SparkListenerTaskEnd" and event.get("Task Executor Metrics"):
            found.add(str(event["Task Info"]["Executor ID"]))
        elif event.get(_METRICS_KEYS.get(name, "")):
            found.add(str(event["Executor ID"]))
    return frozenset(found)


def log_of(app_id: str, attempt: str | None) -> str:
    for name, summary in summaries().items():
        if summary["app_id"] == app_id and summary.get("attempt_id") == attempt:
            return name
    raise AssertionError(f"no log of {app_id} attempt {attempt!r}")


# ---- applications and their attempts ---------------------------------------------------------

APP_IDS = [
    "local-1422981780767",
    "local-1426533911241",  # two attempts: local-1426533911241 and local-1426633911242
    "local-1430917381535",  # two attempts: local-1430917381535_1 and _2
    "local-1430917381534",
    "application_1553914137147_0018",
    "application_1628109047826_1317105",
    "app-20161115172038-0000",
]


@pytest.mark.parametrize("app_id", APP_IDS)
def test_application_list(app_id):
    """GET /applications (application_list_json): the app, its attempts and their times."""
    [spark] = [a for a in expected("application_list_json") if a["id"] == app_id]
    mine = attempts_of(app_id)
    diffs = Diffs("application", app_id)
    diffs.eq("len(attempts)", "summaries with this app_id", len(spark["attempts"]), len(mine))
    diffs.eq("name", "app_name", spark["name"], mine[0]["app_name"] if mine else None)
    for attempt in spark["attempts"]:
        attempt_id = attempt.get("attemptId")
        # expects attempt_id in the summary (issue 18)
        found = [s for s in mine if s.get("attempt_id") == attempt_id]
        if len(found) != 1:
            diffs.fail(
                f"Spark attemptId = {attempt_id!r}: {len(found)} summaries have this attempt_id "
                f"(ours: {[s.get('attempt_id', '<no key>') for s in mine]})"
            )
            continue
        [summary] = found
        at = Diffs("application", f"{app_id} attempt {attempt_id}")
        for spark_field, our_field in APP_FIELDS.items():
            theirs, value = attempt.get(spark_field), summary.get(our_field)
            if spark_field == "appSparkVersion" and theirs == "" and value is None:
                at.skip("version_unknown")
                continue
            at.eq(spark_field, our_field, theirs, value)
        diffs.failures += at.failures
    diffs.check()


@pytest.mark.parametrize("app_id", ["local-1426533911241", "local-1430917381535"])
def test_two_attempts_of_one_application_are_two_attempts(app_id):
    """expects attempt_id in the summary (issue 18): Spark lists attempts "1" and "2" of this app;
    each log is one attempt, and ours must say which (SparkListenerApplicationStart's
    "App Attempt ID", as the string the log gives)."""
    [spark] = [a for a in expected("application_list_json") if a["id"] == app_id]
    starts = {a["attemptId"]: a["startTimeEpoch"] for a in spark["attempts"]}
    mine = attempts_of(app_id)
    assert sorted(str(s.get("attempt_id")) for s in mine) == sorted(starts)
    for summary in mine:
        assert summary["start_ms"] == starts[summary["attempt_id"]]


def test_two_attempts_are_two_applications_in_the_store():
    """expects attempt_id in the summary (issue 18): storing attempt 2 must keep attempt 1."""
    store = Store(memory=True)
    for name in ("local-1430917381535_1", "local-1430917381535_2"):
        summary = copy.deepcopy(summaries()[name])
        summary["source"] = str(LOGS / name)
        store_summary(store, summary, size=(LOGS / name).stat().st_size, at="2024-01-01T00:00:00Z")
    rows = list(
        store.db.query("select * from spark_apps where app_id like ?", ["local-1430917381535%"])
    )
    assert len(rows) == 2, f"{len(rows)} stored application row(s) for two attempts"
    assert sorted(r["start_ms"] for r in rows) == [1430917380880, 1430917380893]


# ---- stages ----------------------------------------------------------------------------------

STAGE_CASES = [
    # (app id, attempt, expectation, REST path in HistoryServerSuite)
    ("local-1422981780767", None, "stage_list_json"),  # .../stages
    ("local-1426533911241", "1", "stage_list_with_accumulable_json"),  # .../1/stages
    ("application_1628109047826_1317105", None, "stage_with_speculation_summary"),  # stages/0/0
]


@pytest.mark.parametrize(("app_id", "attempt", "name"), STAGE_CASES)
def test_stage_list(app_id, attempt, name):
    spark = expected(name)
    whole_list = isinstance(spark, list)
    spark = spark if whole_list else [spark]
    summary = ours(app_id, attempt)
    rows = {(r["stage_id"], r["attempt"]): r for r in summary["stage_list"]}
    diffs = Diffs("stage", f"{app_id} {name}")
    if whole_list:
        diffs.eq(
            "(stageId, attemptId) set",
            "(stage_id, attempt) set",
            sorted((s["stageId"], s["attemptId"]) for s in spark),
            sorted(rows),
        )
    for stage in spark:
        row = rows.get((stage["stageId"], stage["attemptId"]))
        at = Diffs("stage", f"{app_id} stage {stage['stageId']}.{stage['attemptId']}")
        if row is None:
            at.fail("no such stage attempt in ours")
            diffs.failures += at.failures
            continue
        for spark_field, our_field in STAGE_FIELDS.items():
            theirs, value = stage.get(spark_field), row[our_field]
            if spark_field in ("submissionTime", "completionTime"):
                theirs = epoch_ms(theirs) if theirs else None
            elif spark_field == "executorCpuTime":
                theirs = round(theirs / 1e6, 3)
            elif spark_field == "failureReason":
                theirs = first_line(theirs)
            at.eq(spark_field, our_field, theirs, value)
        at.eq(
            "status",
            "FAILED if failure_reason else COMPLETE",
            stage["status"],
            "FAILED" if row["failure_reason"] else "COMPLETE",
        )
        at.eq(
            "numCompleteTasks + numFailedTasks + numKilledTasks",
            "tasks",
            stage["numCompleteTasks"] + stage["numFailedTasks"] + stage["numKilledTasks"],
            row["tasks"],
        )
        at.skip("peak_sum")  # peakExecutionMemory
        diffs.failures += at.failures
        if len(rows) == 1 and stage.get("executorSummary"):
            diffs.failures += _stage_executors(app_id, attempt, stage, summary)
    diffs.check()


def _stage_executors(app_id, attempt, stage, summary) -> list[str]:
    """A stage's per-executor summary, for an application with this one stage attempt: there the
    executor's whole-application row must say the same (peaks come from the tasks' executor
    metrics; taskTime is wall time, skipped as for totalDuration)."""
    rows = {r["executor_id"]: r for r in summary["executor_list"]}
    with_metrics = executors_with_metrics(log_of(app_id, attempt))
    failures = []
    for executor_id, spark in sorted(stage["executorSummary"].items()):
        row = rows.get(executor_id)
        at = Diffs("stage executor", f"{app_id} stage {stage['stageId']} executor {executor_id}")
        if row is None:
            at.fail("no such executor in ours")
            failures += at.failures
            continue
        ended = spark["succeededTasks"] + spark["failedTasks"] + spark["killedTasks"]
        at.eq("succeededTasks + failedTasks + killedTasks", "tasks", ended, row["tasks"])
        at.eq("failedTasks", "failed_tasks", spark["failedTasks"], row["failed_tasks"])
        for field in ("memoryBytesSpilled", "diskBytesSpilled"):
            our_field = STAGE_FIELDS[field]
            at.eq(field, our_field, spark[field], row[our_field])
        at.skip("wall_time")  # taskTime
        peaks = spark.get("peakMemoryMetrics")
        for metric, our_field in (
            ("JVMHeapMemory", "peak_jvm_heap_bytes"),
            ("OnHeapExecutionMemory", "peak_on_heap_execution_memory_bytes"),
        ):
            theirs = None if peaks is None else peaks[metric]
            if theirs == 0 and row[our_field] is None and executor_id not in with_metrics:
                at.skip("default_no_data")
            else:
                at.eq(f"peakMemoryMetrics.{metric}", our_field, theirs, row[our_field])
        failures += at.failures
    return failures


# ---- executors -------------------------------------------------------------------------------

EXECUTOR_CASES = [
    ("local-1422981780767", "executor_list_json"),  # .../executors
    ("application_1553914137147_0018", "executor_list_with_executor_metrics_json"),
    ("app-20161115172038-0000", "executor_node_excludeOnFailure_unexcluding"),
]


@pytest.mark.parametrize(("app_id", "name"), EXECUTOR_CASES)
def test_executor_list(app_id, name):
    spark = expected(name)
    summary = ours(app_id, None)
    rows = {r["executor_id"]: r for r in summary["executor_list"]}
    with_metrics = executors_with_metrics(log_of(app_id, None))
    diffs = Diffs("executor", f"{app_id} {name}")
    diffs.eq("ids", "executor_id", sorted(e["id"] for e in spark), sorted(rows))
    for executor in spark:
        row = rows.get(executor["id"])
        at = Diffs("executor", f"{app_id} executor {executor['id']}")
        if row is None:
            at.fail("no such executor in ours")
            diffs.failures += at.failures
            continue
        driver = executor["id"] == "driver"
        at.eq("hostPort (host)", "host", executor["hostPort"].rsplit(":", 1)[0], row["host"])
        if driver and executor["totalCores"] == 0 and row["cores"] is None:
            at.skip("default_no_data")
        else:
            at.eq("totalCores", "cores", executor["totalCores"], row["cores"])
        at.eq("maxMemory", "max_memory_bytes", executor["maxMemory"], row["max_memory_bytes"])
        at.eq("addTime", "added_ms", epoch_ms(executor["addTime"]), row["added_ms"])
        removed = executor.get("removeTime")
        at.eq("removeTime", "removed_ms", epoch_ms(removed) if removed else None, row["removed_ms"])
        reason = first_line(executor.get("removeReason"))
        at.eq("removeReason", "removed_reason", reason, row["removed_reason"])
        at.eq("isActive", "removed_ms is None", executor["isActive"], row["removed_ms"] is None)
        at.eq("totalTasks", "tasks", executor["totalTasks"], row["tasks"])
        at.eq("failedTasks", "failed_tasks", executor["failedTasks"], row["failed_tasks"])
        at.eq(
            "completedTasks",
            "tasks - failed_tasks",
            executor["completedTasks"],
            row["tasks"] - row["failed_tasks"],
        )
        if driver:
            at.skip("rest_driver")  # totalGCTime
        else:
            at.eq("totalGCTime", "gc_time_ms", executor["totalGCTime"], row["gc_time_ms"])
        at.skip("wall_time")  # totalDuration
        peaks = executor.get("peakMemoryMetrics")
        for metric, our_field in (
            ("JVMHeapMemory", "peak_jvm_heap_bytes"),
            ("OnHeapExecutionMemory", "peak_on_heap_execution_memory_bytes"),
        ):
            theirs = None if peaks is None else peaks[metric]
            if theirs == 0 and row[our_field] is None and executor["id"] not in with_metrics:
                at.skip("default_no_data")
            else:
                at.eq(f"peakMemoryMetrics.{metric}", our_field, theirs, row[our_field])
        diffs.failures += at.failures
    for spark_field, our_field in (
        ("totalInputBytes", "input_bytes"),
        ("totalShuffleRead", "shuffle_read_bytes"),
        ("totalShuffleWrite", "shuffle_write_bytes"),
        ("totalTasks", "tasks"),
        ("failedTasks", "failed_tasks"),
    ):
        total = sum(e[spark_field] for e in spark)
        diffs.eq(f"sum of {spark_field}", f"app {our_field}", total, summary[our_field])
    diffs.check()


def test_an_executor_peak_logged_as_zero_is_zero():
    """application_1553914137147_0018 logs OnHeapExecutionMemory = 0 for every executor (task
    and stage executor metrics) and Spark answers 0: a recorded 0 is a fact, not "unknown"."""
    spark = expected("executor_list_with_executor_metrics_json")
    rows = {
        r["executor_id"]: r for r in ours("application_1553914137147_0018", None)["executor_list"]
    }
    assert executors_with_metrics("application_1553914137147_0018") >= {e["id"] for e in spark}
    for executor in spark:
        assert executor["peakMemoryMetrics"]["OnHeapExecutionMemory"] == 0
        assert rows[executor["id"]]["peak_on_heap_execution_memory_bytes"] == 0, executor["id"]


# ---- jobs ------------------------------------------------------------------------------------

JOB_CASES = [
    ("local-1422981780767", None, "job_list_json"),  # .../jobs
    ("local-1426533911241", "1", "job_list_from_multi_attempt_app_json_1_"),  # .../1/jobs
    ("local-1426533911241", "2", "job_list_from_multi_attempt_app_json_2_"),  # .../2/jobs
]


def _stage_attempts_of_jobs(summary: dict[str, Any]) -> dict[int, list[dict[str, Any]]]:
    """Each stage attempt goes to the job that lists its stage id and ran when it was submitted
    (a stage id shared by several jobs was run by one, skipped by the others)."""
    spans = summary["job_spans"]
    out: dict[int, list[dict[str, Any]]] = {job_id: [] for job_id, *_ in spans}
    for row in summary["stage_list"]:
        jobs = [s for s in spans if row["stage_id"] in s[3]]
        during = [
            s
            for s in jobs
            if s[1] is not None
            and row["submitted_ms"] is not None
            and s[1] <= row["submitted_ms"] <= (s[2] or row["submitted_ms"])
        ]
        if jobs:
            out[(during or jobs)[0][0]].append(row)
    return out


@pytest.mark.parametrize(("app_id", "attempt", "name"), JOB_CASES)
def test_job_list(app_id, attempt, name):
    spark = expected(name)
    summary = ours(app_id, attempt)
    spans = {s[0]: s for s in summary["job_spans"]}
    failed = {j["job_id"] for j in summary["failed_job_reasons"]}
    stages = _stage_attempts_of_jobs(summary)
    diffs = Diffs("job", f"{app_id} {name}")
    diffs.eq("len(jobs)", "jobs", len(spark), summary["jobs"])
    for job in spark:
        span = spans.get(job["jobId"])
        at = Diffs("job", f"{app_id} job {job['jobId']}")
        if span is None:
            at.fail("no such job in ours")
            diffs.failures += at.failures
            continue
        rows = stages[job["jobId"]]
        at.eq("stageIds", "job_spans[3]", sorted(job["stageIds"]), sorted(span[3]))
        status = "FAILED" if job["jobId"] in failed else "SUCCEEDED"
        at.eq("status", "failed_job_reasons", job["status"], status)
        for spark_field, index in (("submissionTime", 1), ("completionTime", 2)):
            if spark_field in job:  # Spark 1.2/1.3 logs have no job times
                at.eq(spark_field, f"job_spans[{index}]", epoch_ms(job[spark_field]), span[index])
        if job["numSkippedTasks"] == 0:
            ran = {r["stage_id"]: r["num_tasks"] for r in rows}
            at.eq("numTasks", "sum num_tasks", job["numTasks"], sum(ran.values()))
        for spark_field, our_field in (
            ("numCompletedTasks", "succeeded_tasks"),
            ("numFailedTasks", "failed_tasks"),
            ("numKilledTasks", "killed_tasks"),
        ):
            at.eq(
                spark_field, f"sum {our_field}", job[spark_field], sum(r[our_field] for r in rows)
            )
        done = sum(1 for r in rows if not r["failure_reason"])
        at.eq(
            "numCompletedStages", "attempts without failure_reason", job["numCompletedStages"], done
        )
        at.eq(
            "numFailedStages",
            "attempts with failure_reason",
            job["numFailedStages"],
            len(rows) - done,
        )
        diffs.failures += at.failures
    diffs.check()


# ---- task-duration quantiles -----------------------------------------------------------------

SUMMARY_CASES = [
    # (expectation, stage, attempt): applications/local-1430917381534/stages/S/A/taskSummary
    ("stage_task_summary_w_shuffle_write", 0, 0),  # default quantiles 0.05,0.25,0.5,0.75,0.95
    ("stage_task_summary_w_shuffle_read", 1, 0),
    ("stage_task_summary_w__custom_quantiles", 0, 0),  # ?quantiles=0.01,0.5,0.99
]


@pytest.mark.parametrize(("name", "stage_id", "attempt"), SUMMARY_CASES)
def test_task_duration_quantiles(name, stage_id, attempt):
    spark = expected(name)
    [row] = [
        r
        for r in ours("local-1430917381534", None)["stage_list"]
        if (r["stage_id"], r["attempt"]) == (stage_id, attempt)
    ]
    # every task of these stages succeeded, so Spark's success-only filter changes nothing
    assert row["failed_tasks"] == row["killed_tasks"] == 0
    diffs = Diffs("task quantile", f"local-1430917381534 stage {stage_id}.{attempt} {name}")
    for q, theirs in zip(spark["quantiles"], spark["duration"], strict=True):
        our_field = QUANTILE_FIELDS.get(q)
        if our_field is not None:
            tol = theirs * SKETCH_ACCURACY + ROUNDING
            diffs.eq(f"duration at q={q}", our_field, theirs, row[our_field], tol=tol)
    diffs.check()


# ---- TaskCommitDenied ------------------------------------------------------------------------


def test_a_denied_commit_is_a_killed_task(tmp_path):
    """No log of Spark's has a TaskCommitDenied end, so one is derived from the speculation log:
    its killed speculative copy (task 4) ends TaskCommitDenied instead (the other way a copy that
    lost the race ends). Spark's AppStatusListener.onTaskEnd counts `case _: TaskCommitDenied =>
    (0, 0, 1)`, killed and not failed, so Spark's stage answer is unchanged: 4 complete, 0 failed,
    1 killed (stage_with_speculation_summary)."""
    source = LOGS / "application_1628109047826_1317105"
    lines = []
    for line in source.read_text().splitlines():
        event = json.loads(line)
        if event["Event"] == "SparkListenerTaskEnd" and event["Task Info"]["Task ID"] == 4:
            assert event["Task End Reason"]["Reason"] == "TaskKilled"
            event["Task End Reason"] = {
                "Reason": "TaskCommitDenied",
                "Job ID": 0,
                "Partition ID": 3,
                "Attempt Number": 1,
            }
            line = json.dumps(event, separators=(",", ":"))
        lines.append(line)
    derived = tmp_path / source.name
    derived.write_text("\n".join(lines) + "\n")
    [log] = find_logs(derived)
    summary = summarize(reduce_log(log))
    spark = expected("stage_with_speculation_summary")
    [row] = summary["stage_list"]
    assert (row["succeeded_tasks"], row["failed_tasks"], row["killed_tasks"]) == (
        spark["numCompleteTasks"],
        spark["numFailedTasks"],
        spark["numKilledTasks"],
    )
    assert summary["failed_tasks"] == 0 and summary["failure_reasons"] == {}
