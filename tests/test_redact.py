"""Secrets in job arguments and error messages are masked before anything is stored."""

from __future__ import annotations

import json

import pytest

from advisor.collect.redact import REDACTED, is_secret_key, redact_arguments, redact_text


@pytest.mark.parametrize(
    "key",
    [
        "--db-password",
        "--DB_PASSWORD",
        "--apiToken",
        "--api-key",
        "--secret",
        "--client_secret",
        "--aws-access-key-id",
        "--credentials",
        "--auth",
        "--private_key",
        "--sf_pwd",
        "--key",
    ],
)
def test_secret_keys(key):
    assert is_secret_key(key)
    assert redact_arguments({key: "value-123"}) == {key: REDACTED}


@pytest.mark.parametrize(
    "key",
    [
        "--enable-metrics",
        "--TempDir",
        "--partition-key",
        "--s3-object-key",
        "--kms-key-arn",
        "--job-bookmark-option",
        "--spark-event-logs-path",
        "--conf",
        "--input_format",
    ],
)
def test_ordinary_keys_keep_their_values(key):
    assert not is_secret_key(key)
    assert redact_arguments({key: "s3://bucket/prefix/"}) == {key: "s3://bucket/prefix/"}


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("jdbc:postgresql://etl_user:S3cr3t!x@db.internal:5432/finance", "S3cr3t!x"),
        (
            "spark.hadoop.fs.s3a.secret.key=AbCd1234 --conf spark.sql.shuffle.partitions=8",
            "AbCd1234",
        ),
        ("Server=db;User Id=a;Password=p@ss;Database=x", "p@ss"),
        ("https://api.example.com/v1?api_key=zzz999&page=2", "zzz999"),
        ("found AKIAIOSFODNN7EXAMPLE in config", "AKIAIOSFODNN7EXAMPLE"),
        (
            "secret wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY end",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        ),
        ("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig", "eyJhbGciOiJIUzI1NiJ9"),
        (
            "token ghp_abcdefghijklmnopqrstuvwxyz0123456789",
            "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
        ),
        ("-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----", "MIIE"),
    ],
)
def test_secrets_inside_values_are_masked(text, secret):
    masked = redact_text(text)
    assert secret not in masked
    assert REDACTED in masked


def test_innocent_values_are_untouched():
    for text in (
        "s3://acme-raw/events/2026/11/",
        "spark.sql.shuffle.partitions=800",
        "da39a3ee5e6b4b0d3255bfef95601890afd80709",
        "java.lang.OutOfMemoryError: Java heap space",
    ):
        assert redact_text(text) == text


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ('ScramLoginModule required username="svc" password="KafkaPw-LEAK";', "KafkaPw-LEAK"),
        ("password='single-quoted-LEAK' rest", "single-quoted-LEAK"),
        ("redis://:RedisPw-LEAK@h:6379", "RedisPw-LEAK"),
        (
            "spark.hadoop.fs.azure.account.key.acct.blob.core.windows.net=" + "Ab1" * 29 + "==",
            "Ab1Ab1Ab1",
        ),
        ("spark.es.net.http.auth.pass=EsPass-LEAK", "EsPass-LEAK"),
        ("Authorization: Basic dXNlcjpwYXNzd29yZA==", "dXNlcjpwYXNzd29yZA"),
        ("https://hooks.slack.com/services/T000/B000/XXXXSECRET", "XXXXSECRET"),
    ],
)
def test_secrets_found_by_attacking_the_fix_are_redacted(text, secret):
    assert secret not in redact_text(text)


def test_names_that_hold_secrets_but_not_data_keys():
    assert is_secret_key("--db_pw") and is_secret_key("--kafka.sasl.jaas.config")
    assert not is_secret_key("--partition_key")
    assert redact_text("spark.sql.passthrough=true") == "spark.sql.passthrough=true"


