#!/usr/bin/env python3
"""Write the folder `advisor import` reads, with nothing but the AWS CLI (read-only calls).

    python scripts/export_with_aws_cli.py DIR [--runs-per-job 10] [-- AWS CLI OPTIONS]

Run it wherever the AWS CLI has credentials; copy DIR to the advisor's machine and run
`advisor import DIR`. Everything after `--` goes to every `aws` call (`--region eu-west-1`,
`--profile prod`, `--endpoint-url ...`). It needs Python 3.8+ and the AWS CLI (v1 or v2), and
does not need glue-advisor, so it can be copied on its own.

What it writes, each file exactly as the CLI prints it:
  DIR/jobs.json                      aws glue get-jobs (the CLI fetches every page itself)
  DIR/job-runs/job-<n>.json          aws glue get-job-runs --job-name NAME (any file name
                                     works: the import reads the job name from the contents,
                                     and a job name may hold a "/")
  DIR/metrics/<JobRunId>/<m>.json    aws cloudwatch get-metric-statistics, for the newest
                                     finished runs of each job, each metric with the
                                     statistic and Type dimension it is published with
                                     (a metric the run did not publish gets no file)
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

# Glue's classic job metrics (--enable-metrics) and the Type dimension each is published under:
# count metrics are deltas (summed), gauges keep their average and peak. The same list as
# advisor/collect/metrics.py's CLASSIC_RUN_METRICS (a test keeps the two equal).
METRICS = (
    ("glue.driver.aggregate.bytesRead", "count"),
    ("glue.driver.aggregate.recordsRead", "count"),
    ("glue.driver.aggregate.elapsedTime", "count"),
    ("glue.driver.aggregate.numCompletedTasks", "count"),
    ("glue.driver.aggregate.numFailedTasks", "count"),
    ("glue.driver.aggregate.numCompletedStages", "count"),
    ("glue.driver.aggregate.shuffleBytesWritten", "count"),
    ("glue.driver.aggregate.shuffleLocalBytesRead", "count"),
    ("glue.driver.jvm.heap.usage", "gauge"),
    ("glue.ALL.jvm.heap.usage", "gauge"),
    ("glue.driver.BlockManager.disk.diskSpaceUsed_MB", "gauge"),
    ("glue.driver.ExecutorAllocationManager.executors.numberAllExecutors", "gauge"),
    ("glue.driver.ExecutorAllocationManager.executors.numberMaxNeededExecutors", "gauge"),
    ("glue.ALL.system.cpuSystemLoad", "gauge"),
)
STATISTICS = {"count": ["Sum"], "gauge": ["Average", "Maximum"]}


def aws(args: list[str], options: list[str]) -> str:
    """Run one read-only AWS CLI call and return what it printed (JSON)."""
    command = shlex.split(os.environ.get("AWS_CLI", "aws"))  # e.g. "python -m awscli"
    done = subprocess.run(
        [*command, *args, *options, "--output", "json"], capture_output=True, text=True
    )
    if done.returncode != 0:
        sys.exit(f"aws {' '.join(args[:2])} failed: {done.stderr.strip()}")
    return done.stdout


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def main() -> None:
    argv = sys.argv[1:]
    options = argv[argv.index("--") + 1 :] if "--" in argv else []
    own = argv[: argv.index("--")] if "--" in argv else argv
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument(
        "--runs-per-job",
        type=int,
        default=10,
        help="metrics for this many newest finished runs of each job (0: none)",
    )
    args = parser.parse_args(own)
    jobs_text = aws(["glue", "get-jobs"], options)
    write(args.folder / "jobs.json", jobs_text)
    names = [job["Name"] for job in json.loads(jobs_text)["Jobs"]]
    for number, name in enumerate(names, 1):
        runs_text = aws(["glue", "get-job-runs", "--job-name", name], options)
        write(args.folder / "job-runs" / f"job-{number}.json", runs_text)
        finished = [
            run
            for run in json.loads(runs_text)["JobRuns"]
            if run.get("StartedOn") and run.get("CompletedOn")
        ][: args.runs_per_job]
        written = 0
        for run in finished:
            for metric, kind in METRICS:
                text = aws(
                    [
                        "cloudwatch",
                        "get-metric-statistics",
                        "--namespace",
                        "Glue",
                        "--metric-name",
                        metric,
                        "--dimensions",  # JSON, not shorthand: a name may hold "," or "="
                        json.dumps(
                            [
                                {"Name": "JobName", "Value": name},
                                {"Name": "JobRunId", "Value": run["Id"]},
                                {"Name": "Type", "Value": kind},
                            ]
                        ),
                        "--statistics",
                        *STATISTICS[kind],
                        "--period",
                        "60",
                        "--start-time",
                        str(run["StartedOn"]),
                        "--end-time",
                        str(run["CompletedOn"]),
                    ],
                    options,
                )
                if json.loads(text)["Datapoints"]:  # a metric the run did not publish: no file
                    write(args.folder / "metrics" / run["Id"] / f"{metric}.json", text)
                    written += 1
        print(f"{name}: {len(finished)} runs, {written} metric files", file=sys.stderr)


if __name__ == "__main__":
    main()
