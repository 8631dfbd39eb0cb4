"""`deepcopy-in-hot-path`: `copy.deepcopy(...)` in a function body or a loop.

deepcopy walks the whole object graph through `__reduce_ex__`/`__deepcopy__`, keeping a memo
dict: 10-100× slower than a shallow copy or a dedicated copy. Whether a cheaper copy (or no copy)
is right depends on what happens to the copy, so the finding says whether the copy is only
read, changed, or handed to other code.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from tree_sitter import Node

from megawatt.analyzers.context import FileContext, text
from megawatt.analyzers.detector import Captures, Detector
from megawatt.analyzers.detectors._loop_facts import (
    READONLY_BUILTINS,
    READONLY_METHODS,
    is_bound_here,
    maybe_imported,
    mutations,
    occurrences,
    target_parts,
    test_scale,
)
from megawatt.model import Finding

_PROTOCOL = frozenset({"__deepcopy__", "__copy__", "__reduce__", "__reduce_ex__"})
_COPYING_NAMES = ("copy", "clone", "duplicate", "snapshot")
_DISPLAYS = ("list", "tuple", "set", "dictionary", "pair", "expression_list")


@dataclass(frozen=True)
class Use:
    kind: str  # "read", "mutated", "returned", "stored", "passed"
    node: Node | None
    detail: str


def _line(node: Node) -> int:
    return node.start_point.row + 1


def _snippet(node: Node, limit: int = 60) -> str:
    s = " ".join(text(node).split())
    return s if len(s) <= limit else s[: limit - 1] + "…"


def _is_target(node: Node) -> bool:
    """Whether `node` is (part of) the left side of an assignment, augmented assignment or del."""
    child, parent = node, node.parent
    while parent is not None:
        if parent.type in ("assignment", "augmented_assignment"):
            return parent.child_by_field_name("left") == child
        if parent.type == "delete_statement":
            return True
        if parent.type not in (
            "pattern_list",
            "tuple_pattern",
            "list_pattern",
            "tuple",
            "list",
            "expression_list",
            "parenthesized_expression",
            "attribute",
            "subscript",
        ):
            return False
        if parent.type == "attribute" and parent.child_by_field_name("object") != child:
            return False
        child, parent = parent, parent.parent
    return False


def _readonly_call(ctx: FileContext, call: Node) -> bool:
    func = call.child_by_field_name("function")
    if func is None:
        return False
    if func.type == "identifier":
        return text(func) in READONLY_BUILTINS and ctx.is_builtin(func)
    if func.type == "attribute":
        obj = func.child_by_field_name("object")
        name = text(func.child_by_field_name("attribute"))
        if name in ("debug", "info", "warning", "error", "exception", "critical", "log"):
            return True
        if name.startswith("assert"):
            return True  # unittest assertions compare, they do not change
        return name == "join" and obj is not None and obj.type == "string"
    return False


class Usage:
    """How the value a deepcopy produced is used in its function."""

    def __init__(self, ctx: FileContext, fn: Node | None) -> None:
        self.ctx = ctx
        self.fn = fn

    def of_value(self, node: Node, depth: int = 0) -> list[Use]:
        """Uses of the value `node` evaluates to (a call, or a name occurrence)."""
        top = node
        while top.parent is not None and (
            (top.parent.type == "attribute" and top.parent.child_by_field_name("object") == top)
            or (top.parent.type == "subscript" and top.parent.child_by_field_name("value") == top)
        ):
            top = top.parent
        parent = top.parent
        while parent is not None and parent.type == "parenthesized_expression":
            top, parent = parent, parent.parent
        if parent is None:
            return [Use("read", None, "")]
        chained = top != node
        if parent.type == "expression_statement" and not chained:
            return [Use("discarded", parent, "discarded: the result is never used")]
        if _is_target(top):
            if chained or (parent.type == "augmented_assignment"):
                return [Use("mutated", parent, _snippet(parent))]
            return [Use("read", None, "")]  # rebinding the name: the copy is dropped
        if parent.type == "call" and parent.child_by_field_name("function") == top:
            if not chained:
                return [Use("read", None, "")]
            method = text(top.child_by_field_name("attribute")) if top.type == "attribute" else ""
            if method in READONLY_METHODS:
                return [Use("read", None, "")]
            return [Use("mutated", parent, _snippet(parent))]
        if parent.type in ("argument_list", "keyword_argument"):
            call = parent if parent.type == "argument_list" else parent.parent
            call = call.parent if call is not None else None
            if call is None or call.type != "call" or _readonly_call(self.ctx, call):
                return [Use("read", None, "")]
            func = call.child_by_field_name("function")
            return [Use("passed", call, f"passed to {_snippet(func, 40) if func else '?'}()")]
        if parent.type in ("return_statement", "yield"):
            return [Use("read" if chained else "returned", parent, "returned to the caller")]
        if parent.type in ("for_statement", "for_in_clause") and (
            parent.child_by_field_name("right") == top
        ):
            return self._iterated(parent, depth)
        if parent.type == "assignment" and parent.child_by_field_name("right") == top:
            left = parent.child_by_field_name("left")
            if left is not None and text(left) == "_":
                return [Use("discarded", parent, "discarded: assigned to _")]
            if left is not None and left.type == "identifier":
                if depth >= 2:
                    return [Use("stored", parent, f"aliased as {text(left)}")]
                return self.of_name(text(left), parent.end_byte, depth + 1)
            return [Use("stored", parent, f"stored in {_snippet(left, 40) if left else '?'}")]
        if parent.type in _DISPLAYS and not chained:
            return [Use("stored", parent, "put in a container")]
        return [Use("read", None, "")]

    def _iterated(self, loop: Node, depth: int) -> list[Use]:
        """`for item in copy.items:` — a change to `item` changes the copy's members."""
        body = loop.child_by_field_name("body") if loop.type == "for_statement" else loop.parent
        names = {
            text(n)
            for n in target_parts(loop.child_by_field_name("left"))
            if n.type == "identifier"
        }
        if body is None or not names:
            return [Use("read", None, "")]
        uses = []
        for m in mutations(self.ctx, body):
            if m.chain[0] not in names or m.kind == "rebound":
                continue
            if m.kind == "passed":
                uses.append(Use("passed", m.node, f"items passed to {_snippet(m.node, 40)}"))
            else:
                uses.append(Use("mutated", m.node, _snippet(m.node)))
        return uses or [Use("read", None, "")]

    def of_name(self, name: str, after: int, depth: int = 0) -> list[Use]:
        fn = self.fn
        uses: list[Use] = []
        for occ in occurrences(self.ctx, name):
            if occ.start_byte < after:
                continue
            if fn is not None and not (fn.start_byte <= occ.start_byte < fn.end_byte):
                continue
            if fn is None and self.ctx.function_of(occ) is not None:
                continue
            if is_bound_here(occ):
                parent = occ.parent
                if parent is not None and parent.type == "augmented_assignment":
                    uses.append(Use("mutated", parent, _snippet(parent)))
                continue
            uses.extend(self.of_value(occ, depth))
        return uses or [Use("read", None, "")]


