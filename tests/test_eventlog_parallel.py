"""The parallel reducer gives exactly the sequential reducer's summary, whatever the blocks."""

from __future__ import annotations

import pytest

import advisor.sparklog.parallel as parallel
from advisor.sparklog.reader import Problems, find_logs
from advisor.sparklog.reduce import reduce_log
from advisor.sparklog.summary import summarize
from tests.test_eventlog_golden import PUBLIC, SAMPLES


@pytest.mark.parametrize("path", PUBLIC + SAMPLES, ids=lambda p: p.name[:40])
def test_parallel_equals_sequential(path, monkeypatch):
    [log] = find_logs(path)
    sequential = summarize(reduce_log(log, workers=1))
    monkeypatch.setattr(parallel, "BLOCK_BYTES", 1 << 14)  # many blocks, split across workers
    merged = summarize(parallel.reduce_parallel(log, Problems(), workers=2))
    assert merged == sequential


def test_big_logs_go_parallel_only_with_cores_to_spare():
    [log] = find_logs(PUBLIC[0])
    assert not parallel.worth_parallel(log, workers=1)
    big = type(log)(log.location, [type(log.parts[0])(log.parts[0].location, 200 << 20)], False)
    assert parallel.worth_parallel(big, workers=2)


def test_range_mode_reports_the_same_problem_lines(tmp_path, monkeypatch):
    """A plain file split into ranges still names each bad line by its absolute number."""
    source = (PUBLIC[0].parent.parent / "sparklint" / "spark_event_log_example").read_bytes()
    lines = source.split(b"\n")
    lines[len(lines) // 2] = b'{"Event":"SparkListenerTaskEnd", broken'
    damaged = tmp_path / "app-damaged"
    damaged.write_bytes(b"\n".join(lines)[:-40])  # and the last line cut short
    [log] = find_logs(damaged)
    sequential = summarize(reduce_log(log, workers=1))
    monkeypatch.setattr(parallel, "BLOCK_BYTES", 1 << 12)
    merged = summarize(parallel.reduce_parallel(log, Problems(), workers=3))
    assert merged == sequential
    assert sequential["problems"] == {"invalid_json": 1, "truncated_last_line": 1}
    assert [r["line"] for r in sequential["problem_examples"]] == [
        len(lines) // 2 + 1,
        len(lines) - 1,
    ]
