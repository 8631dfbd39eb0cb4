"""`FileContext`: one parsed file and the facts every detector shares, each computed once."""

from __future__ import annotations

import bisect
import builtins
from collections.abc import Iterator
from functools import cached_property

from tree_sitter import Node, Tree

from megawatt.analyzers.imports import ImportTable
from megawatt.analyzers.parsing import parse
from megawatt.model import Span

BUILTIN_NAMES = frozenset(dir(builtins))
FUNCTION_TYPES = ("function_definition",)
SCOPE_TYPES = ("function_definition", "lambda", "class_definition")
LOOP_TYPES = ("for_statement", "while_statement")
COMPREHENSION_TYPES = (
    "list_comprehension",
    "set_comprehension",
    "dictionary_comprehension",
    "generator_expression",
)


def text(node: Node | None) -> str:
    return "" if node is None or node.text is None else node.text.decode("utf-8", "replace")


def line_starts(source: bytes) -> list[int]:
    """The byte offset at which each line of `source` starts."""
    starts = [0]
    find = source.find
    i = find(b"\n")
    while i >= 0:
        starts.append(i + 1)
        i = find(b"\n", i + 1)
    return starts


class FileContext:
    def __init__(self, path: str, source: bytes, tree: Tree | None = None) -> None:
        self.path = path
        self.source = source
        self.tree = tree if tree is not None else parse(source)
        self._locals: dict[int, frozenset[str]] = {}
        self._qualnames: dict[int, str] = {}
        # facts a detector derives from the whole file, computed once per file version
        self.memo: dict[object, object] = {}
        # the file's function definitions as the whole-file analysis matched them
        self.defs_matches: list[dict[str, list[Node]]] | None = None
        # and its import statements and bound names (`ImportTable` reads them, not the tree)
        self.import_captures: dict[str, list[Node]] | None = None

    # -- positions -------------------------------------------------------------------------

    @cached_property
    def line_starts(self) -> list[int]:
        return line_starts(self.source)

    def _column(self, offset: int, byte_col: int) -> int:
        """The code-point column of a byte `offset` that lies `byte_col` bytes into its line (the
        line's start is known from the two, so no index of every line is needed)."""
        prefix = self.source[offset - byte_col : offset]
        return len(prefix) if prefix.isascii() else len(prefix.decode("utf-8", "replace"))

    def span(self, node: Node, end: Node | None = None) -> Span:
        last = end or node
        return Span(
            start_byte=node.start_byte,
            end_byte=last.end_byte,
            line=node.start_point.row + 1,
            column=self._column(node.start_byte, node.start_point.column),
            end_line=last.end_point.row + 1,
            end_column=self._column(last.end_byte, last.end_point.column),
        )

    def line_of_byte(self, offset: int) -> int:
        return bisect.bisect_right(self.line_starts, offset)

    def line_text(self, line: int) -> str:
        starts = self.line_starts
        start = starts[line - 1]
        end = starts[line] - 1 if line < len(starts) else len(self.source)
        return self.source[start:end].decode("utf-8", "replace")

    # -- names -----------------------------------------------------------------------------

    @cached_property
    def imports(self) -> ImportTable:
        return ImportTable(self.tree, self.import_captures)

    def enclosing(self, node: Node, types: tuple[str, ...] = FUNCTION_TYPES) -> Node | None:
        parent = node.parent
        while parent is not None:
            if parent.type in types:
                return parent
            parent = parent.parent
        return None

    def enclosing_functions(self, node: Node) -> Iterator[Node]:
        fn = self.enclosing(node, SCOPE_TYPES)
        while fn is not None:
            if fn.type != "class_definition":
                yield fn
            fn = self.enclosing(fn, SCOPE_TYPES)

    def local_names(self, scope: Node) -> frozenset[str]:
        """Names bound in a function's (or lambda's) own scope: parameters, targets, imports."""
        cached = self._locals.get(scope.id)
        if cached is not None:
            return cached
        names: set[str] = set()
        params = scope.child_by_field_name("parameters")
        if params is not None:
            for p in params.named_children:
                ident = p if p.type == "identifier" else p.child_by_field_name("name")
                if ident is None and p.named_children:
                    ident = p.named_children[0]
                if ident is not None and ident.type == "identifier":
                    names.add(text(ident))
        body = scope.child_by_field_name("body")
        stack = [body] if body is not None else []
        while stack:
            n = stack.pop()
            t = n.type
            if t in ("function_definition", "class_definition"):
                name = n.child_by_field_name("name")
                if name is not None:
                    names.add(text(name))
                continue  # a nested scope's names are its own
            if t == "lambda" or t in COMPREHENSION_TYPES:
                continue
            if t in ("assignment", "augmented_assignment", "for_statement", "for_in_clause"):
                target = n.child_by_field_name("left")
                if target is not None:
                    names.update(self._target_names(target))
            elif t in ("as_pattern", "with_item"):
                alias = n.child_by_field_name("alias")
                if alias is not None:
                    names.update(self._target_names(alias))
            elif t in ("import_statement", "import_from_statement"):
                for child in n.named_children:
                    if child.type == "aliased_import":
                        names.add(text(child.child_by_field_name("alias")))
                    elif (
                        child.type == "dotted_name"
                        and n.child_by_field_name("module_name") != child
                    ):
                        names.add(text(child).split(".", 1)[0])
            elif t == "named_expression":
                names.add(text(n.child_by_field_name("name")))
            elif t == "except_clause":
                for c in n.named_children:
                    if c.type == "as_pattern":
                        alias = c.child_by_field_name("alias")
                        if alias is not None:
                            names.update(self._target_names(alias))
            elif t in ("global_statement", "nonlocal_statement"):
                pass
            stack.extend(n.named_children)
        result = frozenset(names)
        self._locals[scope.id] = result
        return result

    @staticmethod
    def _target_names(target: Node) -> Iterator[str]:
        if target.type == "identifier":
            yield text(target)
            return
        if target.type in ("pattern_list", "tuple_pattern", "list_pattern", "as_pattern_target"):
            for c in target.named_children:
                yield from FileContext._target_names(c)
        elif target.type == "list_splat_pattern" and target.named_children:
            yield from FileContext._target_names(target.named_children[0])

    def is_local(self, node: Node, name: str) -> bool:
        return any(name in self.local_names(fn) for fn in self.enclosing_functions(node))

    def qualified(self, node: Node | None) -> str | None:
        """The imported thing an expression names (`re.compile`), unless a local shadows it."""
        if node is None:
            return None
        head = node
        while head.type == "attribute":
            obj = head.child_by_field_name("object")
            if obj is None:
                return None
            head = obj
        if head.type != "identifier" or self.is_local(node, text(head)):
            return None
        return self.imports.qualified(node)

    def is_builtin(self, node: Node) -> bool:
        """Whether an identifier refers to the builtin of that name (nothing rebinds it)."""
        if node.type != "identifier":
            return False
        name = text(node)
        return (
            name in BUILTIN_NAMES
            and name not in self.imports.module_names
            and not self.is_local(node, name)
        )

    # -- structure -------------------------------------------------------------------------

    def function_of(self, node: Node) -> Node | None:
        return self.enclosing(node, FUNCTION_TYPES)

    def qualname(self, fn: Node) -> str:
        cached = self._qualnames.get(fn.id)
        if cached is None:
            parts = [text(fn.child_by_field_name("name"))]
            parent = fn.parent
            while parent is not None:
                if parent.type in ("function_definition", "class_definition"):
                    if parent.type == "function_definition":
                        parts.append("<locals>")
                    parts.append(text(parent.child_by_field_name("name")))
                parent = parent.parent
            cached = self._qualnames[fn.id] = ".".join(reversed(parts))
        return cached

    def loops_around(self, node: Node) -> list[Node]:
        """Loops, innermost first, that re-run `node` on every iteration, up to its function.

        A `for` loop's iterable runs once, so it does not count; a comprehension counts for its
        element and conditions, not for the iterable of its first clause.
        """
        loops: list[Node] = []
        child, parent = node, node.parent
        while parent is not None and parent.type not in SCOPE_TYPES:
            if parent.type == "for_statement":
                if child == parent.child_by_field_name("body"):
                    loops.append(parent)
            elif parent.type == "while_statement":
                if child != parent.child_by_field_name("alternative"):
                    loops.append(parent)
            elif parent.type in COMPREHENSION_TYPES:
                first = next((c for c in parent.named_children if c.type == "for_in_clause"), None)
                if first is None or child != first or not self._is_first_iterable(first, node):
                    loops.append(parent)
            child, parent = parent, parent.parent
        return loops

    @staticmethod
    def _is_first_iterable(clause: Node, node: Node) -> bool:
        right = clause.child_by_field_name("right")
        return right is not None and right.start_byte <= node.start_byte < right.end_byte

    def function_context(self, node: Node) -> tuple[str | None, int | None]:
        fn = self.function_of(node)
        if fn is None:
            return None, None
        return self.qualname(fn), fn.start_point.row + 1
