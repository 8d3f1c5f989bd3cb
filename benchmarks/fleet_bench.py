"""Import + analyze a generated fleet, and print where the time goes.

    python benchmarks/fleet_bench.py [--jobs 1000] [--runs 1000] [--metric-share 0.02]

Writes the fleet in the import layout (jobs.json, job-runs/<job>.json, a share of runs with
metric files) to a temporary folder, then times `advisor import` and the first
`advisor analyze` on the fresh store, phase by phase (costs, features, rules and findings),
then a second analyze. The issue's target is import + analyze of
1,000 x 1,000 runs in under 60 s on this 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from advisor.analysis.findings import analyze
from advisor.collect.importer import import_directory
from advisor.store import Store

END = datetime(2026, 11, 27, tzinfo=UTC)


def write_fleet(root: Path, jobs: int, runs: int, metric_share: float, seed: int) -> int:
    rng = random.Random(seed)
    (root / "job-runs").mkdir(parents=True)
    (root / "metrics").mkdir()
    definitions, metric_runs = [], 0
    for j in range(jobs):
        name = f"job_{j:04d}"
        workers = rng.choice([2, 5, 10, 20, 40])
        definitions.append(
            {
                "Name": name,
                "Role": "arn:aws:iam::1:role/r",
                "GlueVersion": "4.0",
                "Command": {"Name": "glueetl", "ScriptLocation": "s3://s/x.py"},
                "WorkerType": "G.1X",
                "NumberOfWorkers": workers,
                "Timeout": 2880,
                "DefaultArguments": {"--enable-metrics": "true"},
            }
        )
        base, step = rng.uniform(120, 3600), timedelta(hours=rng.choice([1, 2, 6, 24]))
        job_runs = []
        for i in range(runs):
            started = END - step * (runs - i)
            runtime = int(base * rng.lognormvariate(0, 0.2))
            state = "FAILED" if rng.random() < 0.03 else "SUCCEEDED"
            job_runs.append(
                {
                    "Id": f"jr_{j:04d}_{i:05d}",
                    "JobName": name,
                    "Attempt": 0,
                    "StartedOn": started.isoformat(),
                    "CompletedOn": (started + timedelta(seconds=runtime + 20)).isoformat(),
                    "JobRunState": state,
                    "ExecutionTime": runtime,
                    "WorkerType": "G.1X",
                    "NumberOfWorkers": workers,
                    "GlueVersion": "4.0",
                    "Timeout": 2880,
                    **(
                        {"ErrorMessage": "java.lang.OutOfMemoryError: Java heap space"}
                        if state == "FAILED"
                        else {}
                    ),
                }
            )
            if rng.random() < metric_share:
                metric_runs += 1
                folder = root / "metrics" / job_runs[-1]["Id"]
                folder.mkdir()
                points = [
                    {
                        "Timestamp": (started + timedelta(minutes=m)).isoformat(),
                        "Average": rng.uniform(0.2, 0.9),
                        "Maximum": rng.uniform(0.3, 1.0),
                        "Sum": 1.0,
                        "Unit": "Percent",
                    }
                    for m in range(5)
                ]
                (folder / "glue.ALL.jvm.heap.usage.json").write_text(
                    json.dumps({"Label": "glue.ALL.jvm.heap.usage", "Datapoints": points})
                )
        (root / "job-runs" / f"{name}.json").write_text(json.dumps({"JobRuns": job_runs[::-1]}))
    (root / "jobs.json").write_text(json.dumps({"Jobs": definitions}))
    return metric_runs


def timed(label: str, action, timings: list[tuple[str, float]]):
    started = time.perf_counter()
    result = action()
    timings.append((label, time.perf_counter() - started))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--metric-share", type=float, default=0.02)
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="fleet-bench-"))
    try:
        started = time.perf_counter()
        metric_runs = write_fleet(
            work / "fleet", args.jobs, args.runs, args.metric_share, args.seed
        )
        print(
            f"wrote {args.jobs} jobs x {args.runs} runs ({args.jobs * args.runs:,} runs, "
            f"metric files for {metric_runs:,}) in {time.perf_counter() - started:.1f} s"
        )
        store = Store(work / "advisor.db")
        timings: list[tuple[str, float]] = []
        timed("import", lambda: import_directory(store, work / "fleet"), timings)
        report = timed("analyze (the first, on the fresh import)", lambda: analyze(store), timings)
        for label, seconds in timings:
            print(f"  {label:<50} {seconds:7.1f} s")
        for phase, seconds in report.seconds.items():
            print(f"    {phase:<48} {seconds:7.1f} s")
        total = timings[0][1] + timings[1][1]
        print(f"import + analyze: {total:.1f} s (target < 60 s for 1,000 x 1,000)")
        again = timed("analyze again (nothing new)", lambda: analyze(store), timings)
        print(
            f"  {'analyze again (nothing new)':<50} {timings[-1][1]:7.1f} s "
            f"(costs {again.seconds['costs']:.1f} s, features {again.seconds['features']:.1f} s)"
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
