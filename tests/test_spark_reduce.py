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


# ---- the byte ranges both reducers cut (advisor/sparklog/ranges.py) --------------------------


@pytest.mark.parametrize("pieces", [1, 2, 3, 7, 64, 5000])
def test_line_ranges_tile_the_file_on_line_starts(logs, pieces):
    from advisor.sparklog.ranges import line_ranges

    path = logs / "damaged" / "local-damaged"
    data = path.read_bytes()
    ranges = line_ranges(str(path), len(data), pieces)
    assert ranges[0][0] == 0 and ranges[-1][1] == len(data)
    assert all(a[1] == b[0] for a, b in itertools.pairwise(ranges))  # no gap, no overlap
    assert all(data[start - 1 : start] == b"\n" for start, _ in ranges[1:])
    assert len(ranges) <= pieces


def test_a_line_longer_than_a_piece_is_never_cut(tmp_path):
    from advisor.sparklog.ranges import line_ranges

    path = tmp_path / "log"
    path.write_bytes(b"a\n" + b"x" * 5000 + b"\nb\n")
    ranges = line_ranges(str(path), path.stat().st_size, 10)
    assert {start for start, _ in ranges} <= {0, 2, 5003}


@pytest.fixture
def s3_logs(fleet, logs):
    """The plain logs (one damaged) and the sample fleet's on moto's S3."""
    from tests.awsfake import session

    s3 = session().client("s3", endpoint_url=fleet.endpoint)
    s3.create_bucket(Bucket="logs")
    for folder in ("damaged", "sparklint", "sample"):
        for path in (logs / folder).rglob("*"):
            if path.is_file():
                s3.upload_file(str(path), "logs", f"in/{path.relative_to(logs)}")
    return s3, {"endpoint_url": fleet.endpoint, "region": "us-east-1"}


def test_ranges_read_from_s3_equal_one_reduction_of_the_same_logs(s3_logs):
    """Ranged GETs on S3 (each task reads its own bytes) merge to what one process reading
    the same objects whole gives, problems and their line numbers included."""
    from advisor.spark_reduce import merge

    s3, options = s3_logs
    found = find_logs("s3://logs/in/", s3)
    tasks = plan(found, SPLIT)
    assert any(t.end is not None for t in tasks)  # the plain logs were cut into ranges
    ours = by_source(merge(found, [reduce_task(task, options) for task in tasks]))
    theirs = by_source(summarize_paths(["s3://logs/in/"], s3_factory=lambda: s3))
    assert ours.keys() == theirs.keys()
    for source, summary in theirs.items():
        assert {k: v for k, v in ours[source].items() if k != "size"} == summary, source
    assert ours["s3://logs/in/damaged/local-damaged"]["problems"]


def test_facts_written_to_s3_take_the_next_name_and_equal_a_local_write(s3_logs, tmp_path):
    from advisor.spark_reduce import merge, write_facts

    s3, options = s3_logs
    found = find_logs("s3://logs/in/", s3)
    summaries = merge(found, [reduce_task(task, options) for task in plan(found, SPLIT)])
    s3.create_bucket(Bucket="out")
    first = write_facts(summaries, "s3://out/facts/", s3)
    second = write_facts(summaries[:1], "s3://out/facts", s3)  # with or without the slash
    assert (first, second) == (
        "s3://out/facts/facts-00000.jsonl",
        "s3://out/facts/facts-00001.jsonl",
    )
    s3.put_object(Bucket="out", Key="facts/facts-00007.jsonl", Body=b"")
    assert write_facts([], "s3://out/facts/", s3) == "s3://out/facts/facts-00008.jsonl"
    assert write_facts([], "s3://out", s3) == "s3://out/facts-00000.jsonl"

    local = write_facts(summaries, tmp_path / "facts")
    body = s3.get_object(Bucket="out", Key="facts/facts-00000.jsonl")["Body"].read()
    assert body == Path(local).read_bytes()
    assert [json.loads(line)["source"] for line in body.splitlines()] == [
        log.location for log in found
    ]


