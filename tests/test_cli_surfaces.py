"""What a new user sees: tables at any width, --since windows, recommend's evidence and prose,
help texts and the order of "top findings", on the analysed sample fleet."""

from __future__ import annotations

import inspect
import io
import json
import re
from datetime import timedelta
from itertools import pairwise

import click
import pytest
import yaml
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.cells import cell_len
from rich.console import Console
from rich.table import Table

from advisor import cli, facts
from advisor.analysis.runstats import SEVERITIES
from advisor.cli import main
from advisor.cli_options import ROOT_DB_HELP
from advisor.identity import job_key, run_label
from advisor.report.eventlog_text import _ms
from advisor.report.labels import EVIDENCE, evidence_label, evidence_value, md_text, money, size
from advisor.report.text import by_severity, cost_table, numbers_kept_whole
from advisor.store import Store
from advisor.timeutil import parse_ts
from tests.conftest import ROOT, SAMPLE

KEY = "123456789012/us-east-1/"  # the sample fleet's place


def key(name: str) -> str:
    return job_key("123456789012", "us-east-1", name)


def render(renderable, width: int) -> str:
    console = Console(width=width, file=io.StringIO(), color_system=None)
    console.print(renderable)
    return console.file.getvalue()


def column_text(text: str, index: int = 0) -> str:
    """Every line of one column of the rendered tables, joined: a wrapped cell comes back
    whole (with the spaces it wrapped at removed)."""
    cells = [line.split("│")[index + 1] for line in text.splitlines() if line.startswith("│")]
    return "".join(cell.strip().replace(" ", "") for cell in cells)


def run(*args: str):
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture(scope="module")
def db(analysed_sample_db):
    return analysed_sample_db


@pytest.fixture
def narrow(monkeypatch):
    """The CLI printing to a terminal `width` columns wide."""

    def at(width: int) -> None:
        monkeypatch.setattr(cli, "out", Console(width=width, color_system=None))

    return at


# ---- 1 and 2: numbers are never cut, and the job is never squeezed out -----------------------


COST_ROWS = [
    {
        "job_name": key(name),
        "command_name": command,
        "number_of_workers": workers,
        "worker_type": "G.2X" if workers else None,
        "runs": runs,
        "failed_runs": runs // 7,
        "dpu_hours": runs * 12.345,
        "cost_usd": runs * 5.4321,
        "unpriced_runs": 0,
    }
    for name, command, workers, runs in (
        ("a_rather_long_job_name_that_needs_room", "glueetl", 40, 12345),
        ("etl", "pythonshell", None, 7),
        ("nightly orders load with spaces", "gluestreaming", 2, 1_234_567),
    )
]


@pytest.mark.parametrize("width", [40, 60, 80, 120, 200])
def test_cost_table_keeps_every_job_and_number_whole_at_any_width(width):
    """At 60 columns the job, type and workers columns (and "total") rendered empty: numbers
    took their full width and the text columns were squeezed to nothing."""
    text = render(cost_table(COST_ROWS, "cost"), width)
    assert "…" not in text
    assert all(cell_len(line) <= width for line in text.splitlines())
    jobs = column_text(text)
    for row in COST_ROWS:
        assert row["job_name"].split("/")[-1].replace(" ", "") in jobs
        for number in (f"{row['runs']:,}", f"{row['dpu_hours']:,.1f}", money(row["cost_usd"])):
            assert number in text
    assert "total" in jobs
    for shown in ("spark", "python shell", "streaming", "40 x G.2X", "2 x G.2X"):
        assert shown in text


@pytest.mark.parametrize("width", [60, 80])
def test_costs_on_a_narrow_terminal_names_every_job(db, narrow, width):
    narrow(width)
    data = json.loads(run("costs", "--db", db, "--since", "all", "--format", "json").stdout)
    text = run("costs", "--db", db, "--since", "all").stdout
    jobs = column_text(text)
    assert "…" not in text
    for job in data["jobs"]:
        assert job["job_name"] in jobs
        assert f"{job['dpu_hours']:,.1f}" in text


