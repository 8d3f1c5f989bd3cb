"""The reducer on Spark (advisor/spark_reduce.py): every real log of the tests reduced by a
local Spark job, its plain logs cut into byte ranges, equals `advisor eventlog summarize` on
one machine; the facts import links the applications to their runs without reading a log.

The Spark job needs pyspark (`pip install 'glue-advisor[spark]'`, which CI installs) and Java;
without pyspark it is skipped. Everything else here runs without it."""

from __future__ import annotations

import itertools
import json
import shutil
from pathlib import Path

import pytest

from advisor.spark_reduce import plan, reduce_task
from advisor.sparklog.reader import find_logs
from advisor.sparklog.reduce import summarize_paths
from tests.conftest import SAMPLE

FIXTURES = Path(__file__).parent / "fixtures" / "spark-events"
SPLIT = 64 << 10  # small, so the plain logs here are cut into several ranges


@pytest.fixture(scope="module")
def logs(tmp_path_factory) -> Path:
    """Every real log of the tests in one folder, and a plain log with damaged lines."""
    folder = tmp_path_factory.mktemp("logs")
    for source in ("sparklens", "sparklint", "sparkscope", "spark-rapids-tools"):
        shutil.copytree(FIXTURES / source, folder / source)
    shutil.copytree(SAMPLE / "eventlogs", folder / "sample")
    plain = (FIXTURES / "sparklint" / "spark_event_log_example").read_bytes().split(b"\n")
    plain[40] = b'{"Event":"SparkListenerTaskEnd", broken'
    plain[300] = b"\xff\xfe not json"
    (folder / "damaged").mkdir()
    (folder / "damaged" / "local-damaged").write_bytes(b"\n".join(plain))
    return folder


def by_source(summaries: list[dict]) -> dict[str, dict]:
    return {s["source"]: s for s in summaries}


def test_plan_cuts_plain_parts_and_keeps_compressed_ones_whole(logs):
    found = find_logs(str(logs))
    tasks = plan(found, SPLIT)
    for log in found:
        for index, part in enumerate(log.parts):
            mine = [t for t in tasks if t.log_location == log.location and t.part == index]
            if part.codec or part.size <= SPLIT:
                assert [(t.start, t.end) for t in mine] == [(0, None)]
            else:
                assert len(mine) == -(-part.size // SPLIT)
                assert mine[0].start == 0 and mine[-1].end == part.size
                assert all(a.end == b.start for a, b in itertools.pairwise(mine))


def test_ranges_reduced_apart_and_merged_equal_one_reduction(logs):
    """The executors' work without Spark: each range reduced alone, then merged."""
    from advisor.spark_reduce import merge

    found = find_logs(str(logs))
    results = [reduce_task(task) for task in plan(found, SPLIT)]
    ours = by_source(merge(found, results))
    theirs = by_source(summarize_paths([str(logs)]))
    assert ours.keys() == theirs.keys()
    for source, summary in theirs.items():
        assert {k: v for k, v in ours[source].items() if k != "size"} == summary, source
    damaged = ours[str(logs / "damaged" / "local-damaged")]
    assert damaged["problems"]  # reported in the output, the job goes on


def test_the_spark_job_equals_eventlog_summarize(logs, tmp_path):
    pytest.importorskip("pyspark")
    if shutil.which("java") is None:
        pytest.skip("Spark needs Java")
    from advisor.spark_reduce import run

    target, summaries = run(str(logs), tmp_path / "facts", master="local[2]", split_bytes=SPLIT)
    lines = [json.loads(line) for line in target.read_text().splitlines()]
    assert len(lines) == len(summaries) == len(find_logs(str(logs)))
    theirs = by_source(summarize_paths([str(logs)]))
    for line in lines:
        expected = json.loads(json.dumps(theirs[line["source"]], sort_keys=True, default=str))
        assert {k: v for k, v in line.items() if k != "size"} == expected, line["source"]


def test_imported_facts_equal_reduced_logs(tmp_path):
    """The sample fleet imported with its event logs, and again with the facts of those logs
    (reduced apart, as the Spark job's executors do) in DIR/facts/ instead: the same Spark
    tables, every application linked to the same run, and no log read."""
    from advisor.collect.importer import import_directory
    from advisor.spark_reduce import merge, write_facts
    from advisor.store import Store
    from advisor.store.schema import SPARK_TABLES

    found = find_logs(str(SAMPLE / "eventlogs"))
    summaries = merge(found, [reduce_task(task) for task in plan(found, SPLIT)])
    facts_only = tmp_path / "fleet"
    shutil.copytree(SAMPLE, facts_only, ignore=shutil.ignore_patterns("eventlogs"))
    target = write_facts(summaries, facts_only / "facts")
    with target.open("a") as handle:  # damaged lines are reported, the rest loads
        handle.write("not json\n" + json.dumps({"source": "x"}) + "\n[1, 2]\n")

    with_logs, with_facts = Store(tmp_path / "logs.db"), Store(tmp_path / "facts.db")
    import_directory(with_logs, SAMPLE)
    report = import_directory(with_facts, facts_only)
    assert report.eventlog_files == 0 and report.eventlog_apps == len(found)
    skipped = {e["item"] for e in report.errors if e["item"].startswith("facts/")}
    lines = range(len(summaries) + 1, len(summaries) + 4)
    assert skipped == {f"facts/{target.name}:{n}" for n in lines}

    def rows(store, table):
        columns = [c for c in SPARK_TABLES[table][0] if c not in ("source",)]
        return sorted(tuple(str(row.get(c)) for c in columns) for row in store.db[table].rows)

    for table in SPARK_TABLES:
        assert rows(with_facts, table) == rows(with_logs, table), table


def test_import_facts_never_creates_a_store_from_a_mistyped_path(tmp_path):
    from click.testing import CliRunner

    from advisor.cli import main

    facts = tmp_path / "facts.jsonl"
    facts.write_text("")
    missing = tmp_path / "typo.db"
    result = CliRunner().invoke(main, ["import-facts", "--db", str(missing), str(facts)])
    assert result.exit_code == 2 and str(missing) in result.output
    assert not missing.exists()
