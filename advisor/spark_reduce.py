"""Reduce Spark event logs on Spark itself, for fleets whose logs outgrow one machine.

    python -m advisor.spark_reduce INPUT OUTPUT [--master URL]
    spark-submit advisor/spark_reduce.py INPUT OUTPUT
    (as a Glue job: advisor/spark_reduce_glue.py; docs/spark-reduce.md)

INPUT is a local folder or an s3:// prefix of event logs in any layout the reader supports;
OUTPUT a local folder or an s3:// prefix that receives facts-NNNNN.jsonl (the next number after
those there): one line per application, what `advisor eventlog summarize --format json` prints
for it (the facts the store keeps are in it), plus its `size`. `advisor import DIR` loads
DIR/facts/*.jsonl, `advisor import-facts PATH` a file and `advisor collect --eventlog-facts
s3://...` an S3 prefix, without reading a log again.

Work is split so that one big log does not serialise the job: every rolling part is a task,
and a plain part larger than --split-bytes is cut into byte ranges that each task aligns on
line boundaries (a line belongs to the range it starts in; advisor/sparklog/ranges.py, which
the parallel reducer uses to cut one file too). Compressed parts cannot be split and are one
task each. Each task feeds its lines to the same reducer `advisor` runs and returns it; the
driver merges them in log order with the reducer's exact merge (the one the parallel reducer
uses), so the facts equal a single-machine reduction. A damaged log is reported in its line's
`problems`, never fails the job.

pyspark is an optional extra: `pip install 'glue-advisor[spark]'`.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from botocore.exceptions import BotoCoreError, ClientError

from advisor.collect.redact import redact_value
from advisor.sparklog.parse import AppReducer
from advisor.sparklog.ranges import line_start, reduce_range
from advisor.sparklog.reader import EventLog, LogPart, Problems, find_logs, iter_line_blocks
from advisor.sparklog.summary import summarize

SPLIT_BYTES = 128 << 20


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


def reduce_task(task: Task, s3_options: dict[str, Any] | None = None) -> tuple[Task, int, Any]:
    """Run on an executor: (the task, lines it read, its reducer). A range's lines are numbered
    from 1; merge() makes them absolute."""
    s3 = _s3_client(s3_options or {}) if task.location.startswith("s3://") else None
    reducer = AppReducer(task.log_location, Problems(), in_progress=task.in_progress)
    if task.end is None:
        log = EventLog(task.log_location, [LogPart(task.location, task.size)], task.in_progress)
        count = 0
        for block in iter_line_blocks(log, reducer.problems, s3=s3):
            reducer.feed_lines(block.lines, task.location, block.first, block.unterminated)
            count = block.first + len(block.lines) - 1
        return task, count, reducer
    start = line_start(task.location, task.start, task.size, s3)
    end = task.size if task.last_piece else line_start(task.location, task.end, task.size, s3)
    lines = reduce_range(reducer, task.location, start, end, ends_log=task.last_piece, s3=s3)
    return task, lines, reducer


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


_FACTS_NAME = re.compile(r"^facts-(\d+)\.jsonl$")


def _next_name(names: list[str]) -> str:
    """facts-NNNNN.jsonl after the highest there: readers load files in name order, so the
    newest facts of an application come last and replace older ones."""
    numbers = [int(m.group(1)) for n in names if (m := _FACTS_NAME.match(n))]
    return f"facts-{max(numbers, default=-1) + 1:05d}.jsonl"


def _write_lines(summaries: list[dict[str, Any]], handle: IO[bytes]) -> None:
    for summary in summaries:
        handle.write(json.dumps(summary, sort_keys=True, default=str).encode() + b"\n")


def write_facts(summaries: list[dict[str, Any]], output: str | Path, s3: Any = None) -> str | Path:
    """Write one facts file into a local folder (a Path back) or an s3:// prefix (its URL)."""
    if str(output).startswith("s3://"):
        return _write_s3(summaries, str(output), s3)
    folder = Path(output)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / _next_name([p.name for p in folder.glob("facts-*.jsonl")])
    with target.open("wb") as handle:
        _write_lines(summaries, handle)
    return target


