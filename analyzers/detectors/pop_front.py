"""`pop-front`: `xs.pop(0)` / `xs.insert(0, x)` on a list inside a loop.

A list keeps its items in one array; removing or inserting at the front moves every other
item, so a loop that drains a list from the front (or builds one from the front) is O(n²).
`collections.deque` does both ends in O(1).

Only receivers known to be lists are reported with confidence: `pop(0)` on a dict is a key
lookup, `deque` has `popleft`, and `insert(0, ...)` is also a common GUI widget method.
"""

from __future__ import annotations

from collections.abc import Iterator

from tree_sitter import Node

from megawatt.analyzers.context import FileContext, text
from megawatt.analyzers.detector import Captures, Detector
from megawatt.analyzers.detectors._scope_facts import (
    ScopeFacts,
    accumulating_loops,
    loop_is_small,
    name_kinds,
    scope_facts,
    scope_of,
    self_attribute_kinds,
    snippet,
)
from megawatt.model import Finding

LIST_KINDS = frozenset(("list", "bytearray", "array"))
# attributes holding a dotted Python name: a handful of parts, whatever the program does
_DOTTED_NAMES = frozenset(("__module__", "__qualname__", "__name__", "__package__"))
_GROWING = frozenset(("append", "extend", "insert", "__iadd__"))
_FEW = 16  # items: popping from the front of this many moves nothing worth a deque


def _int_value(node: Node | None) -> int | None:
    if node is None or node.type != "integer":
        return None
    try:
        return int(text(node), 0)
    except ValueError:
        return None


def _few_items(value: Node | None) -> bool:
    """A list that holds a few items by construction: a short literal, `s.split(sep, 2)`
    (at most maxsplit + 1 parts), or a dotted name split at its dots
    (`cls.__module__.split(".")`)."""
    if value is None:
        return False
    if value.type == "list":
        items = value.named_children
        return len(items) <= _FEW and not any(c.type == "list_splat" for c in items)
    if value.type != "call":
        return False
    func, args = value.child_by_field_name("function"), value.child_by_field_name("arguments")
    if func is None or func.type != "attribute" or args is None:
        return False
    method = func.child_by_field_name("attribute")
    if method is None or text(method) not in ("split", "rsplit"):
        return False
    positional = [a for a in args.named_children if a.type not in ("keyword_argument", "comment")]
    limit = _int_value(positional[1]) if len(positional) > 1 else None
    for a in args.named_children:
        if a.type == "keyword_argument" and text(a.child_by_field_name("name")) == "maxsplit":
            limit = _int_value(a.child_by_field_name("value"))
    if limit is not None and 0 <= limit < _FEW:
        return True
    obj = func.child_by_field_name("object")
    sep = positional[0] if positional else None
    if sep is None or text(sep) not in ('"."', "'.'"):
        return False
    while obj is not None and obj.type == "call":  # str(cls.__module__).split(".")
        inner = obj.child_by_field_name("arguments")
        obj = inner.named_children[0] if inner is not None and inner.named_children else None
    if obj is None:
        return False
    name = obj.child_by_field_name("attribute") if obj.type == "attribute" else obj
    return name is not None and text(name) in _DOTTED_NAMES


def tiny_by_construction(facts: ScopeFacts, name: str) -> str:
    """The binding showing that the local list `name` only ever holds a few items (every
    binding is `_few_items` and nothing in the function grows it), or ""."""
    if name in facts.params or name in facts.nested or name in facts.declared:
        return ""
    values = facts.values(name)
    if not values or len(values) != len(facts.binds.get(name, ())):
        return ""  # an augmented assignment grows it
    if not all(_few_items(value) for _, value in values):
        return ""
    for use in facts.uses.get(name, ()):
        parent = use.parent
        if parent is None:
            continue
        if parent.type == "attribute" and parent.child_by_field_name("object") == use:
            attr = parent.child_by_field_name("attribute")
            if attr is not None and text(attr) in _GROWING:
                return ""
        if (
            parent.type == "subscript"
            and parent.parent is not None
            and (
                parent.parent.type in ("assignment", "augmented_assignment")
                and parent.parent.child_by_field_name("left") == parent
            )
        ):
            return ""  # parts[:0] = more
    return snippet(values[0][0], 80)


