"""`# megawatt: ignore[skill-id, …]` and bare `# megawatt: ignore`.

On a line, it silences findings that start on that line; on a `def` line, it silences the whole
function. Only real comments count: the same text inside a string does nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from tree_sitter import Node

from megawatt.analyzers.context import FileContext
from megawatt.model import Finding

_MARK = re.compile(rb"#\s*megawatt:\s*ignore(?:\[([^\]]*)\])?")
ALL = "*"


@dataclass
class Suppressions:
    lines: dict[int, set[str]] = field(default_factory=dict)
    ranges: list[tuple[int, int, set[str]]] = field(default_factory=list)

    def silences(self, finding: Finding) -> bool:
        ids = self.lines.get(finding.span.line)
        if ids is not None and (ALL in ids or finding.skill in ids):
            return True
        line = finding.span.line
        return any(
            first <= line <= last and (ALL in ids or finding.skill in ids)
            for first, last, ids in self.ranges
        )


def _comment_at(ctx: FileContext, offset: int) -> Node | None:
    node = ctx.tree.root_node.descendant_for_byte_range(offset, offset + 1)
    return node if node is not None and node.type == "comment" else None


def suppressions(ctx: FileContext) -> Suppressions:
    result = Suppressions()
    if b"megawatt" not in ctx.source:
        return result
    for match in _MARK.finditer(ctx.source):
        comment = _comment_at(ctx, match.start())
        if comment is None:
            continue
        listed = match.group(1)
        ids = (
            {p.strip() for p in listed.decode("utf-8", "replace").split(",") if p.strip()}
            if listed is not None
            else {ALL}
        )
        line = comment.start_point.row + 1
        result.lines.setdefault(line, set()).update(ids)
        fn = _function_starting_on(ctx, comment)
        if fn is not None:
            outer = (
                fn.parent
                if fn.parent is not None and fn.parent.type == "decorated_definition"
                else fn
            )
            result.ranges.append((outer.start_point.row + 1, fn.end_point.row + 1, ids))
    return result


def _function_starting_on(ctx: FileContext, comment: Node) -> Node | None:
    """The function whose `def` line carries this comment."""
    row = comment.start_point.row
    node = comment.prev_sibling
    while node is not None and node.end_point.row >= row:
        if node.type == "function_definition" and node.start_point.row == row:
            return node
        node = node.prev_sibling
    # the comment after `def f():` is the first child of the body, or a child of the def
    parent = comment.parent
    while parent is not None:
        if parent.type == "function_definition":
            return parent if parent.start_point.row == row else None
        if parent.start_point.row != row and parent.type != "block":
            return None
        parent = parent.parent
    return None