def _copying_api(name: str) -> bool:
    lowered = name.lower()
    return lowered == "replace" or any(word in lowered for word in _COPYING_NAMES)


def summarize(uses: list[Use]) -> Use:
    for kind in ("mutated", "returned", "stored", "passed", "discarded"):
        for use in uses:
            if use.kind == kind:
                return use
    return Use("read", None, "only read")


def deepcopy_calls(ctx: FileContext, matches: list[Captures]) -> Iterator[Node]:
    if not matches and b"deepcopy" not in ctx.source:
        return  # no call matched and no alias can exist: skip the import table
    seen: set[int] = set()
    for m in matches:
        call = m["call"][0]
        func = m["func"][0]
        if (
            call.id not in seen
            and maybe_imported(ctx, func)
            and ctx.qualified(func) == "copy.deepcopy"
        ):
            seen.add(call.id)
            yield call
    # `from copy import deepcopy as dc`: the query cannot know the alias
    for alias, target in ctx.imports.bindings.items():
        if target != "copy.deepcopy" or alias == "deepcopy":
            continue
        for ident in occurrences(ctx, alias):
            parent = ident.parent
            if (
                parent is not None
                and parent.type == "call"
                and parent.child_by_field_name("function") == ident
                and parent.id not in seen
                and ctx.qualified(ident) == "copy.deepcopy"
            ):
                seen.add(parent.id)
                yield parent


