"""Text from data made safe to show in a terminal or to paste into a shell.

A job's error message, a Spark application's name or a Glue name (which may hold DEL and the C1
controls, U+007F-U+009F) could otherwise move the cursor, recolour the screen or rewrite what a
user reads, or break a printed command. Analysis writes commands with shell_word; the console
(advisor/report/terminal.py) shows the rest through terminal_safe.
"""

from __future__ import annotations

import re
import shlex

# C0 controls but tab and line feed, DEL, C1 controls; and the Unicode line and paragraph
# separators and bidirectional overrides, which reorder or break what a terminal shows
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def terminal_safe(text: str) -> str:
    """`text` with every character that would control a terminal shown as its escape."""
    return _UNSAFE.sub(_visible, text) if _UNSAFE.search(text) else text


def shell_word(value: str) -> str:
    """`value` as one shell word, to copy into bash: shlex's quoting, or, where the value holds
    a control character (Glue names may hold DEL and C1) or a backtick, bash's $'...' with each
    such character escaped: the word is exact, prints nothing that acts on the terminal, and
    never ends the markdown code span or fence it is printed in."""
    if not _UNSAFE.search(value) and "`" not in value:
        return shlex.quote(value)
    escaped = value.replace("\\", "\\\\").replace("'", "\\'")
    escaped = _IN_ANSI_C.sub(lambda m: _ansi_c(m.group()), escaped)
    return f"$'{escaped}'"


_IN_ANSI_C = re.compile(_UNSAFE.pattern[:-1] + "`]")  # what a $'...' word writes as bytes


def _ansi_c(char: str) -> str:
    # the character's UTF-8 bytes, each as \\xHH: bash gives them back whatever the locale
    # (its \\u escape depends on one, and in the C locale prints itself)
    return "".join(f"\\x{byte:02x}" for byte in char.encode("utf-8"))
