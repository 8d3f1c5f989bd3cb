"""What reaches a terminal: data never carries a control character to it. The console's own
colours are added after the data is made safe (advisor/safe_text.py), so they still work."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rich.console import Console
from rich.segment import Segment

from advisor.safe_text import terminal_safe


class SafeConsole(Console):
    """A rich Console that shows control characters in what it prints as escapes: in text
    before layout (so tables keep their widths), and in any segment of data as a last guard."""

    def render_str(self, text: str, **kwargs: Any) -> Any:
        return super().render_str(terminal_safe(text), **kwargs)

    def _render_buffer(self, buffer: Iterable[Segment]) -> str:
        return super()._render_buffer(
            segment if segment.control else Segment(terminal_safe(segment.text), segment.style)
            for segment in buffer
        )
