"""`sort-for-extreme`: `sorted(x)[0]` sorts everything to read one element; `list(x)[0]` copies
everything to read the first one.

`sorted(x)[0]` is `min(x)`, `sorted(x, reverse=True)[0]` is `max(x)` (the sort is stable in both
directions, so the element chosen among ties is the same). `sorted(x)[-1]` is `max(x)` only when
no two distinct elements tie: the sort keeps the LAST of equal maxima, `max()` returns the FIRST.
`list(x)[0]` is `next(iter(x))`, except that an empty `x` raises StopIteration instead of
IndexError and an iterator `x` is no longer drained.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from tree_sitter import Node

from megawatt.analyzers.context import BUILTIN_NAMES, FileContext, text
from megawatt.analyzers.detector import Captures, Detector
from megawatt.analyzers.detectors.import_in_function import is_test_code
from megawatt.model import Finding

_ITERATOR_BUILTINS = frozenset({"map", "filter", "zip", "iter", "reversed", "enumerate"})
_SMALL_DISPLAY = 3  # sorted([a, b])[0]: nothing to gain on a literal this short


@dataclass(frozen=True)
class Extreme:
    """What a matched `sorted(...)[i]` / `list(...)[0]` reads, and what reads it in one pass."""

    subscript: Node
    call: Node
    kind: str  # "min", "max" or "first"
    source: Node  # the iterable argument (a generator expression keeps its own parentheses)
    key: Node | None
    last_of_ties: bool  # the original picks the LAST of equal elements; min()/max() the first
    original: str  # "sorted" or "list"


def _literal_bool(node: Node) -> bool | None:
    if node.type == "true":
        return True
    if node.type == "false":
        return False
    return None


def _plan(ctx: FileContext, subscript: Node, call: Node, func: Node) -> Extreme | None:
    if len(subscript.children_by_field_name("subscript")) != 1:
        return None  # sorted(x)[0, 1]
    parent = subscript.parent
    if (
        parent is not None
        and parent.type in ("assignment", "augmented_assignment")
        and parent.child_by_field_name("left") == subscript
    ):
        return None  # sorted(x)[0] = v: a (pointless) store, not a read
    if parent is not None and parent.type == "delete_statement":
        return None
    if not ctx.is_builtin(func):
        return None
    name = text(func)
    args = call.child_by_field_name("arguments")
    if args is None:
        return None
    index_node = subscript.child_by_field_name("subscript")
    index = 0 if index_node is not None and index_node.type == "integer" else -1
    if args.type == "generator_expression":
        return Extreme(subscript, call, _kind(name, index, False), args, None, index == -1, name)
    if args.type != "argument_list":
        return None
    positional: list[Node] = []
    key: Node | None = None
    reverse = False
    for arg in args.named_children:
        if arg.type == "comment":
            continue
        if arg.type == "keyword_argument":
            kw = text(arg.child_by_field_name("name"))
            value = arg.child_by_field_name("value")
            if value is None or name != "sorted":
                return None
            if kw == "key":
                key = None if value.type == "none" else value
            elif kw == "reverse":
                flag = _literal_bool(value)
                if flag is None:
                    return None  # reverse=flag: which end is read depends on the run
                reverse = flag
            else:
                return None
        elif arg.type in ("list_splat", "dictionary_splat", "parenthesized_list_splat"):
            return None
        else:
            positional.append(arg)
    if len(positional) != 1:
        return None
    # sorted(reverse=True) is stable too: [0] is the FIRST of the equal maxima, as max() returns
    last_of_ties = index == -1
    return Extreme(
        subscript, call, _kind(name, index, reverse), positional[0], key, last_of_ties, name
    )


def _kind(name: str, index: int, reverse: bool) -> str:
    if name == "list":
        return "first"
    smallest = (index == 0) != reverse
    return "min" if smallest else "max"


def plan_at(ctx: FileContext, subscript: Node) -> Extreme | None:
    """The plan for a `sorted(...)[i]` / `list(...)[0]` subscript node, or None."""
    call = subscript.child_by_field_name("value")
    if call is None or call.type != "call":
        return None
    func = call.child_by_field_name("function")
    if func is None or func.type != "identifier" or text(func) not in ("sorted", "list"):
        return None
    index = subscript.child_by_field_name("subscript")
    if index is None or text(index).replace(" ", "").replace("\t", "") not in ("0", "-1"):
        return None
    if text(func) == "list" and text(index) != "0":
        return None
    return _plan(ctx, subscript, call, func)


def refers_to_builtin(ctx: FileContext, at: Node, name: str) -> bool:
    """Whether `name`, written at `at`, would be the builtin (no import, global or local rebinds it)."""
    return (
        name in BUILTIN_NAMES
        and name not in ctx.imports.module_names
        and not ctx.is_local(at, name)
    )


def replacement(ctx: FileContext, plan: Extreme) -> str | None:
    """The one-pass expression for a plan, or None when the names it needs are shadowed."""
    src = plan.source
    if plan.kind == "first":
        if src.type == "generator_expression":
            return "next" + text(src) if refers_to_builtin(ctx, plan.call, "next") else None
        names = ["next"]
        inner = text(src)
        head = src.child_by_field_name("function") if src.type == "call" else None
        already_iterator = (
            head is not None and head.type == "identifier" and text(head) in _ITERATOR_BUILTINS
        ) and ctx.is_builtin(head)
        if not already_iterator:
            names.append("iter")
            inner = f"iter({inner})"
        if not all(refers_to_builtin(ctx, plan.call, n) for n in names):
            return None
        return f"next({inner})"
    if not refers_to_builtin(ctx, plan.call, plan.kind):
        return None
    if (
        src.type == "generator_expression"
        and plan.key is None
        and src == plan.call.child_by_field_name("arguments")
    ):
        return plan.kind + text(src)
    key = f", key={text(plan.key)}" if plan.key is not None else ""
    return f"{plan.kind}({text(src)}{key})"


_LOOKUP_ERRORS = frozenset({"IndexError", "LookupError"})


def caught_nearby(ctx: FileContext, node: Node) -> set[str]:
    """Exception names caught by `try` statements around `node` in its own function."""
    caught: set[str] = set()
    child, parent = node, node.parent
    while parent is not None and parent.type not in ("function_definition", "lambda", "module"):
        if parent.type == "try_statement" and child == parent.child_by_field_name("body"):
            for clause in parent.named_children:
                if clause.type != "except_clause":
                    continue
                value = clause.child_by_field_name("value")
                if value is None:
                    caught.add("BaseException")
                    continue
                if value.type == "as_pattern" and value.named_children:
                    value = value.named_children[0]
                parts = value.named_children if value.type == "tuple" else [value]
                for part in parts:
                    caught.add(text(part).rsplit(".", 1)[-1])
        child, parent = parent, parent.parent
    return caught


def catches_index_error_only(ctx: FileContext, node: Node, replacement_error: str) -> bool:
    """Whether a handler around `node` catches IndexError but not what the fix raises instead."""
    caught = caught_nearby(ctx, node)
    if not caught & _LOOKUP_ERRORS:
        return False
    return not caught & {replacement_error, "Exception", "BaseException"}


_VIEWS = (".keys()", ".values()", ".items()")


def _known_singleton(ctx: FileContext, plan: Extreme) -> bool:
    """`if len(d) == 1: k = list(d)[0]`: the input is known to hold one element, so there is
    nothing to sort or copy (this is how a sole element is extracted)."""
    root = text(plan.source)
    for view in _VIEWS:
        root = root.removesuffix(view)
    if plan.source.type == "generator_expression" or len(root) > 80:
        return False
    single = re.compile(
        r"len\(\s*"
        + re.escape(root)
        + r"(\.(keys|values|items)\(\))?\s*\)\s*(==\s*1\b|<=?\s*[12]\b|,\s*1\s*\))"
    )
    node = plan.subscript
    parent = node.parent
    while parent is not None and parent.type not in ("function_definition", "module"):
        if parent.type in ("if_statement", "elif_clause"):
            cond = parent.child_by_field_name("condition")
            if cond is not None and single.search(text(cond)):
                return True
        if parent.type == "block":
            earlier = [c for c in parent.named_children if c.end_byte <= node.start_byte][-3:]
            if any(single.search(text(c)) for c in earlier):
                return True
        node, parent = parent, parent.parent
    return False


def _on_error_path(node: Node) -> bool:
    """Inside a `raise`, or in a statement a `raise` follows in the same block: runs once."""
    stmt = node
    while stmt.parent is not None and stmt.parent.type != "block":
        if stmt.type == "raise_statement":
            return True
        stmt = stmt.parent
    if stmt.type == "raise_statement":
        return True
    sibling = stmt.next_named_sibling
    while sibling is not None and sibling.type == "comment":
        sibling = sibling.next_named_sibling
    return sibling is not None and sibling.type == "raise_statement"


class SortForExtreme(Detector):
    id = "sort-for-extreme"
    query_file = "sort_for_extreme.scm"

    def check(self, ctx: FileContext, matches: list[Captures]) -> Iterator[Finding]:
        for m in matches:
            subscript, call, func = m["subscript"][0], m["call"][0], m["func"][0]
            plan = _plan(ctx, subscript, call, func)
            if plan is None or _known_singleton(ctx, plan):
                continue
            in_loop = bool(ctx.loops_around(subscript))
            suggestion = replacement(ctx, plan)
            if suggestion is None or len(suggestion) > 60 or "\n" in suggestion:
                suggestion = {"first": "next(iter(...))", "min": "min(...)", "max": "max(...)"}[
                    plan.kind
                ]
            if plan.original == "list":
                message = (
                    "list(...)[0] copies every element into a new list to read the first one; "
                    f"{suggestion} stops after one element (an empty input then raises "
                    "StopIteration, not IndexError)"
                )
                confidence = 0.75 if in_loop else 0.6
            else:
                message = (
                    f"sorted(...)[{text(m['index'][0])}] sorts every element (O(n log n) and a new "
                    f"list) to read one; {suggestion} finds it in one pass without a copy"
                )
                if plan.last_of_ties:
                    message += (
                        f" (with ties, [-1] picks the last equal element and {plan.kind}() "
                        "the first)"
                    )
                confidence = 0.9 if in_loop else 0.75
            if (
                plan.source.type in ("list", "tuple", "set")
                and len(plan.source.named_children) <= _SMALL_DISPLAY
            ):
                confidence = 0.3  # sorted([a, b])[0]: correct advice, negligible gain
            if is_test_code(ctx.path) or _on_error_path(subscript):
                confidence = min(confidence, 0.3)  # small data, run once
            yield self.finding(
                ctx,
                subscript,
                message,
                confidence=confidence,
                evidence=[
                    ("expression", text(subscript)[:120]),
                    ("reads", plan.kind),
                    ("in_loop", str(in_loop).lower()),
                ],
            )