def test_an_s3_output_that_cannot_be_listed_is_refused_before_reducing(fleet, logs, capsys):
    pytest.importorskip("pyspark")
    from advisor.spark_reduce import main

    code = main([str(logs), "s3://no-such-bucket/facts/", "--endpoint-url", fleet.endpoint])
    assert code == 2
    assert "s3://no-such-bucket/facts/: cannot list it" in capsys.readouterr().err


# ---- as a Glue job (advisor/spark_reduce_glue.py) ---------------------------------------------

GLUE_ARGV = [
    "--JOB_ID",
    "j_0123",
    "--JOB_RUN_ID",
    "jr_0123",
    "--job-bookmark-option",
    "job-bookmark-disable",
    "--TempDir",
    "s3://aws-glue-assets/temporary/",
    "--JOB_NAME",
    "advisor-spark-reduce",
    "--input_path",
    "s3://logs/in/",
    "--output_path",
    "s3://out/facts/",
]


def test_the_glue_script_passes_its_job_parameters_to_the_same_main(monkeypatch):
    """Glue gives the script --name value pairs, its own among them: only ours reach main,
    and damaged logs (main's 4) do not fail the job run."""
    import runpy
    import sys

    from advisor import spark_reduce, spark_reduce_glue

    calls = []

    def fake_main(argv):
        calls.append(argv)
        return 4

    monkeypatch.setattr(spark_reduce, "main", fake_main)
    assert spark_reduce_glue.main([*GLUE_ARGV, "--split_bytes", "1024"]) == 0
    assert calls == [["s3://logs/in/", "s3://out/facts/", "--split-bytes", "1024"]]
    # run as Glue runs it: the file as a script, with sys.argv
    monkeypatch.setattr(sys, "argv", ["spark_reduce_glue.py", *GLUE_ARGV])
    with pytest.raises(SystemExit) as exit_:
        runpy.run_path(spark_reduce_glue.__file__, run_name="__main__")
    assert exit_.value.code == 0 and calls[-1] == ["s3://logs/in/", "s3://out/facts/"]
    monkeypatch.setattr(spark_reduce, "main", lambda argv: 2)
    assert spark_reduce_glue.main(GLUE_ARGV) == 2


def test_the_glue_script_reduces_s3_logs_into_s3_facts_on_spark(s3_logs, tmp_path, fleet):
    """The script alone in a folder, as Glue downloads it, run with Glue's arguments against
    moto's S3 (AWS_ENDPOINT_URL, as the job's own S3 would be): the facts land in S3 and equal
    `advisor eventlog summarize` of the same logs."""
    pytest.importorskip("pyspark")
    if shutil.which("java") is None:
        pytest.skip("Spark needs Java")
    import os
    import subprocess
    import sys

    from advisor import spark_reduce_glue

    s3, _ = s3_logs
    s3.create_bucket(Bucket="out")
    script = tmp_path / "glue" / "spark_reduce_glue.py"
    script.parent.mkdir()
    shutil.copy(spark_reduce_glue.__file__, script)
    env = {
        **os.environ,
        "AWS_ENDPOINT_URL": fleet.endpoint,
        "AWS_DEFAULT_REGION": "us-east-1",
        "PYSPARK_PYTHON": sys.executable,
    }
    argv = [sys.executable, str(script), *GLUE_ARGV, "--split_bytes", str(SPLIT)]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]  # the damaged log does not fail the run
    assert "wrote s3://out/facts/facts-00000.jsonl" in done.stdout
    body = s3.get_object(Bucket="out", Key="facts/facts-00000.jsonl")["Body"].read()
    lines = [json.loads(line) for line in body.splitlines()]
    theirs = by_source(summarize_paths(["s3://logs/in/"], s3_factory=lambda: s3))
    assert len(lines) == len(theirs)
    for line in lines:
        expected = json.loads(json.dumps(theirs[line["source"]], sort_keys=True, default=str))
        assert {k: v for k, v in line.items() if k != "size"} == expected, line["source"]
