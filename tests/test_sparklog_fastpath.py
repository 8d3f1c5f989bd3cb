"""The typed task-end decoder (advisor/sparklog/fastpath.py) gives exactly the general path's
facts and problems, and takes every real task end.

The general path (orjson + AppReducer._task_end) is the reference: a reducer whose typed path is
switched off reads the same lines, and the two summaries must be equal as text (so an int that
became a float, or a problem reported differently, is a difference). Checked on every real log
in the fixtures, on hand-made damage (a number beyond a double or a long, floats, bools, nulls,
lists, broken UTF-8, surrogates, duplicate keys ...) and on random damage to real task ends.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

import pytest
from ddsketch import DDSketch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from advisor.sparklog import fastpath
from advisor.sparklog.facts import SKETCH_ACCURACY, TALLY_BUCKETS, StageAcc, _bucket
from advisor.sparklog.parse import AppReducer
from advisor.sparklog.reader import Problems, find_logs, iter_line_blocks, iter_lines
from advisor.sparklog.summary import summarize
from tests.conftest import SAMPLE

FIXTURES = Path(__file__).parent / "fixtures"
LOG_FOLDERS = [
    FIXTURES / "spark-events",  # Spark 1.x to 3.x, rolling and compressed
    FIXTURES / "spark-history" / "spark-events",  # Apache Spark's History Server test logs
    FIXTURES / "spark4",
    FIXTURES / "whatif",
    SAMPLE / "eventlogs",  # Spark 3.5 in every codec
]


@functools.cache
def real_logs() -> list:
    logs = [log for folder in LOG_FOLDERS for log in find_logs(folder)]
    return [log for log in logs if not log.location.endswith(".py")]


_TASK_START_STAGE = re.compile(rb'"Stage ID":(\d+),"Stage Attempt ID":(\d+)')


class GeneralOnly(AppReducer):
    """The reference: every task end through orjson and the dict handler, and every task start
    through the one regular expression, as before the typed path."""

    @staticmethod
    def decode_task_end(line: bytes) -> None:
        return None

    def _task_start(self, line: bytes) -> None:
        match = _TASK_START_STAGE.search(line, 0, 200)
        if match:
            key = (int(match.group(1)), int(match.group(2)))
            acc = self.stages.get(key) or self.stages.setdefault(key, StageAcc(*key))
            acc.starts += 1


def outcome(reducer: AppReducer) -> str:
    """Everything the reducer tells, as text: types count (1 != 1.0 here)."""
    summary = summarize(reducer)
    return repr((summary, reducer.problems.rows, reducer.problems.counts))


def both(lines: list[bytes], *, unterminated: bool = False) -> tuple[str, str]:
    typed, general = AppReducer("t", Problems()), GeneralOnly("t", Problems())
    for reducer in (typed, general):
        reducer.feed_lines(lines, "t", 1, unterminated)
    return outcome(typed), outcome(general)


# ---- real logs ------------------------------------------------------------------------------


def test_the_fixtures_hold_every_kind_of_log():
    versions = set()
    for log in real_logs():
        for line in iter_lines(log, Problems()):
            if line.data.startswith(b'{"Event":"SparkListenerLogStart"'):
                versions.add(re.search(rb'"Spark Version":"(\d)', line.data)[1])
    assert versions >= {b"1", b"2", b"3", b"4"}


@pytest.mark.parametrize("log", real_logs(), ids=lambda log: Path(log.location).name[:40])
def test_a_real_log_gives_the_general_paths_facts(log):
    typed, general = AppReducer(log.location, Problems()), GeneralOnly(log.location, Problems())
    for block in iter_line_blocks(log, Problems()):
        typed.feed_lines(block.lines, block.part.location, block.first, block.unterminated)
    for line in iter_lines(log, Problems()):  # one line at a time, as feed() callers do
        general.feed(line.data, (line.part.location, line.number), line.unterminated)
    assert outcome(typed) == outcome(general)


@functools.cache
def real_task_ends() -> list[bytes]:
    """A few task ends of each real log, every end reason among them."""
    chosen: list[bytes] = []
    for log in real_logs():
        kinds: dict[bytes, int] = {}
        for line in iter_lines(log, Problems()):
            if line.data.startswith(fastpath.TASK_END_PREFIX):
                kind = re.search(rb'"Reason":"([^"]*)"', line.data)
                kind = kind[1] if kind else b""
                if kinds.get(kind, 0) < 3:
                    kinds[kind] = kinds.get(kind, 0) + 1
                    chosen.append(line.data)
    return chosen


def test_every_real_task_end_takes_the_typed_path():
    """A line the typed decoder refuses costs a second decode: none of Spark's should."""
    count = 0
    for log in real_logs():
        for line in iter_lines(log, Problems()):
            if line.data.startswith(fastpath.TASK_END_PREFIX):
                assert fastpath.decode_task_end(line.data) is not None, line.data[:300]
                count += 1
    assert count > 40_000
    reasons = {re.search(rb'"Reason":"([^"]*)"', line)[1] for line in real_task_ends()}
    assert {b"Success", b"TaskKilled", b"FetchFailed", b"ExceptionFailure"} <= reasons
    assert {b"ExecutorLostFailure", b"Resubmitted"} <= reasons


