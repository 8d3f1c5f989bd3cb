"""Reduce a large log on every core: newline-aligned blocks to worker reducers, then merge.

Every aggregate the reducer keeps is associative (sums, maxima, mergeable DDSketches, unions
of SQL plan metrics), so workers can each read any subset of lines. The main process reads and
decompresses; a bounded queue keeps memory flat. Line numbers travel with each block so problems
still name their line.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterator
from typing import Any

from advisor.sparklog.codecs import DECODERS, CorruptStream, TruncatedStream
from advisor.sparklog.parse import AppReducer
from advisor.sparklog.ranges import line_ranges, reduce_range
from advisor.sparklog.reader import EventLog, LineSplitter, Problems, _Counting, open_part

BLOCK_BYTES = 4 << 20
# worth the process start-up only for big logs (compressed logs hold ~8x their size)
PARALLEL_MIN_BYTES = 48 << 20
_COMPRESSION_GUESS = 8


def worth_parallel(log: EventLog, workers: int) -> bool:
    guess = sum(p.size * (_COMPRESSION_GUESS if p.codec else 1) for p in log.parts)
    return workers > 1 and guess >= PARALLEL_MIN_BYTES


def _blocks(
    log: EventLog, problems: Problems, s3: Any, on_bytes: Callable[[int], None] | None
) -> Iterator[tuple[str, int, bytes, bool]]:
    """(part, first line number, whole lines joined by newlines, whether the block's last line
    ends the log unterminated). Lines are cut by the reader's LineSplitter, so a line over its
    cap is skipped and reported here, and memory stays bounded whatever the input."""
    for part in log.parts:
        raw = open_part(part, s3)
        splitter = LineSplitter(part.location, problems)
        lines: list[bytes] = []
        size, first = 0, 1
        try:
            for chunk in DECODERS[part.codec](_Counting(raw, on_bytes)):
                done = splitter.feed(chunk)
                lines += done
                size += len(chunk)
                if size >= BLOCK_BYTES and lines:
                    yield part.location, first, b"\n".join(lines), False
                    first, lines, size = splitter.number + 1, [], 0
        except TruncatedStream as exc:
            problems.add("truncated_file", part.location, splitter.number + 1, str(exc))
        except CorruptStream as exc:
            problems.add("corrupt_file", part.location, splitter.number + 1, str(exc))
        finally:
            raw.close()
        if lines:
            yield part.location, first, b"\n".join(lines), False
        last = splitter.end()
        if last and not last.isspace():
            yield part.location, splitter.number, last, True


def _worker(location: str, in_progress: bool, inbox: Any, outbox: Any) -> None:
    reducer = AppReducer(location, Problems(), in_progress=in_progress)
    while (item := inbox.get()) is not None:
        part, first, block, unterminated = item
        reducer.feed_lines(block.split(b"\n"), part, first, unterminated)
    outbox.put(reducer)


def _range_worker(log: EventLog, index: int, start: int, end: int, outbox: Any) -> None:
    """Reduce one byte range of a plain file; line numbers are relative to the range."""
    reducer = AppReducer(log.location, Problems(), in_progress=log.in_progress)
    part = log.parts[0]
    ends_log = end == part.size
    lines = reduce_range(
        reducer, part.location, start, end, ends_log=ends_log, chunk_bytes=BLOCK_BYTES
    )
    outbox.put((index, lines, reducer, end - start))


def _reduce_ranges(
    log: EventLog,
    problems: Problems,
    context: Any,
    workers: int,
    on_bytes: Callable[[int], None] | None,
) -> AppReducer:
    """Plain local file: each worker reads its own range, so nothing passes through this process."""
    ranges = line_ranges(log.parts[0].location, log.parts[0].size, workers)
    outbox = context.Queue()
    processes = [
        context.Process(target=_range_worker, args=(log, i, a, b, outbox), daemon=True)
        for i, (a, b) in enumerate(ranges)
    ]
    for process in processes:
        process.start()
    results = sorted(outbox.get() for _ in processes)
    for process in processes:
        process.join(timeout=5)
    reducer = AppReducer(log.location, problems, in_progress=log.in_progress)
    offset = 0
    for _index, lines, part, size in results:
        for row in part.problems.rows:  # make line numbers absolute
            if row["line"] is not None:
                row["line"] += offset
        offset += lines
        reducer.merge(part)
        if on_bytes:
            on_bytes(size)
    return reducer


def reduce_parallel(
    log: EventLog,
    problems: Problems,
    *,
    workers: int,
    s3: Any = None,
    on_bytes: Callable[[int], None] | None = None,
) -> AppReducer:
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    if (
        len(log.parts) == 1
        and log.parts[0].codec is None
        and not log.parts[0].location.startswith("s3://")
    ):
        return _reduce_ranges(log, problems, context, workers, on_bytes)
    inbox, outbox = context.Queue(maxsize=2 * workers), context.Queue()
    processes = [
        context.Process(
            target=_worker, args=(log.location, log.in_progress, inbox, outbox), daemon=True
        )
        for _ in range(workers)
    ]
    for process in processes:
        process.start()
    try:
        for block in _blocks(log, problems, s3, on_bytes):
            inbox.put(block)
        for _ in processes:
            inbox.put(None)
        reducer = AppReducer(log.location, problems, in_progress=log.in_progress)
        for _ in processes:
            reducer.merge(outbox.get())
    finally:
        for process in processes:
            process.join(timeout=5)
            if process.is_alive():
                process.terminate()
    return reducer


def default_workers() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
