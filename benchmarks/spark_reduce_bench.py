"""The event-log reducer on Spark: local[2] against local[1] on one large plain log, and both
against one process of `advisor eventlog summarize`'s reducer, measured in the same run.

    python benchmarks/spark_reduce_bench.py [--size-mb 400] [--split-mb 32]

Prints seconds and the speed-ups. The log is built by benchmarks/eventlog_bench.py's builder
(a real log's tasks repeated with shifted ids and times). Needs pyspark and Java. A figure,
not a test: these machines are noisy, so compare the ratios of one run.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from eventlog_bench import build_log  # noqa: E402

from advisor.spark_reduce import run  # noqa: E402
from advisor.sparklog.reduce import summarize_paths  # noqa: E402


def timed(action):
    start = time.perf_counter()
    result = action()
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size-mb", type=int, default=400)
    parser.add_argument("--split-mb", type=int, default=32)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        logs = Path(folder) / "logs"
        logs.mkdir()
        size, copies = build_log(logs / "local-bench", args.size_mb)
        print(f"log: {size / 2**20:,.0f} MiB ({copies:,} copies of a real log's stages and tasks)")
        split = args.split_mb << 20
        # the first session starts the JVM: not part of either figure
        warm = Path(folder) / "warm"
        warm.mkdir()
        run(str(warm), Path(folder) / "f0", master="local[1]", split_bytes=split)
        one, (_, facts1) = timed(
            lambda: run(str(logs), Path(folder) / "f1", master="local[1]", split_bytes=split)
        )
        two, (_, facts2) = timed(
            lambda: run(str(logs), Path(folder) / "f2", master="local[2]", split_bytes=split)
        )
        single, summaries = timed(lambda: summarize_paths([str(logs)]))
        same = all(
            {k: v for k, v in a.items() if k != "size"} == b
            for a, b in zip(facts2, summaries, strict=True)
        )
        print(f"spark local[1]: {one:,.1f} s")
        print(f"spark local[2]: {two:,.1f} s  ({one / two:.2f}x local[1])")
        print(f"one machine (advisor eventlog summarize's reducer): {single:,.1f} s")
        print(f"local[2] facts equal the single-machine summary: {same}")
        print(f"local[1] facts equal local[2]'s: {facts1 == facts2}")


if __name__ == "__main__":
    main()
