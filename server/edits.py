"""Megawatt edits (byte offsets) → LSP workspace edits, versioned where the client allows."""

from __future__ import annotations

from collections.abc import Sequence

from lsprotocol import types as T

from megawatt.model import Edit
from megawatt.server.positions import LineIndex


def text_edits(edits: Sequence[Edit], lines: LineIndex) -> list[T.TextEdit]:
    return [
        T.TextEdit(
            range=T.Range(lines.position_of_byte(e.start), lines.position_of_byte(e.end)),
            new_text=e.text,
        )
        for e in sorted(edits, key=lambda e: e.start)
    ]


def workspace_edit(
    uri: str, version: int | None, edits: Sequence[T.TextEdit], versioned: bool
) -> T.WorkspaceEdit:
    if versioned:
        return T.WorkspaceEdit(
            document_changes=[
                T.TextDocumentEdit(
                    text_document=T.OptionalVersionedTextDocumentIdentifier(
                        uri=uri, version=version
                    ),
                    edits=list(edits),
                )
            ]
        )
    return T.WorkspaceEdit(changes={uri: list(edits)})


def changed(old: bytes, new: bytes) -> tuple[int, int, int]:
    """(start, old end, new end) of the bytes that differ, by common prefix and suffix."""
    limit = min(len(old), len(new))
    lo, hi = 0, limit
    while lo < hi:  # the longest common prefix, by halves (each comparison is one memcmp)
        mid = (lo + hi + 1) // 2
        if old[:mid] == new[:mid]:
            lo = mid
        else:
            hi = mid - 1
    prefix = lo
    lo, hi = 0, limit - prefix
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if old[len(old) - mid :] == new[len(new) - mid :]:
            lo = mid
        else:
            hi = mid - 1
    return prefix, len(old) - lo, len(new) - lo


def whole_document(before: bytes, after: bytes, lines: LineIndex) -> list[T.TextEdit]:
    """One edit replacing the changed middle of a document (common prefix and suffix kept)."""
    start, end_b, end_a = changed(before, after)
    # keep both cuts on character boundaries (never inside a multi-byte UTF-8 sequence)
    while 0 < start < len(before) and (before[start] & 0xC0) == 0x80:
        start -= 1
    while end_b < len(before) and (before[end_b] & 0xC0) == 0x80:
        end_b += 1
        end_a += 1
    return text_edits([Edit(start, end_b, after[start:end_a].decode("utf-8"))], lines)
