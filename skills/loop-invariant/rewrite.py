"""Hoist a loop-invariant call out of its loop: `n = len(xs)` once, before the loop.

Only where hoisting cannot change what runs:
- the loop provably cannot change what the call reads: no rebinding, no change through the name
  or an alias of it, no `yield`/`await` in the loop (the caller runs there), and - unless the
  value is immutable or a collection only this function holds - no call in the loop that could
  reach the object some other way;
- the hoisted call runs no earlier than the original would, or running it earlier cannot fail:
  a call in a `while` condition evaluated on every test (not behind `and`/`or`/`if`) runs right
  where the hoisted assignment does; `len()` of a local that is certainly a str, bytes, tuple,
  list, dict or set, and is bound before the loop, cannot raise wherever it runs.
One assignment per expression per loop, before the outermost loop that leaves it unchanged (for
the `len()` that cannot raise; a while condition's call stays at its own loop), replacing every
occurrence in that loop - and, for a value nothing can change, in the statements after it.
"""

from __future__ import annotations

import re

from tree_sitter import Node

from megawatt.analyzers.context import BUILTIN_NAMES, COMPREHENSION_TYPES, FileContext, text
from megawatt.analyzers.detectors._loop_facts import (
    bound_names,
    loop_region,
    name_used,
    occurrences,
    target_names,
    walk,
)
from megawatt.analyzers.detectors.loop_invariant import (
    Candidate,
    LoopInvariant,
    level_of,
    name_reads,
    opaque_calls,
    pure_kind,
    read_facts,
    same_expression,
    unchangeable,
)
from megawatt.fixes.edits import indentation_at, line_start, node_covering
from megawatt.model import Edit, Finding, Fix

_ALWAYS_EVALUATED = (
    "comparison_operator",
    "binary_operator",
    "unary_operator",
    "parenthesized_expression",
    "not_operator",
)


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


def _in_condition(call: Node, loop: Node) -> Node | None:
    condition = loop.child_by_field_name("condition") if loop.type == "while_statement" else None
    if condition is not None and condition.start_byte <= call.start_byte < condition.end_byte:
        return condition
    return None


def _base_name(label: str, reads: tuple[tuple[str, ...], ...], whole: bool = False) -> str:
    func = label.rsplit(".", 1)[-1]
    read = reads[0] if reads else ()
    last = "_".join(p for p in read if p != "[]") if whole else (read[-1] if read else "")
    last = last if last and last != "[]" else "value"
    base = f"{last}_len" if func == "len" else f"{func}_{last}"
    return re.sub(r"\W", "_", base).strip("_").lower() or "value"


def _variable_name(ctx: FileContext, c: Candidate) -> str:
    base = _base_name(c.label, c.reads)
    if _clashes(ctx, c, base):
        base = _base_name(c.label, c.reads, whole=True)  # `a_text_len` beside `b_text_len`
    name, n = base, 2
    while not _name_free(ctx, c.node, name):
        name, n = f"{base}_{n}", n + 1
    return name


def _name_free(ctx: FileContext, node: Node, name: str) -> bool:
    """Whether `name` can be bound in the function around `node` without meeting another use:
    not a builtin, not a word anywhere in the outermost function around it (nested scopes
    and closures included), not a module- or class-level name it could read. A name used only
    in other functions stays free: `data_len` here and in the next test are different locals."""
    if name in BUILTIN_NAMES:
        return False
    outermost = None
    for f in ctx.enclosing_functions(node):
        outermost = f
    if outermost is None:
        return not name_used(ctx, name)
    if re.search(rb"\b" + re.escape(name.encode()) + rb"\b", outermost.text or b""):
        return False
    return all(ctx.function_of(occ) is not None for occ in occurrences(ctx, name))


def _clashes(ctx: FileContext, c: Candidate, base: str) -> bool:
    """Whether another expression in the same function would be hoisted under the same name:
    fixes made in one round cannot see each other's names."""
    fn = ctx.function_of(c.node)
    body = fn.child_by_field_name("body") if fn is not None else None
    if body is None:
        return False
    expr = same_expression(c.node)
    for n in walk(body, into_scopes=False):
        if n.type != "call" or same_expression(n) == expr:
            continue
        kind = pure_kind(ctx, n)
        reads = name_reads(ctx, n) if kind is not None else None
        if kind is not None and reads and _base_name(kind[1], reads) == base:
            return True
    return False


