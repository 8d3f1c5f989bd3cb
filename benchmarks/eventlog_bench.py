"""Event-log reducer benchmark: our MB/s and peak RSS, the JSON-decode floor, and Spark's
History Server replay of the same log, measured side by side in one run.

    python benchmarks/eventlog_bench.py [--size-mb 520] [--no-shs] [--repeat N] [--compare DIR]

Builds a large plain log by repeating a real log's stages and tasks with fresh stage and task
ids (default source: the NDS q72 Dataproc log among the test fixtures), then times, each in a
fresh process so peak RSS is its own:
Peak RSS is the process's own high-water mark (VmHWM, which exec resets, unlike ru_maxrss);
workers' peaks come from RUSAGE_CHILDREN.
  floor    - orjson.loads on every line, no reduction
  ours     - advisor's reader + reducer + summary
  shs      - Spark History Server (pyspark's jars) replaying the log into its UI store, timed from
             the first REST request for the app's jobs to the answer (needs pyspark and Java)
CPU is the CPU time of the process and its workers: on a machine whose cores other work shares,
one process's CPU-time ratio to the floor is steadier than its wall-time ratio. With --repeat N
the floor and each reducer run N times, interleaved, and the fastest run of each counts (on a
shared machine the slowest runs measure the neighbours). --compare DIR also runs
the reducer of another checkout (say a `git worktree` of the previous commit) on the same log
in the same rounds, for a before/after measured side by side.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "tests/fixtures/spark-events/spark-rapids-tools/nds_q72_dataproc_2_2.zstd"
_STAGE_IDS = re.compile(rb'"Stage ID":(\d+)')
_TASK_ID = re.compile(rb'"Task ID":(\d+)')
_REPEATED = (
    b'"SparkListenerTaskStart"',
    b'"SparkListenerTaskEnd"',
    b'"SparkListenerStageSubmitted"',
    b'"SparkListenerStageCompleted"',
)


def _shift(pattern: re.Pattern[bytes], template: bytes, by: int, line: bytes) -> bytes:
    return pattern.sub(lambda m: template % (int(m.group(1)) + by), line)


def build_log(target: Path, size_mb: int) -> tuple[int, int]:
    """Header events once, then the stage and task events again and again with fresh ids."""
    sys.path.insert(0, str(ROOT))
    from advisor.sparklog.codecs import zstd

    with SOURCE.open("rb") as handle:
        lines = b"".join(zstd(handle)).split(b"\n")
    body = [line for line in lines if any(marker in line[:60] for marker in _REPEATED)]
    repeated = set(body)  # once: built per line, this set took minutes
    head = [
        line
        for line in lines
        if line and line not in repeated and b"ApplicationEnd" not in line[:60]
    ]
    end = [line for line in lines if b"ApplicationEnd" in line[:60]]
    max_stage = max(int(m) for line in body for m in _STAGE_IDS.findall(line[:200]))
    max_task = max(int(m) for line in body for m in _TASK_ID.findall(line))
    written, copies = 0, 0
    with target.open("wb") as out:
        for line in head:
            out.write(line + b"\n")
        while written < size_mb * 1_000_000:
            stage_shift, task_shift = (max_stage + 1) * copies, (max_task + 1) * copies
            for line in body:
                line = _shift(_STAGE_IDS, b'"Stage ID":%d', stage_shift, line)
                line = _shift(_TASK_ID, b'"Task ID":%d', task_shift, line)
                out.write(line + b"\n")
                written += len(line) + 1
            copies += 1
        for line in end:
            out.write(line + b"\n")
    return target.stat().st_size, copies


FLOOR = """
import orjson, sys, time, resource
t = time.perf_counter(); c = time.process_time(); pending = b""; n = 0
with open(sys.argv[1], "rb") as f:
    while chunk := f.read(1 << 20):
        lines = (pending + chunk).split(b"\\n"); pending = lines.pop()
        for line in lines:
            if line: orjson.loads(line); n += 1
