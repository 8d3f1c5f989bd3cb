"""Collector benchmark against moto's server over HTTP: full collect, then incremental.

    python benchmarks/collect_bench.py [--jobs 200] [--runs 300]

Prints API calls by operation and wall time for a full collect of an empty store and for an
incremental collect with no new runs (which should cost one GetJobRuns per job).
"""

from __future__ import annotations

import argparse
import logging
import socket
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from moto.glue.models import FakeJob
from moto.server import ThreadedMotoServer

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from advisor.collect.runner import CollectOptions, collect
from advisor.store import Store
from tests.awsfake import NOW, REGION, Fleet, aws_order, session


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def timed_collect(store: Store, endpoint: str) -> tuple[float, dict[str, int]]:
    options = CollectOptions(
        regions=[REGION], endpoint_url=endpoint, session_factory=lambda region: session(region)
    )
    started = time.perf_counter()
    report = collect(store, options, now=NOW)
    return time.perf_counter() - started, dict(report.api_calls)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--runs", type=int, default=300)
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    FakeJob.get_job_runs = aws_order  # AWS returns newest first; moto 5.2 oldest first
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=free_port(), verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    fleet = Fleet(f"http://{host}:{port}")
    try:
        seeding = time.perf_counter()
        for name in fleet.create_jobs(args.jobs):
            fleet.add_runs(name, args.runs, spacing=timedelta(minutes=40))
        print(
            f"seeded {args.jobs} jobs x {args.runs} runs in {time.perf_counter() - seeding:.1f} s "
            f"(moto server on {host}:{port}, in this process)"
        )
        with tempfile.TemporaryDirectory() as tmp:
            store = Store(Path(tmp) / "bench.db")
            for label in ("full collect", "incremental, nothing new"):
                seconds, calls = timed_collect(store, fleet.endpoint)
                total = sum(calls.values())
                detail = ", ".join(f"{k} {v}" for k, v in sorted(calls.items()))
                print(f"{label:<26} {seconds:7.2f} s  {total:6d} API calls ({detail})")
            print(f"store: {store.db['job_runs'].count} runs, {store.db['jobs'].count} jobs")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
