"""Keep live secrets inside the payload: mask them for display, scrub them from messages.

The live definition carries real passwords and tokens (DefaultArguments, SourceControlDetails'
AuthToken, a JDBC URL inside --conf); the stored copy was redacted, the live one is not.

Masking follows botocore's JobUpdate shape: the values of a map (DefaultArguments, a
connector's options) are hidden when their key names a secret; a structure member only when
its name names a credential (AuthToken, not a data key such as Mapping's ToKey, nor an enum
such as AuthStrategy); any string is also searched for secret-looking text.
"""

from __future__ import annotations

import re
from typing import Any

from advisor.collect.redact import is_secret_key, redact_text
from advisor.redaction_marker import REDACTED

_CREDENTIAL_WORDS = ("password", "secret", "token", "credential", "accesskey", "apikey")
_DATA_KEY = re.compile(r"keys?$")


def _jobupdate_shape() -> Any:
    from advisor.fix.jobupdate import glue_model

    return glue_model().shape_for("JobUpdate")


def mask_argument(name: str, value: Any) -> Any:
    """One job argument's value as shown to a person."""
    if value is None:
        return None
    if is_secret_key(name):
        return REDACTED
    return redact_text(str(value))


def _secret_member(name: str, shape: Any) -> bool:
    if getattr(shape, "enum", None) or not is_secret_key(name):
        return False
    lowered = name.lower()
    return any(w in lowered for w in _CREDENTIAL_WORDS) or not _DATA_KEY.search(lowered)


def _mask(value: Any, shape: Any) -> Any:
    kind = getattr(shape, "type_name", None)
    if isinstance(value, dict) and kind == "structure":
        out = {}
        for k, v in value.items():
            member = shape.members.get(k)
            secret = isinstance(v, str) and _secret_member(k, member)
            out[k] = REDACTED if secret else _mask(v, member)
        return out
    if isinstance(value, dict):  # a map, or a dict the model does not describe
        inner = shape.value if kind == "map" else None
        return {
            k: REDACTED if is_secret_key(str(k)) and isinstance(v, str) else _mask(v, inner)
            for k, v in value.items()
        }
    if isinstance(value, list):
        inner = shape.member if kind == "list" else None
        return [_mask(v, inner) for v in value]
    if isinstance(value, str):
        return redact_text(value)
    return value


def mask_update(update: dict[str, Any]) -> dict[str, Any]:
    """A JobUpdate with every secret masked."""
    return _mask(update, _jobupdate_shape())


def mask_field(key: str, value: Any) -> Any:
    """One JobUpdate member's value with its secrets masked."""
    return _mask(value, _jobupdate_shape().members.get(key))


def secret_values(update: dict[str, Any]) -> set[str]:
    """Every string the mask hides, so messages can be scrubbed of them."""
    found: set[str] = set()

    def walk(raw: Any, masked: Any) -> None:
        if isinstance(raw, dict):
            for k, v in raw.items():
                walk(v, masked.get(k) if isinstance(masked, dict) else None)
        elif isinstance(raw, list):
            for r, m in zip(raw, masked if isinstance(masked, list) else [], strict=False):
                walk(r, m)
        elif isinstance(raw, str) and raw and raw != masked:
            found.add(raw)
            if isinstance(masked, str) and masked != REDACTED:
                found.update(_hidden_parts(raw, masked))

    walk(update, mask_update(update))
    return found


def _hidden_parts(raw: str, masked: str) -> list[str]:
    """The pieces of `raw` that became REDACTED in `masked` (a secret inside a longer text)."""
    pieces = [re.escape(p) for p in masked.split(REDACTED)]
    match = re.fullmatch("(.+?)".join(pieces), raw, re.DOTALL)
    return [g for g in match.groups() if g.strip()] if match else []


def has_secrets(update: dict[str, Any]) -> bool:
    return bool(secret_values(update))


def scrub(text: str, update: dict[str, Any]) -> str:
    """`text` with every secret value of `update` replaced (longest first)."""
    for secret in sorted(secret_values(update), key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return redact_text(text) or ""
