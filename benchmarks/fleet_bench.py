"""Import + analyze a generated fleet, and print where the time goes.

    python benchmarks/fleet_bench.py [--jobs 1000] [--runs 1000] [--metric-share 0.02]
                                     [--compare-full]

Writes the fleet in the import layout (jobs.json, job-runs/<job>.json, a share of runs with
metric files) to a temporary folder, then times `advisor import` and the first
`advisor analyze` on the fresh store, phase by phase (costs, features, rules and findings),
then a second analyze with nothing new, then one new day of runs: a day more of runs for every
job appended to the import folder, the folder imported again, and analyze. The issue's targets
on this 2-core machine, for 1,000 x 1,000 runs: import + first analyze under 60 s, a second
analyze with nothing new under 3 s, the new day analysed in under 10 s.

--compare-full also times a full analysis (`advisor analyze --full`, which is what every
analyze did before analysis became incremental) of a copy of the store at each step, in the
same run: the machine is noisy, compare within one run.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from advisor.analysis.findings import AnalysisReport, analyze
from advisor.collect.importer import import_directory
from advisor.store import Store

END = datetime(2026, 11, 27, tzinfo=UTC)
DAY = timedelta(days=1)


def _job(rng: random.Random, j: int) -> dict:
    return {
        "name": f"job_{j:04d}",
        "workers": rng.choice([2, 5, 10, 20, 40]),
        "base": rng.uniform(120, 3600),
        "step": timedelta(hours=rng.choice([1, 2, 6, 24])),
    }


def _runs(
    root: Path, job: dict, j: int, first: int, starts: list[datetime], rng, metric_share: float
) -> tuple[list[dict], int]:
    """Runs of one job starting at `starts`, numbered from `first`, with metric files for a
    share of them."""
    runs, metric_runs = [], 0
    for i, started in enumerate(starts, start=first):
        runtime = int(job["base"] * rng.lognormvariate(0, 0.2))
        state = "FAILED" if rng.random() < 0.03 else "SUCCEEDED"
        runs.append(
            {
                "Id": f"jr_{j:04d}_{i:05d}",
                "JobName": job["name"],
                "Attempt": 0,
                "StartedOn": started.isoformat(),
                "CompletedOn": (started + timedelta(seconds=runtime + 20)).isoformat(),
                "JobRunState": state,
                "ExecutionTime": runtime,
                "WorkerType": "G.1X",
                "NumberOfWorkers": job["workers"],
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
            folder = root / "metrics" / runs[-1]["Id"]
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
    return runs, metric_runs


def write_fleet(
    root: Path, jobs: int, runs: int, metric_share: float, seed: int, params: list | None = None
) -> int:
    """The fleet; `params` receives each job's name, workers, base runtime and cadence."""
    rng = random.Random(seed)
    (root / "job-runs").mkdir(parents=True)
    (root / "metrics").mkdir()
    definitions, metric_runs = [], 0
    for j in range(jobs):
        job = _job(rng, j)
        if params is not None:
            params.append(job)
        definitions.append(
            {
                "Name": job["name"],
                "Role": "arn:aws:iam::1:role/r",
                "GlueVersion": "4.0",
                "Command": {"Name": "glueetl", "ScriptLocation": "s3://s/x.py"},
                "WorkerType": "G.1X",
                "NumberOfWorkers": job["workers"],
                "Timeout": 2880,
                "DefaultArguments": {"--enable-metrics": "true"},
            }
        )
        starts = [END - job["step"] * (runs - i) for i in range(runs)]
        job_runs, metrics = _runs(root, job, j, 0, starts, rng, metric_share)
        metric_runs += metrics
        (root / "job-runs" / f"{job['name']}.json").write_text(
            json.dumps({"JobRuns": job_runs[::-1]})
        )
    (root / "jobs.json").write_text(json.dumps({"Jobs": definitions}))
    return metric_runs


def append_day(root: Path, params: list[dict], runs: int, metric_share: float, seed: int) -> int:
    """One more day of runs for every job of `params` (each at its own cadence, from END on),
    added to the newest-first job-runs files as the next export of them would hold them."""
    rng = random.Random(seed + 1)
    added = 0
    for j, job in enumerate(params):
        count = int(DAY / job["step"])
        starts = [END + job["step"] * k for k in range(count)]
        new, _ = _runs(root, job, j, runs, starts, rng, metric_share)
        path = root / "job-runs" / f"{job['name']}.json"
        old = json.loads(path.read_text())["JobRuns"]
        path.write_text(json.dumps({"JobRuns": new[::-1] + old}))
        added += len(new)
    return added


def timed(label: str, action, timings: list[tuple[str, float]]):
    started = time.perf_counter()
    result = action()
    timings.append((label, time.perf_counter() - started))
    return result


def _copy(store: Store, path: Path) -> Store:
    target = sqlite3.connect(path)
    store.db.conn.backup(target)
    target.close()
    return Store(path)


def _print(label: str, seconds: float, report: AnalysisReport | None = None) -> None:
    extra = ""
    if report is not None:
        extra = (
            f"  ({report.mode}: {report.runs_priced:,} runs priced, "
            f"{report.jobs_changed} jobs with new data ({report.histories_read} read whole), "
            f"{report.jobs_recomputed} of "
            f"{report.jobs} recomputed; "
            + ", ".join(f"{phase} {s:.1f} s" for phase, s in report.seconds.items())
            + ")"
        )
    print(f"  {label:<44} {seconds:7.1f} s{extra}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--metric-share", type=float, default=0.02)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument(
        "--compare-full",
        action="store_true",
        help="also time a full analysis of a copy of the store at each step",
    )
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="fleet-bench-"))
    try:
        started = time.perf_counter()
        params: list[dict] = []
        metric_runs = write_fleet(
            work / "fleet", args.jobs, args.runs, args.metric_share, args.seed, params
        )
        print(
            f"wrote {args.jobs} jobs x {args.runs} runs ({args.jobs * args.runs:,} runs, "
            f"metric files for {metric_runs:,}) in {time.perf_counter() - started:.1f} s",
            flush=True,
        )
        store = Store(work / "advisor.db")
        timings: list[tuple[str, float]] = []

        def analyse(label: str) -> None:
            if args.compare_full:
                copy = _copy(store, work / "full.db")
                report = timed(f"{label}, --full", lambda: analyze(copy, full=True), timings)
                _print(timings[-1][0], timings[-1][1], report)
                copy.close()
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{work / 'full.db'}{suffix}").unlink(missing_ok=True)
            report = timed(label, lambda: analyze(store), timings)
            _print(label, timings[-1][1], report)

        timed("import", lambda: import_directory(store, work / "fleet"), timings)
        _print("import", timings[-1][1])
        report = timed("analyze (the first, on the fresh import)", lambda: analyze(store), timings)
        _print(timings[-1][0], timings[-1][1], report)
        total = timings[0][1] + timings[1][1]
        print(f"import + analyze: {total:.1f} s (target < 60 s for 1,000 x 1,000)", flush=True)
        analyse("analyze again (nothing new)")

        started = time.perf_counter()
        added = append_day(work / "fleet", params, args.runs, args.metric_share, args.seed)
        print(
            f"one new day: {added:,} runs appended to the import folder in "
            f"{time.perf_counter() - started:.1f} s",
            flush=True,
        )
        timed(
            "import again (the folder with the new day)",
            lambda: import_directory(store, work / "fleet"),
            timings,
        )
        _print(timings[-1][0], timings[-1][1])
        analyse("analyze the new day")
        analyse("analyze again (nothing new)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