@pytest.mark.parametrize(
    "text",
    [
        '--connection_options {"password":"p-LEAK","user":"u"}',
        "{'password': 'p-LEAK'}",
        'secret.key="p-LEAK"',
        "jdbc:oracle:thin:scott/p-LEAK@db.example.com:1521/orcl",
        "https://b.s3.amazonaws.com/k?X-Amz-Signature=p-LEAK&X-Amz-Date=20261130",
        # JSON inside JSON inside a JSON line (found by the secrets property test)
        json.dumps([json.dumps(json.dumps({"user": "etl", "password": "p-LEAK"}))[1:-1]]),
        json.dumps(json.dumps([json.dumps({"password": "p-LEAK"})])),
    ],
)
def test_quoted_repr_oracle_and_signed_url_secrets_are_redacted(text):
    assert "p-LEAK" not in redact_text(text)


def test_short_secret_argument_names():
    for name in ("--user-pw", "--snowflake_pw", "--pat", "--sig"):
        assert is_secret_key(name), name
    assert not is_secret_key("--pattern") and not is_secret_key("--signal_path")


def test_event_log_facts_are_redacted_at_the_door_into_the_store():
    """Spark properties and failure messages in an event log were stored verbatim."""
    from advisor.collect.eventlog_link import fact_rows

    summary = {
        "app_id": "app-1",
        "source": "s3://b/app-1",
        "app_name": "job password=AppName-LEAK",
        "complete": True,
        "data_loss": False,
        "failure_reasons": {"exception": 1},
        "failure_examples": ["java.sql.SQLException: jdbc:postgresql://u:Fail-LEAK@h/db refused"],
        "data_loss_reasons": [],
        "properties": {
            "spark.glue.--db_password": "Glue-LEAK",
            "spark.hadoop.fs.s3a.secret.key": "S3a-LEAK",
            "spark.sql.shuffle.partitions": "200",
        },
        "glue": {"--db_password": "Glue2-LEAK"},
        "problems": {},
        "stage_list": [{"stage_id": 1, "parent_ids": [], "failure_reason": "token=Stage-LEAK"}],
        "executor_list": [{"executor_id": "1", "removed_reason": "password='Exec-LEAK'"}],
        "sql_executions": [{"execution_id": 1, "description": "secret=Sql-LEAK"}],
    }
    from advisor.store import SPARK_TABLES

    rows = fact_rows(summary, "jr_1", "job", "import_folder")
    stored = {
        table: [{k: r.get(k) for k in columns} for r in rows[table]]
        for table, (columns, _pk) in SPARK_TABLES.items()
    }  # what Store.replace_spark_app writes
    assert "LEAK" not in json.dumps(stored)
    assert json.loads(rows["spark_apps"][0]["properties"])["spark.sql.shuffle.partitions"] == "200"


def test_a_secret_in_an_arguments_name_is_redacted_too():
    from advisor.collect.redact import redact_arguments, redact_value

    arguments = {"--conf spark.password=HUNTER5KEYNAME": "x", "--env": "prod"}
    for safe in (redact_arguments(arguments), redact_value(arguments)):
        assert "HUNTER5KEYNAME" not in repr(safe)
        assert safe["--env"] == "prod"


def test_redaction_takes_linear_time_on_long_runs_of_word_characters():
    """A base64 blob in an argument held a secret word ("pass", "pw", "key") often enough; an
    unbounded name before the word made the search quadratic (20 KB took 52 s). Measured as a
    ratio within one run: 8x the text must take about 8x the time, never 64x."""
    import random
    import string
    import time

    from advisor.collect.redact import redact_text

    rng = random.Random(7)
    alphabet = string.ascii_letters + string.digits + "-_"

    def seconds(n: int) -> float:
        blobs = ["".join(rng.choice(alphabet) for _ in range(n)) + " pass", "pw" * (n // 2)]
        start = time.perf_counter()
        for blob in blobs:
            redact_text(blob)
        return time.perf_counter() - start

    seconds(1000)  # warm the regex cache
    small, large = min(seconds(10_000) for _ in range(3)), min(seconds(80_000) for _ in range(3))
    assert large / small < 24, (small, large)
