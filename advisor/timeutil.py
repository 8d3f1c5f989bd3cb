"""Timestamps: one canonical text form in the store, and parsing of what AWS and users give."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from advisor.describe import described

_SINCE = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_ts(value: datetime | str | float | int | None) -> datetime | None:
    """Accept boto3 datetimes, AWS CLI ISO 8601 strings (with offset) and epoch seconds."""
    if value is None or value == "":
        return None
    try:
        if isinstance(value, datetime):
            dt = value
        elif isinstance(value, int | float) and not isinstance(value, bool):
            dt = datetime.fromtimestamp(float(value), tz=UTC)
        elif not isinstance(value, str):
            raise TypeError(f"not a timestamp: {described(value)}")
        else:
            dt = datetime.fromisoformat(value.strip())  # Python 3.11+ reads a trailing Z
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=UTC)
        return dt.astimezone(UTC)
    except (OverflowError, OSError, ValueError):
        # the message of fromisoformat quotes the text, which may be anything
        raise ValueError(f"not a timestamp AWS could write: {described(value)}") from None


def iso(value: datetime | str | float | int | None) -> str | None:
    """Canonical store form: UTC, millisecond precision, so text order is time order."""
    dt = parse_ts(value)
    if dt is None:
        return None
    return dt.isoformat(timespec="milliseconds")  # UTC-aware: ends in +00:00


def stored_stamp(value: datetime | str | float | int | None) -> str | None:
    """iso() for a time AWS (or an export) gives, at the door into the store: a time outside
    FIRST_DAY..LAST_DAY is damage, refused (ValueError) before any window is computed on it."""
    stamp = iso(value)
    if stamp is not None and not FIRST_DAY.isoformat() <= stamp[:10] <= LAST_DAY.isoformat():
        raise ValueError(f"a time outside {FIRST_DAY.year}-{LAST_DAY.year}: {stamp[:10]}")
    return stamp


def utcnow() -> datetime:
    return datetime.now(tz=UTC)


MAX_SINCE = timedelta(days=36_500)  # a century: no Glue history is older, and dates stay valid
# the days a period may name (Glue is from 2017; a year past 9999 is no date at all)
FIRST_DAY, LAST_DAY = date(1970, 1, 1), date(2999, 12, 31)


def parse_since(text: str) -> timedelta:
    """'30d', '12h', '2w' -> timedelta; raises ValueError with the accepted forms."""
    match = _SINCE.match(text or "")
    if not match:
        raise ValueError(f"expected a duration like 30d, 12h or 2w, got {text!r}")
    count = int(match.group(1))
    if len(match.group(1)) > 9:  # beyond any timedelta: say so before building one
        raise ValueError(f"{text} is longer than {MAX_SINCE.days:,} days")
    span = timedelta(**{_UNITS[match.group(2)]: count})
    if span > MAX_SINCE:
        raise ValueError(f"{text} is longer than {MAX_SINCE.days:,} days")
    return span
