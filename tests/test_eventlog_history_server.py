"""Optional: compare our stage facts with Spark's own History Server REST API, same logs.

Runs only where pyspark (and Java) are installed: `pip install -e '.[spark]'`.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from advisor.sparklog.reader import find_logs
from advisor.sparklog.reduce import reduce_log
from advisor.sparklog.summary import summarize
from tests.conftest import SAMPLE

pyspark = pytest.importorskip("pyspark")
if shutil.which("java") is None:
    pytest.skip("the History Server needs Java", allow_module_level=True)

FIXTURES = Path(__file__).parent / "fixtures" / "spark-events" / "spark-rapids-tools"
LOGS = [
    FIXTURES / "tasks_executors_fail_compressed_eventlog.zstd",  # failures, lost executors
    FIXTURES / "nds_q72_dataproc_2_2.zstd",  # 13,504 tasks, AQE
    FIXTURES / "eventlog_v2_local-1623876083964",  # rolling, two parts
    *[next(p.iterdir()) for p in sorted((SAMPLE / "eventlogs").iterdir())],  # lz4, snappy, lzf ...
]
# History Server stage field -> our stage field
FIELDS = {
    "numCompleteTasks": "succeeded_tasks",
    "numFailedTasks": "failed_tasks",
    "executorRunTime": "executor_run_time_ms",
    "jvmGcTime": "gc_time_ms",
    "inputBytes": "input_bytes",
    "inputRecords": "input_records",
    "outputBytes": "output_bytes",
    "outputRecords": "output_records",
    "shuffleWriteBytes": "shuffle_write_bytes",
    "memoryBytesSpilled": "memory_bytes_spilled",
    "diskBytesSpilled": "disk_bytes_spilled",
}


def _get(url: str):
    with urllib.request.urlopen(url, timeout=300) as response:
        return json.loads(response.read())


@pytest.fixture(scope="module")
def history_server(tmp_path_factory):
    log_dir = tmp_path_factory.mktemp("shs")
    for path in LOGS:
        target = log_dir / path.name
        shutil.copytree(path, target) if path.is_dir() else shutil.copy(path, target)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    home = Path(pyspark.__file__).parent
    env = {
        **os.environ,
        "SPARK_HOME": str(home),
        "SPARK_NO_DAEMONIZE": "1",
        "SPARK_HISTORY_OPTS": f"-Dspark.history.fs.logDirectory=file:{log_dir} "
        f"-Dspark.history.ui.port={port} "
        "-Dspark.history.fs.update.interval=1s",
    }
    server = subprocess.Popen(
        [str(home / "bin" / "spark-class"), "org.apache.spark.deploy.history.HistoryServer"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}/api/v1/applications"
    try:
        deadline = time.time() + 180
        while time.time() < deadline:
            try:
                if len(_get(base)) == len(LOGS):
                    break
            except OSError:
                pass
            time.sleep(1)
        else:
            pytest.fail("the History Server did not list every log in 3 minutes")
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.mark.parametrize("path", LOGS, ids=lambda p: p.name[:40])
def test_stage_facts_match_the_history_server(history_server, path):
    [log] = find_logs(path)
    ours = summarize(reduce_log(log))
    theirs = _get(f"{history_server}/{ours['app_id']}/stages")
    by_attempt = {(s["stage_id"], s["attempt"]): s for s in ours["stage_list"]}
    compared = 0
    for stage in theirs:
        if stage["status"] == "SKIPPED":
            continue
        row = by_attempt[(stage["stageId"], stage["attemptId"])]
        for their_key, our_key in FIELDS.items():
            assert row[our_key] == stage[their_key], (stage["stageId"], their_key)
        compared += 1
    assert compared == len([s for s in ours["stage_list"] if s["tasks"]])
    executors = _get(f"{history_server}/{ours['app_id']}/allexecutors")
    # the History Server does not count Resubmitted re-posts of finished tasks as tasks
    resubmitted = ours["failure_reasons"].get("resubmitted", 0)
    assert sum(e["totalTasks"] for e in executors) == ours["tasks"] - resubmitted
