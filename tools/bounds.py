"""Limits on what a tool returns, so one call never floods a model's context."""

from __future__ import annotations

__all__ = ["MAX_CHARS", "MAX_LINES", "MAX_LINE_CHARS", "clip_line", "clip_lines"]

MAX_LINES = 300  # lines of source one answer carries by default
MAX_CHARS = 24_000  # characters of one text field, whatever its line count
MAX_LINE_CHARS = 200  # one line quoted in a list (a search match, a reference)


def clip_line(text: str, limit: int = MAX_LINE_CHARS) -> str:
    """One line, stripped, cut to `limit` characters with an ellipsis."""
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def clip_lines(
    text: str, max_lines: int = MAX_LINES, max_chars: int = MAX_CHARS
) -> tuple[str, bool]:
    """The first `max_lines` lines of `text` (and at most `max_chars` characters, cut at a line
    end where possible), and whether anything was left out."""
    lines = text.splitlines(keepends=True)
    clipped = len(lines) > max_lines
    out = "".join(lines[:max_lines])
    if len(out) > max_chars:
        cut = out.rfind("\n", 0, max_chars)
        out = out[: cut + 1] if cut > 0 else out[:max_chars]
        clipped = True
    return out, clipped
