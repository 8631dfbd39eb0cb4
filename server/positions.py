"""Positions between Megawatt (code points) and the client (utf-8, utf-16 or utf-32 units)."""

from __future__ import annotations

from lsprotocol import types as T

from megawatt.model import Span


def encoding_name(encoding: object) -> str:
    """pygls gives an enum by default and a plain string once negotiated."""
    value = getattr(encoding, "value", encoding)
    return str(value or "utf-16").lower()


def units(text: str, encoding: str) -> int:
    """Length of `text` in the client's units."""
    if encoding == "utf-8":
        return len(text.encode("utf-8"))
    if encoding == "utf-32":
        return len(text)
    return len(text) + sum(1 for c in text if ord(c) > 0xFFFF)


def to_client_column(line_text: str, column: int, encoding: str) -> int:
    return units(line_text[:column], encoding)


def from_client_column(line_text: str, character: int, encoding: str) -> int:
    """The code-point column of a client column (clamped to the line)."""
    if encoding == "utf-32":
        return min(character, len(line_text))
    count = 0
    for i, c in enumerate(line_text):
        if count >= character:
            return i
        count += len(c.encode("utf-8")) if encoding == "utf-8" else (2 if ord(c) > 0xFFFF else 1)
    return len(line_text)


class LineIndex:
    """The lines of one document version, to convert positions both ways."""

    def __init__(self, source: bytes, encoding: str) -> None:
        self.text = source.decode("utf-8", "replace")
        self.lines = self.text.split("\n")
        self.encoding = encoding
        self._byte_starts: list[int] | None = None
        self.source = source

    def line(self, number0: int) -> str:
        return self.lines[number0] if 0 <= number0 < len(self.lines) else ""

    def position(self, line1: int, column: int) -> T.Position:
        row = line1 - 1
        return T.Position(row, to_client_column(self.line(row), column, self.encoding))

    def wire_position(self, row: int, column: int) -> dict[str, int]:
        """A position as it goes on the wire; ASCII lines (nearly all) need no conversion."""
        text = self.line(row)
        if text.isascii():
            return {"line": row, "character": min(column, len(text))}
        return {"line": row, "character": to_client_column(text, column, self.encoding)}

    def range(self, span: Span) -> T.Range:
        return T.Range(
            self.position(span.line, span.column), self.position(span.end_line, span.end_column)
        )

    @property
    def byte_starts(self) -> list[int]:
        if self._byte_starts is None:
            starts = [0]
            for ln in self.lines[:-1]:
                starts.append(starts[-1] + len(ln.encode("utf-8")) + 1)
            self._byte_starts = starts
        return self._byte_starts

    def byte_offset(self, pos: T.Position) -> int:
        """The byte offset of a client position (clamped to the document)."""
        if pos.line >= len(self.lines):
            return len(self.source)
        text = self.line(pos.line)
        col = from_client_column(text, pos.character, self.encoding)
        return self.byte_starts[pos.line] + len(text[:col].encode("utf-8"))

    def position_of_byte(self, offset: int) -> T.Position:
        import bisect

        row = max(bisect.bisect_right(self.byte_starts, offset) - 1, 0)
        prefix = self.source[self.byte_starts[row] : offset].decode("utf-8", "replace")
        return T.Position(row, units(prefix, self.encoding))