def receiver_kinds(
    ctx: FileContext,
    facts: ScopeFacts,
    recv: Node,
    facts_cache: dict[int, ScopeFacts],
    class_cache: dict[int, dict[str, set[str]]],
) -> tuple[set[str], str]:
    """The kinds of the values a receiver (`name` or `self.attr`) is bound to, and the binding
    that shows it."""
    if recv.type == "attribute":
        return self_attribute_kinds(ctx, facts, recv, class_cache)
    name = text(recv)
    local = name in facts.binds or name in facts.params
    if name in facts.declared or not local:
        facts = scope_facts(ctx, ctx.tree.root_node, facts_cache)
    return name_kinds(ctx, facts, name)


class PopFront(Detector):
    id = "pop-front"
    query_file = "pop_front.scm"

    def check(self, ctx: FileContext, matches: list[Captures]) -> Iterator[Finding]:
        facts_cache: dict[int, ScopeFacts] = {}
        class_cache: dict[int, dict[str, set[str]]] = {}
        seen: set[tuple[int, str, int]] = set()
        for m in matches:
            call, recv, method = m["call"][0], m["recv"][0], text(m["method"][0])
            if not ctx.loops_around(call):
                continue
            scope = scope_of(call)
            if scope.type in ("class_definition", "lambda"):
                continue
            facts = scope_facts(ctx, scope, facts_cache)
            kinds, origin = receiver_kinds(ctx, facts, recv, facts_cache, class_cache)
            known = kinds - {"unknown", "none"}
            if known and not known <= LIST_KINDS:
                continue  # a dict's pop(0) is a key lookup; a deque has popleft
            if not known and (method == "insert" or recv.type == "attribute"):
                continue  # widgets have insert(0, text); other objects pop(0) as they like
            name = text(recv)
            if method == "pop" and recv.type == "identifier" and tiny_by_construction(facts, name):
                continue  # a dotted name's parts, `line.split(" ", 2)`: a few items to move
            loops = accumulating_loops(ctx, facts, name, call)
            if not loops or all(loop_is_small(ctx, loop) for loop in loops):
                continue  # a fresh (short) list every iteration
            key = (scope.id, name, loops[0].id)
            if key in seen:
                continue  # one finding per list and loop; the fix covers every call
            seen.add(key)
            yield self._report(ctx, call, name, method, known, origin, loops)

    def _report(
        self,
        ctx: FileContext,
        call: Node,
        name: str,
        method: str,
        known: set[str],
        origin: str,
        loops: list[Node],
    ) -> Finding:
        loop = loops[0]
        condition = (
            loop.child_by_field_name("condition") if loop.type == "while_statement" else None
        )
        drains = condition is not None and name in text(condition)
        # a list known from its construction, drained by `while name:`, is the clearest case
        confidence = (0.85 if drains else 0.7) if known else (0.5 if drains else 0.4)
        what = "list" if "list" in known else "/".join(sorted(known)) or "probably a list"
        if method == "pop":
            action = "removes the first item by moving every other item down one place"
            advice = "use a collections.deque and popleft(), which is O(1)"
            if drains:
                advice += " (or, if the order allows, iterate over the list instead of draining it)"
        else:
            action = "makes room at the front by moving every item up one place"
            advice = (
                "use a collections.deque and appendleft(), or append() and reverse once after "
                "the loop"
            )
        header = text(loop).split("\n", 1)[0][:80]
        evidence = [
            ("call", snippet(call, 80)),
            ("receiver", f"{what} ({origin})" if origin else f"{what} (type not shown)"),
            ("loop", f"line {loop.start_point.row + 1}: {header}"),
        ]
        return self.finding(
            ctx,
            call,
            f"`{snippet(call)}` in a loop {action} on every call: O(n) each, O(n²) for the "
            f"loop; {advice}",
            confidence=confidence,
            evidence=evidence,
        )