# ---- hand-made damage -----------------------------------------------------------------------

BASE = (
    b'{"Event":"SparkListenerTaskEnd","Stage ID":3,"Stage Attempt ID":0,"Task Type":"ResultTask",'
    b'"Task End Reason":{"Reason":"Success"},"Task Info":{"Task ID":7,"Index":1,"Attempt":0,'
    b'"Launch Time":1700000000000,"Executor ID":"2","Host":"h","Locality":"PROCESS_LOCAL",'
    b'"Speculative":false,"Getting Result Time":0,"Finish Time":1700000001234,"Failed":false,'
    b'"Killed":false,"Accumulables":[{"ID":1,"Name":"internal.metrics.executorRunTime",'
    b'"Update":900,"Value":900,"Internal":true,"Count Failed Values":true}]},'
    b'"Task Executor Metrics":{"JVMHeapMemory":512,"OnHeapExecutionMemory":64,"MinorGCCount":3},'
    b'"Task Metrics":{"Executor Deserialize Time":5,"Executor Run Time":900,'
    b'"Executor CPU Time":800000000,"Peak Execution Memory":4096,"Result Size":2000,'
    b'"JVM GC Time":12,"Memory Bytes Spilled":0,"Disk Bytes Spilled":0,'
    b'"Shuffle Read Metrics":{"Remote Blocks Fetched":1,"Fetch Wait Time":3,'
    b'"Remote Bytes Read":100,"Local Bytes Read":50,"Total Records Read":9},'
    b'"Shuffle Write Metrics":{"Shuffle Bytes Written":70,"Shuffle Write Time":1,'
    b'"Shuffle Records Written":4},"Input Metrics":{"Bytes Read":1000,"Records Read":10},'
    b'"Output Metrics":{"Bytes Written":0,"Records Written":0},"Updated Blocks":[]}}'
)
# a value of each kind a damaged (or strange) log may hold where Spark writes a long
ODD_NUMBERS = [
    b"1e400",  # beyond a double: orjson refuses the line, wherever the number is
    b"-1e400",
    b"1E+309",
    b"1" + b"0" * 400,
    b"0.1e309",  # 1e308: fine
    b"1e-400",  # 0.0
    b"1.0",
    b"1.5",
    b"1E5",
    b"-0",
    b"-7",
    b"99999999999999999999",  # beyond 64 bits: orjson reads a float
    b"18446744073709551615",  # the largest unsigned long
    b"9223372036854775808",  # a long's maximum + 1
    b"9223372036854775807",
    b"-9223372036854775808",
    b"-9223372036854775809",
    b"true",
    b"false",
    b"null",
    b'"12"',
    b'""',
    b"[]",
    b"[1]",
    b"{}",
    b'{"a":1}',
]
FIELDS = [
    b'"Stage ID":3',
    b'"Stage Attempt ID":0',
    b'"Task ID":7',  # a field nobody reads
    b'"Launch Time":1700000000000',
    b'"Finish Time":1700000001234',
    b'"Update":900',  # inside the accumulables nobody reads
    b'"JVMHeapMemory":512',
    b'"OnHeapExecutionMemory":64',
    b'"MinorGCCount":3',
    b'"Executor Run Time":900',
    b'"Executor CPU Time":800000000',
    b'"Peak Execution Memory":4096',
    b'"JVM GC Time":12',
    b'"Result Size":2000',
    b'"Remote Bytes Read":100',
    b'"Fetch Wait Time":3',
    b'"Shuffle Bytes Written":70',
    b'"Bytes Read":1000',
    b'"Records Written":0',
]