def _reused(loop: Node, expr: str) -> str | None:
    """`name = <expr>` among the assignments right before the loop: hoisted already (by an
    earlier fix, or by hand) and not rebound in the loop."""
    previous = loop.prev_named_sibling
    while (
        previous is not None
        and previous.type == "expression_statement"
        and previous.named_children
        and previous.named_children[0].type == "assignment"
    ):
        assign = previous.named_children[0]
        left, right = assign.child_by_field_name("left"), assign.child_by_field_name("right")
        if (
            left is not None
            and left.type == "identifier"
            and right is not None
            and same_expression(right) == expr
            and text(left) not in bound_names(loop)
        ):
            return text(left)
        previous = previous.prev_named_sibling
    return None


def _provably_unchanged(ctx: FileContext, c: Candidate, loop: Node, level: str) -> bool:
    """Nothing the loop runs can change the reads, beyond what `unchanged_in` already rules
    out: an object the caller or a callee can reach is safe only when the loop calls nothing
    that might run foreign code."""
    if not LoopInvariant().unchanged_in(ctx, c.node, loop, c.reads, level, {}):
        return False
    for read in c.reads:
        facts = read_facts(ctx, c.node, read)
        if (
            facts is not None
            and len(read) == 1
            and (level == "none" or facts.fresh or unchangeable(facts, read, level))
        ):
            continue
        if opaque_calls(ctx, loop, ctx.function_of(c.node)):
            return False
    return True


def _cannot_raise_before(ctx: FileContext, c: Candidate, loop: Node) -> bool:
    """`len(name)` of a local certainly sized and bound before `loop`: evaluating it there
    cannot fail, even when the original would never have run it."""
    fn = ctx.function_of(c.node)
    if c.label != "len" or fn is None or len(c.reads) != 1 or len(c.reads[0]) != 1:
        return False
    facts = read_facts(ctx, c.node, c.reads[0])
    if facts is None or not facts.sized:
        return False
    return facts.param or _bound_before(fn, c.reads[0][0], loop)


def _bound_before(fn: Node, name: str, loop: Node) -> bool:
    """Some plain statement binds `name` before `loop`, in a block that holds the loop."""
    ancestors: set[int] = set()
    node: Node | None = loop
    while node is not None and node != fn:
        ancestors.add(node.id)
        node = node.parent
    body = fn.child_by_field_name("body")
    for n in walk(body, into_scopes=False) if body is not None else []:
        if n.start_byte >= loop.start_byte:
            continue
        if n.type != "expression_statement" or n.parent is None or n.parent.id not in ancestors:
            continue
        assign = n.named_children[0] if n.named_children else None
        if (
            assign is not None
            and assign.type == "assignment"
            and any(text(t) == name for t in target_names(assign.child_by_field_name("left")))
        ):
            return True
    return False


def _hoist_loop(ctx: FileContext, c: Candidate, level: str, free: bool) -> Node | None:
    """The outermost loop the hoist can go before: the candidate's own loop, then each loop
    around it that also leaves the call unchanged, when running it earlier cannot fail."""
    if not _at_line_start(ctx, c.loop) or not _provably_unchanged(ctx, c, c.loop, level):
        return None
    target = c.loop
    if not free:
        return target
    for outer in ctx.loops_around(c.loop):
        if outer.type not in ("for_statement", "while_statement") or not _at_line_start(ctx, outer):
            break
        if not _provably_unchanged(ctx, c, outer, level):
            break
        if not _cannot_raise_before(ctx, c, outer):
            break
        target = outer
    return target


def _at_line_start(ctx: FileContext, loop: Node) -> bool:
    return not ctx.source[line_start(ctx, loop.start_byte) : loop.start_byte].strip()


def _occurrences(ctx: FileContext, c: Candidate, loop: Node) -> list[Node]:
    """Every call in `loop` that is the same expression reading the same names."""
    expr = same_expression(c.node)
    roots = {read[0] for read in c.reads}
    found = []
    for part in loop_region(loop):
        for n in walk(part, into_scopes=False):
            if n.type != "call" or same_expression(n) != expr:
                continue
            if _rebound_by_comprehension(n, loop, roots):
                continue
            if found and n.start_byte < found[-1].end_byte:
                continue
            found.append(n)
    return found