class DeepcopyInHotPath(Detector):
    id = "deepcopy-in-hot-path"
    query_file = "deepcopy_in_hot_path.scm"

    def check(self, ctx: FileContext, matches: list[Captures]) -> Iterator[Finding]:
        for call in deepcopy_calls(ctx, matches):
            args = call.child_by_field_name("arguments")
            if args is None or args.type != "argument_list":
                continue
            positional = [a for a in args.named_children if a.type != "comment"]
            if len(positional) != 1 or positional[0].type in ("list_splat", "keyword_argument"):
                continue  # deepcopy(x, memo): a __deepcopy__ implementation passing its memo on
            scopes = list(ctx.enclosing_functions(call))
            loops = ctx.loops_around(call)
            if not scopes and not loops:
                continue
            fn = ctx.function_of(call)
            fn_name = text(fn.child_by_field_name("name")) if fn is not None else ""
            if fn_name in _PROTOCOL:
                continue  # implementing deep copy itself
            if test_scale(ctx, call) < 1:
                continue  # a test function runs once per test run: never a hot path
            use = summarize(Usage(ctx, fn).of_value(call))
            if use.kind in ("returned", "mutated") and _copying_api(fn_name):
                continue  # clone()/copy()/replace(): the deep copy it returns is its contract
            yield self._finding(ctx, call, positional[0], fn, loops, use)

    def _finding(
        self,
        ctx: FileContext,
        call: Node,
        arg: Node,
        fn: Node | None,
        loops: list[Node],
        use: Use,
    ) -> Finding:
        where = (
            "on every iteration"
            if loops
            else f"on every call of {text(fn.child_by_field_name('name'))}()"
            if fn is not None
            else "on every call"
        )
        what = f"{_snippet(call.child_by_field_name('function') or call, 30)}({_snippet(arg, 40)})"
        head = f"{what} copies the whole object graph {where}"
        if use.kind == "read":
            message = (
                f"{head}, but the copy is only read: use {_snippet(arg, 40)} directly, "
                "or copy just the values needed"
            )
            base = 0.7
            status = "the copy is only read"
        elif use.kind == "mutated":
            message = (
                f"{head}; the copy is changed ({use.detail}, line {_line(use.node) if use.node else '?'}): "
                "copy only what changes (copy.copy plus copies of the changed members, "
                "dataclasses.replace, or a constructor)"
            )
            base = 0.45
            status = f"mutated: {use.detail}"
        elif use.kind == "discarded":
            message = f"{head}, and the copy is never used: remove the call"
            base = 0.5
            status = use.detail
        else:
            message = (
                f"{head}; the copy is {use.detail}: if the receiver only reads it, a shallow "
                "copy or an immutable value is enough"
            )
            base = 0.35
            status = use.detail
        confidence = min(base + (0.15 if loops else 0.0), 0.9)
        evidence = [
            ("call", _snippet(call, 120)),
            ("copied", _snippet(arg, 80)),
            ("copy_use", status),
            ("in_loop", str(bool(loops)).lower()),
        ]
        if use.node is not None:
            evidence.append(("where", f"line {_line(use.node)}: {_snippet(use.node, 80)}"))
        return self.finding(ctx, call, message, round(confidence, 2), evidence)