def _write_s3(summaries: list[dict[str, Any]], url: str, s3: Any) -> str:
    """ListObjectsV2 for the names there, then one upload (multipart when big: a fleet's facts
    may pass PutObject's 5 GB), spooled through a temporary file rather than held in memory."""
    bucket, _, prefix = url[len("s3://") :].partition("/")
    if not bucket:
        raise ValueError(f"no bucket in {url!r}")
    folder = prefix.rstrip("/") + "/" if prefix.strip("/") else ""
    names = [
        obj["Key"][len(folder) :]
        for page in s3.get_paginator("list_objects_v2").paginate(
            Bucket=bucket, Prefix=folder + "facts-"
        )
        for obj in page.get("Contents", [])
    ]
    key = folder + _next_name(names)
    with tempfile.SpooledTemporaryFile(max_size=64 << 20) as handle:
        _write_lines(summaries, handle)
        handle.seek(0)
        s3.upload_fileobj(handle, bucket, key)
    return f"s3://{bucket}/{key}"


def run(
    input_path: str,
    output: str | Path,
    *,
    master: str | None = None,
    split_bytes: int = SPLIT_BYTES,
    s3_options: dict[str, Any] | None = None,
) -> tuple[str | Path, list[dict[str, Any]]]:
    """Reduce every log under `input_path` on Spark and write the facts to `output` (a local
    folder or an s3:// prefix): (where they went, the summaries)."""
    from pyspark.sql import SparkSession

    options = dict(s3_options or {})
    uses_s3 = input_path.startswith("s3://") or str(output).startswith("s3://")
    s3 = _s3_client(options) if uses_s3 else None
    logs = find_logs(input_path, s3)
    tasks = plan(logs, split_bytes)
    builder = SparkSession.builder.appName("glue-advisor event-log reduction")
    if master:
        builder = builder.master(master)
    spark = builder.getOrCreate()
    try:
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
    return write_facts(summaries, output, s3), summaries


def _usable_output(output: str, s3_options: dict[str, Any]) -> str | None:
    """Why `output` cannot take the facts (None if it can), found before hours of reducing:
    an s3:// prefix must name a bucket this identity can list."""
    if not output.startswith("s3://"):
        return None
    bucket, _, prefix = output[len("s3://") :].partition("/")
    if not bucket:
        return f"{output}: expected s3://bucket/prefix/"
    try:
        _s3_client(s3_options).list_objects_v2(Bucket=bucket, Prefix=prefix, MaxKeys=1)
    except (BotoCoreError, ClientError) as exc:
        return f"{output}: cannot list it ({exc})"
    return None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m advisor.spark_reduce",
        description="Reduce Spark event logs on Spark; write one JSON line of facts per "
        "application for `advisor import` (DIR/facts/), `advisor import-facts` or "
        "`advisor collect --eventlog-facts`.",
    )
    parser.add_argument("input", help="a local folder or s3://bucket/prefix/ of event logs")
    parser.add_argument(
        "output", help="a local folder or s3://bucket/prefix/ for facts-NNNNN.jsonl"
    )
    parser.add_argument("--master", help="Spark master URL (default: spark-submit's, or local[*])")
    parser.add_argument(
        "--split-bytes",
        type=int,
        default=SPLIT_BYTES,
        help=f"cut plain logs larger than this into ranges (default {SPLIT_BYTES:,})",
    )
    parser.add_argument("--profile", help="AWS profile for s3:// input and output")
    parser.add_argument("--region", help="AWS region for s3:// input and output")
    parser.add_argument("--endpoint-url", help="S3 endpoint (moto, LocalStack)")
    return parser


def main(argv: list[str] | None = None) -> int:
    """0, or 4 when some logs had damaged lines (their facts say which), 2 on a bad argument,
    1 when the logs could not be read or the facts written."""
    args = _parser().parse_args(argv)
    try:
        import pyspark  # noqa: F401
    except ImportError:
        print("pyspark is not installed: pip install 'glue-advisor[spark]'", file=sys.stderr)
        return 2
    if not args.input.startswith("s3://") and not Path(args.input).exists():
        print(f"{args.input}: no such file or folder", file=sys.stderr)
        return 2
    s3_options = {"profile": args.profile, "region": args.region, "endpoint_url": args.endpoint_url}
    if problem := _usable_output(args.output, s3_options):
        print(problem, file=sys.stderr)
        return 2
    try:
        target, summaries = run(
            args.input,
            args.output,
            master=args.master,
            split_bytes=args.split_bytes,
            s3_options=s3_options,
        )
    except (BotoCoreError, ClientError, OSError) as exc:  # S3 or disk, reading or writing
        print(f"cannot reduce {args.input} into {args.output}: {exc}", file=sys.stderr)
        return 1
    damaged = sum(1 for s in summaries if s.get("problems"))
    print(f"wrote {target}: {len(summaries)} applications, {damaged} with damaged lines")
    return 4 if damaged else 0


if __name__ == "__main__":
    sys.exit(main())
