"""One workspace file parsed for the tools, and the function that holds a given line."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from tree_sitter import Node, Tree

from megawatt.analyzers.parsing import parse
from megawatt.analyzers.symbols import FunctionDef, functions
from megawatt.tools.context import ToolContext
from megawatt.tools.errors import ToolError

__all__ = ["ParsedFile", "parse_file"]


@dataclass
class ParsedFile:
    path: Path  # absolute, inside the root
    rel: str  # relative to the root, POSIX
    source: bytes
    tree: Tree

    @cached_property
    def defs(self) -> list[FunctionDef]:
        return functions(self.tree)

    @cached_property
    def lines(self) -> list[str]:
        # rows as tree-sitter counts them: split at "\n" only
        lines = [ln.removesuffix("\r") for ln in self.source.decode("utf-8", "replace").split("\n")]
        return lines[:-1] if lines and not lines[-1] else lines

    @property
    def has_errors(self) -> bool:
        return self.tree.root_node.has_error

    def check_line(self, line: int) -> None:
        count = len(self.lines)
        if line > max(count, 1):
            raise ToolError(f"line {line} is past the end of {self.rel} ({count} lines)")

    def text(self, first: int, last: int) -> str:
        """Lines `first`..`last` (1-based, inclusive) with their line ends."""
        return "".join(f"{line}\n" for line in self.lines[first - 1 : last])

    def function_at(self, line: int) -> FunctionDef | None:
        """The innermost function (or method) whose lines, decorators included, hold `line`."""
        holding = [d for d in self.defs if d.contains(line)]
        return max(holding, key=lambda d: (d.first_line, d.line)) if holding else None

    def node_of(self, d: FunctionDef) -> Node | None:
        """The `function_definition` node of `d`."""
        row = d.name_line - 1
        name = self.tree.root_node.descendant_for_point_range(
            (row, d.name_column), (row, d.name_end_column)
        )
        node = name.parent if name is not None else None
        return node if node is not None and node.type == "function_definition" else None

    def find(self, qualname: str) -> FunctionDef | None:
        """A function by qualified name (`Cart.total`, `outer.<locals>.inner` or
        `outer.inner`), else by its bare name when that is unique in the file."""
        for d in self.defs:
            if qualname in (d.qualname, d.dotted):
                return d
        same = [d for d in self.defs if d.name == qualname.rsplit(".", 1)[-1]]
        return same[0] if len(same) == 1 else None


def parse_file(ctx: ToolContext, given: str) -> ParsedFile:
    """The file a model named, checked to be inside the workspace, read and parsed (a file with
    syntax errors still parses: tree-sitter recovers around them)."""
    path = ctx.resolve(given)
    source = ctx.read(path)
    return ParsedFile(path, ctx.relative(path), source, parse(source))
