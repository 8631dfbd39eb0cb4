"""The detector interface: one class per opportunity class, its patterns in a `.scm` beside it.

A detector's `.scm` holds tree-sitter query patterns. The engine compiles the patterns of every
detector into one query and runs it once per file, so matching happens in C; a detector's `check`
gets only its own matches and turns them into findings (or rejects them: the patterns find
candidates, `check` is where precision comes from).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import ClassVar

from tree_sitter import Node

from megawatt.analyzers.context import FileContext
from megawatt.model import Finding

Captures = dict[str, list[Node]]


def distinct(matches: list[Captures], capture: str) -> Iterator[Node]:
    """Each node captured as `capture`, once: several patterns may match the same call."""
    seen: set[int] = set()
    for m in matches:
        nodes = m.get(capture)
        if nodes and nodes[0].id not in seen:
            seen.add(nodes[0].id)
            yield nodes[0]


class Detector:
    id: ClassVar[str]  # = the skill id
    query_file: ClassVar[str]  # the .scm beside the detector's module

    def query_source(self) -> str:
        module_dir = Path(__file__).parent / "detectors"
        return (module_dir / self.query_file).read_text(encoding="utf-8")

    def check(self, ctx: FileContext, matches: list[Captures]) -> Iterable[Finding]:
        raise NotImplementedError

    def finding(
        self,
        ctx: FileContext,
        node: Node,
        message: str,
        confidence: float,
        evidence: Iterable[tuple[str, str]] = (),
        end: Node | None = None,
    ) -> Finding:
        function, function_line = ctx.function_context(node)
        return Finding(
            skill=self.id,
            path=ctx.path,
            span=ctx.span(node, end),
            function=function,
            function_line=function_line,
            message=message,
            confidence=confidence,
            evidence=tuple(evidence),
        )
