"""Say what a wrong value is without quoting it.

A field of the wrong type may hold a secret (a password where a number belongs, a connection
string where a timestamp belongs), and error messages are stored and printed: they name the
kind and size of a value, and quote it only when it is a plain number.
"""

from __future__ import annotations

import math
from typing import Any

_KINDS = {str: "text", dict: "an object", list: "a list", bytes: "bytes"}


def described(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return repr(value) if math.isfinite(value) else str(value)
    kind = _KINDS.get(type(value), type(value).__name__)
    if isinstance(value, str):
        return f"{kind} of {len(value):,} characters"
    return kind
