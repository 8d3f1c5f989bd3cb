"""Offline import: build the store from files made with the AWS CLI, no credentials needed.

Layout (documented in the README):
  DIR/jobs.json                         aws glue get-jobs
  DIR/job-runs/<any name>.json          aws glue get-job-runs --job-name <JobName> (the job
                                        name is read from the contents: it may hold a "/")
  DIR/metrics/<JobRunId>/<metric>.json  aws cloudwatch get-metric-statistics ...
  DIR/eventlogs/<JobRunId>/...          Spark event logs of that run, any layout
  DIR/eventlogs/<SessionId>/...         Spark event logs of an interactive session (sessions.json)
  DIR/billing/*.csv|.csv.gz|.parquet    AWS Data Exports (CUR 2.0) files
  DIR/crawlers.json                     aws glue get-crawlers
  DIR/crawls/<CrawlerName>.json         aws glue list-crawls --crawler-name <CrawlerName>
  DIR/sessions.json                     aws glue list-sessions
  DIR/dev-endpoints.json                aws glue get-dev-endpoints
  DIR/facts/*.jsonl                     reduced event-log facts (python -m advisor.spark_reduce)
A malformed file is reported and recorded in `ingest_errors`; everything else still imports.
"""

from __future__ import annotations

import functools
import json
import logging
import multiprocessing
import os
import re
import stat as file_mode
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from advisor.bulk import collector_paused
from advisor.collect.cur import (
    BillingRead,
    NotBillingExport,
    describe,
    is_billing_file,
    read_billing_file,
)
from advisor.collect.eventlog_link import relink
from advisor.collect.eventlog_store import reduce_into_store
from advisor.collect.facts_import import import_facts_file
from advisor.collect.metrics import advisor_stats, dims_key, stats_for
from advisor.collect.records import (
    RecordError,
    glue_name,
    job_account,
    job_definition,
    job_row,
    run_row,
)
from advisor.collect.redact import redact_text
from advisor.collect.resource_records import (
    crawl_row,
    crawler_row,
    dev_endpoint_rows,
    session_rows,
)
from advisor.describe import described
from advisor.identity import UNKNOWN_ACCOUNT, UNKNOWN_REGION, split_key
from advisor.sparklog.reader import find_local
from advisor.store import Store
from advisor.timeutil import iso

log = logging.getLogger(__name__)
SOURCE = "import"


@dataclass
class ImportReport:
    jobs: int = 0
    runs: int = 0
    metric_points: int = 0
    eventlog_files: int = 0
    eventlog_apps: int = 0
    billing_lines: int = 0
    resources: int = 0  # crawlers, sessions and development endpoints
    errors: list[dict[str, str]] = field(default_factory=list)


# The largest JSON file an import reads (about 50,000 job runs): parsed, a file takes about
# seven times its size, and an import stays within 300 MB
MAX_JSON_BYTES = 32 * 2**20


class _BadFile(Exception):
    """A file whose content cannot be used; the message is for the user."""