def _later_occurrences(
    ctx: FileContext, c: Candidate, loop: Node, name: str, level: str
) -> list[Node]:
    """The same expression after the loop, in the statements that follow it in its block, when
    one of them is in another loop (which would otherwise get a second `x_len = len(x)`).
    Only for values nothing can change (a str, a tuple) whose names those statements never
    rebind: then every later evaluation gives what the hoisted assignment holds."""
    for read in c.reads:
        facts = read_facts(ctx, c.node, read)
        if not unchangeable(facts, read, level):
            return []
    block = loop.parent
    if block is None or block.type not in ("block", "module"):
        return []
    later = [s for s in block.named_children if s.start_byte >= loop.end_byte]
    roots = {read[0] for read in c.reads} | {name}
    if any(roots & set(bound_names(stmt)) for stmt in later):
        return []
    expr = same_expression(c.node)
    found: list[Node] = []
    in_loop = False
    for stmt in later:
        for n in walk(stmt, into_scopes=False):
            if n.type != "call" or same_expression(n) != expr:
                continue
            if _rebound_by_comprehension(n, stmt, roots) or (
                found and n.start_byte < found[-1].end_byte
            ):
                continue
            found.append(n)
            in_loop = in_loop or any(p.start_byte >= stmt.start_byte for p in ctx.loops_around(n))
    return found if in_loop else []


def _rebound_by_comprehension(node: Node, loop: Node, roots: set[str]) -> bool:
    parent = node.parent
    while parent is not None and parent != loop:
        if parent.type in COMPREHENSION_TYPES:
            for clause in parent.named_children:
                if clause.type == "for_in_clause" and roots & {
                    text(t) for t in target_names(clause.child_by_field_name("left"))
                }:
                    return True
        parent = parent.parent
    return False


def rewrite(ctx: FileContext, finding: Finding) -> Fix | None:
    call = node_covering(ctx, finding, "call")
    if call is None:
        return None
    c = LoopInvariant().candidate(ctx, call, {})
    if c is None or c.loop.type not in ("while_statement", "for_statement"):
        return None
    level = level_of(c.label)
    condition = _in_condition(call, c.loop)
    free = _cannot_raise_before(ctx, c, c.loop)
    if not free and (condition is None or not _always_evaluated(call, condition)):
        return None  # the original may never run it: hoisted, it could raise
    loop = _hoist_loop(ctx, c, level, free)
    if loop is None:
        return None
    expr = same_expression(call)
    edits: list[Edit] = []
    name = _reused(loop, expr)
    if name is None:
        name = _variable_name(ctx, c)
        at = line_start(ctx, loop.start_byte)
        edits.append(Edit(at, at, f"{indentation_at(ctx, loop)}{name} = {text(call)}\n"))
    replaced = _occurrences(ctx, c, loop) + _later_occurrences(ctx, c, loop, name, level)
    edits.extend(Edit(n.start_byte, n.end_byte, name) for n in replaced)
    reasons = []
    for read in c.reads:
        shown = ".".join(read)
        facts = read_facts(ctx, call, read)
        if len(read) > 1 or facts is None:
            reasons.append(
                f"{shown} is reachable from outside this function: another thread, or code "
                "behind an attribute or item, could change it while the loop runs"
            )
        elif level != "none" and not (facts.fresh or unchangeable(facts, read, level)):
            held = (
                "it is the caller's object"
                if facts.param
                else "it is passed on, stored, or bound to a value the code does not show"
            )
            reasons.append(
                f"{shown} may be shared with other code ({held}): nothing in the loop changes "
                "it, but another thread holding it could"
            )
    where = "while" if loop.type == "while_statement" else "for"
    return Fix(
        title=f"Compute {_short(text(call))} once before the {where} loop, as {name}",
        edits=tuple(edits),
        safe=not reasons,
        note="; ".join(reasons),
    )


def _short(s: str) -> str:
    s = " ".join(s.split())
    return s if len(s) <= 40 else s[:39] + "…"
