"""Anomaly model precision and recall on a synthetic fleet with planted slow runs.

    python benchmarks/anomaly_bench.py [--jobs 300] [--runs 90] [--rate 0.02] [--seed 7]

Each job's runtimes are log-normal with its own spread (sigma 0.05-0.35); a share of runs is
planted 2-6x slower. Prints precision and recall overall and by planted factor, and the time.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from advisor.analysis.anomaly import job_anomalies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=300)
    parser.add_argument("--runs", type=int, default=90)
    parser.add_argument("--rate", type=float, default=0.02)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    planted: dict[str, float] = {}
    found: set[str] = set()
    started = time.perf_counter()
    for j in range(args.jobs):
        sigma, base = rng.uniform(0.05, 0.35), rng.uniform(60, 7200)
        runs = []
        for i in range(args.runs):
            factor = rng.choice([2.0, 3.0, 4.0, 6.0]) if rng.random() < args.rate else 1.0
            run_id = f"j{j}r{i}"
            if factor > 1:
                planted[run_id] = factor
            runtime = base * rng.lognormvariate(0, sigma) * factor
            runs.append(
                {
                    "id": run_id,
                    "state": "SUCCEEDED",
                    "execution_time_s": max(1, int(runtime)),
                    "started_on": f"{i:05d}",
                    "cost_usd": runtime / 3600,
                }
            )
        found |= {a.run_id for a in job_anomalies(f"j{j}", runs) if a.ratio > 1}
    seconds = time.perf_counter() - started
    hits = found & set(planted)
    print(f"{args.jobs} jobs x {args.runs} runs, {len(planted)} planted slow runs, {seconds:.1f} s")
    precision, recall = len(hits) / max(1, len(found)), len(hits) / max(1, len(planted))
    false_alarms = len(found) - len(hits)
    print(
        f"precision {precision:.3f}  recall {recall:.3f}  ({len(hits)} found of "
        f"{len(planted)} planted, {false_alarms} false alarms)"
    )
    by_factor = Counter(planted.values())
    for factor in sorted(by_factor):
        caught = sum(1 for r, f in planted.items() if f == factor and r in found)
        total = by_factor[factor]
        print(f"  planted {factor:.0f}x slower: recall {caught / total:.3f} ({caught}/{total})")


if __name__ == "__main__":
    main()
