"""The text that stands where a secret was: written by the collector's redaction
(advisor/collect/redact.py) and recognised by the layers that only read what it left (reports,
fixes), which therefore need not depend on the collector."""

from __future__ import annotations

REDACTED = "***REDACTED***"