@settings(max_examples=60, deadline=None)
@given(
    words=st.lists(st.text("abcdefgh_", min_size=1, max_size=30), min_size=1, max_size=6),
    numbers=st.lists(
        st.lists(st.floats(0, 1e9, allow_nan=False), min_size=1, max_size=6),
        min_size=1,
        max_size=6,
    ),
    width=st.integers(40, 160),
)
def test_any_table_keeps_numbers_whole_and_its_first_column(words, numbers, width):
    table = Table(title="t")
    table.add_column("name")
    table.add_column("note")
    for index in range(len(numbers)):
        table.add_column(f"number {index}", justify="right")
    cells = [[f"{v:,.2f}" for v in column] for column in numbers]
    rows = max(map(len, cells))
    for r in range(rows):
        table.add_row(
            words[r % len(words)],
            " ".join(words),
            *(column[r] if r < len(column) else "" for column in cells),
        )
    text = render(numbers_kept_whole(table), width)
    assert "…" not in text
    assert all(cell_len(line) <= width for line in text.splitlines())
    assert all(value in text for column in cells for value in column)
    names = column_text(text)
    assert all(words[r % len(words)] in names for r in range(rows))


@pytest.mark.parametrize("width", [60, 120])
def test_eventlog_summary_cuts_no_number(narrow, width):
    """`eventlog summarize | cat` showed `9.7…` in the run column; at 60 columns only `…`."""
    log = sorted((SAMPLE / "eventlogs").iterdir())[0]
    narrow(width)
    [summary] = json.loads(run("eventlog", "summarize", str(log), "--format", "json").stdout)
    text = run("eventlog", "summarize", str(log)).stdout
    assert "…" not in text
    ranked = sorted(summary["stage_list"], key=lambda r: r["executor_run_time_ms"] or 0)
    for stage in ranked[-8:]:
        for value in (
            _ms(stage["executor_run_time_ms"]),
            _ms(stage["task_ms_max"]),
            size(stage["disk_bytes_spilled"]),
            size(stage["shuffle_read_bytes"]),
        ):
            assert value in text
    assert summary["app_id"] in text.replace("\n", "")


@pytest.mark.parametrize("width", [60, 120])
def test_facts_cut_no_rate(narrow, width):
    """`advisor facts | cat` showed rates as `0.20…`."""
    narrow(width)
    text = run("facts").stdout
    assert "…" not in text
    for entries in facts.registry()["rates"].values():
        for entry in entries.values():
            if entry.get("usd") is not None:
                assert f"{entry['usd']:g}{'' if entry.get('confirmed') else '*'}" in text
    for name, version in facts.registry()["versions"].items():
        assert name in text and str(version["default_timeout_min"]) in text


# ---- 3 and 4: --since all, and comparisons only with a window the history covers ------------


def test_since_all_is_the_whole_history_in_costs_and_recommend(db):
    """`recommend --since all` printed "Last 30 days": all meant the default."""
    store = Store(db)
    runs = store.db.execute(
        "select count(*), min(started_on) from job_runs where job_name = ?",
        [key("marketing_attribution")],
    ).fetchone()
    rec = json.loads(
        run(
            "recommend", "marketing_attribution", "--db", db, "--since", "all", "--format", "json"
        ).stdout
    )
    assert rec["summary"]["runs"] == runs[0] and rec["window"]["start"] == runs[1]
    assert rec["window"]["whole_history"] and rec["summary"]["usd_change"] is None
    costs = json.loads(run("costs", "--db", db, "--since", "all", "--format", "json").stdout)
    [row] = [j for j in costs["jobs"] if j["job_name"] == "marketing_attribution"]
    assert row["runs"] == runs[0]
    text = run("recommend", "marketing_attribution", "--db", db, "--since", "all").stdout
    assert "Last 30 days" not in text and f"All {rec['window']['days']} days" in text


@pytest.mark.parametrize("since", [20, 30, 31, 45, 60])
def test_the_window_before_is_compared_only_when_the_history_covers_it(db, since):
    """--since 60d said "+3239% on the window before" of a window holding two days of runs."""
    store = Store(db)
    job = "marketing_attribution"
    first = parse_ts(
        store.db.execute(
            "select min(started_on) from job_runs where job_name = ?", [key(job)]
        ).fetchone()[0]
    )
    args = ("recommend", job, "--db", db, "--since", f"{since}d")
    rec = json.loads(run(*args, "--format", "json").stdout)
    end = parse_ts(rec["window"]["end"])
    covered = first <= end - 2 * timedelta(days=since)
    summary = rec["summary"]
    assert rec["window"]["previous_covered"] == covered
    assert (summary["usd_change"] is not None) == covered
    text = run(*args).stdout
    assert ("not enough history to compare" in text) == (not covered)
    assert ("on the window before" in text.replace("\n", " ")) == covered
    if covered:
        assert summary["usd_change"] == pytest.approx(
            summary["usd"] / summary["usd_previous_window"] - 1
        )


