"""The Glue costs beside job runs: crawlers and their crawls, interactive sessions and
development endpoints, collected read-only from moto's server over HTTP, imported from AWS CLI
output, priced with each one's billing rules, and put beside the bill by `advisor reconcile`."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from moto.core.responses import ActionResult
from moto.glue.models import FakeSession
from moto.glue.responses import GlueResponse

from advisor import facts
from advisor.analysis.other_costs import costs_by_resource, price_use
from advisor.cli import main
from advisor.collect.aws import READ_ONLY_OPERATIONS
from advisor.collect.runner import CollectOptions, collect
from tests.awsfake import NOW, REGION, SECRET, FaultLayer, session
from tests.test_reconcile import COLUMNS

ACCOUNT = "123456789012"
ALLOWED = {f"{svc}:{op}" for svc, ops in READ_ONLY_OPERATIONS.items() for op in ops}
RATE = {kind: facts.rate_entry(REGION, kind)["usd"] for kind in ("crawler", "dev_endpoint")}
RATE["interactive_session"] = facts.rate_entry(REGION, "interactive_session")["usd"]


@pytest.fixture
def crawler_metrics(monkeypatch):
    """moto lacks GetCrawlerMetrics: answer it from moto's own crawlers, in AWS's shape."""

    def get_crawler_metrics(self):
        names = self._get_param("CrawlerNameList") or []
        return ActionResult(
            {
                "CrawlerMetricsList": [
                    {"CrawlerName": n, "MedianRuntimeSeconds": 720.0, "TablesUpdated": 3}
                    for n in names
                    if n in self.glue_backend.crawlers
                ]
            }
        )

    monkeypatch.setattr(GlueResponse, "get_crawler_metrics", get_crawler_metrics, raising=False)

    # and its sessions leave out what AWS returns of their size and idle timeout (and answer
    # MaxCapacity 123.0 whatever was asked): fill them in from what the session was created with
    plain = FakeSession.as_dict

    def as_dict(self):
        return {
            **plain(self),
            "IdleTimeout": self.idle_timeout,
            "WorkerType": self.worker_type,
            "NumberOfWorkers": self.number_of_workers,
            "MaxCapacity": float(self.number_of_workers or 0) or None,
        }

    monkeypatch.setattr(FakeSession, "as_dict", as_dict)


def seed(endpoint: str) -> None:
    glue = session().client("glue", endpoint_url=endpoint)
    role = f"arn:aws:iam::{ACCOUNT}:role/glue"
    glue.create_crawler(
        Name="raw_events",
        Role=role,
        DatabaseName="raw",
        Targets={"S3Targets": [{"Path": "s3://lake/raw/events/"}]},
        Schedule="cron(0 * * * ? *)",
        RecrawlPolicy={"RecrawlBehavior": "CRAWL_EVERYTHING"},
    )
    glue.create_crawler(
        Name="orders",
        Role=role,
        DatabaseName="sales",
        Targets={"S3Targets": [{"Path": "s3://lake/orders/"}]},
        RecrawlPolicy={"RecrawlBehavior": "CRAWL_NEW_FOLDERS_ONLY"},
    )
    glue.start_crawler(Name="raw_events")
    glue.create_session(
        Id="notebook-alice",
        Role=role,
        Command={"Name": "glueetl", "PythonVersion": "3"},
        IdleTimeout=2880,
        WorkerType="G.1X",
        NumberOfWorkers=5,
        GlueVersion="4.0",
        DefaultArguments={"--db-password": SECRET},
    )
    glue.create_dev_endpoint(EndpointName="legacy-dev", RoleArn=role, NumberOfNodes=5)


def test_collect_reads_crawlers_sessions_and_endpoints_read_only(fleet, store, crawler_metrics):
    seed(fleet.endpoint)
    faults = FaultLayer()
    options = CollectOptions(
        regions=[REGION],
        endpoint_url=fleet.endpoint,
        session_factory=lambda region: faults.install(session(region)),
    )
    report = collect(store, options, now=NOW)

    assert report.errors == []
    assert set(faults.operations) <= ALLOWED
    assert {
        "glue:GetCrawlers",
        "glue:GetCrawlerMetrics",
        "glue:ListCrawls",
        "glue:ListSessions",
        "glue:GetDevEndpoints",
    } <= set(faults.operations)
    [place] = report.places
    assert (place.crawlers, place.crawls, place.sessions, place.dev_endpoints) == (2, 1, 1, 1)
    resources = {(r["kind"], r["name"]): r for r in store.glue_resources()}
    crawler = resources[("crawler", "raw_events")]
    assert crawler["arn"] == f"arn:aws:glue:{REGION}:{ACCOUNT}:crawler/raw_events"
    assert crawler["definition"]["RecrawlPolicy"] == {"RecrawlBehavior": "CRAWL_EVERYTHING"}
    assert crawler["definition"]["Metrics"]["MedianRuntimeSeconds"] == 720.0
    session_row = resources[("interactive_session", "notebook-alice")]
    assert session_row["definition"]["IdleTimeout"] == 2880
    assert SECRET not in json.dumps(session_row["definition"])  # redacted at the door
    used = {(u["kind"], u["name"]): u for u in store.resource_usage()}
    assert used[("crawler", "raw_events")]["dpu_hours"] == 100  # moto's DPUHour
    assert used[("interactive_session", "notebook-alice")]["dpus"] == 5  # 5 x G.1X
    assert used[("dev_endpoint", "legacy-dev")]["dpus"] == 5

    # again with nothing new: ListCrawls asks only after the newest finished crawl
    again = collect(store, options, now=NOW)
    assert again.errors == []
    assert store.db["resource_usage"].count == 3

    # --no-other-costs: none of these calls
    faults.operations.clear()
    collect(store, CollectOptions(**{**options.__dict__, "resources": False}), now=NOW)
    assert not {op for op in faults.operations if "Crawl" in op or "Session" in op}


def test_denied_crawlers_are_one_error_and_the_rest_is_collected(fleet, store, monkeypatch):
    seed(fleet.endpoint)

    def denied(self):
        raise PermissionError  # turned into a 500 by moto: a failing API, not a crash

    monkeypatch.setattr(GlueResponse, "get_crawlers", denied)
    options = CollectOptions(
        regions=[REGION], endpoint_url=fleet.endpoint, session_factory=session, max_attempts=1
    )
    report = collect(store, options, now=NOW)
    assert [e["item"] for e in report.errors] == [f"{ACCOUNT}/{REGION}/GetCrawlers"]
    kinds = {r["kind"] for r in store.glue_resources()}
    assert kinds == {"interactive_session", "dev_endpoint"}


T0 = datetime(2026, 11, 10, 8, 0, tzinfo=UTC)


def use(kind, **fields):
    return {
        "kind": kind,
        "account": ACCOUNT,
        "region": REGION,
        "name": fields.pop("name", "x"),
        "usage_id": "u",
        "started_on": T0.isoformat(),
        "ended_on": None,
        "state": None,
        "duration_s": None,
        "dpu_hours": None,
        "dpus": None,
        **fields,
    }


def test_each_resource_is_priced_with_its_own_billing_rules():
    # a 3-minute crawl that used 0.1 DPU-hour is billed as 10 minutes at the same DPUs
    short = price_use(use("crawler", duration_s=180.0, dpu_hours=0.1), NOW)
    assert short.dpu_hours == pytest.approx(0.1 * 600 / 180)
    assert short.usd == pytest.approx(short.dpu_hours * RATE["crawler"])
    long = price_use(use("crawler", duration_s=1800.0, dpu_hours=1.5), NOW)
    assert long.dpu_hours == 1.5
    # a 20-second session of 5 DPUs bills its 1-minute minimum
    brief = price_use(use("interactive_session", duration_s=20.0, dpus=5.0), NOW)
    assert brief.dpu_hours == pytest.approx(5 * 60 / 3600)
    # a session left idle until its 2,880-minute timeout bills all of it
    idle = price_use(use("interactive_session", duration_s=2880 * 60.0, dpus=5.0), NOW)
    assert idle.usd == pytest.approx(5 * 48 * RATE["interactive_session"])
    # an endpoint still provisioned is priced up to now
    now = T0 + timedelta(days=2)
    endpoint = price_use(use("dev_endpoint", state="READY", dpus=5.0), now)
    assert endpoint.dpu_hours == pytest.approx(5 * 48)
    # a region without a rate is unpriced, never $0.00
    away = price_use(
        {**use("crawler", duration_s=900.0, dpu_hours=1.0), "region": "xx-none-1"}, NOW
    )
    assert away.usd is None


def test_a_period_counts_the_part_of_a_use_that_falls_in_it():
    now = T0 + timedelta(days=40)
    endpoint = use("dev_endpoint", name="legacy-dev", state="READY", dpus=5.0)
    [row] = costs_by_resource([endpoint], "2026-11-11", "2026-11-13", now)
    assert row["dpu_hours"] == pytest.approx(5 * 48)  # two whole days of the forty
    assert row["computed_usd"] == pytest.approx(5 * 48 * RATE["dev_endpoint"])
    assert costs_by_resource([endpoint], "2026-10-01", "2026-11-01", now) == []


def write_cli_output(folder, crawl_start):
    role = f"arn:aws:iam::{ACCOUNT}:role/glue"
    (folder / "jobs.json").write_text(json.dumps({"Jobs": []}))
    (folder / "crawlers.json").write_text(
        json.dumps(
            {
                "Crawlers": [
                    {
                        "Name": "raw_events",
                        "Role": role,
                        "Schedule": {"ScheduleExpression": "cron(0 * * * ? *)"},
                        "RecrawlPolicy": {"RecrawlBehavior": "CRAWL_EVERYTHING"},
                    },
                    {"Role": role},  # no Name: reported, the rest kept
                ]
            }
        )
    )
    (folder / "crawls").mkdir()
    (folder / "crawls" / "raw_events.json").write_text(
        json.dumps(
            {
                "Crawls": [
                    {
                        "CrawlId": f"c{i}",
                        "State": "COMPLETED",
                        "StartTime": (crawl_start + timedelta(hours=i)).isoformat(),
                        "EndTime": (crawl_start + timedelta(hours=i, minutes=4)).isoformat(),
                        "DPUHour": 0.2,
                    }
                    for i in range(3)
                ]
            }
        )
    )
    (folder / "sessions.json").write_text(
        json.dumps(
            {
                "Sessions": [
                    {
                        "Id": "nb-1",
                        "Role": role,
                        "Status": "STOPPED",
                        "CreatedOn": crawl_start.isoformat(),
                        "CompletedOn": (crawl_start + timedelta(hours=2)).isoformat(),
                        "ExecutionTime": 7200.0,
                        "NumberOfWorkers": 5,
                        "WorkerType": "G.1X",
                        "IdleTimeout": 2880,
                        "DefaultArguments": {"--db-password": SECRET},
                    }
                ]
            }
        )
    )
    (folder / "dev-endpoints.json").write_text(json.dumps({"DevEndpoints": []}))


def test_import_and_reconcile_put_computed_beside_billed(tmp_path):
    import csv

    folder = tmp_path / "fleet"
    folder.mkdir()
    write_cli_output(folder, T0)
    crawler_arn = f"arn:aws:glue:{REGION}:{ACCOUNT}:crawler/raw_events"
    computed_crawls = 3 * 0.2 * 600 / 240 * RATE["crawler"]  # three 4-minute crawls
    (folder / "billing").mkdir()
    with (folder / "billing" / "cur.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        hour = T0.replace(minute=0)
        for i, (usage_type, resource, cost) in enumerate(
            [
                ("USE1-Crawler-DPU-Hour", crawler_arn, computed_crawls + 0.50),
                ("USE1-Crawler-DPU-Hour", f"arn:aws:glue:{REGION}:{ACCOUNT}:crawler/gone", 1.0),
            ]
        ):
            writer.writerow(
                [
                    f"id{i}",
                    "",
                    ACCOUNT,
                    "Usage",
                    hour.isoformat(),
                    (hour + timedelta(hours=1)).isoformat(),
                    "AWSGlue",
                    usage_type,
                    "CrawlerRun",
                    resource,
                    "1",
                    "0.44",
                    f"{cost:.6f}",
                    REGION,
                ]
            )
    db = str(tmp_path / "a.db")
    runner = CliRunner()
    imported = runner.invoke(main, ["import", str(folder), "--db", db])
    assert imported.exit_code == 4, imported.output  # the crawler without a Name
    assert (
        "crawlers.json#Crawlers[1]" in imported.output
        or "Crawlers[1]" in runner.invoke(main, ["errors", "--db", db]).output
    )
    result = runner.invoke(
        main, ["reconcile", "--db", db, "--month", "2026-11", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    other = {(o["category"], o["resource_id"]): o for o in json.loads(result.stdout)["other"]}
    crawler = other[("crawler", crawler_arn)]
    assert crawler["computed_usd"] == pytest.approx(computed_crawls)
    assert crawler["difference_usd"] == pytest.approx(0.50, abs=1e-5)
    gone = other[("crawler", f"arn:aws:glue:{REGION}:{ACCOUNT}:crawler/gone")]
    assert gone["computed_usd"] is None  # billed, unknown to the store
    session_arn = f"arn:aws:glue:{REGION}:{ACCOUNT}:session/nb-1"
    assert other[("interactive_session", session_arn)]["billed_usd"] == 0  # computed only
    assert other[("interactive_session", session_arn)]["computed_usd"] == pytest.approx(
        5 * 2 * RATE["interactive_session"]
    )
    text = runner.invoke(main, ["reconcile", "--db", db, "--month", "2026-11"]).output
    assert "not collected" in text and "raw_events" in text


def test_collect_billing_reads_an_export_from_s3(fleet, store):
    import csv
    import gzip
    import io

    s3 = session().client("s3", endpoint_url=fleet.endpoint)
    s3.create_bucket(Bucket="billing-exports")
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    for i in range(3):
        start = T0 + timedelta(hours=i)
        writer.writerow(
            [f"l{i}", "", ACCOUNT, "Usage", start.isoformat(),
             (start + timedelta(hours=1)).isoformat(), "AWSGlue", "USE1-ETL-DPU-Hour",
             "Jobrun", f"arn:aws:glue:{REGION}:{ACCOUNT}:job/orders", "2", "0.44", "0.88",
             REGION]
        )  # fmt: skip
    prefix = "cur/glue/data/BILLING_PERIOD=2026-11/"
    s3.put_object(
        Bucket="billing-exports",
        Key=prefix + "glue-00001.csv.gz",
        Body=gzip.compress(buffer.getvalue().encode()),
    )
    s3.put_object(Bucket="billing-exports", Key="cur/glue/metadata/Manifest.json", Body=b"{}")
    s3.put_object(Bucket="billing-exports", Key=prefix + "notes.csv", Body=b"a,b\n1,2\n")
    options = CollectOptions(
        regions=[REGION],
        endpoint_url=fleet.endpoint,
        session_factory=session,
        billing="s3://billing-exports/cur/glue/",
    )
    report = collect(store, options, now=NOW)
    assert (report.billing_files, report.billing_lines) == (1, 3)
    # the CSV that is not an export is one error; the manifest is passed over
    assert [e["item"] for e in report.errors] == [f"s3://billing-exports/{prefix}notes.csv"]
    assert "not an AWS billing export" in report.errors[0]["reason"] + report.errors[0]["detail"]
    rows = store.billing_lines_between("2026-11-01", "2026-12-01")
    assert sum(r["cost"] for r in rows) == pytest.approx(2.64)
    assert {r["job_name"] for r in rows} == {f"{ACCOUNT}/{REGION}/orders"}


def test_the_sample_bill_reconciles_to_its_planted_differences(analysed_sample_db):
    """sample_metrics/generate_billing.py bills the sample's own runs and resources, then
    plants: a run the store lacks, a deleted job, a crawl older than the history kept, a
    credit and a line of another service. Reconcile finds each and nothing else."""
    result = CliRunner().invoke(
        main, ["reconcile", "--db", analysed_sample_db, "--month", "2026-11", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    differing = {j["job"].rsplit("/", 1)[-1]: j for j in report["jobs"] if j["days_differing"]}
    assert list(differing) == ["marketing_attribution"]
    [day] = differing["marketing_attribution"]["days_differing"]
    assert day["day"] == "2026-11-12" and day["difference_usd"] == pytest.approx(4 * 0.44)
    assert [u["resource_id"].rsplit("/", 1)[-1] for u in report["unknown_jobs"]] == [
        "legacy_orders_export"
    ]
    other = {o["resource_id"].rsplit("/", 1)[-1]: o for o in report["other"] if o["resource_id"]}
    assert other["raw_events_crawler"]["difference_usd"] == pytest.approx(0.55, abs=0.01)
    for name in ("orders_crawler", "legacy-dev-endpoint", "notebook-alice-3f2a"):
        assert abs(other[name]["difference_usd"]) <= 0.01, name
    assert report["adjustments"] == [{"line_type": "Credit", "usd": -25.0}]
    # the session left at its default idle timeout is the costly one
    assert (
        other["notebook-alice-3f2a"]["computed_usd"]
        > 100 * other["notebook-bob-91c0"]["computed_usd"]
    )


def test_the_weekly_report_puts_the_bill_beside_the_computed_cost(analysed_sample_db):
    from datetime import date

    from advisor.report.weekly import weekly_report
    from advisor.report.weekly_bill import NO_BILL
    from advisor.report.weekly_html import render
    from advisor.store import Store

    store = Store(analysed_sample_db)
    report = weekly_report(store, date(2026, 11, 9))  # 2026-W46
    billed = report["bill"]["billed"]
    assert [j["job"].rsplit("/", 1)[-1] for j in billed["jobs_differing"]] == [
        "marketing_attribution"
    ]
    assert billed["totals"]["unexplained_usd"] == pytest.approx(4 * 0.44, abs=0.01)
    other = {c["category"]: c for c in report["bill"]["other"]}
    # the endpoint bills all week: 7 days x 24 h x 5 DPUs
    assert other["dev_endpoint"]["computed_usd"] == pytest.approx(7 * 24 * 5 * RATE["dev_endpoint"])
    assert other["dev_endpoint"]["billed_usd"] == pytest.approx(
        other["dev_endpoint"]["computed_usd"]
    )
    html = render(report)
    assert "<h2>Billed vs computed</h2>" in html and 'id="other-costs"' in html
    # a week no export covers says so, and still shows the other costs computed
    earlier = weekly_report(store, date(2026, 10, 19))
    assert earlier["bill"]["billed"] is None
    assert NO_BILL.split(":")[0] in render(earlier)


def test_the_resource_rules_find_what_the_sample_plants(analysed_sample_db):
    """rules/resources/: a session left to its default idle timeout, a crawler re-crawling
    everything every four hours, one crawling every three hours for data that lands daily, a
    development endpoint nobody deleted; the two well-kept crawlers and sessions pass."""
    from advisor.report.resources_cli import resources_cmd
    from advisor.store import Store

    store = Store(analysed_sample_db)
    found = {(f["rule_id"], f["name"]): f for f in store.resource_findings()}
    assert set(found) == {
        ("session_idle_timeout", "notebook-alice-3f2a"),
        ("session_oversized", "notebook-alice-3f2a"),  # tests/test_session_sizing.py
        ("crawler_recrawl", "raw_events_crawler"),
        ("crawler_schedule", "reference_data_crawler"),
        ("dev_endpoint_running", "legacy-dev-endpoint"),
    }
    # 10 G.1X DPUs idle for (2,880 - 30) minutes before the timeout ended the session
    idle = found[("session_idle_timeout", "notebook-alice-3f2a")]
    assert idle["savings_usd_month"] == pytest.approx(
        (2880 - 30) / 60 * 10 * RATE["interactive_session"]
    )
    endpoint = found[("dev_endpoint_running", "legacy-dev-endpoint")]
    assert endpoint["savings_usd_month"] == pytest.approx(5 * 730 * RATE["dev_endpoint"])
    schedule = found[("crawler_schedule", "reference_data_crawler")]
    assert "88% of the 208 crawls" in schedule["message"]
    # the crawls that changed nothing, each billed its 10-minute minimum (4 minutes ran)
    assert schedule["savings_usd_month"] == pytest.approx(182 * 0.1 * 600 / 240 * RATE["crawler"])

    runner = CliRunner()
    result = runner.invoke(resources_cmd, ["--db", analysed_sample_db, "--format", "json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert {r["name"] for r in report["resources"]} >= {"orders_crawler", "notebook-bob-91c0"}
    assert report["findings"][0]["rule_id"] == "dev_endpoint_running"  # the costliest first
    text = runner.invoke(resources_cmd, ["--db", analysed_sample_db]).output
    assert "delete-dev-endpoint" in text and "%idle_timeout 30" in text


def test_resource_commands_quote_the_name_and_print_it_exactly():
    """A crawler name is the user's: the command a finding prints names it as one shell word
    (`advisor resources` prints that command as is, with markup off)."""
    import shlex
    from pathlib import Path

    from advisor.analysis.resource_features import resource_features
    from advisor.analysis.rules import load_rules

    name = "raw [events]; rm -rf ~"
    resource = {
        "kind": "crawler",
        "name": name,
        "account": "1",
        "region": "us-east-1",
        "state": "READY",
        "definition": {"Name": name, "Schedule": {"ScheduleExpression": "cron(0 */4 * * ? *)"}},
    }
    features = next(
        iter(resource_features([resource], [], datetime(2026, 11, 26, tzinfo=UTC)).values())
    )
    features.update(
        recrawl_behavior="CRAWL_EVERYTHING",
        scheduled=True,
        s3_targets=True,
        crawls_month=156,
        schedule="cron(0 */4 * * ? *)",
        cost_usd_month=42.6,
        crawl_minutes_median=26,
    )
    rule = next(
        r
        for r in load_rules(Path(__file__).parents[1] / "rules" / "resources")
        if r.id == "crawler_recrawl"
    )
    outcome = rule.evaluate(features)
    assert outcome.fired
    words = shlex.split(outcome.remediation["cli"])
    assert words[words.index("--name") + 1] == name
    # no SchemaChangePolicy (AWS's default applies changes): crawling new folders only must
    # set it to LOG in the same call, or UpdateCrawler refuses it
    policy = words[words.index("--schema-change-policy") + 1]
    assert policy == "UpdateBehavior=LOG,DeleteBehavior=LOG"
    assert any("SchemaChangePolicy" in a for a in outcome.advice)
    logging_already = {**resource["definition"], "SchemaChangePolicy": {
        "UpdateBehavior": "LOG", "DeleteBehavior": "LOG"}}  # fmt: skip
    again = next(
        iter(
            resource_features(
                [{**resource, "definition": logging_already}],
                [],
                datetime(2026, 11, 26, tzinfo=UTC),
            ).values()
        )
    )
    outcome = rule.evaluate({**features, **{k: again[k] for k in again if "schema" in k}})
    assert "--schema-change-policy" not in outcome.remediation["cli"]
    assert not any("SchemaChangePolicy" in a for a in outcome.advice)
