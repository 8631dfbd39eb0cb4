"""Rewrite `any([e for x in xs])` to `any(e for x in xs)` by removing the brackets."""

from __future__ import annotations

from megawatt.analyzers.context import FileContext, text
from megawatt.fixes.edits import has_call, node_covering
from megawatt.model import Edit, Finding, Fix


def rewrite(ctx: FileContext, finding: Finding) -> Fix | None:
    call = node_covering(ctx, finding, "call")
    if call is None:
        return None
    args = call.child_by_field_name("arguments")
    comp = args.named_children[0] if args is not None and args.named_children else None
    if comp is None or comp.type != "list_comprehension":
        return None
    open_, close = comp.children[0], comp.children[-1]
    if open_.type != "[" or close.type != "]":
        return None
    calls_inside = has_call(comp)
    name = text(call.child_by_field_name("function"))
    return Fix(
        title=f"Pass a generator to {name}() so it can stop early",
        edits=(
            Edit(open_.start_byte, open_.end_byte, ""),
            Edit(close.start_byte, close.end_byte, ""),
        ),
        safe=not calls_inside,
        note="the comprehension calls functions; after the fix, those after the deciding "
        "element are no longer called"
        if calls_inside
        else "",
    )
