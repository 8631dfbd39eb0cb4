"""One tree-sitter parser per thread for Python source; the language is loaded once per process."""

from __future__ import annotations

import threading

import tree_sitter_python
from tree_sitter import Language, Node, Parser, Tree

PYTHON = Language(tree_sitter_python.language())
_local = threading.local()


def parser() -> Parser:
    """A parser for this thread: tree-sitter parsers are not safe to share between threads."""
    p: Parser | None = getattr(_local, "parser", None)
    if p is None:
        p = _local.parser = Parser(PYTHON)
    return p


def parse(source: bytes, old_tree: Tree | None = None) -> Tree:
    return parser().parse(source, old_tree) if old_tree is not None else parser().parse(source)


def error_nodes(root: Node) -> list[Node]:
    """The ERROR and MISSING nodes under `root`, outermost first (subtrees without errors are
    not walked)."""
    found: list[Node] = []
    stack = [root] if root.has_error or root.is_error or root.is_missing else []
    while stack:
        n = stack.pop()
        if n.is_error or n.is_missing:
            found.append(n)
        elif n.has_error:
            stack.extend(reversed(n.children))
    return found
