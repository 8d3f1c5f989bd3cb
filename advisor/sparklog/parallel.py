"""Reduce a large log on every core: newline-aligned blocks to worker reducers, then merge.

Every aggregate the reducer keeps is associative (sums, maxima, mergeable DDSketches, unions
of SQL plan metrics), so workers can each read any subset of lines. The main process reads and
decompresses; a bounded queue keeps memory flat. Line numbers travel with each block so problems
still name their line.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
from collections.abc import Callable, Iterator
from typing import Any, BinaryIO

from advisor.sparklog.codecs import DECODERS, CorruptStream, TruncatedStream
from advisor.sparklog.parse import AppReducer
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


def _ranges(path: str, size: int, parts: int) -> list[tuple[int, int]]:
    """Split a file into byte ranges that start and end on line boundaries."""
    cuts = [0]
    with open(path, "rb") as handle:
        for k in range(1, parts):
            cuts.append(_next_line_start(handle, max(size * k // parts, cuts[-1]), size))
    cuts.append(size)
    return [(a, b) for a, b in itertools.pairwise(cuts) if b > a]


def _next_line_start(handle: BinaryIO, position: int, size: int) -> int:
    """Where the line after `position` starts, read in bounded pieces (never readline(): one
    line of a hostile file may be gigabytes)."""
    handle.seek(position)
    while chunk := handle.read(1 << 20):
        newline = chunk.find(b"\n")
        if newline >= 0:
            return min(position + newline + 1, size)
        position += len(chunk)
    return size


def _range_worker(log: EventLog, index: int, start: int, end: int, outbox: Any) -> None:
    """Reduce one byte range of a plain file; line numbers are relative to the range."""
    reducer = AppReducer(log.location, Problems(), in_progress=log.in_progress)
    splitter = LineSplitter(log.location, reducer.problems)
    with open(log.parts[0].location, "rb") as handle:
        handle.seek(start)
        remaining = end - start
        while remaining > 0:
            chunk = handle.read(min(BLOCK_BYTES, remaining))
            if not chunk:
                break
            remaining -= len(chunk)
            first = splitter.number + 1
            reducer.feed_lines(splitter.feed(chunk), log.location, first)
    last = splitter.end()
    if last and not last.isspace():
        reducer.feed_lines([last], log.location, splitter.number, True)
    outbox.put((index, splitter.number, reducer, end - start))


def _reduce_ranges(
    log: EventLog,
    problems: Problems,
    context: Any,
    workers: int,
    on_bytes: Callable[[int], None] | None,
) -> AppReducer:
    """Plain local file: each worker reads its own range, so nothing passes through this process."""
    ranges = _ranges(log.parts[0].location, log.parts[0].size, workers)
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
