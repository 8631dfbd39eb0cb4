"""Text pieces of a module for a model: its import block, a class without its method bodies,
and the statement that holds a line."""

from __future__ import annotations

from tree_sitter import Node

__all__ = ["class_of", "class_outline", "import_block", "statement_at"]

IMPORTS = ("import_statement", "import_from_statement", "future_import_statement")
GUARDS = ("if_statement", "try_statement")  # `if TYPE_CHECKING:`, `try: import x except: ...`
MAX_GUARD_LINES = 15


def _whole_lines(source: bytes, node: Node, end: int | None = None) -> str:
    """`node`'s text from the start of its first line (indentation kept) to `end`."""
    start = node.start_byte - node.start_point.column
    return source[start : node.end_byte if end is None else end].decode("utf-8", "replace")


def _imports_directly(node: Node) -> bool:
    stack = [node]
    while stack:
        n = stack.pop()
        if n.type in IMPORTS:
            return True
        if n.type not in ("function_definition", "class_definition", "decorated_definition"):
            stack.extend(n.named_children)
    return False


def import_block(root: Node, source: bytes) -> str:
    """The module-level imports, in order; an `if`/`try` around imports is kept whole."""
    parts: list[str] = []
    for child in root.named_children:
        if child.type in IMPORTS:
            parts.append(_whole_lines(source, child))
        elif child.type in GUARDS and _imports_directly(child):
            rows = child.end_point.row - child.start_point.row + 1
            if rows <= MAX_GUARD_LINES:
                parts.append(_whole_lines(source, child))
    return "\n".join(parts)


def class_of(node: Node) -> Node | None:
    """The nearest class around `node`."""
    parent = node.parent
    while parent is not None and parent.type != "class_definition":
        parent = parent.parent
    return parent


def _definition(node: Node) -> Node:
    """A decorated definition's inner `def`/`class`; any other node as it is."""
    if node.type == "decorated_definition":
        inner = node.child_by_field_name("definition")
        if inner is not None:
            return inner
    return node


def _header(source: bytes, outer: Node, inner: Node) -> str:
    """Decorators and the `def`/`class` line(s), up to the colon, followed by ` ...`."""
    body = inner.child_by_field_name("body")
    end = body.start_byte if body is not None else inner.end_byte
    return _whole_lines(source, outer, end).rstrip() + " ..."


def class_outline(cls: Node, source: bytes) -> str:
    """The class with its class-level statements and `__init__` in full, and every other
    method (or nested class) as its signature followed by `...`."""
    outer = (
        cls.parent if cls.parent is not None and cls.parent.type == "decorated_definition" else cls
    )
    body = cls.child_by_field_name("body")
    if body is None:
        return _whole_lines(source, outer)
    parts = [_whole_lines(source, outer, body.start_byte).rstrip()]
    for child in body.named_children:
        inner = _definition(child)
        name = inner.child_by_field_name("name")
        is_init = name is not None and name.text == b"__init__"
        if inner.type in ("function_definition", "class_definition") and not is_init:
            parts.append(_header(source, child, inner))
        elif child.type != "comment":
            parts.append(_whole_lines(source, child))
    return "\n".join(parts)


def statement_at(root: Node, row: int) -> Node | None:
    """The statement holding 0-based `row`, at module level or in a class body."""
    node = root
    while True:
        holder = next(
            (c for c in node.named_children if c.start_point.row <= row <= c.end_point.row),
            None,
        )
        if holder is None:
            return None  # a blank line or a comment between statements
        inner = _definition(holder)
        body = inner.child_by_field_name("body") if inner.type == "class_definition" else None
        if body is not None and body.start_point.row <= row and row > inner.start_point.row:
            node = body
            continue
        return holder
