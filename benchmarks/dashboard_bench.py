"""Server-side time of every dashboard page, and of `advisor recommend`, on a 1 M-run store.

    python benchmarks/dashboard_bench.py [--db PATH] [--jobs 1000] [--runs 1000]

Without --db it builds the store first (the fleet of benchmarks/fleet_bench.py, imported and
analysed: about a minute). Each page's layout function and callbacks run as Dash would run
them for a request; `advisor recommend` is timed in-process and as a fresh process. Prints the
best of three runs; the issues' targets are 0.5 s per page callback and 0.5 s per recommend.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from advisor.analysis.findings import analyze
from advisor.collect.importer import import_directory
from advisor.report.recommend import recommendation
from advisor.store import Store
from dashboards import app as pages
from dashboards import data, figures


def build(db: Path, jobs: int, runs: int) -> None:
    from fleet_bench import write_fleet

    work = Path(tempfile.mkdtemp(prefix="dash-bench-"))
    try:
        write_fleet(work / "fleet", jobs, runs, 0.02, 3)
        store = Store(db)
        started = time.perf_counter()
        import_directory(store, work / "fleet")
        analyze(store)
        print(f"built {db}: {jobs * runs:,} runs in {time.perf_counter() - started:.0f} s")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def best_of(action, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", type=Path)
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=1000)
    args = parser.parse_args()
    db = args.db or Path(tempfile.mkdtemp(prefix="dash-db-")) / "advisor.db"
    if not db.exists():
        build(db, args.jobs, args.runs)
    store = Store(db)
    runs = store.db.execute("select count(*) from job_runs").fetchone()[0]
    busiest = store.db.execute(
        "select job_name from run_costs group by job_name order by count(*) desc limit 1"
    ).fetchone()[0]
    severities = ["high"]

    def overview_cost(by: str):
        return lambda: figures.stacked_cost(data.cost_over_time(store, by), by)

    checks = {
        "overview: layout (KPIs, severities, savings)": lambda: pages.overview(store),
        **{
            f"overview: cost chart by {label}": overview_cost(by)
            for by, label in data.DIMENSIONS.items()
        },
        "jobs: table": lambda: pages.jobs_page(store),
        f"job: page of {busiest}": lambda: pages.job_page(store, busiest),
        "findings: layout": lambda: pages.findings_page(store),
        "findings: filter on severity": lambda: pages.filter_findings(
            data.findings(store), {"severity": severities}
        ),
        f"recommend {busiest} (in process)": lambda: recommendation(store, busiest),
    }
    print(f"store: {runs:,} runs, {store.db['daily_costs'].count:,} daily cost rows")
    for label, action in checks.items():
        print(f"  {label:<55} {best_of(action):6.3f} s")
    command = [
        sys.executable,
        "-m",
        "advisor",
        "recommend",
        busiest,
        "--db",
        str(db),
        "--format",
        "json",
    ]
    seconds = best_of(lambda: subprocess.run(command, check=True, capture_output=True))
    print(f"  {'advisor recommend (a new process, start-up included)':<55} {seconds:6.3f} s")


if __name__ == "__main__":
    main()
