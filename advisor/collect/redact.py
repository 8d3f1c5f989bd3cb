"""Redact secrets from Glue job arguments and error messages before anything is stored.

Two nets: a key that names a secret (`--db-password`, `--apiToken`) hides its whole value, and
value patterns (AWS keys, `user:pass@host`, `password=...` pairs, bearer tokens, private keys)
catch secrets hidden under innocent keys such as `--conf` or a JDBC URL.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from advisor.redaction_marker import REDACTED

_SECRET_WORDS = {
    "password",
    "passwd",
    "pwd",
    "pass",
    "passphrase",
    "secret",
    "secrets",
    "token",
    "tokens",
    "credential",
    "credentials",
    "creds",
    "apikey",
    "privatekey",
    "accesskey",
    "secretkey",
    "authorization",
    "auth",
    "sessionkey",
    "signature",
    "sas",
    "jwt",
    "bearer",
    "cookie",
    "pw",
    "jaas",
    "webhook",
    "pat",
    "sig",
}
# "key" is a secret unless it plainly names a data key (partition key, S3 object key ...).
_KEY_WORDS = {"key", "keys"}
_SAFE_KEY_QUALIFIERS = {
    "partition",
    "sort",
    "primary",
    "join",
    "bucket",
    "object",
    "s3",
    "kms",
    "hash",
    "row",
    "record",
    "cluster",
    "distribution",
    "dist",
    "merge",
    "group",
    "dedup",
    "unique",
    "foreign",
}

# Every repeat in these patterns is bounded, so a long run of word characters (a base64 blob
# in an argument, a 50 MB facts line) is scanned in linear time: an unbounded `[\w.]*` before a
# keyword backtracks over the whole run from every position, which is quadratic.
_NAME = r"[\w.\-]{0,128}"  # the rest of a setting's name around its secret word
_URL_SCHEME = r"[a-zA-Z][a-zA-Z0-9+.\-]{0,31}://"
# longest user or password matched in a URL (a JWT is 1-2 KB): each "scheme://user:" scans at
# most this far for its "@", so a line of a million of them stays seconds, not hours
_SECRET_SPAN = 4096

_VALUE_PATTERNS: list[tuple[re.Pattern[str], str, tuple[str, ...] | int]] = [
    # password=..., secret.key: ..., token=... inside conf strings, JDBC URLs and query strings
    # (first: a password holding "@" would otherwise look like the end of a URL's user part)
    (
        re.compile(
            # from the secret word on (the name before it is left as it is): a search that
            # starts at the word is fast, one that starts each name backtracks over it
            r"(?P<pre>(?:password|passwd|passphrase|passcode|pwd|pass(?![a-z])"
            r"|pw(?![a-z])|secret|token|credential|signature|sig(?![a-z])|access[._\-]?key"
            r"|account[._\-]?key|api[._\-]?key|private[._\-]?key)"
            # the key may be quoted (JSON, Python repr, JSON inside JSON, escaped again as a
            # string of a JSON line): "password": "p", 'password': 'p', \"password\":\"p\",
            # \\\"password\\\": \\\"p\\\"
            rf"{_NAME}\\{{0,8}}[\"']?\s{{0,16}}[=:]\s{{0,16}})"
            # a quoted secret to its closing quote, or its first 4 KiB when that never comes
            r"(?P<secret>\\\"(?:\\\\\\\"|\\\\\\\\|[^\"\\]){0,4096}(?:\\\")?"
            r"|\\{2,8}\"[^\"]{0,4096}\"?"
            r"|\"[^\"]{0,4096}\"?|'[^']{0,4096}'?|[^\s;&,'\"}]+)",
            re.IGNORECASE,
        ),
        r"\g<pre>" + REDACTED,
        ("pass", "pw", "secret", "token", "credential", "key", "sig"),
    ),
    # user:password@host inside any URL or connection string; the password may hold "/" and
    # "@" (the last "@" before the host ends it)
    (
        re.compile(
            rf"(?P<pre>{_URL_SCHEME}[^:/@\s;]{{0,{_SECRET_SPAN}}}:)(?P<secret>\S{{0,{_SECRET_SPAN}}}?)"
            r"(?=@[^@\s/;?#]*(?:[/\s;?#,'\"]|$))"
        ),
        r"\g<pre>" + REDACTED,
        ("@",),
    ),
    # a token as a URL's user (https://TOKEN@github.com/...)
    (
        re.compile(rf"(?P<pre>{_URL_SCHEME})(?P<secret>[^\s/@:;]{{1,{_SECRET_SPAN}}})(?=@)"),
        r"\g<pre>" + REDACTED,
        ("@",),
    ),
    # Oracle thin URLs carry user/password@host
    (
        re.compile(
            rf"(?i)(?P<pre>jdbc:oracle:[a-z]{{1,16}}:[\w.$-]{{1,256}}/)"
            rf"(?P<secret>[^@\s]{{1,{_SECRET_SPAN}}})(?=@)"
        ),
        r"\g<pre>" + REDACTED,
        ("jdbc:oracle",),
    ),
    (
        re.compile(r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA)[A-Z0-9]{16}\b"),
        REDACTED,
        ("akia", "asia", "agpa", "aida", "aroa", "anpa"),
    ),
    (re.compile(r"(?i)\bbearer\s+[A-Za-z0-9\-._~+/]+=*"), "Bearer " + REDACTED, ("bearer",)),
    (re.compile(r"(?i)\bbasic\s+[A-Za-z0-9+/]{8,}=*"), "Basic " + REDACTED, ("basic",)),
    # incoming-webhook URLs carry their secret in the path
    (
        re.compile(r"https://hooks\.slack\.com/services/[A-Za-z0-9/_\-]+"),
        REDACTED,
        ("hooks.slack",),
    ),
    (re.compile(r"\bgh[pousr]_[A-Za-z0-9]{30,}\b"), REDACTED, ("gh",)),
    (re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}\b"), REDACTED, ("xox",)),
    (
        re.compile(
            # to its END line, or (no END within 64 KiB: a key cut off) the next 64 KiB
            r"-----BEGIN [A-Z ]{0,32}PRIVATE KEY-----(?:(?!-----END).){0,65536}"
            r"(?:-----END [A-Z ]{0,32}PRIVATE KEY-----)?",
            re.DOTALL,
        ),
        REDACTED,
        ("private key",),
    ),
    # 40-character AWS secret access keys: mixed case and digits, standing alone
    (
        re.compile(
            r"(?<![A-Za-z0-9/+=])(?=[A-Za-z0-9/+]*[a-z])(?=[A-Za-z0-9/+]*[A-Z])"
            r"(?=[A-Za-z0-9/+]*[0-9])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])"
        ),
        REDACTED,
        40,
    ),
]


def _words(key: str) -> list[str]:
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", key.lstrip("-"))
    return [w for w in re.split(r"[^A-Za-z0-9]+", spaced.lower()) if w]


def is_secret_key(key: str) -> bool:
    """True when an argument name says its value is a secret."""
    words = _words(key)
    joined = "".join(words)
    if any(w in _SECRET_WORDS for w in words):
        return True
    if any(s in joined for s in ("password", "secret", "apikey", "accesskey", "privatekey")):
        return True
    if any(w in _KEY_WORDS for w in words):
        return not any(w in _SAFE_KEY_QUALIFIERS for w in words)
    return False


def redact_text(text: str | None) -> str | None:
    """Mask secrets that appear inside free text (argument values, error messages)."""
    if not text:
        return text
    lowered = text.lower()
    for pattern, replacement, gate in _VALUE_PATTERNS:
        # each pattern runs only where it could match: most values hold no secret at all,
        # and a million runs' arguments pass through here on import
        if isinstance(gate, int):
            if len(text) < gate:
                continue
        elif not any(word in lowered for word in gate):
            continue
        text = pattern.sub(replacement, text)
        lowered = text.lower()
    return text


_SEPARATORS = re.compile(r"[\s,;{}\[\]()\"'&?]")


def redacted_excerpt(text: Any, limit: int) -> str:
    """At most `limit` characters of `text` to quote in a message: redacted before it is cut,
    and never ending in a cut-off word (the cut could fall inside a secret no rule would then
    recognise)."""
    text = str(text or "")
    window = text[: limit * 16]
    if len(text) > len(window):
        window = _without_cut_word(window)
    safe = redact_text(window) or ""
    return _without_cut_word(safe[:limit]) if len(safe) > limit else safe


def _without_cut_word(text: str) -> str:
    ends = [m.end() for m in _SEPARATORS.finditer(text)]
    return text[: ends[-1]] if ends else ""


def redact_value(value: Any) -> Any:
    """Any JSON-shaped value made safe to store: under a key that names a secret the whole
    value is hidden, and every string is searched for secret-looking text."""
    if isinstance(value, Mapping):
        # a key can carry a secret too ("--conf spark.password=..." as an argument's name)
        return {
            (redact_text(k) if isinstance(k, str) else k): REDACTED
            if isinstance(k, str) and is_secret_key(k)
            else redact_value(v)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact_value(v) for v in value]
    if isinstance(value, str):
        return redact_text(value)
    return value


def redact_arguments(arguments: Mapping[str, str] | None) -> dict[str, str]:
    """Return a copy of a Glue argument map that is safe to store."""
    if not arguments:
        return {}
    safe: dict[str, str] = {}
    for key, value in arguments.items():
        name = redact_text(str(key)) or ""  # a secret written into the name itself
        if is_secret_key(str(key)):
            safe[name] = REDACTED
        else:
            safe[name] = redact_text(str(value)) or ""
    return safe
