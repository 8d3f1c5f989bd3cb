"""Reduce Spark event logs on Spark itself, for fleets whose logs outgrow one machine.

    python -m advisor.spark_reduce INPUT OUTPUT [--master URL]
    spark-submit advisor/spark_reduce.py INPUT OUTPUT

INPUT is a local folder or an s3:// prefix of event logs in any layout the reader supports;
OUTPUT a local folder that receives facts-NNNNN.jsonl: one line per application, what `advisor
eventlog summarize --format json` prints for it (the facts the store keeps are in it), plus its
`size`. `advisor import DIR` loads DIR/facts/*.jsonl (or `advisor import-facts PATH`) without
reading a log again.

Work is split so that one big log does not serialise the job: every rolling part is a task,
and a plain part larger than --split-bytes is cut into byte ranges that each task aligns on
line boundaries (a line belongs to the range it starts in). Compressed parts cannot be split
and are one task each. Each task feeds its lines to the same reducer `advisor` runs and
returns it; the driver merges them in log order with the reducer's exact merge (the one the
parallel reducer uses), so the facts equal a single-machine reduction. A damaged log is
reported in its line's `problems`, never fails the job.

pyspark is an optional extra: `pip install 'glue-advisor[spark]'`.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from advisor.collect.redact import redact_value
from advisor.sparklog.parse import AppReducer
from advisor.sparklog.reader import (
    EventLog,
    LineSplitter,
    LogPart,
    Problems,
    find_logs,
    iter_lines,
)
from advisor.sparklog.summary import summarize

SPLIT_BYTES = 128 << 20
PIECE = 1 << 20


@dataclass(frozen=True)
class Task:
    """One unit of work: a whole part, or the byte range [start, end) of a plain part."""

    app: int
    part: int
    piece: int
    log_location: str
    location: str
    size: int
    in_progress: bool
    start: int = 0
    end: int | None = None  # None: the whole part, any codec
    last_piece: bool = True


def plan(logs: list[EventLog], split_bytes: int = SPLIT_BYTES) -> list[Task]:
    tasks = []
    for app, log in enumerate(logs):
        for index, part in enumerate(log.parts):
            common = (app, index)
            pieces = -(-part.size // split_bytes) if part.codec is None else 1
            if pieces <= 1:
                tasks.append(
                    Task(*common, 0, log.location, part.location, part.size, log.in_progress)
                )
                continue
            for piece in range(pieces):
                tasks.append(
                    Task(
                        *common,
                        piece,
                        log.location,
                        part.location,
                        part.size,
                        log.in_progress,
                        start=part.size * piece // pieces,
                        end=part.size * (piece + 1) // pieces,
                        last_piece=piece == pieces - 1,
                    )
                )
    return tasks


def _s3_client(options: dict[str, Any]) -> Any:
    import boto3

    session = boto3.Session(profile_name=options.get("profile"), region_name=options.get("region"))
    return session.client("s3", endpoint_url=options.get("endpoint_url"))


def _open_range(location: str, start: int, s3: Any) -> BinaryIO:
    """The bytes of a plain part from `start` on (S3: one ranged GET)."""
    if location.startswith("s3://"):
        bucket, _, key = location[len("s3://") :].partition("/")
        return s3.get_object(Bucket=bucket, Key=key, Range=f"bytes={start}-")["Body"]
    handle = open(location, "rb")  # noqa: SIM115 (the caller closes it)
    handle.seek(start)
    return handle


def _line_start(location: str, position: int, size: int, s3: Any) -> int:
    """Where the first line starting at or after `position` starts (a line starts after a
    newline), read in bounded pieces: one line of a hostile file may be gigabytes."""
    if position <= 0:
        return 0
    raw = _open_range(location, position - 1, s3)
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


def reduce_task(task: Task, s3_options: dict[str, Any] | None = None) -> tuple[Task, int, Any]:
    """Run on an executor: (the task, lines it read, its reducer)."""
    s3 = _s3_client(s3_options or {}) if task.location.startswith("s3://") else None
    reducer = AppReducer(task.log_location, Problems(), in_progress=task.in_progress)
    if task.end is None:
        log = EventLog(task.log_location, [LogPart(task.location, task.size)], task.in_progress)
        count = 0
        for line in iter_lines(log, reducer.problems, s3=s3):
            reducer.feed(line.data, (line.part.location, line.number), line.unterminated)
            count = line.number
        return task, count, reducer
    start = _line_start(task.location, task.start, task.size, s3)
    end = _line_start(task.location, task.end, task.size, s3) if not task.last_piece else task.size
    splitter = LineSplitter(task.location, reducer.problems)
    raw = _open_range(task.location, start, s3)
    try:
        remaining = end - start
        while remaining > 0:
            chunk = raw.read(min(PIECE, remaining))
            if not chunk:
                break
            remaining -= len(chunk)
            first = splitter.number + 1
            for number, data in enumerate(splitter.feed(chunk), first):
                if data:
                    reducer.feed(data, (task.location, number), False)
    finally:
        raw.close()
    last = splitter.end()
    if last and not last.isspace():
        reducer.feed(last, (task.location, splitter.number), task.last_piece)
    return task, splitter.number, reducer


def merge(logs: list[EventLog], results: list[tuple[Task, int, Any]]) -> list[dict[str, Any]]:
    """Per application, in log order: the pieces' reducers merged (their problems' line
    numbers made absolute within each part), summarised as `eventlog summarize` does."""
    by_app: dict[int, list[tuple[Task, int, Any]]] = defaultdict(list)
    for result in results:
        by_app[result[0].app].append(result)
    out = []
    for app, log in enumerate(logs):
        problems = Problems()
        reducer = AppReducer(log.location, problems, in_progress=log.in_progress)
        offsets: dict[int, int] = defaultdict(int)
        for task, lines, piece in sorted(by_app[app], key=lambda r: (r[0].part, r[0].piece)):
            for row in piece.problems.rows:
                if row["line"] is not None:
                    row["line"] += offsets[task.part]
            offsets[task.part] += lines
            reducer.merge(piece)
        summary = summarize(reducer)
        summary["source"] = log.location
        summary = redact_value(summary)  # Spark properties and messages carry passwords
        summary["size"] = log.size
        out.append(summary)
    return out


def write_facts(summaries: list[dict[str, Any]], output: Path) -> Path:
    output.mkdir(parents=True, exist_ok=True)
    taken = {p.name for p in output.glob("facts-*.jsonl")}
    number = 0
    while f"facts-{number:05d}.jsonl" in taken:
        number += 1
    target = output / f"facts-{number:05d}.jsonl"
    with target.open("w") as handle:
        for summary in summaries:
            handle.write(json.dumps(summary, sort_keys=True, default=str) + "\n")
    return target


def run(
    input_path: str,
    output: Path,
    *,
    master: str | None = None,
    split_bytes: int = SPLIT_BYTES,
    s3_options: dict[str, Any] | None = None,
) -> tuple[Path, list[dict[str, Any]]]:
    from pyspark.sql import SparkSession

    s3 = _s3_client(s3_options or {}) if input_path.startswith("s3://") else None
    logs = find_logs(input_path, s3)
    tasks = plan(logs, split_bytes)
    builder = SparkSession.builder.appName("glue-advisor event-log reduction")
    if master:
        builder = builder.master(master)
    spark = builder.getOrCreate()
    try:
        options = dict(s3_options or {})
        results = (
            spark.sparkContext.parallelize(tasks, max(len(tasks), 1))
            .map(lambda task: reduce_task(task, options))
            .collect()
            if tasks
            else []
        )
    finally:
        spark.stop()
    summaries = merge(logs, results)
    return write_facts(summaries, output), summaries


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m advisor.spark_reduce",
        description="Reduce Spark event logs on Spark; write one JSON line of facts per "
        "application for `advisor import` (DIR/facts/) or `advisor import-facts`.",
    )
    parser.add_argument("input", help="a local folder or s3://bucket/prefix/ of event logs")
    parser.add_argument("output", help="a local folder for facts-NNNNN.jsonl")
    parser.add_argument("--master", help="Spark master URL (default: spark-submit's, or local[*])")
    parser.add_argument(
        "--split-bytes",
        type=int,
        default=SPLIT_BYTES,
        help=f"cut plain logs larger than this into ranges (default {SPLIT_BYTES:,})",
    )
    parser.add_argument("--profile", help="AWS profile for s3:// input")
    parser.add_argument("--region", help="AWS region for s3:// input")
    parser.add_argument("--endpoint-url", help="S3 endpoint (moto, LocalStack)")
    args = parser.parse_args(argv)
    try:
        import pyspark  # noqa: F401
    except ImportError:
        print("pyspark is not installed: pip install 'glue-advisor[spark]'", file=sys.stderr)
        return 2
    if not args.input.startswith("s3://") and not Path(args.input).exists():
        print(f"{args.input}: no such file or folder", file=sys.stderr)
        return 2
    target, summaries = run(
        args.input,
        Path(args.output),
        master=args.master,
        split_bytes=args.split_bytes,
        s3_options={
            "profile": args.profile,
            "region": args.region,
            "endpoint_url": args.endpoint_url,
        },
    )
    damaged = sum(1 for s in summaries if s.get("problems"))
    print(f"wrote {target}: {len(summaries)} applications, {damaged} with damaged lines")
    return 4 if damaged else 0


if __name__ == "__main__":
    sys.exit(main())
