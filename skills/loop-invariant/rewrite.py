"""Hoist a loop-invariant call out of a `while` condition: `n = len(xs)` before the loop.

Only the one case where hoisting cannot change what runs: the call sits in the condition of a
`while` loop and is evaluated on every test (not behind `and`/`or`/`if`), so it runs at least
once before the loop body, exactly where the hoisted assignment runs. Calls in a loop body may
never run (an empty loop, a branch not taken), so hoisting them could raise or waste work that
the original never did: those are left to the skill's guidance.
"""

from __future__ import annotations

import re

from tree_sitter import Node

from megawatt.analyzers.context import FileContext, text
from megawatt.analyzers.detectors._loop_facts import NESTED_SCOPES, is_bound_here, name_used
from megawatt.analyzers.detectors._loop_facts import occurrences as name_occurrences
from megawatt.analyzers.detectors.loop_invariant import Candidate, LoopInvariant, level_of
from megawatt.fixes.edits import indentation_at, line_start, node_covering
from megawatt.model import Edit, Finding, Fix

_ALWAYS_EVALUATED = (
    "comparison_operator",
    "binary_operator",
    "unary_operator",
    "parenthesized_expression",
    "not_operator",
)
_FRESH = (
    "list",
    "tuple",
    "set",
    "dictionary",
    "list_comprehension",
    "set_comprehension",
    "dictionary_comprehension",
    "string",
    "concatenated_string",
    "integer",
    "float",
)
_FRESH_CALLS = frozenset({"list", "tuple", "set", "dict", "sorted", "frozenset", "str", "bytes"})


def _always_evaluated(call: Node, condition: Node) -> bool:
    child, parent = call, call.parent
    while parent is not None and child != condition:
        if parent.type == "boolean_operator":
            if parent.child_by_field_name("left") != child:
                return False  # behind `and`/`or`: may be skipped
        elif parent.type not in _ALWAYS_EVALUATED:
            return False
        child, parent = parent, parent.parent
    return child == condition


def _variable_name(ctx: FileContext, c: Candidate) -> str:
    func = c.label.rsplit(".", 1)[-1]
    last = c.reads[0][-1] if c.reads and c.reads[0][-1] != "[]" else "value"
    base = f"{last}_len" if func == "len" else f"{func}_{last}"
    base = re.sub(r"\W", "_", base).strip("_").lower() or "value"
    name, n = base, 2
    while name_used(ctx, name):
        name, n = f"{base}_{n}", n + 1
    return name


def _fresh_local(ctx: FileContext, ident_name: str, fn: Node | None) -> bool:
    """Bound in `fn` only to a value this function built (no one else holds it)."""
    if fn is None:
        return False
    params = fn.child_by_field_name("parameters")
    if params is not None and any(
        n.type == "identifier" and text(n) == ident_name
        for p in params.named_children
        for n in ([p] if p.type == "identifier" else p.named_children[:1])
    ):
        return False  # the caller's object may still be referenced elsewhere
    bindings = 0
    for occ in name_occurrences(ctx, ident_name):
        if not is_bound_here(occ) or ctx.enclosing(occ, NESTED_SCOPES) != fn:
            continue
        parent = occ.parent
        if parent is None or parent.type != "assignment":
            return False
        right = parent.child_by_field_name("right")
        if right is None:
            continue
        if right.type == "call":
            func = right.child_by_field_name("function")
            if func is None or text(func) not in _FRESH_CALLS or not ctx.is_builtin(func):
                return False
        elif right.type not in _FRESH:
            return False
        bindings += 1
    return bindings > 0


def _reused(loop: Node, expr: str) -> str | None:
    """`name = <expr>` right before the loop: hoisted already by an earlier fix."""
    previous = loop.prev_named_sibling
    if previous is None or previous.type != "expression_statement" or not previous.named_children:
        return None
    assign = previous.named_children[0]
    left, right = assign.child_by_field_name("left"), assign.child_by_field_name("right")
    if (
        assign.type == "assignment"
        and left is not None
        and left.type == "identifier"
        and right is not None
        and text(right) == expr
    ):
        return text(left)
    return None


def rewrite(ctx: FileContext, finding: Finding) -> Fix | None:
    call = node_covering(ctx, finding, "call")
    if call is None:
        return None
    c = LoopInvariant().candidate(ctx, call, {})
    if c is None or c.loop.type != "while_statement":
        return None
    loop = c.loop
    condition = loop.child_by_field_name("condition")
    if condition is None or not (condition.start_byte <= call.start_byte < condition.end_byte):
        return None
    if ctx.source[line_start(ctx, loop.start_byte) : loop.start_byte].strip():
        return None
    expr = text(call)
    edits: list[Edit] = []
    name = _reused(loop, expr)
    if name is None:
        if not _always_evaluated(call, condition):
            return None
        name = _variable_name(ctx, c)
        at = line_start(ctx, loop.start_byte)
        edits.append(Edit(at, at, f"{indentation_at(ctx, loop)}{name} = {expr}\n"))
    edits.append(Edit(call.start_byte, call.end_byte, name))
    fn = ctx.function_of(call)
    reasons = []
    level = level_of(c.label)
    for read in c.reads:
        shown = ".".join(read)
        local = fn is not None and read[0] in ctx.local_names(fn)
        if len(read) > 1 or not local:
            reasons.append(
                f"{shown} is reachable from outside this function: a callee or another "
                "thread could change it while the loop runs"
            )
        elif level != "none" and not _fresh_local(ctx, read[0], fn):
            reasons.append(
                f"{shown} may be shared with other code that changes its contents while "
                "the loop runs"
            )
    return Fix(
        title=f"Compute {_short(expr)} once before the while loop, as {name}",
        edits=tuple(edits),
        safe=not reasons,
        note="; ".join(reasons),
    )


def _short(s: str) -> str:
    s = " ".join(s.split())
    return s if len(s) <= 40 else s[:39] + "…"
