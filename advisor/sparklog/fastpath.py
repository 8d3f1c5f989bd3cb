"""A typed partial decoder for task-end lines, the bulk of every event log.

A SparkListenerTaskEnd line is mostly fields the reducer never reads (accumulables, two dozen
executor metrics, push-based shuffle counters ...). msgspec decodes it straight into the Structs
below, which name only the fields the reducer uses: every other field is skipped without a
Python object being built for it.

The Structs are strict on purpose: each field has the one type Spark writes (a long, a string,
a bool) or null, and a missing metric or time reads as 0 (as `or 0` makes it on the general
path). A line that does not fit - a float where Spark writes a long, a number beyond a long, a
missing Stage ID, a string for a metric, a list for an object, a null metric - is not decoded
here (`decode_task_end` answers None) and goes the general way (orjson and the dict handler in
parse.py), which treats it exactly as it always did, down to the problem it is reported as.

The general path refuses a line that orjson refuses, so this one must refuse at least those.
msgspec checks the JSON syntax of the fields it skips, but not their UTF-8 nor their numbers:
orjson refuses `1e400` (beyond a double) anywhere in a line, msgspec skips it. So every line
the Structs accept is also validated whole by simdjson (pysimdjson's parser, which checks the
UTF-8, the escapes and every number, and answers no Python object). simdjson is stricter than
orjson in one way only, integers beyond 64 bits (orjson reads them as floats): such a line just
takes the general path. tests/test_sparklog_fastpath.py holds the two paths to the same facts
on every fixture log and on damaged lines of every kind.

Measured on the NDS q72 task ends (3 KB each): orjson builds the whole dict in about 10 us;
msgspec decodes these Structs in about 3.5 us and simdjson validates the line in about 2.7 us.
pysimdjson alone (validating, then reading the ~30 fields through its proxies) cost about as
much as the two together, and each value read that way would still need a type check.
"""

from __future__ import annotations

from typing import Annotated

import msgspec
import simdjson

TASK_END_PREFIX = b'{"Event":"SparkListenerTaskEnd"'
TASK_START_PREFIX = b'{"Event":"SparkListenerTaskStart"'

# A Java long, as Spark writes. orjson reads integers beyond 64 bits as floats, msgspec exactly:
# a line with one outside a long's range in a field read here falls back
Long = Annotated[int, msgspec.Meta(ge=-(2**63), le=2**63 - 1)]


class _Struct(msgspec.Struct, frozen=True, gc=False):
    """Read-only and untracked by the garbage collector (no Struct here holds a cycle)."""


class EndReason(
    _Struct,
    rename={
        "reason": "Reason",
        "kill_reason": "Kill Reason",
        "message": "Message",
        "loss_reason": "Loss Reason",
        "class_name": "Class Name",
        "description": "Description",
    },
):
    """The fields failures.classify reads; for each, missing and null mean the same there."""

    reason: str | None = None
    kill_reason: str | None = None
    message: str | None = None
    loss_reason: str | None = None
    class_name: str | None = None
    description: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        return {
            "Reason": self.reason,
            "Kill Reason": self.kill_reason,
            "Message": self.message,
            "Loss Reason": self.loss_reason,
            "Class Name": self.class_name,
            "Description": self.description,
        }


class TaskInfo(
    _Struct,
    rename={
        "executor_id": "Executor ID",
        "launch_time": "Launch Time",
        "finish_time": "Finish Time",
        "killed": "Killed",
    },
):
    executor_id: str = "unknown"  # the general path's default for a missing id
    launch_time: Long = 0
    finish_time: Long = 0
    killed: bool | None = None


class ExecutorPeaks(
    _Struct, rename={"jvm_heap": "JVMHeapMemory", "on_heap_execution": "OnHeapExecutionMemory"}
):
    jvm_heap: Long | None = None
    on_heap_execution: Long | None = None


class ShuffleRead(
    _Struct,
    rename={
        "remote_bytes": "Remote Bytes Read",
        "local_bytes": "Local Bytes Read",
        "fetch_wait": "Fetch Wait Time",
    },
):
    remote_bytes: Long = 0
    local_bytes: Long = 0
    fetch_wait: Long = 0


class ShuffleWrite(_Struct, rename={"bytes_written": "Shuffle Bytes Written"}):
    bytes_written: Long = 0


class Input(_Struct, rename={"bytes_read": "Bytes Read", "records_read": "Records Read"}):
    bytes_read: Long = 0
    records_read: Long = 0


class Output(
    _Struct, rename={"bytes_written": "Bytes Written", "records_written": "Records Written"}
):
    bytes_written: Long = 0
    records_written: Long = 0


class TaskMetrics(
    _Struct,
    rename={
        "run_time": "Executor Run Time",
        "cpu_time": "Executor CPU Time",
        "gc_time": "JVM GC Time",
        "memory_spilled": "Memory Bytes Spilled",
        "disk_spilled": "Disk Bytes Spilled",
        "peak_execution_memory": "Peak Execution Memory",
        "shuffle_read": "Shuffle Read Metrics",
        "shuffle_write": "Shuffle Write Metrics",
        "input": "Input Metrics",
        "output": "Output Metrics",
    },
):
    run_time: Long = 0
    cpu_time: Long = 0
    gc_time: Long = 0
    memory_spilled: Long = 0
    disk_spilled: Long = 0
    peak_execution_memory: Long = 0
    shuffle_read: ShuffleRead | None = None
    shuffle_write: ShuffleWrite | None = None
    input: Input | None = None
    output: Output | None = None


class TaskEnd(
    _Struct,
    rename={
        "stage_id": "Stage ID",
        "stage_attempt": "Stage Attempt ID",
        "end_reason": "Task End Reason",
        "info": "Task Info",
        "executor_peaks": "Task Executor Metrics",
        "metrics": "Task Metrics",
    },
):
    stage_id: Long  # required: a task end without one is a bad event on the general path
    stage_attempt: Long = 0
    end_reason: EndReason | None = None
    info: TaskInfo | None = None
    executor_peaks: ExecutorPeaks | None = None
    metrics: TaskMetrics | None = None


NO_INFO = TaskInfo()  # what a missing or null "Task Info" reads as
_decode = msgspec.json.Decoder(TaskEnd).decode


def decode_task_end(line: bytes) -> TaskEnd | None:
    """The task end's used fields, or None when the line must take the general path."""
    try:
        event = _decode(line)
    except (msgspec.DecodeError, RecursionError):  # malformed JSON, a field of another type
        return None  # (a ValidationError), or nested deeper than msgspec goes
    try:
        _validator.parse(line)  # the proxy it answers is dropped at once (a parser is reusable
    except (ValueError, RuntimeError):  # only when no proxy of its last document is alive)
        return None
    return event


# One per process (a forked worker gets its own copy); the reducer is not shared by threads.
_validator = simdjson.Parser()
