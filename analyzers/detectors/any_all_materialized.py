"""`any-all-materialized`: `any([...])` / `all([...])` build the whole list before deciding."""

from __future__ import annotations

from collections.abc import Iterator

from tree_sitter import Node

from megawatt.analyzers.context import FileContext, text
from megawatt.analyzers.detector import Captures, Detector
from megawatt.model import Finding


class AnyAllMaterialized(Detector):
    id = "any-all-materialized"
    query_file = "any_all_materialized.scm"

    def check(self, ctx: FileContext, matches: list[Captures]) -> Iterator[Finding]:
        for m in matches:
            func, call = m["func"][0], m["call"][0]
            if not ctx.is_builtin(func):
                continue  # a project's own any()/all() may want a list
            if _asynchronous(m["comp"][0]):
                continue  # without brackets it would be an async generator, which any() rejects
            name = text(func)
            in_loop = bool(ctx.loops_around(call))
            yield self.finding(
                ctx,
                call,
                f"{name}() over a list comprehension builds every element before it can stop "
                f"early; pass a generator: {name}(... for ...)",
                confidence=0.9 if in_loop else 0.8,
                evidence=[("call", text(call)[:120]), ("in_loop", str(in_loop).lower())],
            )


def _asynchronous(comp: Node) -> bool:
    """An `async for` clause, or an `await` anywhere but the first iterable (which is evaluated
    eagerly even in a generator expression)."""
    clauses = [c for c in comp.named_children if c.type == "for_in_clause"]
    if any(child.type == "async" for c in clauses for child in c.children):
        return True
    first = clauses[0].child_by_field_name("right") if clauses else None
    stack = [comp]
    while stack:
        node = stack.pop()
        if first is not None and node.id == first.id:
            continue
        if node.type == "await":
            return True
        stack.extend(node.named_children)
    return False