# ---- 5 and 6: recommend's evidence, prose and run names ---------------------------------------


def recommend(db: str, job: str) -> tuple[dict, str]:
    rec = json.loads(run("recommend", job, "--db", db, "--format", "json").stdout)
    return rec, run("recommend", job, "--db", db, "--format", "markdown").stdout


def all_recommendations(db: str) -> list[tuple[dict, str]]:
    names = [j["name"].split("/")[-1] for j in Store(db).jobs()]
    return [recommend(db, name) for name in names]


def test_evidence_is_labelled_and_formatted_as_the_rest_of_the_cli(db):
    """Evidence printed `whatif_model_error 0.09313` and `runaway_run_usd 63.36`."""
    kinds_seen = set()
    for rec, markdown in all_recommendations(db):
        rows = [line for line in markdown.splitlines() if line.startswith("| ")]
        for finding in rec["findings"]:
            for field, value in finding["evidence"].items():
                if value is None:
                    continue
                for raw in (field, md_text(field)):
                    assert not any(line.startswith(f"| {raw} |") for line in rows), field
                kind = EVIDENCE[field][1]
                kinds_seen.add(kind)
                if isinstance(value, float) and kind == "usd":
                    assert money(value) in markdown, field
                if isinstance(value, float) and kind == "percent":
                    assert f"{value:.1%}" in markdown, field
                if isinstance(value, float) and len(repr(value).split(".")[-1]) > 3:
                    assert repr(value) not in markdown, field  # no raw float of many digits
    assert {"usd", "percent", "times"} <= kinds_seen  # the sample exercises the formatting


def test_every_evidence_field_a_rule_cites_has_a_label():
    """A rule's evidence is shown by a readable label and in its unit, never its field name."""
    rules = [*ROOT.glob("rules/*.yaml"), *ROOT.glob("rules/resources/*.yaml")]
    fields = {f for path in rules for f in yaml.safe_load(path.read_text()).get("evidence", [])}
    assert fields and fields <= set(EVIDENCE)
    assert not [field for field in fields if "_" in evidence_label(field)]
    assert evidence_value("whatif_model_error", 0.09313) == f"{0.09313:.1%}"
    assert evidence_value("runaway_run_usd", 63.36) == money(63.36)


def test_recommend_prose_says_things_once_and_sensibly(db):
    """`timeout_risk (timeout_risk)`, `timeout ? min`, and one finding's saving said to "add up
    ... because they overlap"."""
    singles = 0
    for rec, markdown in all_recommendations(db):
        for finding in rec["findings"]:
            assert f"`{finding['rule_id']}` ({finding['rule_id']})" not in markdown
            if finding["problem"] != finding["rule_id"]:
                assert f"`{finding['rule_id']}` ({finding['problem']})" in markdown
        assert "timeout ?" not in markdown
        if rec["job"]["timeout_min"] is None:
            assert "no timeout in its definition" in markdown
        saving = rec["saving"]
        if saving["usd_month"] and len(saving["finding_ids"]) == 1:
            singles += 1
            assert "because they overlap" not in markdown
        overlap = saving["usd_month"] and saving["sum_of_findings_usd_month"] > saving["usd_month"]
        if overlap and len(saving["finding_ids"]) > 1:
            assert "because they overlap" in markdown
    assert singles  # the sample has jobs whose saving is one finding's