def with_value(field: bytes, value: bytes) -> bytes:
    assert BASE.count(field) == 1
    return BASE.replace(field, field.split(b":")[0] + b":" + value)


@pytest.mark.parametrize("field", FIELDS, ids=lambda f: f.split(b'"')[1].decode())
def test_any_value_in_any_field_gives_the_general_paths_facts(field):
    for value in ODD_NUMBERS:
        line = with_value(field, value)
        typed, general = both([BASE, line, BASE])
        assert typed == general, (field, value)


def test_the_typed_path_refuses_what_it_cannot_read_exactly():
    beyond_a_double = with_value(b'"Update":900', b"1e400")
    assert fastpath.decode_task_end(beyond_a_double) is None  # msgspec alone would skip it
    assert "number is infinity" in both([beyond_a_double])[0]
    assert fastpath.decode_task_end(with_value(b'"JVM GC Time":12', b"12.0")) is None
    assert fastpath.decode_task_end(with_value(b'"Stage ID":3', b"99999999999999999999")) is None
    assert fastpath.decode_task_end(BASE) is not None


OTHER_DAMAGE = {
    "invalid UTF-8 in a field nobody reads": BASE.replace(b'"Host":"h"', b'"Host":"h\xff\xfe"'),
    "UTF-8 of a surrogate": BASE.replace(b'"Host":"h"', b'"Host":"\xed\xa0\x80"'),
    "valid UTF-8": BASE.replace(b'"Host":"h"', '"Host":"hôte"'.encode()),
    "non-ASCII executor id": BASE.replace(b'"Executor ID":"2"', '"Executor ID":"é"'.encode()),
    "lone high surrogate": BASE.replace(b'"Host":"h"', b'"Host":"\\ud800"'),
    "lone low surrogate": BASE.replace(b'"Host":"h"', b'"Host":"\\udc00x"'),
    "escaped surrogate pair": BASE.replace(b'"Host":"h"', b'"Host":"\\ud83d\\ude00"'),
    "escaped NUL": BASE.replace(b'"Host":"h"', b'"Host":"\\u0000"'),
    "raw control character": BASE.replace(b'"Host":"h"', b'"Host":"a\tb"'),
    "bad escape": BASE.replace(b'"Host":"h"', b'"Host":"\\q"'),
    "duplicate Stage ID": BASE.replace(b'"Stage ID":3,', b'"Stage ID":3,"Stage ID":5,'),
    "duplicate run time": BASE.replace(
        b'"Executor Run Time":900,', b'"Executor Run Time":900,"Executor Run Time":1,'
    ),
    "no Stage ID": BASE.replace(b'"Stage ID":3,', b""),
    "no Stage Attempt ID": BASE.replace(b'"Stage Attempt ID":0,', b""),
    "no Task Info": re.sub(rb'"Task Info":\{.*?\]\},', b"", BASE),
    "null Task Info": re.sub(rb'"Task Info":\{.*?\]\},', b'"Task Info":null,', BASE),
    "empty Task Info": re.sub(rb'"Task Info":\{.*?\]\},', b'"Task Info":{},', BASE),
    "Task Info a list": re.sub(rb'"Task Info":\{.*?\]\},', b'"Task Info":[1],', BASE),
    "Task Info an empty list": re.sub(rb'"Task Info":\{.*?\]\},', b'"Task Info":[],', BASE),
    "null executor id": BASE.replace(b'"Executor ID":"2"', b'"Executor ID":null'),
    "numeric executor id": BASE.replace(b'"Executor ID":"2"', b'"Executor ID":2'),
    "Killed is a string": BASE.replace(b'"Killed":false', b'"Killed":"no"'),
    "killed": BASE.replace(b'"Killed":false', b'"Killed":true'),
    "no Task Metrics": BASE.split(b',"Task Metrics"')[0] + b"}",
    "null Task Metrics": BASE.split(b',"Task Metrics"')[0] + b',"Task Metrics":null}',
    "empty Task Metrics": BASE.split(b',"Task Metrics"')[0] + b',"Task Metrics":{}}',
    "Task Metrics a list": BASE.split(b',"Task Metrics"')[0] + b',"Task Metrics":[2]}',
    "null shuffle read": re.sub(
        rb'"Shuffle Read Metrics":\{.*?\}', b'"Shuffle Read Metrics":null', BASE
    ),
    "empty shuffle read": re.sub(
        rb'"Shuffle Read Metrics":\{.*?\}', b'"Shuffle Read Metrics":{}', BASE
    ),
    "shuffle read a list": re.sub(
        rb'"Shuffle Read Metrics":\{.*?\}', b'"Shuffle Read Metrics":[]', BASE
    ),
    "null executor metrics": re.sub(
        rb'"Task Executor Metrics":\{.*?\}', b'"Task Executor Metrics":null', BASE
    ),
    "executor metrics a list": re.sub(
        rb'"Task Executor Metrics":\{.*?\}', b'"Task Executor Metrics":[3]', BASE
    ),
    "no end reason": BASE.replace(b'"Task End Reason":{"Reason":"Success"},', b""),
    "null end reason": BASE.replace(b'{"Reason":"Success"}', b"null"),
    "empty end reason": BASE.replace(b'{"Reason":"Success"}', b"{}"),
    "end reason a string": BASE.replace(b'{"Reason":"Success"}', b'"Success"'),
    "end reason kind a number": BASE.replace(b'{"Reason":"Success"}', b'{"Reason":5}'),
    "killed task": BASE.replace(
        b'{"Reason":"Success"}', b'{"Reason":"TaskKilled","Kill Reason":"another attempt won"}'
    ),
    "commit denied": BASE.replace(
        b'{"Reason":"Success"}', b'{"Reason":"TaskCommitDenied","Job ID":1,"Partition ID":2}'
    ),
    "fetch failure": BASE.replace(
        b'{"Reason":"Success"}',
        b'{"Reason":"FetchFailed","Block Manager Address":{"Executor ID":"1"},'
        b'"Shuffle ID":0,"Message":"org.apache.spark.FetchFailed: gone\\nat x"}',
    ),
    "fetch failure, null message": BASE.replace(
        b'{"Reason":"Success"}', b'{"Reason":"FetchFailed","Message":null}'
    ),
    "exception": BASE.replace(
        b'{"Reason":"Success"}',
        b'{"Reason":"ExceptionFailure","Class Name":"java.lang.OutOfMemoryError",'
        b'"Description":"Java heap space","Stack Trace":[{"Line Number":1}],'
        b'"Accumulator Updates":[{"ID":1,"Update":"5"}]}',
    ),
    "exception, numeric class name": BASE.replace(
        b'{"Reason":"Success"}', b'{"Reason":"ExceptionFailure","Class Name":7}'
    ),
    "lost executor": BASE.replace(
        b'{"Reason":"Success"}',
        b'{"Reason":"ExecutorLostFailure","Executor ID":"2","Exit Caused By App":true,'
        b'"Loss Reason":"Container killed by YARN for exceeding memory limits. 137"}',
    ),
    "resubmitted": BASE.replace(b'{"Reason":"Success"}', b'{"Reason":"Resubmitted"}'),
    "an unknown reason": BASE.replace(b'{"Reason":"Success"}', b'{"Reason":"Mystery"}'),
    "a failure with a secret": BASE.replace(
        b'{"Reason":"Success"}',
        b'{"Reason":"ExceptionFailure","Class Name":"E","Description":"password=hunter2 oops"}',
    ),
    "deeply nested, unread": BASE.replace(
        b'"Updated Blocks":[]', b'"Updated Blocks":' + b"[" * 1100 + b"]" * 1100
    ),
    "moderately nested, unread": BASE.replace(
        b'"Updated Blocks":[]', b'"Updated Blocks":' + b"[" * 600 + b"]" * 600
    ),
    "negative times": BASE.replace(b'"Launch Time":1700000000000', b'"Launch Time":-5'),
    "no finish time": BASE.replace(b'"Finish Time":1700000001234,', b""),
    "zero finish time": BASE.replace(b'"Finish Time":1700000001234', b'"Finish Time":0'),
    "finish before launch": BASE.replace(
        b'"Finish Time":1700000001234', b'"Finish Time":1600000000000'
    ),
    "trailing space": BASE + b"  ",
    "trailing garbage": BASE + b"x",
    "two objects": BASE + BASE,
    "cut short": BASE[:-30],
    "an array": b"[" + BASE + b"]",
    "a name with more after it": BASE.replace(b"SparkListenerTaskEnd", b"SparkListenerTaskEndX"),
}