hwm = [l for l in open("/proc/self/status") if l.startswith("VmHWM")][0].split()[1]
print(time.perf_counter() - t, hwm, n, 0, time.process_time() - c)
"""
OURS = """
import sys, time, resource
sys.path.insert(0, sys.argv[2])
from advisor.sparklog.reader import find_logs
from advisor.sparklog.reduce import reduce_log
from advisor.sparklog.summary import summarize
t = time.perf_counter(); c = time.process_time()
[log] = find_logs(sys.argv[1])
s = summarize(reduce_log(log, workers=int(sys.argv[3])))
hwm = [l for l in open("/proc/self/status") if l.startswith("VmHWM")][0].split()[1]
kids = resource.getrusage(resource.RUSAGE_CHILDREN)
cpu = time.process_time() - c + kids.ru_utime + kids.ru_stime
print(time.perf_counter() - t, hwm, s["tasks"], kids.ru_maxrss, cpu)
"""
Run = tuple[float, float, int, float, float]


def run_python(code: str, *args: str) -> Run:
    """(seconds, peak RSS MiB of the process, a count, peak RSS MiB of its largest child, CPU
    seconds of the process and its children)."""
    out = subprocess.run(
        [sys.executable, "-c", code, *args], check=True, capture_output=True, text=True
    ).stdout.split()
    return float(out[0]), int(out[1]) / 1024, int(out[2]), int(out[3]) / 1024, float(out[4])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def history_server_replay(log_dir: Path, app_id: str) -> float | None:
    """Seconds from the first REST request for the app's jobs to the answer (full replay)."""
    try:
        import pyspark
    except ImportError:
        return None
    spark_home = Path(pyspark.__file__).parent
    port = free_port()
    env = {
        **os.environ,
        "SPARK_HOME": str(spark_home),
        "SPARK_NO_DAEMONIZE": "1",
        "SPARK_HISTORY_OPTS": f"-Dspark.history.fs.logDirectory=file:{log_dir} "
        f"-Dspark.history.ui.port={port} -Dspark.history.fs.update.interval=1s "
        "-Dspark.ui.enabled=true -Dspark.history.retainedApplications=1",
    }
    cmd = [str(spark_home / "bin" / "spark-class"), "org.apache.spark.deploy.history.HistoryServer"]
    server = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}/api/v1/applications"
    try:
        deadline = time.time() + 600
        while time.time() < deadline:  # wait until the listing knows the app
            try:
                with urllib.request.urlopen(base, timeout=5) as response:
                    if app_id in response.read().decode():
                        break
            except OSError:
                pass
            time.sleep(0.5)
        else:
            return None
        started = time.perf_counter()
        with urllib.request.urlopen(f"{base}/{app_id}/jobs", timeout=1200) as response:
            json.loads(response.read())
        return time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(timeout=30)


def _best(runs: list[Run]) -> Run:
    """The fastest run's seconds and count, the least CPU time; the highest peaks of all runs."""
    fastest = min(runs)
    return (
        fastest[0],
        max(r[1] for r in runs),
        fastest[2],
        max(r[3] for r in runs),
        min(r[4] for r in runs),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size-mb", type=int, default=520)
    parser.add_argument("--no-shs", action="store_true", help="skip the History Server")
    parser.add_argument("--repeat", type=int, default=1, help="rounds; the fastest run counts")
    parser.add_argument(
        "--compare", type=Path, help="also time the reducer of this checkout (its root folder)"
    )
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="eventlog-bench-"))
    try:
        app_id = "application_1751493828576_0001"
        log = work / app_id
        size, copies = build_log(log, args.size_mb)
        mb = size / 1e6
        print(f"log: {mb:,.0f} MB plain ({copies} copies of the NDS q72 stages), {log}")
        sys.path.insert(0, str(ROOT))
        from advisor.sparklog.parallel import default_workers

        roots = {"advisor": ROOT} | ({"compared": args.compare.resolve()} if args.compare else {})
        configs = [(name, w) for name in roots for w in sorted({1, default_workers()})]
        floor_runs: list[Run] = []
        runs: dict[tuple[str, int], list[Run]] = {}
        for _ in range(max(1, args.repeat)):
            floor_runs.append(run_python(FLOOR, str(log)))
            for name, workers in configs:
                runs.setdefault((name, workers), []).append(
                    run_python(OURS, str(log), str(roots[name]), str(workers))
                )
        floor_s, floor_rss, lines, _, floor_cpu = _best(floor_runs)
        print(
            f"floor (orjson, every line)    {floor_s:6.2f} s  {mb / floor_s:6.0f} MB/s  "
            f"CPU {floor_cpu:6.2f} s  peak RSS {floor_rss:5.0f} MiB  ({lines:,} lines)"
        )
        best = None
        for name, workers in configs:
            ours_s, ours_rss, tasks, child_rss, cpu = _best(runs[(name, workers)])
            memory = f"peak RSS {ours_rss:5.0f} MiB" + (
                f" + {workers} workers <= {child_rss:.0f} MiB each" if workers > 1 else ""
            )
            label = f"{name} reducer, {workers} process{'es' if workers > 1 else '  '}"
            # one process: the floor's CPU time over ours too (steadier than wall time when
            # other work shares the cores); several: their CPU time added up
            cpu_ratio = f" ({floor_cpu / cpu:.2f}x in CPU time)" if workers == 1 else ""
            print(
                f"{label:<30}{ours_s:6.2f} s  {mb / ours_s:6.0f} MB/s  CPU {cpu:6.2f} s  "
                f"{memory}  ({tasks:,} tasks)  {floor_s / ours_s:.2f}x the floor's speed"
                f"{cpu_ratio}"
            )
            if name == "advisor":
                best = ours_s if best is None else min(best, ours_s)
        ours_s = best
        shs = None if args.no_shs else history_server_replay(work, app_id)
        if shs is None:
            print("History Server: not measured (pyspark not installed, or --no-shs)")
        else:
            print(f"History Server replay        {shs:6.2f} s  {mb / shs:6.0f} MB/s")
            print(f"advisor (best) / History Server  {shs / ours_s:.2f}x faster  (target >= 5)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
