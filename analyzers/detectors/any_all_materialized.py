"""`any-all-materialized`: `any([...])` / `all([...])` build the whole list before deciding."""

from __future__ import annotations

from collections.abc import Iterator

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
