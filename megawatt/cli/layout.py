"""Rows of a report laid out for a terminal of a given width.

Ids, locations, names and figures are never broken: a user copies them, and terminals make
`path:line` clickable. Only the one free-text column (the message) wraps, at word boundaries.
When the whole row fits, it is a table with the message wrapping in its own column; when it does
not (an 80-column terminal and a long path), each row becomes a head line of whole cells and the
message below it, indented under the head so the rows stay apart.
"""

from __future__ import annotations

import os
import shutil
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import click

GAP = 2
# below this, a message column shows a word or two per line: stacking reads better
MIN_MESSAGE = 36


@dataclass(frozen=True)
class Column:
    header: str
    right: bool = False
    wrap: bool = False  # the free-text column; at most one, and the last
    style: dict[str, Any] = field(default_factory=dict)  # click.style keywords, terminals only


def terminal_width() -> int:
    """The width to lay out for: COLUMNS when set, else the terminal's, else 80."""
    return max(shutil.get_terminal_size((80, 24)).columns, 20)


def use_color() -> bool:
    return "NO_COLOR" not in os.environ


def _wrap(text: str, width: int) -> list[str]:
    # at spaces only (`list-membership-in-loop` in a message stays whole); a word longer than
    # the whole line is cut, as the terminal would cut it anyway
    lines = textwrap.wrap(text, max(width, 1), break_on_hyphens=False)
    return lines or [""]


class _Painter:
    def __init__(self, columns: Sequence[Column], color: bool) -> None:
        self.columns = columns
        self.color = color

    def cell(self, i: int, text: str, width: int = 0, header: bool = False) -> str:
        """`text` padded to `width` (its plain length: escape codes take no room), styled as
        column `i` asks, or bold for a header."""
        column = self.columns[i]
        style = {"bold": True} if header else column.style
        pad = " " * max(width - len(text), 0)
        styled = click.style(text, **style) if self.color and style else text
        return pad + styled if column.right else styled + pad


def layout(
    columns: Sequence[Column], rows: Sequence[Sequence[str]], width: int, color: bool = False
) -> list[str]:
    """The lines showing `rows` under `columns` in `width` characters (or as near as whole cells
    allow)."""
    wrap = len(columns) - 1 if columns and columns[-1].wrap else None
    fixed = list(range(len(columns) if wrap is None else wrap))
    widths = [max([len(c.header), *(len(r[i]) for r in rows)]) for i, c in enumerate(columns)]
    head = sum(widths[i] for i in fixed) + GAP * max(len(fixed) - 1, 0)
    paint = _Painter(columns, color)
    if wrap is None:
        if head <= width:
            return _table(columns, rows, widths, None, paint)
        return _stacked(columns, rows, widths, width, paint)
    room = width - head - GAP
    if room >= min(widths[wrap], MIN_MESSAGE):
        return _table(columns, rows, widths, min(room, widths[wrap]), paint)
    return _stacked(columns, rows, widths, width, paint)


def _table(
    columns: Sequence[Column],
    rows: Sequence[Sequence[str]],
    widths: list[int],
    message_width: int | None,
    paint: _Painter,
) -> list[str]:
    fixed = len(columns) if message_width is None else len(columns) - 1
    indent = " " * (sum(widths[:fixed]) + GAP * fixed)
    sep = " " * GAP

    def head_cells(cells: Sequence[str], header: bool) -> list[str]:
        return [paint.cell(i, cells[i], widths[i], header) for i in range(fixed)]

    header = head_cells([c.header for c in columns], True)
    if message_width:
        header.append(paint.cell(len(columns) - 1, columns[-1].header, header=True))
    lines = [sep.join(header).rstrip()]
    for row in rows:
        cells = head_cells(row, False)
        if message_width is None:
            lines.append(sep.join(cells).rstrip())
            continue
        first, *rest = _wrap(row[-1], message_width)
        lines.append(sep.join([*cells, first]).rstrip())
        lines.extend(indent + more for more in rest)
    return lines


def _stacked(
    columns: Sequence[Column],
    rows: Sequence[Sequence[str]],
    widths: list[int],
    width: int,
    paint: _Painter,
) -> list[str]:
    wrap = columns[-1].wrap
    fixed = len(columns) - 1 if wrap else len(columns)
    # the leading columns that fit side by side stay aligned; the others follow as they fit
    aligned, used = 0, -GAP
    while aligned < fixed and used + GAP + widths[aligned] <= width:
        used += GAP + widths[aligned]
        aligned += 1
    aligned = max(aligned, 1)
    # the first column (a figure) is the gutter: continuation lines start right of it, unless
    # it is so wide that the message would be left a sliver
    indent = widths[0] + GAP if widths[0] + GAP <= width // 3 else 2 * GAP

    def head(cells: Sequence[str], header: bool) -> list[str]:
        lines: list[str] = []
        parts: list[str] = []
        length = -GAP
        for i in range(aligned if header else fixed):
            text = cells[i]
            pad_to = widths[i] if i < aligned and i < fixed - 1 else len(text)
            if i >= aligned and length + GAP + len(text) > width:
                lines.append((" " * GAP).join(parts).rstrip())
                parts, length = [" " * (indent - GAP)], indent - GAP
            parts.append(paint.cell(i, text, pad_to, header))
            length += GAP + pad_to
        lines.append((" " * GAP).join(parts).rstrip())
        return lines

    out = head([c.header for c in columns], True)  # names the aligned columns only
    for row in rows:
        out.extend(head(row, False))
        if wrap and row[-1]:
            out.extend(" " * indent + t for t in _wrap(row[-1], width - indent))
    return out
