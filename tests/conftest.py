"""Shared fixtures: a moto server on 127.0.0.1, fresh stores, and the sample fleet."""

from __future__ import annotations

import logging
import socket
from pathlib import Path

import pytest
import requests
from moto.glue.models import FakeJob
from moto.server import ThreadedMotoServer

from advisor.store import Store
from tests.awsfake import Fleet, aws_order

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_metrics"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def moto_endpoint():
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=_free_port(), verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def fleet(moto_endpoint, monkeypatch):
    """An empty AWS account on the moto server, with AWS's newest-first run order."""
    requests.post(f"{moto_endpoint}/moto-api/reset", timeout=10)
    monkeypatch.setattr(FakeJob, "get_job_runs", aws_order)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    return Fleet(moto_endpoint)


@pytest.fixture(scope="session")
def analysed_sample_db(tmp_path_factory) -> str:
    """The sample fleet imported and analysed once, for tests that only read the outputs."""
    from advisor.analysis.findings import analyze
    from advisor.collect.importer import import_directory

    path = tmp_path_factory.mktemp("analysed") / "advisor.db"
    sample = Store(path)
    import_directory(sample, SAMPLE)
    analyze(sample)
    sample.close()
    return str(path)


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "advisor.db")
    yield s
    s.close()


def snapshot(store: Store, skip: tuple[str, ...] = ("collector_calls",)) -> dict[str, list[tuple]]:
    """Every row of every table, in a stable order (the migrations log, and by default the
    log of what each collect called, which differs from one collect to the next, excluded)."""
    tables = [t for t in store.db.table_names() if not t.startswith("_") and t not in skip]
    return {t: sorted((tuple(r.values()) for r in store.db[t].rows), key=repr) for t in tables}