def test_anomaly_reason_does_not_repeat_the_ratio_and_runs_are_named_by_id(db):
    """ "took 4.8x the median runtime (runtime 4.8x the median (robust z 12.2))", and runs
    named by their full key in recommend's text."""
    found = 0
    for rec, markdown in all_recommendations(db):
        for finding in rec["findings"]:
            if finding["rule_id"] != "runtime_anomaly":
                continue
            found += 1
            ratio = f"{finding['evidence']['worst_anomaly_ratio']:.1f}x"
            assert finding["message"].count(ratio) == 1, finding["message"]
            assert "runtime" in finding["evidence"]["worst_anomaly_reason"]
            run_keys = re.findall(rf"{re.escape(KEY)}jr_\w+", " ".join(finding["advice"]))
            assert run_keys  # the stored advice names the run by its key ...
            for run_key in run_keys:  # ... the text by its Glue run id
                assert run_label(run_key) in markdown.replace("\\_", "_")
        assert f"{KEY}jr_" not in markdown.replace("\\_", "_")
    assert found


# ---- 7: help says what is true -----------------------------------------------------------------


def leaf_commands(group: click.Group = main, path: tuple[str, ...] = ()):
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            yield from leaf_commands(command, (*path, name))
        else:
            yield (*path, name), command


@pytest.mark.parametrize(
    "verb,command", list(leaf_commands()), ids=[" ".join(v) for v, _c in leaf_commands()]
)
def test_db_works_where_the_help_says_it_does(db, verb, command):
    """The root help said --db works after every verb; `rules list --db X` said "No such
    option". A verb takes --db, or the help names it as one that reads no store."""
    takes_db = any("--db" in p.opts for p in command.params)
    if not takes_db:
        assert verb[0] in ROOT_DB_HELP
        source = inspect.getsource(command.callback)
        assert not re.search(r"open_store|existing_store|load_config|Store\(", source)
        refused = CliRunner().invoke(main, [*verb, "--db", db])
        assert refused.exit_code == 2 and "reads no store" in refused.output


def test_every_option_has_help_and_groups_name_their_verbs():
    """`--port` had no help; `rules` said "run their examples" for a verb called `test`."""
    for verb, command in leaf_commands():
        for param in command.params:
            if isinstance(param, click.Option) and param.name != "help":
                assert (param.help or "").strip(), (verb, param.name)
    for command in main.commands.values():
        if isinstance(command, click.Group):
            for name in command.commands:
                assert name in (command.help or ""), (command.name, name)


# ---- 8: top findings in the order the title says -----------------------------------------------


def test_top_findings_are_ordered_by_severity_then_saving(db, monkeypatch):
    """analyze and demo listed high, medium, medium, critical...: ordered by score unsaid."""
    rows = Store(db).open_findings()
    console = Console(width=120, file=io.StringIO(), color_system=None)
    monkeypatch.setattr(cli, "out", console)
    cli._print_findings(rows, limit=12)
    text = console.file.getvalue()
    assert "by severity, then saving" in text
    cells = (line.split("│")[1].strip() for line in text.splitlines() if line.startswith("│"))
    shown = [cell for cell in cells if cell]
    rank = [SEVERITIES.index(s) for s in shown]
    assert rank == sorted(rank, reverse=True) and len(rank) == 12
    expected = by_severity(rows)[:12]
    assert [r["severity"] for r in expected] == shown
    worst = max(SEVERITIES.index(r["severity"]) for r in rows)
    assert rank[0] == worst
    for a, b in pairwise(expected):
        if a["severity"] == b["severity"]:
            assert (a["savings_usd_month"] or 0) >= (b["savings_usd_month"] or 0)


@pytest.mark.parametrize(
    "args",
    [
        ["explain", "orders_daily_etl", "--week", "9999-W52"],
        ["explain", "orders_daily_etl", "--week", "0001-W01"],
        ["report", "--week", "9999-W52"],
        ["reconcile", "--month", "9999-12"],
        ["reconcile", "--month", "0001-01"],
        ["reconcile", "--since", "0001-01-01", "--until", "9999-12-31"],
        ["reconcile", "--since", "2026-11-30", "--until", "2026-11-01"],
        ["costs", "--since", "99999999999d"],
        ["changes", "--since", "3000000d"],
        ["recommend", "orders_daily_etl", "--since", "99999999999d"],
    ],
    ids=lambda a: " ".join(a),
)
def test_dates_and_spans_beyond_any_calendar_are_refused_plainly(analysed_sample_db, args):
    result = CliRunner().invoke(main, [*args, "--db", analysed_sample_db])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and "Error: Invalid value" in result.output
