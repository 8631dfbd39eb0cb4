"""The functions defined in a Python file, with qualified names as Python spells them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from tree_sitter import Node, Query, QueryCursor, Tree

from megawatt.analyzers.parsing import PYTHON, parse

DEFS_SOURCE = "(function_definition name: (identifier) @name) @def"
_DEFS = Query(PYTHON, DEFS_SOURCE)


@dataclass(frozen=True, slots=True)
class FunctionDef:
    qualname: str  # "Cart.total", "outer.<locals>.inner"
    name: str
    line: int  # 1-based line of the `def` keyword
    end_line: int
    name_line: int
    name_column: int  # UTF-8 byte column of the name
    name_end_column: int
    first_line: int  # first decorator or `def`: what CPython records as co_firstlineno

    @property
    def dotted(self) -> str:
        """The qualified name without `<locals>` parts."""
        return self.qualname.replace(".<locals>", "")

    def contains(self, line: int) -> bool:
        return self.first_line <= line <= self.end_line

    def moved(self, lines: int) -> FunctionDef:
        return FunctionDef(self.qualname, self.name, self.line + lines, self.end_line + lines,
                           self.name_line + lines, self.name_column, self.name_end_column,
                           self.first_line + lines)  # fmt: skip


def _qualname(node: Node, name: str) -> str:
    parts = [name]
    parent = node.parent
    while parent is not None:
        if parent.type in ("function_definition", "class_definition"):
            pname = parent.child_by_field_name("name")
            if pname is not None and pname.text is not None:
                if parent.type == "function_definition":
                    parts.append("<locals>")
                parts.append(pname.text.decode("utf-8", "replace"))
        parent = parent.parent
    return ".".join(reversed(parts))


def functions(
    tree: Tree | Node, matches: Iterable[dict[str, list[Node]]] | None = None
) -> list[FunctionDef]:
    """Every function and method in source order (of a whole tree, or under one node); from
    `DEFS_SOURCE` matches already made, when the caller has them."""
    found: list[FunctionDef] = []
    if matches is None:
        root = tree.root_node if isinstance(tree, Tree) else tree
        matches = (caps for _pattern, caps in QueryCursor(_DEFS).matches(root))
    for caps in matches:
        node = caps["def"][0]
        name_node = caps["name"][0]
        name = (name_node.text or b"").decode("utf-8", "replace")
        outer = (
            node.parent
            if node.parent is not None and node.parent.type == "decorated_definition"
            else node
        )
        found.append(
            FunctionDef(
                qualname=_qualname(node, name),
                name=name,
                line=node.start_point.row + 1,
                end_line=node.end_point.row + 1,
                name_line=name_node.start_point.row + 1,
                name_column=name_node.start_point.column,
                name_end_column=name_node.end_point.column,
                first_line=outer.start_point.row + 1,
            )
        )
    found.sort(key=lambda f: (f.line, f.name_column))
    return found


def functions_in_source(source: bytes) -> list[FunctionDef]:
    return functions(parse(source))
