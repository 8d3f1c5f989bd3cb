"""`advisor collect --eventlog-facts s3://...` against moto's server over HTTP: facts reduced on
Spark (advisor/spark_reduce.py) are read from S3 instead of the logs they stand for, linked to
the runs just collected, and give the store the Spark tables a local `advisor import-facts` of
the same facts gives (and a collect that reduced the logs itself); bad lines are reported and
the rest kept; a re-collect reads nothing again."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import pytest
import yaml
from click.testing import CliRunner

from advisor.cli import main
from advisor.collect.aws import READ_ONLY_OPERATIONS
from advisor.collect.runner import CollectOptions, collect
from advisor.spark_reduce import merge, plan, reduce_task, write_facts
from advisor.sparklog.reader import find_logs
from advisor.store import Store
from advisor.store.schema import SPARK_TABLES
from tests.awsfake import NOW, REGION, session
from tests.conftest import SAMPLE
from tests.test_collect import FIXTURES

ALLOWED = {f"{svc}:{op}" for svc, ops in READ_ONLY_OPERATIONS.items() for op in ops}
LOGS = "s3://glue-assets/sparkui/"
FACTS = "s3://reduced-facts/fleet/"
BAD_LINES = ["not json", json.dumps({"source": "x"}), "[1, 2]"]


class Seen:
    """Every operation a collect called, and the S3 objects it fetched."""

    def __init__(self) -> None:
        self.operations: list[str] = []
        self.keys: list[str] = []

    def install(self, boto_session: boto3.Session) -> boto3.Session:
        events = boto_session._session.get_component("event_emitter")
        events.register("before-call", self._call)
        events.register("provide-client-params.s3.GetObject", self._fetched)
        return boto_session

    def _call(self, model, **_) -> None:
        self.operations.append(f"{model.service_model.service_name}:{model.name}")

    def _fetched(self, params, **_) -> None:
        self.keys.append(f"s3://{params['Bucket']}/{params['Key']}")


def collect_seen(store, fleet, regions=(REGION,), **kwargs):
    """(report, the objects fetched) of a collect without metrics or other costs."""
    seen = Seen()
    options = CollectOptions(
        regions=list(regions),
        endpoint_url=fleet.endpoint,
        session_factory=lambda region: seen.install(session(region)),
        metrics=False,
        resources=False,
        **kwargs,
    )
    report = collect(store, options, now=NOW)
    assert set(seen.operations) <= ALLOWED  # read-only: nothing outside the guard's list
    return report, seen.keys


@pytest.fixture
def reduced(fleet, tmp_path):
    """Glue jobs writing event logs under one prefix, and the facts of two of those logs
    reduced apart by spark_reduce's tasks (as a Glue job running it would), with damaged
    lines, under another bucket. The third log (a plain Spark shell log) has no facts."""
    s3 = session().client("s3", endpoint_url=fleet.endpoint)
    s3.create_bucket(Bucket="glue-assets")
    s3.create_bucket(Bucket="reduced-facts")
    ui = {"--enable-spark-ui": "true", "--spark-event-logs-path": LOGS}
    planted = {
        e["scenario"]: e["run_id"]
        for e in yaml.safe_load((SAMPLE / "MANIFEST.yaml").read_text())["eventlogs"]
    }
    spill_run, rolling_run = planted["spill"], planted["rolling_etl"]
    fleet.create_job("sales_aggregate_spill", ui)
    fleet.create_job("returns_etl_nightly", ui)
    fleet.create_job("Spark shell", ui)
    fleet.add_run("sales_aggregate_spill", spill_run, NOW - timedelta(hours=3), 600)
    fleet.add_run("returns_etl_nightly", rolling_run, NOW - timedelta(hours=2), 600)
    fleet.add_run("Spark shell", "jr_spark_shell_run", datetime.fromtimestamp(1532512546, UTC), 60)
    events = SAMPLE / "eventlogs"
    spill_log = next((events / spill_run).iterdir())
    s3.upload_file(str(spill_log), "glue-assets", f"sparkui/{spill_log.name}")
    rolling_dir = next((events / rolling_run).iterdir())
    for part in rolling_dir.iterdir():
        s3.upload_file(str(part), "glue-assets", f"sparkui/{rolling_dir.name}/{part.name}")
    plain = FIXTURES / "sparklens" / "local-1532512550423"
    s3.upload_file(str(plain), "glue-assets", f"sparkui/{plain.name}")

    options = {"endpoint_url": fleet.endpoint, "region": REGION}
    logs = [log for log in find_logs(LOGS, s3) if log.location != f"{LOGS}{plain.name}"]
    assert len(logs) == 2
    tasks = plan(logs, 64 << 10)
    summaries = merge(logs, [reduce_task(task, options) for task in tasks])
    local = write_facts(summaries, tmp_path / "facts")
    with Path(local).open("a") as handle:
        handle.write("\n".join(BAD_LINES) + "\n")
    s3.upload_file(str(local), "reduced-facts", f"fleet/{Path(local).name}")
    s3.put_object(Bucket="reduced-facts", Key="fleet/_SUCCESS", Body=b"")  # not facts: passed over
    return {
        "s3": s3,
        "local": Path(local),
        "covered": {log.location for log in logs},
        "plain": f"{LOGS}{plain.name}",
        "apps": len(summaries),
        "url": f"{FACTS}{Path(local).name}",
    }


def spark_rows(store: Store, sources: set[str] | None = None) -> dict[str, list[tuple]]:
    """Every Spark table, every column (sources included: both name the logs on S3), of the
    applications of these logs (of all, when None)."""
    apps = {
        r["app_id"] for r in store.db["spark_apps"].rows if not sources or r["source"] in sources
    }
    return {
        table: sorted(
            tuple(str(v) for v in row.values())
            for row in store.db[table].rows
            if row["app_id"] in apps
        )
        for table in SPARK_TABLES
    }


def test_facts_from_s3_equal_an_import_of_the_same_facts_and_the_logs_are_not_read(
    fleet, reduced, tmp_path
):
    facts_store = Store(tmp_path / "facts.db")
    report, fetched = collect_seen(facts_store, fleet, eventlog_facts=FACTS)

    # the logs the facts stand for are never fetched; the one without facts is reduced
    assert not [key for key in fetched if any(key.startswith(c) for c in reduced["covered"])]
    assert reduced["plain"] in fetched and reduced["url"] in fetched
    assert report.eventlog_facts == {
        "url": FACTS,
        "files": 1,
        "unchanged": 0,
        "applications": reduced["apps"],
        "linked": reduced["apps"],
    }
    skipped = {(e["source"], e["item"]) for e in report.errors}
    first_bad = reduced["apps"] + 1
    assert skipped == {("s3", f"{reduced['url']}:{n}") for n in range(first_bad, first_bad + 3)}

    # the same fleet collected without event logs, then the same facts imported from disk
    import_db = tmp_path / "import.db"
    imported = Store(import_db)
    collect_seen(imported, fleet, eventlogs=False)
    imported.close()
    result = CliRunner().invoke(
        main, ["import-facts", "--db", str(import_db), str(reduced["local"])]
    )
    assert result.exit_code == 4, result.output  # the damaged lines, reported
    imported = Store(import_db)
    assert spark_rows(facts_store, reduced["covered"]) == spark_rows(imported)
    assert imported.db["spark_apps"].count == reduced["apps"]

    # and both equal a collect that read and reduced every log itself
    raw_store = Store(tmp_path / "raw.db")
    collect_seen(raw_store, fleet)
    assert spark_rows(facts_store) == spark_rows(raw_store)
    linked = {r["source"]: r["linked_by"] for r in facts_store.db["spark_apps"].rows}
    assert linked == {
        **dict.fromkeys(reduced["covered"], "glue_run_id"),
        reduced["plain"]: "time_window",
    }


def test_a_recollect_reads_only_new_facts(fleet, reduced, store):
    collect_seen(store, fleet, eventlog_facts=FACTS)

    again, fetched = collect_seen(store, fleet, eventlog_facts=FACTS)
    assert fetched == [] and again.errors == []
    assert again.eventlog_facts["unchanged"] == 1 and again.eventlog_facts["files"] == 0

    # the next Spark run writes the next file: only it is read, and its lines replace the older
    newer = json.loads(reduced["local"].read_text().splitlines()[0])
    newer["app_name"] = "renamed by a later reduction"
    reduced["s3"].put_object(
        Bucket="reduced-facts", Key="fleet/facts-00001.jsonl", Body=json.dumps(newer) + "\n"
    )
    third, fetched = collect_seen(store, fleet, eventlog_facts=FACTS)
    assert fetched == [f"{FACTS}facts-00001.jsonl"] and third.errors == []
    names = {r["source"]: r["app_name"] for r in store.db["spark_apps"].rows}
    assert names[newer["source"]] == "renamed by a later reduction"
    assert store.db["spark_apps"].count == reduced["apps"] + 1  # replaced, not added


def test_facts_in_several_places_link_by_run_id_and_still_cover_their_logs(fleet, reduced, store):
    """With two regions collected the facts belong to no single place: they link by the Glue
    run id they carry, and a later collect that reads logs still leaves theirs unread."""
    regions = [REGION, "eu-west-1"]
    first, _ = collect_seen(store, fleet, regions, eventlog_facts=FACTS, eventlogs=False)
    assert first.eventlog_facts["linked"] == reduced["apps"]
    _, fetched = collect_seen(store, fleet, regions, eventlog_facts=FACTS)
    assert fetched == [reduced["plain"]]


def test_unreadable_facts_are_one_error_and_the_logs_are_read_as_without_them(
    fleet, reduced, store
):
    report, _ = collect_seen(store, fleet, eventlog_facts="s3://no-such-bucket/facts/")
    assert [(e["source"], e["item"]) for e in report.errors] == [
        ("s3", "s3://no-such-bucket/facts/ (ListObjectsV2)")
    ]
    assert {r["source"] for r in store.db["spark_apps"].rows} == {
        *reduced["covered"],
        reduced["plain"],
    }
    assert report.eventlog_facts["files"] == 0


def test_facts_only_with_no_eventlogs(fleet, reduced, store):
    report, fetched = collect_seen(store, fleet, eventlog_facts=FACTS, eventlogs=False)
    assert fetched == [reduced["url"]]
    assert {r["source"] for r in store.db["spark_apps"].rows} == reduced["covered"]
    assert report.eventlog_apps == reduced["apps"]


def test_collect_cli_reads_facts_and_exits_4_on_bad_lines(fleet, reduced, tmp_path):
    db = str(tmp_path / "cli.db")
    base = ["collect", "--db", db, "--region", REGION, "--endpoint-url", fleet.endpoint]
    base += ["--no-metrics", "--no-other-costs"]
    result = CliRunner().invoke(main, [*base, "--eventlog-facts", FACTS, "--format", "json"])
    assert result.exit_code == 4, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    payload = json.loads(result.stdout)
    assert payload["eventlog_facts"]["applications"] == reduced["apps"]
    assert {e["item"].rsplit(":", 1)[0] for e in payload["errors"]} == {reduced["url"]}

    text = CliRunner().invoke(main, [*base, "--eventlog-facts", FACTS])
    assert text.exit_code == 0, text.output  # nothing new: nothing skipped
    assert f"Event-log facts {FACTS}: 0 files read (1 unchanged" in text.stdout

    bad = CliRunner().invoke(main, [*base, "--eventlog-facts", "reduced-facts/fleet/"])
    assert bad.exit_code == 2 and "--eventlog-facts" in bad.output
    assert "Traceback" not in bad.output
