"""Reduce one Spark event log to app, stage, executor, SQL and failure facts in one pass.

The event name is read from the line's prefix, so events we do not need are never decoded and
TaskStart lines are only counted. TaskEnd lines, the bulk of a log, are decoded by a typed
partial decoder (fastpath.py) that reads only the fields used; a line it cannot take goes the
general way (orjson + the handlers below), so damaged lines are treated as they always were.
Memory grows with stages, executors and SQL plan metrics, never with tasks. Bad lines are
recorded with their file and line and skipped.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import orjson

from advisor.collect.redact import redacted_excerpt
from advisor.sparklog.facts import ExecutorAcc, StageAcc
from advisor.sparklog.failures import classify, first_line
from advisor.sparklog.fastpath import (
    NO_INFO,
    TASK_END_PREFIX,
    TASK_START_PREFIX,
    EndReason,
    TaskEnd,
    TaskInfo,
    decode_task_end,
)
from advisor.sparklog.reader import Problems
from advisor.sparklog.sql import SqlAcc

PROPERTIES = (
    "spark.master",
    "spark.executor.memory",
    "spark.executor.cores",
    "spark.task.cpus",
    "spark.executor.instances",
    "spark.driver.memory",
    "spark.driver.cores",
    "spark.sql.shuffle.partitions",
    "spark.sql.adaptive.enabled",
    "spark.serializer",
    "spark.dynamicAllocation.enabled",
    "spark.dynamicAllocation.maxExecutors",
    "spark.sql.files.maxPartitionBytes",
    "spark.sql.parquet.mergeSchema",
    "spark.sql.parquet.filterPushdown",
    "spark.memory.fraction",
    "spark.executor.memoryOverhead",
    "spark.app.name",
)
_SQL_UI = "org.apache.spark.sql.execution.ui."
_EVENT_PREFIX = b'{"Event":"'
_TASK_START_STAGE = re.compile(rb'"Stage ID":(\d+),"Stage Attempt ID":(\d+)')
_TASK_START_HEAD = TASK_START_PREFIX + b',"Stage ID":'
_STAGE_ID_AT = len(_TASK_START_HEAD)
_START_KEYS = 1 << 16  # task starts' stage texts remembered (about 100 bytes each)
_SUCCESS = (None, "Success")  # end reasons failures.classify finds no failure in
# Events that carry nothing the advisor uses: skipped without decoding, not "unknown".
IGNORED_EVENTS = frozenset(
    {
        "SparkListenerBlockUpdated",
        "SparkListenerTaskGettingResult",
        "SparkListenerUnpersistRDD",
        "SparkListenerResourceProfileAdded",
        "SparkListenerBlockManagerRemoved",
        "SparkListenerSpeculativeTaskSubmitted",
        "SparkListenerExecutorBlacklisted",
        "SparkListenerExecutorUnblacklisted",
        "SparkListenerNodeBlacklisted",
        "SparkListenerNodeUnblacklisted",
        "SparkListenerExecutorExcluded",
        "SparkListenerExecutorUnexcluded",
        "SparkListenerExecutorBlacklistedForStage",
        "SparkListenerExecutorExcludedForStage",
        "SparkListenerNodeBlacklistedForStage",
        "SparkListenerNodeExcludedForStage",
        "SparkListenerMiscellaneousProcessAdded",
        "org.apache.spark.sql.execution.ui.SparkListenerSQLAdaptiveSQLMetricUpdates",
        "org.apache.spark.sql.execution.ui.SparkListenerEffectiveSQLConf",
        "org.apache.spark.sql.streaming.StreamingQueryListener$QueryStartedEvent",
        "org.apache.spark.sql.streaming.StreamingQueryListener$QueryProgressEvent",
        "org.apache.spark.sql.streaming.StreamingQueryListener$QueryTerminatedEvent",
        "org.apache.spark.sql.streaming.StreamingQueryListener$QueryIdleEvent",
    }
)


def event_name(line: bytes) -> str | None:
    """The event type from the line's prefix (Spark writes "Event" first), else None."""
    if line.startswith(_EVENT_PREFIX):
        end = line.find(b'"', len(_EVENT_PREFIX))
        if end > 0:
            return line[len(_EVENT_PREFIX) : end].decode(errors="replace")
    return None


