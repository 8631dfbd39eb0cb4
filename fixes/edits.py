"""Building and applying source edits; shared by every rewrite."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from tree_sitter import Node

from megawatt.analyzers.context import FileContext
from megawatt.fixes.imports import import_edit
from megawatt.model import Edit, Finding


class EditConflict(ValueError):
    pass


def apply_edits(source: bytes, edits: Iterable[Edit]) -> bytes:
    """The source with every edit applied; edits may come in any order but must not overlap."""
    ordered = sorted(edits, key=lambda e: (e.start, e.end))
    out: list[bytes] = []
    pos = 0
    for e in ordered:
        if e.start < pos:
            raise EditConflict(f"overlapping edits at byte {e.start}")
        out.append(source[pos : e.start])
        out.append(e.text.encode("utf-8"))
        pos = e.end
    out.append(source[pos:])
    return b"".join(out)


def overlaps(a: Sequence[Edit], b: Sequence[Edit]) -> bool:
    return any((x.start < y.end and y.start < x.end) or x.start == y.start for x in a for y in b)


def node_covering(ctx: FileContext, finding: Finding, node_type: str) -> Node | None:
    """The node of `node_type` whose range is exactly the finding's span."""
    node = ctx.tree.root_node.descendant_for_byte_range(
        finding.span.start_byte, finding.span.end_byte
    )
    while node is not None:
        if (
            node.type == node_type
            and node.start_byte == finding.span.start_byte
            and node.end_byte == finding.span.end_byte
        ):
            return node
        if node.start_byte < finding.span.start_byte or node.end_byte > finding.span.end_byte:
            return None
        node = node.parent
    return None


def has_call(node: Node) -> bool:
    stack = [node]
    while stack:
        n = stack.pop()
        if n.type == "call":
            return True
        stack.extend(n.named_children)
    return False


def line_start(ctx: FileContext, offset: int) -> int:
    return ctx.line_starts[ctx.line_of_byte(offset) - 1]


def indentation_at(ctx: FileContext, node: Node) -> str:
    start = line_start(ctx, node.start_byte)
    line = ctx.source[start : node.start_byte].decode("utf-8", "replace")
    return line[: len(line) - len(line.lstrip())]


def import_insertion_point(ctx: FileContext) -> int:
    """Where a new top-level import goes: after the last top-level import of the file's leading
    block, else after the module docstring and `from __future__` lines (and any comments before
    them, such as a coding line), else at the top."""
    after = 0
    seen_code = False
    for child in ctx.tree.root_node.named_children:
        if child.type == "comment":
            continue
        if child.type in ("import_statement", "import_from_statement", "future_import_statement"):
            after = child.end_byte
        elif child.type == "expression_statement" and not seen_code and after == 0:
            first = child.named_children[0] if child.named_children else None
            if first is None or first.type != "string":
                break
            after = child.end_byte  # the docstring
        else:
            break
        seen_code = True
    if after == 0:
        return 0
    nl = ctx.source.find(b"\n", after)
    return len(ctx.source) if nl < 0 else nl + 1


def ensure_import(ctx: FileContext, module: str) -> Edit | None:
    """An edit adding `import module` where the project's isort settings put it, or None when
    it is already imported."""
    head = module.split(".", 1)[0]
    if ctx.imports.top_bindings.get(head) == head:
        return None
    return import_edit(ctx, f"import {module}")


def ensure_from_import(ctx: FileContext, module: str, name: str) -> tuple[Edit | None, str]:
    """An edit making `name` from `module` available, and the expression to use for it."""
    for local, target in ctx.imports.top_bindings.items():
        if target == f"{module}.{name}":
            return None, local
        if target == module:
            return None, f"{local}.{name}"
    edit = ensure_import(ctx, module)
    return edit, f"{module}.{name}"
