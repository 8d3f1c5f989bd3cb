"""Newline-aligned byte ranges of one plain (uncompressed) log part, reduced apart: the one
implementation behind the parallel reducer's worker processes and the Spark job's tasks.

A line belongs to the range it starts in, so ranges cut anywhere still read every line once.
Cuts are found by reading forward in bounded pieces, never readline(): one line of a hostile
file may be gigabytes. An s3:// part is read with ranged GETs; nothing here knows the store.
"""

from __future__ import annotations

import itertools
from typing import Any, BinaryIO

from advisor.sparklog.parse import AppReducer
from advisor.sparklog.reader import LineSplitter

PIECE = 1 << 20


def open_range(location: str, start: int, end: int | None = None, s3: Any = None) -> BinaryIO:
    """The bytes of a part from `start` (to `end`, exclusive, when given; S3: one ranged GET,
    so a task pays for the bytes of its range, not the rest of the object)."""
    if location.startswith("s3://"):
        bucket, _, key = location[len("s3://") :].partition("/")
        span = f"bytes={start}-{'' if end is None else end - 1}"
        return s3.get_object(Bucket=bucket, Key=key, Range=span)["Body"]
    handle = open(location, "rb")  # noqa: SIM115 (the caller closes it)
    handle.seek(start)
    return handle


def line_start(location: str, position: int, size: int, s3: Any = None) -> int:
    """Where the first line starting at or after `position` starts (`size` if none does)."""
    if position <= 0:
        return 0
    if position >= size:
        return size
    raw = open_range(location, position - 1, None, s3)  # the byte before: is it a newline?
    try:
        at = position - 1
        while chunk := raw.read(PIECE):
            newline = chunk.find(b"\n")
            if newline >= 0:
                return min(at + newline + 1, size)
            at += len(chunk)
    finally:
        raw.close()
    return size


def line_ranges(location: str, size: int, pieces: int, s3: Any = None) -> list[tuple[int, int]]:
    """[start, end) ranges of about size/pieces bytes, each starting on a line; empty ones
    (a line longer than a piece) are dropped."""
    cuts = [0]
    for k in range(1, pieces):
        cuts.append(line_start(location, max(size * k // pieces, cuts[-1]), size, s3))
    cuts.append(size)
    return [(a, b) for a, b in itertools.pairwise(cuts) if b > a]


def reduce_range(
    reducer: AppReducer,
    location: str,
    start: int,
    end: int,
    *,
    ends_log: bool,
    s3: Any = None,
    chunk_bytes: int = PIECE,
) -> int:
    """Feed the lines of [start, end) to `reducer`, numbered from 1 within the range (the
    caller adds the lines of the ranges before, as `merge` does); returns how many it read.
    `ends_log`: this range ends the log, so an unterminated last line may be cut short."""
    splitter = LineSplitter(location, reducer.problems)
    if end > start:
        raw = open_range(location, start, end, s3)
        try:
            remaining = end - start
            while remaining > 0:
                chunk = raw.read(min(chunk_bytes, remaining))
                if not chunk:
                    break
                remaining -= len(chunk)
                first = splitter.number + 1
                reducer.feed_lines(splitter.feed(chunk), location, first)
        finally:
            raw.close()
    last = splitter.end()
    if last and not last.isspace():
        reducer.feed_lines([last], location, splitter.number, ends_log)
    return splitter.number
