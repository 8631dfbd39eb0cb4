"""Check the level once before the loop instead of on every iteration.

    debug_enabled = log.isEnabledFor(logging.DEBUG)
    for item in items:
        if debug_enabled:
            log.debug("item %s", item)

The check moves out of as many enclosing `for` loops as are plainly finite (over a name, an
attribute, range(), enumerate(), .items() ...). A `while` loop, or a `for` over an arbitrary
call, may run long enough for the level to be changed while it runs (setLevel, logging.config,
logging.disable); there the fix is offered as unsafe and says so.
"""

from __future__ import annotations

import re

from tree_sitter import Node

from megawatt.analyzers.context import FileContext, text
from megawatt.analyzers.detectors._logging import (
    GUESS,
    MODULE,
    STDLIB,
    LoggerCall,
    logger_call,
    logging_name,
    own_statement,
    resolver,
    side_effect_free,
    wrap_in_if,
)
from megawatt.analyzers.detectors.logging_in_hot_loop import STATEMENT_LOOPS, effective_loops
from megawatt.fixes.edits import indentation_at, line_start, node_covering
from megawatt.model import Edit, Finding, Fix

_FINITE_CALLS = frozenset(
    ("range", "enumerate", "zip", "sorted", "reversed", "list", "tuple", "set", "dict", "len")
)
_FINITE_METHODS = frozenset(("items", "keys", "values", "splitlines", "split"))
_RECONFIGURES = re.compile(
    rb"\b(?:setLevel|disable|basicConfig|dictConfig|fileConfig|listen|addHandler)\s*\("
)


def _finite(ctx: FileContext, loop: Node) -> bool:
    """A for loop over something whose length is fixed when the loop starts."""
    if loop.type != "for_statement":
        return False
    right = loop.child_by_field_name("right")
    if right is None:
        return False
    if right.type in ("identifier", "attribute", "subscript", "tuple", "list", "set"):
        return True
    if right.type == "call":
        func = right.child_by_field_name("function")
        if func is None:
            return False
        if func.type == "identifier":
            return text(func) in _FINITE_CALLS and ctx.is_builtin(func)
        if func.type == "attribute":
            return text(func.child_by_field_name("attribute")) in _FINITE_METHODS
    return False


def _hoist_target(ctx: FileContext, loops: list[Node]) -> Node | None:
    target = None
    for loop in loops:
        if loop.type not in STATEMENT_LOOPS:
            break
        if target is not None and not _finite(ctx, loop):
            break  # do not freeze the level for the whole of a long-running outer loop
        target = loop
        if not _finite(ctx, loop):
            break
    return target


def _first_on_line(ctx: FileContext, node: Node) -> bool:
    return not ctx.source[line_start(ctx, node.start_byte) : node.start_byte].strip()


def _bound_before(ctx: FileContext, lc: LoggerCall, target: Node) -> bool:
    """A logger held in a local name must be bound, for good, before the loop starts."""
    recv = lc.receiver
    if recv is None or recv.type != "identifier":
        return True
    name = text(recv)
    for fn in ctx.enclosing_functions(recv):
        if name in ctx.local_names(fn):
            values = resolver(ctx).scope_bindings(fn).values.get(name, [])
            return all(v is None or v.end_byte <= target.start_byte for v in values)
    return True


def _flag_name(ctx: FileContext, target: Node, level: str, condition: str) -> tuple[str, bool]:
    """The flag's name and whether an identical flag already precedes the loop."""
    base = f"{level.lower()}_enabled"
    prev = target.prev_named_sibling
    scope = ctx.function_of(target)
    body = (scope.text if scope is not None else ctx.source) or b""
    for name in (base, f"_{base}", f"{base}_"):
        if prev is not None and text(prev).strip() == f"{name} = {condition}":
            return name, True
        if not re.search(rb"\b" + name.encode() + rb"\b", body) and name not in (
            ctx.imports.module_names
        ):
            return name, False
    return "", False


def rewrite(ctx: FileContext, finding: Finding) -> Fix | None:
    call = node_covering(ctx, finding, "call")
    lc = logger_call(ctx, call) if call is not None else None
    if lc is None or lc.level is None or lc.logger.kind not in (STDLIB, MODULE, GUESS):
        return None
    stmt = own_statement(ctx, lc.call)
    loops = effective_loops(ctx, lc.call)
    target = _hoist_target(ctx, loops)
    if stmt is None or target is None or not _first_on_line(ctx, target):
        return None
    if not _bound_before(ctx, lc, target):
        return None
    notes: list[str] = []
    edits: list[Edit] = []
    if lc.level_node is not None and lc.level_node.type in ("identifier", "attribute", "integer"):
        level = text(lc.level_node)
    else:
        found = logging_name(ctx, lc.call, lc.level)
        if found is None:
            return None
        level, edit = found
        if edit is not None:
            edits.append(edit)
    if lc.receiver is None or lc.logger.kind == MODULE:
        found = logging_name(ctx, lc.call, "getLogger")
        if found is None:
            return None
        receiver = f"{found[0]}()"
        if found[1] is not None and not edits:
            edits.append(found[1])
        notes.append(
            "the logging module's functions call basicConfig() when the root logger has no "
            "handlers; with the level off that no longer happens"
        )
    elif lc.receiver.type in ("identifier", "attribute") or (
        lc.receiver.type == "call" and lc.logger.stable
    ):
        receiver = text(lc.receiver)
    else:
        return None
    condition = f"{receiver}.isEnabledFor({level})"
    flag, exists = _flag_name(ctx, target, lc.level, condition)
    if not flag:
        return None
    wrap = wrap_in_if(ctx, stmt, flag)
    if wrap is None:
        return None
    edits.extend(wrap)
    if not exists:
        at = line_start(ctx, target.start_byte)
        edits.append(Edit(at, at, f"{indentation_at(ctx, target)}{flag} = {condition}\n"))
    if not _finite(ctx, target):
        kind = "while loop" if target.type == "while_statement" else "loop over a call"
        notes.append(
            f"a {kind} can run long: a level changed while it runs (setLevel, "
            "logging.config.listen, logging.disable) is not seen by the hoisted check"
        )
    elif _RECONFIGURES.search(target.text or b""):
        notes.append("the loop reconfigures logging; the hoisted check would not see it")
    if not side_effect_free(ctx, [n for n in (lc.message, *lc.args) if n is not None]):
        notes.append(
            "the arguments call functions not known to be pure; with the level off they no "
            "longer run"
        )
    if lc.logger.kind == GUESS:
        notes.append("the logger comes from a project helper: it must have isEnabledFor()")
    line = target.start_point.row + 1
    return Fix(
        title=f"Check {receiver}.isEnabledFor({level}) once before the loop at line {line} "
        f"instead of in {lc.label} on every iteration",
        edits=tuple(edits),
        safe=not notes,
        note="; ".join(notes),
    )
