"""Rewrite `sorted(x)[0]` to `min(x)` (and the other ends), `list(x)[0]` to `next(iter(x))`."""

from __future__ import annotations

from tree_sitter import Node

from megawatt.analyzers.context import FileContext
from megawatt.analyzers.detectors.sort_for_extreme import (
    catches_index_error_only,
    plan_at,
    replacement,
)
from megawatt.fixes.edits import node_covering
from megawatt.model import Edit, Finding, Fix


def _has_comment(node: Node) -> bool:
    stack = [node]
    while stack:
        n = stack.pop()
        if n.type == "comment":
            return True
        stack.extend(n.children)
    return False


def rewrite(ctx: FileContext, finding: Finding) -> Fix | None:
    subscript = node_covering(ctx, finding, "subscript")
    if subscript is None:
        return None
    plan = plan_at(ctx, subscript)
    if plan is None or _has_comment(plan.call):
        return None  # a comment inside the call would be lost
    new = replacement(ctx, plan)
    if new is None:
        return None  # min/max/next/iter are shadowed here
    edit = Edit(subscript.start_byte, subscript.end_byte, new)
    if plan.kind == "first":
        how = "next(iter(...))" if new.startswith("next(iter(") else "next(...)"
        return Fix(
            title=f"Take the first element with {how} instead of copying to a list",
            edits=(edit,),
            safe=False,
            note="an empty input raises StopIteration instead of IndexError (escaping into "
            "map(), filter() or an iterator's __next__ it silently ends that iteration; in a "
            "generator it becomes RuntimeError), and an iterator argument is no longer drained",
        )
    title = f"Use {plan.kind}() instead of sorting to read one element"
    if catches_index_error_only(ctx, subscript, "ValueError"):
        return Fix(
            title=title,
            edits=(edit,),
            safe=False,
            note=f"an empty input makes {plan.kind}() raise ValueError, not IndexError, and a "
            "handler around this expression catches IndexError only",
        )
    if plan.last_of_ties:
        return Fix(
            title=title,
            edits=(edit,),
            safe=False,
            note=f"when elements tie (equal keys, or equal but distinct values such as 1 and "
            f"1.0), sorted(...)[-1] returns the last of them and {plan.kind}() the first",
        )
    return Fix(title=title, edits=(edit,))