def _num(value: Any) -> float:
    return value if isinstance(value, int | float) and not isinstance(value, bool) else 0


# A long line is parsed only if it is mostly text: parsed JSON costs about 30 bytes of memory
# per value, so a 64 MiB line of `[[],[],...]` took 2 GB. Real long lines (SQL plans, the
# environment) carry about one bracket or comma per 15 bytes; this refuses one per 6 or more.
DENSE_CHECK_BYTES = 4 << 20
_DENSITY = 6


def _too_dense(line: bytes) -> bool:
    return (line.count(b"{") + line.count(b"[") + line.count(b",")) * _DENSITY > len(line)


class AppReducer:
    """Feed decoded events; read `.summary()` when the log ends."""

    def __init__(self, location: str, problems: Problems, *, in_progress: bool = False):
        self.location, self.problems, self.in_progress = location, problems, in_progress
        self.app: dict[str, Any] = {
            "app_id": None,
            "name": None,
            "spark_version": None,
            "start_ms": None,
            "end_ms": None,
            "user": None,
            "attempt_id": None,
        }
        self.properties: dict[str, str] = {}
        self.glue: dict[str, str] = {}
        self.stages: dict[tuple[int, int], StageAcc] = {}
        self.executors: dict[str, ExecutorAcc] = {}
        self.sql = SqlAcc()
        self.failures: dict[str, int] = {}
        self.failure_examples: dict[str, str] = {}
        self.failed_jobs: list[dict[str, Any]] = []
        self.jobs = 0
        # job id -> [submitted ms, completed ms, stage ids]: the phases the simulator replays
        self.job_spans: dict[int, list[Any]] = {}
        self.last_ms = 0
        self.skipped: dict[str, int] = {}
        # the text of a task start from its stage id to ',"Task Info"' -> the stage's key
        self._start_keys: dict[bytes, tuple[int, int]] = {}
        self.handlers: dict[str, Callable[[dict[str, Any]], None]] = {
            "SparkListenerLogStart": self._log_start,
            "SparkListenerApplicationStart": self._app_start,
            "SparkListenerApplicationEnd": self._app_end,
            "SparkListenerEnvironmentUpdate": self._environment,
            "SparkListenerExecutorAdded": self._executor_added,
            "SparkListenerExecutorRemoved": self._executor_removed,
            "SparkListenerBlockManagerAdded": self._block_manager,
            "SparkListenerJobStart": self._job_start,
            "SparkListenerJobEnd": self._job_end,
            "SparkListenerStageSubmitted": self._stage_submitted,
            "SparkListenerStageCompleted": self._stage_completed,
            "SparkListenerTaskEnd": self._task_end,
            "SparkListenerStageExecutorMetrics": self._stage_executor_metrics,
            "SparkListenerExecutorMetricsUpdate": self._executor_metrics_update,
            f"{_SQL_UI}SparkListenerSQLExecutionStart": self.sql.start,
            f"{_SQL_UI}SparkListenerSQLAdaptiveExecutionUpdate": self.sql.adaptive_update,
            f"{_SQL_UI}SparkListenerSQLExecutionEnd": self.sql.end,
            f"{_SQL_UI}SparkListenerDriverAccumUpdates": self.sql.driver_updates,
        }

    # ---- the line loop ---------------------------------------------------------------------

    def feed_lines(
        self, lines: list[bytes], location: str, first: int, unterminated: bool = False
    ) -> None:
        """Feed consecutive lines, the first being line `first` of `location`; `unterminated`:
        the last one ends the log without a newline. Empty lines are skipped. The same as
        feed() on each line, with task starts and ends taken without its detour."""
        decode, task_end, task_start = self.decode_task_end, self._task_end_typed, self._task_start
        last = len(lines) - 1
        for index, line in enumerate(lines):
            if not line:
                continue
            if line.startswith(TASK_END_PREFIX):  # as _task_end_line, without its call
                if len(line) <= DENSE_CHECK_BYTES and (event := decode(line)) is not None:
                    task_end(event)
                    continue
            elif line.startswith(TASK_START_PREFIX):
                task_start(line)
                continue
            self._feed(line, (location, first + index), unterminated and index == last)

    def feed(self, line: bytes, where: tuple[str, int], unterminated: bool = False) -> None:
        if line.startswith(TASK_END_PREFIX) and self._task_end_line(line):
            return
        self._feed(line, where, unterminated)

    def _feed(self, line: bytes, where: tuple[str, int], unterminated: bool) -> None:
        """The general path: the event name from the prefix, orjson, the event's handler."""
        name = event_name(line)
        if name == "SparkListenerTaskStart":
            self._task_start(line)
            return
        if name is not None and name not in self.handlers:
            self._skip(name)
            return
        if len(line) > DENSE_CHECK_BYTES and _too_dense(line):
            self.problems.add(
                "line_too_complex",
                where[0],
                where[1],
                f"a line of {len(line):,} bytes that is nearly all brackets and commas: parsed, "
                "it would take gigabytes; skipped",
            )
            return
        try:
            event = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            kind = "truncated_last_line" if unterminated else "invalid_json"
            # the line may hold a secret: only its redacted start is quoted
            quoted = redacted_excerpt(line[:4096].decode("utf-8", "replace"), 80)
            self.problems.add(kind, where[0], where[1], f"{exc}: {quoted!r}")
            return
        if not isinstance(event, dict):
            quoted = redacted_excerpt(line[:4096].decode("utf-8", "replace"), 80)
            self.problems.add("not_an_event", where[0], where[1], repr(quoted))
            return
        name = name or event.get("Event")
        handler = self.handlers.get(name)
        if handler is None:
            self._skip(str(name))
            return
        try:
            handler(event)
        except (KeyError, TypeError, ValueError, AttributeError, IndexError, OverflowError) as exc:
            self.problems.add(
                "bad_event", where[0], where[1], f"{name}: {type(exc).__name__}: {exc}"
            )

    def _skip(self, name: str) -> None:
        self.skipped[name] = self.skipped.get(name, 0) + 1

    def merge(self, other: AppReducer) -> None:
        """Fold in a reducer that read other lines of the same log (all aggregates associate)."""
        for key, value in other.app.items():
            if self.app.get(key) is None:
                self.app[key] = value
        self.properties = self.properties or other.properties
        self.glue = {**other.glue, **self.glue}
        for key, stage in other.stages.items():
            if key in self.stages:
                self.stages[key].merge(stage)
            else:
                self.stages[key] = stage
        for key, executor in other.executors.items():
            if key in self.executors:
                self.executors[key].merge(executor)
            else:
                self.executors[key] = executor
        self.sql.merge(other.sql)
        for key, count in other.failures.items():
            self.failures[key] = self.failures.get(key, 0) + count
        for key, example in other.failure_examples.items():  # deterministic whatever the order
            mine = self.failure_examples.get(key)
            self.failure_examples[key] = example if mine is None else min(mine, example)
        self.failed_jobs.extend(other.failed_jobs)
        self.jobs += other.jobs
        for job_id, (submitted, completed, stage_ids) in other.job_spans.items():
            span = self.job_spans.setdefault(job_id, [None, None, []])
            span[0] = span[0] if span[0] is not None else submitted
            span[1] = span[1] if span[1] is not None else completed
            span[2] = span[2] or stage_ids
        self.last_ms = max(self.last_ms, other.last_ms)
        for key, count in other.skipped.items():
            self.skipped[key] = self.skipped.get(key, 0) + count
        self.problems.merge(other.problems)

    def _time(self, value: Any) -> int | None:
        if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
            self.last_ms = max(self.last_ms, int(value))
            return int(value)
        return None

    # ---- app ------------------------------------------------------------------------------

    def _log_start(self, e: dict[str, Any]) -> None:
        self.app["spark_version"] = e.get("Spark Version")

    def _app_start(self, e: dict[str, Any]) -> None:
        self.app.update(
            app_id=e.get("App ID"),
            name=e.get("App Name"),
            user=e.get("User"),
            start_ms=self._time(e.get("Timestamp")),
        )
        self.app["attempt_id"] = e.get("App Attempt ID")

    def _app_end(self, e: dict[str, Any]) -> None:
        self.app["end_ms"] = self._time(e.get("Timestamp"))

    def _environment(self, e: dict[str, Any]) -> None:
        props = e.get("Spark Properties") or {}
        if isinstance(props, list):  # some writers emit [[key, value], ...]
            props = dict(p for p in props if isinstance(p, list) and len(p) == 2)
        system = e.get("System Properties") or {}
        if isinstance(system, list):
            system = dict(p for p in system if isinstance(p, list) and len(p) == 2)
        self.properties = {k: str(props[k]) for k in PROPERTIES if k in props}
        for source in (system, props):
            for key, value in source.items():
                if key.startswith("spark.glue.") or key in ("JOB_RUN_ID", "JOB_NAME"):
                    self.glue[key.removeprefix("spark.glue.")] = str(value)

    # ---- executors ------------------------------------------------------------------------

    def _executor(self, executor_id: Any) -> ExecutorAcc:
        key = str(executor_id)
        acc = self.executors.get(key)
        if acc is None:
            acc = self.executors[key] = ExecutorAcc(key)
        return acc

    def _executor_added(self, e: dict[str, Any]) -> None:
        acc = self._executor(e["Executor ID"])
        info = e.get("Executor Info") or {}
        acc.added_ms, acc.host = self._time(e.get("Timestamp")), info.get("Host")
        acc.cores = info.get("Total Cores")

    def _executor_removed(self, e: dict[str, Any]) -> None:
        acc = self._executor(e["Executor ID"])
        acc.removed_ms, acc.removed_reason = (
            self._time(e.get("Timestamp")),
            first_line(e.get("Removed Reason")),
        )

    def _block_manager(self, e: dict[str, Any]) -> None:
        manager = e.get("Block Manager ID") or {}
        if "Executor ID" in manager:
            acc = self._executor(manager["Executor ID"])
            acc.max_memory = e.get("Maximum Memory")
            # kept apart from ExecutorAdded's values, which win: each field has one source event
            acc.bm_host = acc.bm_host or manager.get("Host")
            added = self._time(e.get("Timestamp"))
            if added is not None and (acc.bm_added_ms is None or added < acc.bm_added_ms):
                acc.bm_added_ms = added

    def _stage_executor_metrics(self, e: dict[str, Any]) -> None:
        self._executor(e["Executor ID"]).peak(e.get("Executor Metrics"))

    def _executor_metrics_update(self, e: dict[str, Any]) -> None:
        """Heartbeat peaks, when logged: one entry per (stage, attempt) the executor ran."""
        executor = self._executor(e["Executor ID"])
        for update in e.get("Executor Metrics Updated") or []:
            executor.peak(update.get("Executor Metrics"))

    # ---- jobs and stages ------------------------------------------------------------------

    def _job_start(self, e: dict[str, Any]) -> None:
        self.jobs += 1
        submitted = self._time(e.get("Submission Time"))
        span = self.job_spans.setdefault(int(e["Job ID"]), [None, None, []])
        span[0] = submitted
        span[2] = [int(i) for i in e.get("Stage IDs") or []]

    def _job_end(self, e: dict[str, Any]) -> None:
        completed = self._time(e.get("Completion Time"))
        self.job_spans.setdefault(int(e["Job ID"]), [None, None, []])[1] = completed
        result = e.get("Job Result") or {}
        if result.get("Result") == "JobFailed":
            exception = result.get("Exception") or {}
            self.failed_jobs.append(
                {"job_id": e.get("Job ID"), "reason": first_line(exception.get("Message"))}
            )

    def _stage(self, info: dict[str, Any]) -> StageAcc:
        key = (int(info["Stage ID"]), int(info.get("Stage Attempt ID") or 0))
        acc = self.stages.get(key)
        if acc is None:
            acc = self.stages[key] = StageAcc(*key)
        acc.name = info.get("Stage Name", acc.name)
        acc.num_tasks = info.get("Number of Tasks", acc.num_tasks)
        acc.parents = info.get("Parent IDs") or acc.parents
        return acc

    def _stage_submitted(self, e: dict[str, Any]) -> None:
        acc = self._stage(e["Stage Info"])
        acc.submitted_ms = self._time(e["Stage Info"].get("Submission Time")) or acc.submitted_ms

    def _stage_completed(self, e: dict[str, Any]) -> None:
        info = e["Stage Info"]
        acc = self._stage(info)
        acc.submitted_ms = self._time(info.get("Submission Time")) or acc.submitted_ms
        acc.completed_ms = self._time(info.get("Completion Time"))
        acc.failure_reason = first_line(info.get("Failure Reason")) or None
        for accum in info.get("Accumulables") or []:
            name = accum.get("Name") or ""
            if name.startswith("internal.metrics."):
                acc.stage_totals[name] = _num(accum.get("Value"))
        self.sql.stage_accumulables(info.get("Accumulables") or [])
        acc.pour()  # its tasks are done (almost always): its tallies need not stay

    # ---- tasks ----------------------------------------------------------------------------

    def _task_start(self, line: bytes) -> None:
        # Spark writes '{"Event":"SparkListenerTaskStart","Stage ID":S,"Stage Attempt ID":A,
        # "Task Info":...': the text between "Stage ID": and ,"Task Info" names the attempt,
        # and its key is worked out once (by the search below, whose answer it then is)
        end = -1
        if line.startswith(_TASK_START_HEAD):
            end = line.find(b',"Task Info"', _STAGE_ID_AT, 200)
            key = self._start_keys.get(line[_STAGE_ID_AT:end]) if end > 0 else None
            if key is not None:
                self.stages[key].starts += 1
                return
        match = _TASK_START_STAGE.search(line, 0, 200)
        if match:
            key = (int(match[1]), int(match[2]))
            acc = self.stages.get(key) or self.stages.setdefault(key, StageAcc(*key))
            acc.starts += 1
            if (
                match.start() == _STAGE_ID_AT - len(b'"Stage ID":')
                and match.end() == end
                and len(self._start_keys) < _START_KEYS
            ):
                self._start_keys[line[_STAGE_ID_AT:end]] = key

    def _task_end(self, e: dict[str, Any]) -> None:
        key = (int(e["Stage ID"]), int(e.get("Stage Attempt ID") or 0))
        stage = self.stages.get(key) or self.stages.setdefault(key, StageAcc(*key))
        info = e.get("Task Info") or {}
        executor = self._executor(info.get("Executor ID", "unknown"))
        stage.tasks += 1
        executor.tasks += 1
        launch, finish = self._time(info.get("Launch Time")), self._time(info.get("Finish Time"))
        if launch is not None and finish is not None:
            stage.add_duration(finish - launch)
        reason = e.get("Task End Reason") or {}
        # Spark's status listener counts a denied commit (a speculative copy lost the race to
        # commit) as killed, not failed; so do we
        denied = reason.get("Reason") == "TaskCommitDenied"
        failure, message = (None, "") if denied else classify(reason)
        if failure is not None:
            stage.failed += 1
            executor.failed += 1
            self.failures[failure] = self.failures.get(failure, 0) + 1
            known = self.failure_examples.get(failure)
            self.failure_examples[failure] = message if known is None else min(known, message)
            stage.resubmitted += failure == "resubmitted"
        elif denied or reason.get("Reason") == "TaskKilled" or info.get("Killed"):
            stage.killed += 1
        else:
            stage.succeeded += 1
        executor.peak(e.get("Task Executor Metrics"))
        metrics = e.get("Task Metrics")
        if metrics:
            self._task_metrics(stage, executor, metrics)

    def _task_metrics(self, stage: StageAcc, executor: ExecutorAcc, m: dict[str, Any]) -> None:
        # Spark writes plain integers; a value of another type raises TypeError here, which
        # feed() records as a bad event. `or 0` is the hot path's cheap guard against nulls.
        get = m.get
        run, gc = get("Executor Run Time") or 0, get("JVM GC Time") or 0
        mem, disk = get("Memory Bytes Spilled") or 0, get("Disk Bytes Spilled") or 0
        stage.run_ms += run
        stage.cpu_ns += get("Executor CPU Time") or 0
        stage.gc_ms += gc
        stage.mem_spill += mem
        stage.disk_spill += disk
        executor.run_ms += run
        executor.gc_ms += gc
        executor.mem_spill += mem
        executor.disk_spill += disk
        peak = get("Peak Execution Memory") or 0
        if peak > 0:
            stage.add_peak_mem(peak)
        read = get("Shuffle Read Metrics")
        if read:
            stage.shuffle_read += (read.get("Remote Bytes Read") or 0) + (
                read.get("Local Bytes Read") or 0
            )
            stage.fetch_wait_ms += read.get("Fetch Wait Time") or 0
        write = get("Shuffle Write Metrics")
        if write:
            stage.shuffle_write += write.get("Shuffle Bytes Written") or 0
        inp = get("Input Metrics")
        if inp:
            stage.input_bytes += inp.get("Bytes Read") or 0
            stage.input_records += inp.get("Records Read") or 0
        out = get("Output Metrics")
        if out:
            stage.output_bytes += out.get("Bytes Written") or 0
            stage.output_records += out.get("Records Written") or 0

    # ---- task ends, typed (fastpath.py): the same facts as _task_end, from fewer fields ----

    # the typed decoder of task-end lines (a reducer without it takes the general path)
    decode_task_end = staticmethod(decode_task_end)

    def _task_end_line(self, line: bytes) -> bool:
        """Reduce a task-end line through the typed decoder; False if it must go the general
        way (it is then untouched: nothing was counted)."""
        if len(line) > DENSE_CHECK_BYTES:
            return False  # _feed() decides whether it is too dense to parse
        event = self.decode_task_end(line)
        if event is None:
            return False
        self._task_end_typed(event)
        return True

    def _task_end_typed(self, e: TaskEnd) -> None:
        """_task_end for a decoded TaskEnd. Every value has its Spark type here (a long, a
        string, a bool; a missing metric or time reads as 0, as `or 0` makes it there), so
        nothing below can raise: the line is counted whole."""
        key = (e.stage_id, e.stage_attempt)
        stage = self.stages.get(key)
        if stage is None:
            stage = self.stages[key] = StageAcc(*key)
        info = e.info or NO_INFO
        executor = self.executors.get(info.executor_id) or self._executor(info.executor_id)
        stage.tasks += 1
        executor.tasks += 1
        launch, finish = info.launch_time, info.finish_time
        if finish > self.last_ms:  # _time() keeps the latest positive time
            self.last_ms = finish
        if launch > 0:
            if launch > self.last_ms:
                self.last_ms = launch
            if finish > 0:
                stage.add_duration(finish - launch)
        reason = e.end_reason
        if reason is None or reason.reason in _SUCCESS:
            if info.killed:
                stage.killed += 1
            else:
                stage.succeeded += 1
        else:
            self._task_end_reason(stage, executor, info, reason)
        peaks = e.executor_peaks
        if peaks is not None:
            heap, execution = peaks.jvm_heap, peaks.on_heap_execution
            if heap is not None and (executor.peak_heap is None or heap > executor.peak_heap):
                executor.peak_heap = heap
            if execution is not None and (
                executor.peak_exec_memory is None or execution > executor.peak_exec_memory
            ):
                executor.peak_exec_memory = execution
        m = e.metrics
        if m is None:
            return
        run, gc, mem, disk = m.run_time, m.gc_time, m.memory_spilled, m.disk_spilled
        stage.run_ms += run
        stage.cpu_ns += m.cpu_time
        stage.gc_ms += gc
        stage.mem_spill += mem
        stage.disk_spill += disk
        executor.run_ms += run
        executor.gc_ms += gc
        executor.mem_spill += mem
        executor.disk_spill += disk
        if m.peak_execution_memory > 0:
            stage.add_peak_mem(m.peak_execution_memory)
        read = m.shuffle_read
        if read is not None:
            stage.shuffle_read += read.remote_bytes + read.local_bytes
            stage.fetch_wait_ms += read.fetch_wait
        if m.shuffle_write is not None:
            stage.shuffle_write += m.shuffle_write.bytes_written
        inp = m.input
        if inp is not None:
            stage.input_bytes += inp.bytes_read
            stage.input_records += inp.records_read
        out = m.output
        if out is not None:
            stage.output_bytes += out.bytes_written
            stage.output_records += out.records_written

    def _task_end_reason(
        self, stage: StageAcc, executor: ExecutorAcc, info: TaskInfo, reason: EndReason
    ) -> None:
        """A task end other than Success, as _task_end counts it."""
        kind = reason.reason
        # Spark's status listener counts a denied commit as killed, not failed; so do we
        denied = kind == "TaskCommitDenied"
        failure, message = (None, "") if denied else classify(reason.as_dict())
        if failure is not None:
            stage.failed += 1
            executor.failed += 1
            self.failures[failure] = self.failures.get(failure, 0) + 1
            known = self.failure_examples.get(failure)
            self.failure_examples[failure] = message if known is None else min(known, message)
            stage.resubmitted += failure == "resubmitted"
        elif denied or kind == "TaskKilled" or info.killed:
            stage.killed += 1
        else:
            stage.succeeded += 1