def _load_json(path: Path) -> Any:
    try:
        size = path.stat().st_size
        if size > MAX_JSON_BYTES:
            raise _BadFile(
                f"{size / 2**20:,.0f} MiB is more than the {MAX_JSON_BYTES // 2**20} MiB an "
                "import reads from one file (a parsed file takes several times its size in "
                "memory): split it into pages, e.g. aws glue get-job-runs --max-items 20000 "
                "into several job-runs/*.json files"
            )
        data = path.read_bytes()
    except OSError as exc:
        raise _BadFile(f"cannot read: {exc.strerror}") from exc
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return _documents(data)


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _documents(data: bytes) -> Any:
    """Pages written one after another, as a shell joins them (`cat p1.json p2.json`, or `>>`
    in a loop): one document stays itself, several become the list of their pages."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _BadFile(f"not UTF-8 text (byte {exc.start})") from None
    decoder = json.JSONDecoder(parse_constant=_no_constants)
    documents, at = [], 0
    try:
        while (at := _skip_space(text, at)) < len(text):
            document, at = decoder.raw_decode(text, at)
            documents.extend(document if isinstance(document, list) else [document])
    except json.JSONDecodeError as exc:
        raise _BadFile(
            f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from None
    except (ValueError, RecursionError) as exc:
        raise _BadFile(f"invalid JSON: {exc}") from None
    if not documents:
        raise _BadFile("empty file: no JSON in it")
    if _ESCAPED_SURROGATE.search(text):  # orjson refuses these; json keeps them, SQLite cannot
        documents = _whole_characters(documents)
    return documents[0] if len(documents) == 1 else documents


_ESCAPED_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]")


def _whole_characters(value: Any) -> Any:
    """`value` with every half of a UTF-16 pair that stands alone (an escape such as \\ud800)
    made U+FFFD: no text can hold it, so storing it would fail; a whole pair is one character."""
    if isinstance(value, str):
        return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    if isinstance(value, list):
        return [_whole_characters(v) for v in value]
    if isinstance(value, dict):
        return {_whole_characters(k): _whole_characters(v) for k, v in value.items()}
    return value


def _skip_space(text: str, at: int) -> int:
    while at < len(text) and text[at] in " \t\r\n":
        at += 1
    return at


def _page_list(document: Any, key: str) -> list[dict[str, Any]]:
    """The CLI pages of a file: one page ({key: [...]}) or a list of them."""
    pages = document if isinstance(document, list) else [document]
    for page in pages:
        if not isinstance(page, dict) or not isinstance(page.get(key), list):
            raise _BadFile(f'expected an object with a "{key}" list (or a list of such objects)')
    return pages


def cut_off(pages: list[dict[str, Any]]) -> bool:
    """The last page still names a next one: --max-items, or a loop that stopped early."""
    return bool(pages and pages[-1].get("NextToken"))


def _items(pages: list[dict[str, Any]], key: str) -> Iterator[dict[str, Any]]:
    for page in pages:
        items = page[key]
        for index in range(len(items)):
            # let go of each record once it is used: rows and records are not all held at once
            item, items[index] = items[index], None
            yield item


CUT_OFF = (
    "the output was cut off: its last page still has a NextToken (from --max-items, or a "
    "loop that stopped early); what it holds is imported, the rest is missing. Write every "
    "page (see the README)"
)


# rows of one job-runs file, (index, reason) of the first records that could not be stored,
# how many could not in all, and whether the file was cut off
_ParsedRuns = tuple[list[dict[str, Any]], list[tuple[int, str]], int, bool]
SHOWN_RECORDS = 20  # bad records of a file named one by one; the rest are counted in one line
PARALLEL_MIN_BYTES = 32 * 2**20


def parse_runs_file(
    path: Path, region: str | None, accounts: dict[str, str | None], account: str | None
) -> _ParsedRuns | str:
    """Rows of one `get-job-runs` file, or why the whole file is unusable (runs in a worker).
    A run belongs to its job's account (`accounts`, by Glue name), else to `account`."""
    rows, bad, skipped = [], [], 0
    try:
        pages = _page_list(_load_json(path), "JobRuns")
    except _BadFile as exc:
        return str(exc)
    for index, run in enumerate(_items(pages, "JobRuns")):
        try:
            job = run.get("JobName") if isinstance(run, dict) else None
            owner = accounts.get(job, account) if isinstance(job, str) else account
            rows.append(run_row(run, region, owner))
        except RecordError as exc:
            skipped += 1
            if len(bad) <= SHOWN_RECORDS:  # one more than shown: the example of the rest
                bad.append((index, str(exc)))
    return rows, bad, skipped, cut_off(pages)


def _no_datapoints(metric: str) -> str:
    """Why a metric file may be empty, and the statistic and Type its metric needs."""
    statistic = stats_for(metric)
    kind = "count" if statistic == ("Sum",) else "gauge"
    return (
        f"no datapoints: if the run lasted over a minute, ask for {metric} with "
        f"--statistics {' '.join(statistic)} and the dimension Type={kind}"
    )


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


