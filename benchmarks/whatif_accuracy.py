"""How well the what-if simulator predicts real Spark: run the same jobs on 1-4 executors.

    python benchmarks/whatif_accuracy.py [--runs-dir DIR] [--save tests/fixtures/whatif]
    python benchmarks/whatif_accuracy.py --logs tests/fixtures/whatif   # analyse saved logs

Each shape (a wide shuffle, a skewed stage, many small tasks, two jobs with driver work between
them) runs on Spark's `local-cluster[N,1,768]` for N = 1, 2, 3 and 4 executors of one core,
writing a zstd event log. Then every log predicts every other executor count, and the table
gives predicted against real runtime. Needs pyspark and Java.

The tasks sleep in the JVM (Spark SQL's `reflect` of Thread.sleep), as tasks waiting on S3 do:
this machine has two cores, and four CPU-bound executors (or four Python workers) would slow
each other down, which the model does not claim to know. Sleeps are fixed per partition, so
every run does the same work; adaptive execution is off so partition counts stay fixed.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from advisor.analysis.whatif import load_eventlog_model
from advisor.sparklog.simulate import AppModel, model_error, simulate

COUNTS = (1, 2, 3, 4)
JVM_OPTIONS = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -XX:CICompilerCount=1"


def _sleeping(spark, rows: int, partitions: int, sleep_ms_sql: str):
    """One row per partition (rows == partitions) that sleeps `sleep_ms_sql` milliseconds in
    the JVM (Spark SQL's reflect), so no Python worker or CPU contention is involved. The
    expression must use a column: a constant one is folded and run once by the optimizer."""
    return spark.range(0, rows, 1, partitions).selectExpr(
        "id", f"reflect('java.lang.Thread', 'sleep', cast({sleep_ms_sql} as bigint)) as slept"
    )


def _after_shuffle(frame, groups: int, sleep_ms_sql: str):
    """A shuffle into `groups` keys, then a sleep per key (in the stage after the shuffle)."""
    frame.sparkSession.conf.set("spark.sql.shuffle.partitions", str(groups))
    # max(slept) keeps the first stage's sleep from being pruned away
    grouped = frame.groupBy((frame.id % groups).alias("key")).agg({"slept": "max"})
    return grouped.selectExpr(
        "key",
        "`max(slept)` as first_slept",
        f"reflect('java.lang.Thread', 'sleep', cast({sleep_ms_sql} as bigint)) as slept",
    )


def shape_wide_shuffle(spark) -> None:
    first = _sleeping(spark, 48, 48, "300 + (id * 37 % 11) * 40")
    _after_shuffle(first, 24, "200 + (key * 13 % 7) * 50").collect()


def shape_skewed(spark) -> None:
    first = _sleeping(spark, 16, 16, "case when id = 0 then 4000 else 400 end")
    _after_shuffle(first, 8, "case when key = 3 then 3000 else 300 end").collect()


def shape_small_tasks(spark) -> None:
    first = _sleeping(spark, 400, 400, "20 + id % 5 * 5")
    _after_shuffle(first, 200, "15 + key * 0").collect()


def shape_two_jobs(spark) -> None:
    _sleeping(spark, 12, 12, "1000 + id * 0").collect()
    time.sleep(3.0)  # driver-only work between the jobs (listing files, say)
    _sleeping(spark, 20, 20, "500 + id % 4 * 100").collect()


SHAPES = {
    "wide_shuffle": shape_wide_shuffle,
    "skewed": shape_skewed,
    "small_tasks": shape_small_tasks,
    "two_jobs": shape_two_jobs,
}


def run_shape(name: str, executors: int, out: Path) -> Path:
    """Run one shape on `executors` one-core executors; return its event log."""
    from pyspark.sql import SparkSession

    folder = out / f"{name}-{executors}"
    folder.mkdir(parents=True, exist_ok=True)
    spark = (
        SparkSession.builder.master(f"local-cluster[{executors},1,768]")
        .appName(f"whatif-{name}-{executors}")
        .config("spark.eventLog.enabled", "true")
        .config("spark.eventLog.dir", str(folder))
        .config("spark.eventLog.compress", "true")
        .config("spark.eventLog.compression.codec", "zstd")
        .config("spark.ui.enabled", "false")
        .config("spark.executor.memory", "640m")
        .config("spark.sql.adaptive.enabled", "false")  # keep the partition counts fixed
        # four JVMs share two cores here: keep their own CPU use (JIT, GC, code generation)
        # small, so that it does not stretch the tasks of the others
        .config("spark.executor.extraJavaOptions", JVM_OPTIONS)
        .config("spark.driver.extraJavaOptions", JVM_OPTIONS)
        .config("spark.sql.codegen.wholeStage", "false")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    while spark.sparkContext._jsc.sc().getExecutorMemoryStatus().size() < executors + 1:
        time.sleep(0.2)
    # Spark job 0 warms every executor up (class loading, first task): what is measured starts
    # at job 1. On two cores, four JVMs warming up at once take twice as long as one, which a
    # Glue cluster of separate workers does not see.
    _sleeping(spark, 8 * executors, 8 * executors, "50 + id * 0").collect()
    time.sleep(1.0)
    SHAPES[name](spark)
    spark.stop()
    (log,) = folder.iterdir()
    return log


def measured(path: Path) -> AppModel:
    """The application after its warm-up job (from the submission of Spark job 1)."""
    model = load_eventlog_model(path)
    return model.after(model.job_starts_ms[1])


def cross_predictions(logs: dict[int, Path]) -> list[tuple[int, int, float, float]]:
    """(from executors, to executors, predicted s, real s) for every ordered pair."""
    models = {n: measured(path) for n, path in logs.items()}
    out = []
    for source, model in models.items():
        for target, other in models.items():
            if source != target:
                predicted = simulate(model, target, 1).runtime_s
                out.append((source, target, predicted, other.duration_ms / 1000))
    return out


def report(folder: Path) -> list[float]:
    errors = []
    for shape in SHAPES:
        logs = {n: next((folder / f"{shape}-{n}").iterdir()) for n in COUNTS}
        print(
            f"\n{shape}: real runtimes after warm-up "
            + ", ".join(f"{n} exec {measured(p).duration_ms / 1000:.1f} s" for n, p in logs.items())
        )
        own = [model_error(measured(p)) for p in logs.values()]
        print("  own-configuration model error: " + ", ".join(f"{e:.1%}" for e in own))
        print(f"  {'from':>4} {'to':>3} {'predicted':>10} {'real':>8} {'error':>7}")
        for source, target, predicted, real in cross_predictions(logs):
            error = (predicted - real) / real
            errors.append(abs(error))
            print(f"  {source:>4} {target:>3} {predicted:>9.1f}s {real:>7.1f}s {error:>+7.1%}")
    print(
        f"\n{len(errors)} predictions: median absolute error {statistics.median(errors):.1%}, "
        f"mean {statistics.mean(errors):.1%}, max {max(errors):.1%} (target: median <= 15 %)"
    )
    return errors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--logs", type=Path, help="analyse logs saved earlier; run nothing")
    parser.add_argument("--save", type=Path, help="copy the logs here (for the test fixtures)")
    parser.add_argument("--one", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:  # one Spark application per process: local-cluster does not restart cleanly
        run_shape(args.one[0], int(args.one[1]), Path(args.one[2]))
        return
    if args.logs:
        report(args.logs)
        return
    work = Path(tempfile.mkdtemp(prefix="whatif-"))
    try:
        for shape in SHAPES:
            for executors in COUNTS:
                started = time.perf_counter()
                command = [sys.executable, __file__, "--one", shape, str(executors), str(work)]
                with (work / "spark-output.txt").open("a") as output:
                    subprocess.run(command, check=True, stdout=output, stderr=output)
                seconds = time.perf_counter() - started
                print(f"ran {shape} on {executors} executor(s) in {seconds:.0f} s", flush=True)
        report(work)
        if args.save:
            for folder in sorted(p for p in work.iterdir() if p.is_dir()):
                target = args.save / folder.name
                shutil.rmtree(target, ignore_errors=True)
                shutil.copytree(folder, target)
            print(f"saved to {args.save}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
