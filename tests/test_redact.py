"""Secrets in job arguments and error messages are masked before anything is stored."""

from __future__ import annotations

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
