"""Every codec and layout, on logs written by real Spark; damaged logs never crash the reader."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import boto3
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from advisor.cli import main
from advisor.sparklog.parse import AppReducer
from advisor.sparklog.reader import Problems, find_logs
from advisor.sparklog.reduce import reduce_log
from advisor.sparklog.summary import summarize
from tests.conftest import SAMPLE

FIXTURES = Path(__file__).parent / "fixtures" / "spark-events"
ROLLING = FIXTURES / "spark-rapids-tools" / "eventlog_v2_local-1623876083964"
PLAIN = FIXTURES / "sparklens" / "local-1532512550423"


def one(path) -> dict:
    [log] = find_logs(path)
    return summarize(reduce_log(log))


def sample_log(suffix: str) -> Path:
    return next(p for p in (SAMPLE / "eventlogs").rglob(f"*{suffix}") if p.is_file())


@pytest.mark.parametrize("codec", [".zstd", ".lz4", ".snappy", ".lzf"])
def test_each_codec_written_by_spark_reads_completely(codec):
    summary = one(sample_log(codec))
    assert summary["complete"] and summary["tasks"] > 0
    assert summary["problems"] == {} and not summary["data_loss"]


def test_gzip_gives_the_same_facts_as_plain(tmp_path):
    gz = tmp_path / "local-1532512550423.gz"
    gz.write_bytes(gzip.compress(PLAIN.read_bytes()))
    assert one(gz) == one(PLAIN)


@pytest.mark.parametrize("codec", [".zstd", ".lz4", ".snappy", ".lzf", ".gz"])
def test_a_compressed_log_cut_in_half_is_read_as_far_as_it_goes(tmp_path, codec):
    source = PLAIN if codec == ".gz" else sample_log(codec)
    raw = gzip.compress(source.read_bytes()) if codec == ".gz" else source.read_bytes()
    cut = tmp_path / f"app-cut{codec}"
    cut.write_bytes(raw[: len(raw) // 2])
    summary = one(cut)
    assert summary["complete"] is False
    assert set(summary["problems"]) & {"truncated_file", "truncated_last_line", "corrupt_file"}
    assert summary["problem_examples"][0]["file"] == str(cut)


def test_rolling_log_parts_are_read_in_order():
    [log] = find_logs(ROLLING)
    assert [p.name.split("_")[1] for p in log.parts] == ["1", "2"]
    summary = one(ROLLING)
    assert summary["tasks"] == 2801 and summary["complete"]


def test_in_progress_logs_are_marked_incomplete(tmp_path):
    rolling = tmp_path / ROLLING.name
    shutil.copytree(ROLLING, rolling)
    status = next(rolling.glob("appstatus_*"))
    status.rename(status.with_name(status.name + ".inprogress"))
    assert one(rolling)["complete"] is False
    single = tmp_path / "local-1532512550423.inprogress"
    shutil.copy(PLAIN, single)
    assert one(single)["complete"] is False


def test_a_truncated_last_line_is_tolerated_and_reported(tmp_path):
    text = PLAIN.read_bytes()
    last_newline = text.rindex(b"\n", 0, len(text) - 200)
    cut = tmp_path / "local-cut"
    cut.write_bytes(text[: last_newline + 60])  # 59 bytes into the next line
    summary = one(cut)
    assert summary["problems"] == {"truncated_last_line": 1}
    line = summary["problem_examples"][0]["line"]
    assert line == text[: last_newline + 1].count(b"\n") + 1
    assert summary["tasks"] > 0


def test_a_folder_holds_several_apps_and_ignores_markers(tmp_path):
    shutil.copy(PLAIN, tmp_path / PLAIN.name)
    shutil.copytree(ROLLING, tmp_path / ROLLING.name)
    (tmp_path / "README.md").write_text("notes")
    (tmp_path / ".local-1532512550423.crc").write_bytes(b"crc")
    logs = find_logs(tmp_path)
    assert sorted(Path(log.location).name for log in logs) == sorted([PLAIN.name, ROLLING.name])


def test_s3_logs_are_streamed_and_match_local(fleet, tmp_path):
    s3 = boto3.client("s3", region_name="us-east-1", endpoint_url=fleet.endpoint)
    s3.create_bucket(Bucket="glue-logs")
    s3.upload_file(str(PLAIN), "glue-logs", f"sparkui/{PLAIN.name}")
    for part in ROLLING.iterdir():
        s3.upload_file(str(part), "glue-logs", f"sparkui/{ROLLING.name}/{part.name}")
    result = CliRunner().invoke(
        main,
        [
            "eventlog",
            "summarize",
            "s3://glue-logs/sparkui/",
            "--endpoint-url",
            fleet.endpoint,
            "--region",
            "us-east-1",
            "--format",
            "json",
        ],
    )
    assert result.exit_code == 0, result.output
    import json

    remote = {s["app_id"]: s for s in json.loads(result.stdout)}
    for local_path in (PLAIN, ROLLING):
        local = one(local_path)
        assert {k: v for k, v in remote[local["app_id"]].items() if k != "source"} == local


def test_summarize_cli_text_and_exit_codes():
    ok = CliRunner().invoke(main, ["eventlog", "summarize", str(PLAIN)])
    assert ok.exit_code == 0 and "local-1532512550423" in ok.output
    damaged = CliRunner().invoke(
        main,
        [
            "eventlog",
            "summarize",
            str(FIXTURES / "spark-rapids-tools" / "malformed_json_eventlog.zstd"),
        ],
    )
    assert damaged.exit_code == 4 and "invalid_json 1" in damaged.output
    missing = CliRunner().invoke(main, ["eventlog", "summarize", "/no/such/log"])
    assert missing.exit_code != 0


# ---- fuzzing ---------------------------------------------------------------------------------

LINES = PLAIN.read_bytes().splitlines()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_damaged_events_never_raise_and_are_recorded(data):
    """Truncations, flipped bytes, unknown events, missing keys and wrong types."""
    lines = list(LINES)
    for _ in range(data.draw(st.integers(1, 8))):
        i = data.draw(st.integers(0, len(lines) - 1))
        action = data.draw(
            st.sampled_from(["cut", "flip", "unknown", "drop_key", "retype", "junk"])
        )
        line = lines[i]
        if action == "cut":
            lines[i] = line[: data.draw(st.integers(0, len(line)))]
        elif action == "flip":
            at = data.draw(st.integers(0, max(0, len(line) - 1)))
            lines[i] = line[:at] + bytes([data.draw(st.integers(0, 255))]) + line[at + 1 :]
        elif action == "unknown":
            lines.insert(i, b'{"Event":"com.example.CustomEvent","x":1}')
        elif action == "drop_key":
            for key in (b'"Task Info":', b'"Stage Info":', b'"Executor ID":', b'"Stage ID":'):
                lines[i] = lines[i].replace(key, b'"Renamed":', 1)
        elif action == "retype":
            for key in (
                b'"Executor Run Time":',
                b'"Launch Time":',
                b'"Number of Tasks":',
                b'"Timestamp":',
            ):
                lines[i] = lines[i].replace(key, key + b'"x"+', 1).replace(b'"x"+', b'"x",', 1)
        else:
            lines[i] = data.draw(st.binary(max_size=40))
    problems = Problems()
    reducer = AppReducer("fuzz", problems)
    for number, line in enumerate(lines, 1):
        if line:
            reducer.feed(line, ("fuzz", number), number == len(lines))
    summary = summarize(reducer)
    assert summary["tasks"] >= 0
    for row in problems.rows:
        assert row["file"] == "fuzz" and (row["line"] is None or row["line"] >= 1)


@settings(max_examples=60, deadline=None)
@given(data=st.data(), codec=st.sampled_from([".zstd", ".lz4", ".snappy", ".lzf"]))
def test_corrupted_compressed_bytes_never_raise(tmp_path_factory, data, codec):
    raw = bytearray(sample_log(codec).read_bytes())
    for _ in range(data.draw(st.integers(1, 5))):
        raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    path = tmp_path_factory.mktemp("fuzz") / f"app{codec}"
    path.write_bytes(bytes(raw))
    summary = one(path)
    assert summary["tasks"] >= 0


def test_executor_metrics_updates_are_a_source_of_peaks():
    """The real ExecutorMetricsUpdate line of the spill log, alone, gives the executor's peak."""
    [log] = find_logs(sample_log(".lz4"))
    from advisor.sparklog.reader import iter_lines

    [update] = [
        line.data
        for line in iter_lines(log, Problems())
        if line.data.startswith(b'{"Event":"SparkListenerExecutorMetricsUpdate"')
    ]
    import json

    expected = max(
        u["Executor Metrics"]["JVMHeapMemory"]
        for u in json.loads(update)["Executor Metrics Updated"]
    )
    reducer = AppReducer("one-event", Problems())
    reducer.feed(update, ("one-event", 1))
    assert expected > 0
    assert reducer.executors["driver"].as_row()["peak_jvm_heap_bytes"] == expected


@pytest.mark.parametrize("fraction", [0.1, 0.3, 0.5, 0.7, 0.9])
def test_a_zstd_log_cut_anywhere_is_reported(tmp_path, fraction):
    """A cut between lines leaves no broken line: only the open zstd frame tells."""
    raw = (FIXTURES / "spark-rapids-tools" / "nds_q72_dataproc_2_2.zstd").read_bytes()
    cut = tmp_path / "app-cut.zstd"
    cut.write_bytes(raw[: int(len(raw) * fraction)])
    summary = one(cut)
    assert "truncated_file" in summary["problems"] and summary["complete"] is False
