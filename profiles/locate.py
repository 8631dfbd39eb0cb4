"""Where a profiled function is in today's source: its file in the workspace and its current line.

A `def` is found by qualified name first and line second (`mapping.match_function`). Lambdas and
comprehensions run as functions of their own with no `def` and no name of their own; they are
found by kind (`<lambda>`, `<listcomp>`, ...), the function around them where the profiler names
it, and the lines the profile saw running in them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tree_sitter import Query, QueryCursor

from megawatt.analyzers.parsing import PYTHON, parse
from megawatt.analyzers.symbols import FunctionDef, functions
from megawatt.profiles.profile import Profile

# tree-sitter node type → the name CPython gives the code object
_ANONYMOUS_KINDS = {
    "lambda": "<lambda>",
    "list_comprehension": "<listcomp>",
    "set_comprehension": "<setcomp>",
    "dictionary_comprehension": "<dictcomp>",
    "generator_expression": "<genexpr>",
}
_ANONYMOUS = Query(PYTHON, "[" + " ".join(f"({t})" for t in _ANONYMOUS_KINDS) + "] @code")


@dataclass(frozen=True, slots=True)
class Anonymous:
    """A lambda or comprehension in the source."""

    name: str  # "<lambda>", "<listcomp>", ...
    line: int  # 1-based, where it starts
    end_line: int
    scope: str  # qualified name of the function around it; "" at module level

    @property
    def qualname(self) -> str:
        return f"{self.scope}.<locals>.{self.name}" if self.scope else self.name


@dataclass(frozen=True, slots=True)
class Place:
    """A profiled function in today's source."""

    qualname: str  # as Python spells it: "Cart.total", "parse.<locals>.<listcomp>"
    line: int  # the `def` line, or where the lambda or comprehension starts


def anonymous_in_source(source: bytes, defs: Sequence[FunctionDef] = ()) -> list[Anonymous]:
    tree = parse(source)
    by_line = {d.line: d for d in (defs or functions(tree))}
    found: list[Anonymous] = []
    for _pattern, caps in QueryCursor(_ANONYMOUS).matches(tree.root_node):
        node = caps["code"][0]
        parent = node.parent
        while parent is not None and parent.type != "function_definition":
            parent = parent.parent
        scope = by_line.get(parent.start_point.row + 1) if parent is not None else None
        found.append(
            Anonymous(
                _ANONYMOUS_KINDS[node.type],
                node.start_point.row + 1,
                node.end_point.row + 1,
                scope.qualname if scope else "",
            )
        )
    return found


class SourceIndex:
    """Functions per workspace file, parsed once per file and reused."""

    def __init__(self) -> None:
        self._defs: dict[str, list[FunctionDef]] = {}
        self._anonymous: dict[str, list[Anonymous]] = {}

    def source(self, path: str) -> bytes | None:
        try:
            return Path(path).read_bytes()
        except OSError:
            return None

    def functions(self, path: str) -> list[FunctionDef]:
        defs = self._defs.get(path)
        if defs is None:
            source = self.source(path)
            defs = self._defs[path] = functions(parse(source)) if source is not None else []
        return defs

    def anonymous(self, path: str) -> list[Anonymous]:
        found = self._anonymous.get(path)
        if found is None:
            source = self.source(path)
            found = self._anonymous[path] = (
                anonymous_in_source(source, self.functions(path)) if source is not None else []
            )
        return found


def _hot_lines(profile: Profile, fid: int) -> list[int]:
    """The lines sampled in `fid`, the hottest first."""
    figures = sorted(profile.lines(fid), key=lambda lf: (-lf.total_weight, lf.line))
    return [lf.line for lf in figures]


def locate(profile: Profile, fid: int, index: SourceIndex) -> FunctionDef | None:
    """The source function `fid` refers to, by qualified name first and line second."""
    from megawatt.profiles.mapping import match_function

    path = profile.workspace_paths[fid] if profile.workspace_paths else None
    if path is None:
        return None
    first = int(profile.first_lines[fid])
    hot = _hot_lines(profile, fid) if first <= 0 else []
    return match_function(index.functions(path), profile.names[fid], first, hot)


def match_anonymous(
    candidates: Sequence[Anonymous], name: str, line: int, hot_lines: Sequence[int] = ()
) -> Anonymous | None:
    """The lambda or comprehension a profiled `<lambda>`/`outer.<locals>.<listcomp>` refers to.

    Among those of its kind (inside the function the profiler names, when it names one), the
    innermost holding the recorded first line, else the hottest sampled line, wins; else the one
    starting nearest to it.
    """
    kind = name.rsplit(".", 1)[-1]
    pool = [c for c in candidates if c.name == kind]
    scope = name[: -len(kind)].rstrip(".").replace(".<locals>", "")
    if scope:
        # pyinstrument names a method by the class of `self`, which may be a subclass
        inside = [c for c in pool if c.scope.replace(".<locals>", "").endswith(scope)]
        pool = inside or [c for c in pool if c.scope.rsplit(".", 1)[-1] == scope.rsplit(".")[-1]]
    anchors = [line] if line > 0 else list(hot_lines)
    if not pool or (not anchors and len(pool) > 1):
        return None
    for anchor in anchors:
        holding = [c for c in pool if c.line <= anchor <= c.end_line]
        if holding:
            return max(holding, key=lambda c: (c.line, -c.end_line))
    if not anchors:
        return pool[0]
    return min(pool, key=lambda c: abs(c.line - anchors[0]))


def place(profile: Profile, fid: int, index: SourceIndex) -> Place | None:
    """Today's qualified name and line of a profiled function, when its file is in the workspace."""
    path = profile.workspace_paths[fid] if profile.workspace_paths else None
    if path is None:
        return None
    name = profile.names[fid]
    if name.rsplit(".", 1)[-1] in _ANONYMOUS_KINDS.values():
        first = int(profile.first_lines[fid])
        hot = _hot_lines(profile, fid) if first <= 0 else []
        code = match_anonymous(index.anonymous(path), name, first, hot)
        return Place(code.qualname, code.line) if code else None
    found = locate(profile, fid, index)
    return Place(found.qualname, found.line) if found else None
