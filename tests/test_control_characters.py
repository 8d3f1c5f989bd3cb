"""Control characters in names and messages: a name Glue could never hold is refused at the
import, one it can (DEL and the C1 controls) is kept exact and put in commands as a bash word
that gives it back byte for byte, and nothing printed carries a control character to the
terminal."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from advisor.cli import main
from advisor.store import Store
from tests.conftest import SAMPLE

ODD = "ledger_\x9breconcile\x7fdaily"  # a name Glue accepts: C1 CSI and DEL are in its pattern
ERROR = "boom \x1b[2J\x1b]0;owned\x07 \u202eevil \x9b31m"


def _runs(name: str, new_name: str, suffix: str, error: str | None = None) -> dict:
    runs = json.loads((SAMPLE / "job-runs" / f"{name}.json").read_text())
    for run in runs["JobRuns"]:
        run["JobName"] = new_name
        run["Id"] += suffix
    if error:  # the newest run failed with it
        runs["JobRuns"][0].update(JobRunState="FAILED", ErrorMessage=error)
    return runs


@pytest.fixture(scope="module")
def odd_fleet(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("odd")
    jobs = json.loads((SAMPLE / "jobs.json").read_text())["Jobs"]
    by_name = {j["Name"]: j for j in jobs}
    kept = [by_name["orders_daily_etl"], {**by_name["ledger_reconcile"], "Name": ODD}]
    # names AWS could not have sent: a line break, an escape sequence, 256 characters
    refused = ["two\nlines", "red\x1b[31m", "x" * 256]
    kept += [{**by_name["orders_daily_etl"], "Name": name} for name in refused]
    (root / "jobs.json").write_text(json.dumps({"Jobs": kept}))
    (root / "job-runs").mkdir()
    shutil.copy(SAMPLE / "job-runs" / "orders_daily_etl.json", root / "job-runs")
    odd_runs = _runs("ledger_reconcile", ODD, "odd", ERROR)
    (root / "job-runs" / "odd.json").write_text(json.dumps(odd_runs))
    bad = _runs("orders_daily_etl", "bad\rname", "bad")
    (root / "job-runs" / "bad.json").write_text(json.dumps(bad))
    (root / "job-runs" / "x\x1b[2Jy.json").write_text("{}")  # a file name is data too
    # half a UTF-16 pair, escaped: orjson refuses the file, json reads it, SQLite cannot store it
    lone = _runs("orders_daily_etl", "orders_daily_etl", "lone")
    lone["JobRuns"] = lone["JobRuns"][:1]
    lone["JobRuns"][0].update(JobRunState="FAILED", ErrorMessage="half \ud800 a pair")
    (root / "job-runs" / "lone.json").write_text(json.dumps(lone))
    # a crawler named by its crawls file: a name like any other
    (root / "crawls").mkdir()
    (root / "crawls" / "evil\x1b[31mcrawler.json").write_text('{"Crawls": []}')
    return root


@pytest.fixture(scope="module")
def imported(odd_fleet, tmp_path_factory):
    db = tmp_path_factory.mktemp("db") / "a.db"
    result = CliRunner().invoke(main, ["import", str(odd_fleet), "--db", str(db)])
    analysed = CliRunner().invoke(main, ["analyze", "--db", str(db)])
    assert analysed.exit_code == 0, analysed.output
    return db, result


def test_names_glue_cannot_hold_are_refused_and_counted(imported, odd_fleet):
    db, result = imported
    assert result.exit_code == 4, result.output
    # what import says (its log lines and its table) quotes names without acting on them
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f]", result.output), result.output
    assert "x\\x1b" in result.output  # shown as an escape (the table may wrap the name)
    store = Store(db)
    names = {r["glue_name"] for r in store.db["jobs"].rows}
    assert names == {"orders_daily_etl", ODD}
    errors = {r["item"]: r["reason"] for r in store.db["ingest_errors"].rows}
    assert "U+000A" in errors["jobs.json#Jobs[2]"]
    assert "U+001B" in errors["jobs.json#Jobs[3]"]
    assert "256 characters long; Glue allows at most 255" in errors["jobs.json#Jobs[4]"]
    # a file of bad runs: the first 20 named, the rest counted in one line with an example
    bad_runs = len(json.loads((odd_fleet / "job-runs" / "bad.json").read_text())["JobRuns"])
    named = [item for item in errors if item.startswith("job-runs/bad.json#JobRuns[")]
    assert len(named) == 20
    rest = errors["job-runs/bad.json#JobRuns"]
    assert rest.startswith(f"{bad_runs - 20:,} more runs skipped, such as [20]:")
    assert "U+000D" in rest
    # the odd job's runs and its error message are kept exactly
    messages = {r["error_message"] for r in store.db["job_runs"].rows if r["error_message"]}
    assert ERROR in messages
    assert "half \ufffd a pair" in messages  # stored, the half pair made U+FFFD
    crawls = next(reason for item, reason in errors.items() if item.startswith("crawls/evil"))
    assert "U+001B" in crawls and "not read" in crawls


@pytest.mark.parametrize(
    "args",
    [
        ["costs", "--since", "all"],
        ["recommend", ODD],
        ["recommend", ODD, "--format", "markdown"],
        ["report", "--format", "markdown"],
        ["errors"],
        ["explain", ODD, "--week", "2026-W46"],
        # click's own errors quote the command line, our checks the store's names
        ["changes", "--", "wh\x9bname\x1b[31m"],
        ["recommend", ODD, "--run-id", "jr\x1b]0;pwn\x07"],
    ],
)
def test_nothing_printed_controls_the_terminal(imported, args):
    db, _ = imported
    result = CliRunner().invoke(main, ["--db", str(db), *args])
    assert result.exit_code in (0, 2, 3, 4), result.output
    shown = result.output
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e]", shown), repr(shown)
    if args[0] == "recommend":
        assert "\\x9b" in shown  # the name is there, its control characters shown as escapes


def test_commands_name_the_job_as_bash_reads_it_back(imported):
    db, _ = imported
    result = CliRunner().invoke(main, ["recommend", ODD, "--format", "json", "--db", str(db)])
    recommendation = json.loads(result.output)
    commands = [
        text
        for finding in recommendation["findings"]
        for text in re.findall(r"\$'(?:[^'\\]|\\.)*'", json.dumps(finding, ensure_ascii=False))
    ]
    assert commands, "no finding of the odd job names it in a command"
    for word in commands:
        word = json.loads(f'"{word}"')  # undo the JSON escaping of the backslashes
        for locale in ("C.UTF-8", "C"):  # the bytes come back whatever the locale
            echoed = subprocess.run(
                ["bash", "-c", f"printf %s {word}"], capture_output=True, env={"LC_ALL": locale}
            ).stdout
            assert echoed.decode() in (ODD, f"123456789012/us-east-1/{ODD}"), (locale, echoed)


def test_log_lines_quote_names_without_acting_on_them(odd_fleet, tmp_path):
    """The warnings import logs to stderr name the files and records they skip."""
    done = subprocess.run(
        [sys.executable, "-m", "advisor", "import", str(odd_fleet), "--db", str(tmp_path / "a.db")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 4, done.stderr
    assert "WARNING" in done.stderr and "x\\x1b[2Jy.json" in done.stderr
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f]", done.stderr + done.stdout)


@pytest.mark.parametrize("glue_name", ["tri```ple", "123456789012/us-east-1/orders_daily_etl"])
def test_a_name_with_backticks_or_slashes_is_named_so_it_comes_back(tmp_path, glue_name):
    """A printed command names the job so that, pasted into bash and given back to the
    advisor, it is this job: backticks never end the code span or fence around the command,
    and a name with "/" is never taken for another job's account/region/name."""
    from advisor.jobref import resolve_job

    root = tmp_path / "fleet"
    (root / "job-runs").mkdir(parents=True)
    jobs = {j["Name"]: j for j in json.loads((SAMPLE / "jobs.json").read_text())["Jobs"]}
    listed = [jobs["orders_daily_etl"], {**jobs["ledger_reconcile"], "Name": glue_name}]
    (root / "jobs.json").write_text(json.dumps({"Jobs": listed}))
    shutil.copy(SAMPLE / "job-runs" / "orders_daily_etl.json", root / "job-runs")
    runs = _runs("ledger_reconcile", glue_name, "x")
    (root / "job-runs" / "named.json").write_text(json.dumps(runs))
    db = tmp_path / "a.db"
    CliRunner().invoke(main, ["import", str(root), "--db", str(db)])
    CliRunner().invoke(main, ["analyze", "--db", str(db)])
    key = f"123456789012/us-east-1/{glue_name}"
    shown = CliRunner().invoke(main, ["recommend", key, "--db", str(db)]).output
    commands = re.findall(r"^advisor fix (.+) --rule", shown, re.MULTILINE)
    assert commands, shown
    for word in commands:
        named = subprocess.run(
            ["bash", "-c", f"printf %s {word}"], capture_output=True, env={"LC_ALL": "C"}
        ).stdout.decode()
        assert resolve_job(Store(db), named) == key, (word, named)