class Importer:
    def __init__(
        self,
        store: Store,
        root: Path,
        *,
        region: str | None = "us-east-1",
        account: str | None = None,
        on_progress: Callable[[str], None] | None = None,
        workers: int | None = None,
    ):
        self.store, self.root, self.region = store, Path(root), region
        # the account: --account, else each job's role ARN; runs follow their job, and runs of
        # jobs jobs.json lacks go to the one account its roles name (or 'unknown')
        self.account = account
        self.job_accounts: dict[str, str | None] = {}
        self.workers = workers  # None: parallel parsing only for large imports
        self.report = ImportReport()
        self.on_progress = on_progress or (lambda _name: None)
        jobs_file = self.root / "jobs.json"
        anchor = jobs_file if jobs_file.exists() else self.root
        # one deterministic "observed at" per snapshot, so importing twice gives the same store
        self.observed_at = iso(anchor.stat().st_mtime)

    def run(self) -> ImportReport:
        if not self.root.is_dir():
            raise FileNotFoundError(f"{self.root} is not a directory")
        self._root_real = self.root.resolve()
        self.store.forget_runs_seen()
        self._import_jobs()
        for path, parsed in self._parsed_runs_files():
            self.on_progress(self._rel(path))
            if isinstance(parsed, str):
                self._error(self._rel(path), parsed)
                continue
            with self.store.transaction():
                self._store_runs(path, *parsed)
        metrics_root = self.root / "metrics"
        for run_dir in self._usable(sorted(p for p in metrics_root.glob("*") if p.is_dir())):
            run = self._run_named(run_dir.name)
            if run is None:
                self._error(
                    self._rel(run_dir),
                    f"metrics for run {run_dir.name}, which no job-runs file contains",
                )
                continue
            for path in self._usable(self._json_files(run_dir)):
                self._guarded(path, lambda p, r=run: self._import_metric(p, *r))
        # sessions before event logs: eventlogs/<SessionId>/ is linked to its session
        self._import_resources()
        self._import_eventlogs()
        self._import_facts()
        self._import_billing()
        return self.report

    def _import_facts(self) -> None:
        """DIR/facts/*.jsonl: applications already reduced (on Spark, advisor/spark_reduce.py),
        linked to their runs without reading a log."""
        folder = self.root / "facts"
        if not folder.is_dir():
            return
        paths = [p for p in sorted(folder.glob("*.jsonl")) if not p.is_dir()]
        for path in self._usable(paths):
            self.on_progress(self._rel(path))
            try:
                _stored, linked = import_facts_file(
                    self.store,
                    path,
                    at=self.observed_at,
                    place=(self.default_account or UNKNOWN_ACCOUNT, self.region or UNKNOWN_REGION),
                    on_error=lambda item, why: self._error(f"facts/{item}", why),
                )
            except OSError as exc:
                self._error(self._rel(path), f"cannot read: {exc.strerror or exc}")
                continue
            self.report.eventlog_apps += linked
        self.report.eventlog_apps += relink(self.store)

    def _import_resources(self) -> None:
        """Crawlers and their crawls, interactive sessions, development endpoints: the Glue
        costs beside job runs (advisor/collect/resource_records.py)."""
        for name, key, build in (
            ("crawlers.json", "Crawlers", crawler_row),
            ("sessions.json", "Sessions", session_rows),
            ("dev-endpoints.json", "DevEndpoints", dev_endpoint_rows),
        ):
            path = self.root / name
            if path.exists() and self._usable([path]):
                self._guarded(path, lambda p, k=key, b=build: self._import_resource_file(p, k, b))
        folder = self.root / "crawls"
        if folder.is_dir():
            for path in self._usable(self._json_files(folder)):
                self._guarded(path, self._import_crawls_file)

    def _resource_account(self, record: Any) -> str | None:
        role = record.get("Role") or record.get("RoleArn") if isinstance(record, dict) else None
        return job_account({"Role": role}, self.account) or self.default_account

    def _import_resource_file(self, path: Path, key: str, build: Callable[..., Any]) -> None:
        pages = _page_list(_load_json(path), key)
        if cut_off(pages):
            self._error(self._rel(path), CUT_OFF)
        resources, usage = [], []
        for index, item in enumerate(_items(pages, key)):
            try:
                built = build(item, self._resource_account(item), self.region)
            except RecordError as exc:
                self._error(f"{self._rel(path)}#{key}[{index}]", str(exc))
                continue
            resource, used = built if isinstance(built, tuple) else (built, None)
            resources.append(resource)
            usage += [used] if used else []
        self.store.upsert_glue_resources(resources, usage, self.observed_at)
        self.report.resources += len(resources)

    def _import_crawls_file(self, path: Path) -> None:
        """crawls/<CrawlerName>.json: the crawls of the crawler the file is named after."""
        crawler = path.stem
        try:
            glue_name(crawler, "the crawler this file is named after")
        except RecordError as exc:
            self._error(self._rel(path), f"{exc}: not read")
            return
        known = {
            r["name"]: r["account"]
            for r in self.store.glue_resources("crawler")
            if r["region"] == (self.region or UNKNOWN_REGION)
        }
        pages = _page_list(_load_json(path), "Crawls")
        if cut_off(pages):
            self._error(self._rel(path), CUT_OFF)
        if crawler not in known:
            # kept (its crawls are billed), but no crawler's definition says how to judge them
            self._error(
                self._rel(path),
                f"crawls of {crawler!r}, which crawlers.json does not hold: its cost is kept, "
                "no rule judges it",
            )
        account = known.get(crawler) or self.default_account
        rows = []
        for index, item in enumerate(_items(pages, "Crawls")):
            try:
                rows.append(crawl_row(crawler, item, account, self.region))
            except RecordError as exc:
                self._error(f"{self._rel(path)}#Crawls[{index}]", str(exc))
        self.store.upsert_glue_resources([], rows, self.observed_at)

    def _import_billing(self) -> None:
        """DIR/billing/*.csv, *.csv.gz, *.parquet: AWS billing exports (advisor/collect/cur.py)."""
        folder = self.root / "billing"
        if not folder.is_dir():
            return
        paths = []
        for path in sorted(folder.iterdir()):
            if path.name.startswith("."):
                continue
            if is_billing_file(path) and not path.is_dir():
                paths.append(path)
            else:
                self._error(self._rel(path), "not a billing export (.csv, .csv.gz, .parquet)")
        for path in self._usable(paths):
            self.on_progress(self._rel(path))
            read = BillingRead()
            try:
                for batch in read_billing_file(path, read):
                    with self.store.transaction():
                        self.store.upsert_billing_lines(batch)
            except NotBillingExport as exc:
                self._error(self._rel(path), str(exc))
                continue
            self.report.billing_lines += read.kept
            if read.skipped:
                self._error(self._rel(path), describe(read))

    @functools.cached_property
    def default_account(self) -> str | None:
        named = {account for account in self.job_accounts.values() if account}
        return self.account or (named.pop() if len(named) == 1 else None)

    def _run_named(self, glue_run_id: str) -> tuple[str, str] | None:
        """(run key, job key) of the run this import's folders name by its Glue run id."""
        accounts = {*self.job_accounts.values(), self.default_account}
        for account in sorted(accounts, key=lambda a: a or ""):
            place = (account or UNKNOWN_ACCOUNT, self.region or UNKNOWN_REGION)
            for key in self.store.runs_with_glue_id(glue_run_id, place):
                return key, self.store.job_of_run(key) or ""
        return None

    def _session_named(self, session_id: str) -> tuple[str, str] | None:
        """(key, '') of the interactive session with this id that this import holds."""
        accounts = {*self.job_accounts.values(), self.default_account}
        for account in sorted(accounts, key=lambda a: a or ""):
            place = (account or UNKNOWN_ACCOUNT, self.region or UNKNOWN_REGION)
            for key in self.store.session_keys(session_id, place):
                return key, ""
        return None

    # ---- helpers -------------------------------------------------------------------------

    def _unusable(self, path: Path) -> str | None:
        """Why a path in the import folder must not be read: a link that leads out of the
        folder (an import reads what it was given, not /etc), or something that is not a
        regular file or folder (a FIFO named *.json would block the import for ever)."""
        try:
            target = path.resolve()
            inside = target == self._root_real or self._root_real in target.parents
            if not inside:
                return "a link that leads out of the import folder: not followed"
            mode = target.stat().st_mode
        except OSError as exc:
            return f"cannot read: {exc.strerror or exc}"
        if not (file_mode.S_ISREG(mode) or file_mode.S_ISDIR(mode)):
            return "not a regular file: not read"
        return None

    def _usable(self, paths: Iterable[Path]) -> list[Path]:
        """The paths that may be read; each other one is reported, once."""
        kept = []
        for path in paths:
            reason = self._unusable(path)
            if reason is None:
                kept.append(path)
            else:
                self._error(self._rel(path), reason)
        return kept

    def _json_files(self, folder: Path) -> list[Path]:
        """The *.json files right in `folder`; anything else there is reported, not read
        (a subfolder, or a file without .json, was skipped without a word). Hidden files,
        such as .DS_Store, are left alone."""
        kept = []
        for path in sorted(folder.glob("*")):
            if path.name.startswith("."):
                continue
            if path.suffix.lower() == ".json" and not path.is_dir():
                kept.append(path)
            elif path.is_dir():
                self._error(
                    self._rel(path),
                    "a folder here is not read: put its files directly in "
                    + self._rel(folder)
                    + "/",
                )
            else:
                self._error(self._rel(path), "not a .json file: not read")
        return kept

    def _rel(self, path: Path) -> str:
        for base in (self.root, self.root.resolve()):
            try:
                return str(path.relative_to(base))
            except ValueError:
                continue
        return str(path)

    def _error(self, item: str, reason: str) -> None:
        log.warning("skipped %s: %s", item, reason)
        row = self.store.record_error(SOURCE, item, reason, at=self.observed_at)
        self.report.errors.append(row)

    def _guarded(self, path: Path, action: Callable[[Path], None]) -> None:
        """One file, one transaction: a bad file is recorded and the import goes on."""
        self.on_progress(self._rel(path))
        try:
            with self.store.transaction():
                action(path)
        except _BadFile as exc:
            self._error(self._rel(path), str(exc))

    # ---- jobs and runs -------------------------------------------------------------------

    def _import_jobs(self) -> None:
        path = self.root / "jobs.json"
        if not path.exists():
            self._error(
                "jobs.json", "missing: job definitions are unknown, runs are still imported"
            )
            return
        if self._usable([path]):
            self._guarded(path, self._import_jobs_file)

    def _import_jobs_file(self, path: Path) -> None:
        rows = []
        pages = _page_list(_load_json(path), "Jobs")
        if cut_off(pages):
            self._error(self._rel(path), CUT_OFF + "; jobs missing from it have no definition")
        for index, job in enumerate(_items(pages, "Jobs")):
            account = job_account(job, self.account)
            try:
                row = job_row(job, self.region, account)
            except RecordError as exc:
                self._error(f"{self._rel(path)}#Jobs[{index}]", str(exc))
                continue
            rows.append(row)
            self.job_accounts[row["glue_name"]] = account
            self.store.record_job_version(
                row["name"], job_definition(job), row["last_modified_on"], self.observed_at
            )
        self.store.upsert_jobs(rows)
        self.report.jobs += len(rows)

    def _parsed_runs_files(self) -> Iterator[tuple[Path, _ParsedRuns | str]]:
        """Each job-runs file parsed into rows, in name order; in worker processes when there
        is enough to parse (a million runs parse in about half the time on two cores)."""
        files = self._usable(self._json_files(self.root / "job-runs"))
        total = sum(path.stat().st_size for path in files)
        workers = self.workers
        if workers is None:
            workers = min(os.cpu_count() or 1, 4) if total >= PARALLEL_MIN_BYTES else 1
        parse = functools.partial(
            parse_runs_file,
            region=self.region,
            accounts=self.job_accounts,
            account=self.default_account,
        )
        if workers <= 1 or len(files) < 2:
            yield from zip(files, map(parse, files), strict=True)
            return
        context = multiprocessing.get_context("spawn")  # safe beside threads (moto, progress)
        with ProcessPoolExecutor(workers, mp_context=context) as pool:
            # a few files in flight, not all: parsed rows wait in memory until they are stored
            pending: deque[tuple[Path, Future[_ParsedRuns | str]]] = deque()
            for path in files:
                pending.append((path, pool.submit(parse, path)))
                if len(pending) > 2 * workers:
                    done, future = pending.popleft()
                    yield done, future.result()
            while pending:
                done, future = pending.popleft()
                yield done, future.result()

    def _store_runs(
        self,
        path: Path,
        rows: list[dict[str, Any]],
        bad: list[tuple],
        skipped: int,
        was_cut_off: bool,
    ) -> None:
        for index, reason in bad[:SHOWN_RECORDS]:
            self._error(f"{self._rel(path)}#JobRuns[{index}]", reason)
        if skipped > SHOWN_RECORDS:
            index, reason = bad[SHOWN_RECORDS]
            self._error(
                f"{self._rel(path)}#JobRuns",
                f"{skipped - SHOWN_RECORDS:,} more runs skipped, such as [{index}]: {reason}",
            )
        if was_cut_off:
            self._error(self._rel(path), CUT_OFF)
        self._report_runs_in_two_files(path, rows)
        for name in {r["job_name"] for r in rows}:
            self.store.insert_job_stub(name)
        self.report.runs += self.store.upsert_runs(rows)

    def _report_runs_in_two_files(self, path: Path, rows: list[dict[str, Any]]) -> None:
        """A run id in two files: the later file's copy is kept, and the user hears of it."""
        here = self._rel(path)
        clashes = self.store.runs_seen_before(
            here, ((row["id"], hash(tuple(row.values()))) for row in rows)
        )
        by_file: dict[str, list[tuple[str, bool]]] = {}
        for run_id, other, differs in clashes:
            by_file.setdefault(other, []).append((run_id, differs))
        for other, runs in by_file.items():
            differing = sum(differs for _, differs in runs)
            what = (
                f"{differing} of them with other details there; the copies here are kept"
                if differing
                else "the copies are the same and stored once"
            )
            self._error(
                here, f"{len(runs)} run(s) are also in {other} (such as {runs[0][0]}): {what}"
            )

    # ---- metrics -------------------------------------------------------------------------

    def _import_metric(self, path: Path, run_id: str, job_name: str) -> None:
        document = _load_json(path)
        if not isinstance(document, dict) or not isinstance(document.get("Datapoints"), list):
            raise _BadFile('expected get-metric-statistics output with a "Datapoints" list')
        label = document.get("Label")
        if label is not None and not isinstance(label, str):
            raise _BadFile(f"Label should be the metric's name, got {described(label)}")
        metric = redact_text(label or path.stem) or path.stem
        wanted = advisor_stats(metric)  # what the collector keeps too
        rows, unusable = [], 0
        for point in document["Datapoints"]:
            try:
                ts = iso(point["Timestamp"]) if isinstance(point, dict) else None
            except (KeyError, TypeError, ValueError):
                ts = None
            if ts is None:  # a point without a time cannot be placed: it alone is skipped
                unusable += 1
                continue
            for stat in wanted:
                if _is_number(point.get(stat)):
                    rows.append(
                        {
                            "run_id": run_id,
                            "metric": metric,
                            "dims": dims_key({}),
                            "stat": stat,
                            "ts": ts,
                            "job_name": job_name,
                            "value": float(point[stat]),
                            "unit": point.get("Unit"),
                        }
                    )
        self.report.metric_points += self.store.upsert_metrics(rows)
        self.store.set_state("cloudwatch", run_id, "imported", self.observed_at)
        if not document["Datapoints"]:
            self._error(self._rel(path), _no_datapoints(metric))
        if unusable:
            self._error(
                self._rel(path),
                f"{unusable} of {len(document['Datapoints'])} datapoints have no usable "
                "Timestamp: skipped, the rest imported",
            )

    # ---- event logs (located here, reduced by the event-log engine) ----------------------

    def _import_eventlogs(self) -> None:
        root = self.root / "eventlogs"
        rows = []
        run_dirs = self._usable(sorted(p for p in root.glob("*") if p.is_dir()))
        runs: dict[Path, str] = {}
        for run_dir in run_dirs:
            run = self._run_named(run_dir.name) or self._session_named(run_dir.name)
            if run is None:
                self._error(
                    self._rel(run_dir),
                    f"event logs for run {run_dir.name}, which no job-runs file contains "
                    "(nor sessions.json, as a session id)",
                )
                continue
            runs[run_dir] = run[0]
            files = self._usable(sorted(p for p in run_dir.rglob("*") if not p.is_dir()))
            for path in files:
                rows.append(
                    {
                        "run_id": run[0],
                        "path": str(path.resolve()),
                        "bytes": path.stat().st_size,
                        "source": SOURCE,
                    }
                )
        with self.store.transaction():
            self.store.upsert_eventlog_locations(rows)
        self.report.eventlog_files += len(rows)
        for run_dir, run_id in runs.items():
            self._reduce_eventlogs(run_dir, run_id)
        self.report.eventlog_apps += relink(self.store)

    def _reduce_eventlogs(self, run_dir: Path, run_id: str) -> None:
        """Reduce each application under eventlogs/<run id>/ into the spark_* tables."""
        for log in find_local(run_dir):
            self.on_progress(self._rel(Path(log.location)))
            try:
                linked = reduce_into_store(
                    self.store,
                    log,
                    at=self.observed_at,
                    folder_run_id=run_id,
                    place=split_key(run_id)[:2],
                    on_problem=lambda where, reason: self._error(self._rel(Path(where)), reason),
                )
            except OSError as exc:
                self._error(self._rel(Path(log.location)), f"cannot read: {exc}")
                continue
            self.report.eventlog_apps += linked is not None


def import_directory(store: Store, root: Path, **kwargs: Any) -> ImportReport:
    with collector_paused():
        return Importer(store, root, **kwargs).run()
