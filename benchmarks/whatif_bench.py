"""Time the what-if simulation of every candidate configuration for a large application.

    python benchmarks/whatif_bench.py [--tasks 100000] [--stages 200]

Builds an application model of that many tasks (stages in chains of four, each stage's task
durations log-normal around a different median, a few stages running side by side) and prices
every candidate Glue configuration a G.1X job on Glue 4.0 may use, as `advisor whatif` does.
The issue's target: all candidates for a 100k-task application in under 2 s.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from advisor.analysis.whatif import whatif_for_model
from advisor.sparklog.simulate import AppModel, Phase, StageNode


def synthetic_model(tasks: int, stages: int, seed: int = 5) -> AppModel:
    rng = np.random.default_rng(seed)
    per_stage = tasks // stages
    phases, clock = [], 0.0
    for chain in range(stages // 4):
        nodes = []
        for link in range(4):
            stage_id = chain * 4 + link
            durations = rng.lognormal(np.log(rng.uniform(200, 3000)), 0.4, per_stage)
            parents = [(stage_id - 1, 0)] if link else []
            nodes.append(StageNode((stage_id, 0), parents, durations))
        # every other chain has a second, independent branch running beside its first stage
        if chain % 2:
            nodes[0].parents = []
        real = sum(float(n.durations_ms.sum()) for n in nodes) / 36
        phases.append(Phase(clock, real, nodes))
        clock += real + 2_000
    in_phases = sum(p.real_ms for p in phases)
    return AppModel(
        app_id="synthetic",
        duration_ms=in_phases + 60_000,
        fixed_ms=60_000,
        phases=phases,
        executors=9,
        cores=4,
        start_ms=-60_000,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--stages", type=int, default=200)
    args = parser.parse_args()
    job = {
        "name": "synthetic",
        "worker_type": "G.1X",
        "number_of_workers": 10,
        "glue_version": "4.0",
        "command_name": "glueetl",
    }
    timings = []
    for _ in range(3):
        model = synthetic_model(args.tasks, args.stages)  # fresh: no schedule cached
        started = time.perf_counter()
        result = whatif_for_model(model, job=job, runs_month=30)
        timings.append(time.perf_counter() - started)
    distinct = len(
        {
            (c.workers - 1) * {"1": 4, "2": 8, "4": 16, "8": 32}[c.worker_type[2]]
            for c in result.candidates
        }
    )
    print(
        f"{model.tasks:,} tasks in {args.stages} stages: {len(result.candidates)} candidates "
        f"({distinct} distinct slot counts simulated) in "
        f"{min(timings):.2f}-{max(timings):.2f} s (3 runs; target < 2 s)"
    )
    best = result.best
    print(
        f"model error on its own configuration {result.model_error:.1%}; pick: "
        f"{best.label if best else None}"
    )


if __name__ == "__main__":
    main()