@pytest.mark.parametrize("damage", sorted(OTHER_DAMAGE))
def test_damaged_task_ends_are_treated_as_the_general_path_treats_them(damage):
    line = OTHER_DAMAGE[damage]
    typed, general = both([BASE, line, BASE])
    assert typed == general
    typed, general = both([BASE, line], unterminated=True)  # the last line of a cut log
    assert typed == general


def test_feed_and_feed_lines_agree():
    lines = [BASE, OTHER_DAMAGE["cut short"], OTHER_DAMAGE["fetch failure"], b"", BASE]
    one_by_one = AppReducer("t", Problems())
    for number, line in enumerate(lines, 1):
        if line:
            one_by_one.feed(line, ("t", number), number == len(lines))
    at_once = AppReducer("t", Problems())
    at_once.feed_lines(lines, "t", 1, True)
    assert outcome(one_by_one) == outcome(at_once)


def test_a_dense_long_task_end_is_still_refused_unparsed():
    from advisor.sparklog.parse import DENSE_CHECK_BYTES

    dense = fastpath.TASK_END_PREFIX + b',"Stage ID":1,"x":[' + b"[]," * (DENSE_CHECK_BYTES // 3)
    dense += b"[]]}"
    typed, general = both([dense])
    assert typed == general and "line_too_complex" in typed


START = (
    b'{"Event":"SparkListenerTaskStart","Stage ID":3,"Stage Attempt ID":0,"Task Info":'
    b'{"Task ID":7,"Index":1,"Launch Time":1700000000000,"Executor ID":"2"}}'
)
ODD_STARTS = [
    START,
    START.replace(b'"Stage ID":3', b'"Stage ID":03'),
    START.replace(b'"Stage ID":3', b'"Stage ID":4'),
    START.replace(b'"Stage Attempt ID":0', b'"Stage Attempt ID":1'),
    START.replace(b'"Stage Attempt ID":0,', b'"Stage Attempt ID":0 ,'),
    START.replace(b'"Stage Attempt ID":0,', b'"Stage Attempt ID":0,"Stage ID":9,'),
    START.replace(b'"Stage ID":3,', b'"Stage ID":3,"Stage ID":5,'),
    START.replace(b'"Stage ID":3,"Stage Attempt ID":0,', b""),
    START.replace(b'"Stage ID":3,"Stage Attempt ID":0,', b'"Stage Attempt ID":0,"Stage ID":3,'),
    START.replace(b'"Stage ID":3', b'"Stage ID":' + b"9" * 150),
    START.replace(b'"Stage ID":3', b'"Stage ID":' + b"9" * 140),
    START.replace(b'"Stage Attempt ID":0', b'"Stage Attempt ID":' + b"1" * 120),
    START.replace(b'"Task Info"', b'"Task Infos"'),
    START.replace(b'"Task Info"', b'"Tasks"'),
    START.replace(b',"Task Info"', b',"x":""Stage ID":7,"Stage Attempt ID":7","Task Info"'),
    START.replace(b',"Task Info"', rb',"x":"\"Stage ID\":7,\"Stage Attempt ID\":7","Task Info"'),
    START.replace(b'"Stage Attempt ID":0', b'"Stage Attempt ID":0x'),
    START.replace(b'{"Event":"SparkListenerTaskStart",', b'{"Event":"SparkListenerTaskStart", '),
    START[:60],
    START[:40],
    b'{"Event":"SparkListenerTaskStart"}',
    b'{"Event":"SparkListenerTaskStart","Stage ID":3,"Stage Attempt ID":0,"Task Info"',
]


def test_task_starts_are_counted_as_the_regular_expression_counts_them():
    for order in (ODD_STARTS, ODD_STARTS[::-1], ODD_STARTS * 2):
        typed, general = both(list(order))
        assert typed == general
    typed, general = AppReducer("t", Problems()), GeneralOnly("t", Problems())
    for reducer in (typed, general):
        reducer.feed_lines(ODD_STARTS * 3, "t", 1)
    assert typed.stages[(3, 0)].starts == general.stages[(3, 0)].starts > 3
    assert typed._start_keys  # the canonical ones were taken from what was remembered


# ---- random damage to real task ends -------------------------------------------------------

_NUMBER = re.compile(rb":(-?\d+)")


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_random_damage_to_real_task_ends_gives_the_general_paths_facts(data):
    lines = real_task_ends()
    line = bytearray(data.draw(st.sampled_from(lines)))
    for _ in range(data.draw(st.integers(1, 3))):
        action = data.draw(st.sampled_from(["flip", "digit", "number", "cut", "insert"]))
        at = data.draw(st.integers(0, max(0, len(line) - 1)))
        if action == "flip":
            line[at : at + 1] = bytes([data.draw(st.integers(0, 255))])
        elif action == "digit":  # what a flipped bit often does to a long
            line[at : at + 1] = data.draw(st.sampled_from([b"e", b"E", b".", b"-", b"9", b'"']))
        elif action == "number":
            numbers = list(_NUMBER.finditer(line))
            if numbers:
                match = data.draw(st.sampled_from(numbers))
                line[match.start(1) : match.end(1)] = data.draw(st.sampled_from(ODD_NUMBERS))
        elif action == "cut":
            del line[at:]
        else:
            line[at:at] = data.draw(
                st.sampled_from([b"\xc3\xa9", b"\xff", b"\\u00e9", b"\\ud800", b",", b"{", b" "])
            )
    damaged = bytes(line)
    typed, general = both([damaged], unterminated=data.draw(st.booleans()))
    assert typed == general


# ---- the sketches' tallies ------------------------------------------------------------------


def test_tallied_durations_give_the_sketch_of_one_add_per_task():
    values = [(i * 7919) % 1000 for i in range(5000)] + [0, -3, 10**12]
    stage = StageAcc(1, 0)
    sketch = DDSketch(relative_accuracy=SKETCH_ACCURACY)
    for ms in values:
        stage.add_duration(ms)
        sketch.add(max(ms, 0) + 1e-9)
    assert len(stage.dur_tally) <= TALLY_BUCKETS  # bounded: poured as it fills
    assert stage.durations.count == sketch.count == len(values)
    for q in [i / 200 for i in range(201)]:
        assert stage.durations.get_quantile_value(q) == sketch.get_quantile_value(q)
    assert (stage.min_ms, stage.max_ms, stage.dur_sum) == (
        -3,
        10**12,
        sum(max(v, 0) for v in values),
    )


def test_the_tally_buckets_are_the_sketchs():
    sketch = DDSketch(relative_accuracy=SKETCH_ACCURACY)
    for value in [1e-9, 0.5, 1, 1 + 1e-9, 2, 99.5, 100, 101, 12345.678, 2**40, 2**63 - 1]:
        assert _bucket(value) == sketch._mapping.key(value)


def test_tallies_survive_a_merge_and_a_pickle():
    import pickle

    left, right, whole = StageAcc(1, 0), StageAcc(1, 0), StageAcc(1, 0)
    for ms in range(300):
        (left if ms % 3 else right).add_duration(ms % 37)
        whole.add_duration(ms % 37)
        (left if ms % 2 else right).add_peak_mem(ms * 1000 + 1)
        whole.add_peak_mem(ms * 1000 + 1)
    right = pickle.loads(pickle.dumps(right))  # as a worker sends it back
    left.merge(right)
    assert left.as_row() == whole.as_row()
