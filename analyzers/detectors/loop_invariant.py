"""`loop-invariant`: a pure computation inside a loop whose inputs the loop never changes.

`len(items)` in a `while` condition, `os.path.join(base, "x")`, `sorted(names)` or
`math.sqrt(n)` in a loop body compute the same value on every iteration. Only calls of
functions known to be pure (builtins, math, the string functions of os.path, methods of string
literals) and long attribute chains are reported; arbitrary methods may have side effects.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from tree_sitter import Node

from megawatt.analyzers.context import FileContext, text
from megawatt.analyzers.detector import Captures, Detector
from megawatt.analyzers.detectors._loop_facts import (
    NESTED_SCOPES,
    Mutation,
    bound_names,
    chain_of,
    global_declared,
    is_bound_here,
    loop_mutations,
    loop_region,
    maybe_imported,
    module_mutations,
    occurrences,
    related,
    test_scale,
    walk,
)
from megawatt.model import Finding

# builtins: name → cost class
_BUILTINS = {
    "len": "len",
    "abs": "cheap",
    "str": "cheap",
    "int": "cheap",
    "float": "cheap",
    "repr": "cheap",
    "round": "cheap",
    "divmod": "cheap",
    "pow": "cheap",
    "ord": "cheap",
    "chr": "cheap",
    "min": "scan",
    "max": "scan",
    "sorted": "scan",
    "tuple": "scan",
    "frozenset": "scan",
    "sum": "scan",
    "any": "scan",
    "all": "scan",
}
# these read an iterable: called twice on an iterator, the second call sees it exhausted
_CONSUMING = frozenset({"min", "max", "sorted", "tuple", "frozenset", "sum", "any", "all"})
# what a change to an argument object (not a rebinding) does to the result: "size" — only
# adding or removing elements matters; "content" — any change inside it matters
_SIZE = frozenset({"len"})
_CONTENT = frozenset(
    {"min", "max", "sorted", "tuple", "frozenset", "sum", "any", "all", "str", "repr"}
)
_MATH_MODULES = ("math", "cmath")
_HEAVY_MATH = frozenset({"factorial", "comb", "perm", "fsum", "prod", "dist", "isqrt"})
_PATH_MODULES = ("os.path", "posixpath", "ntpath", "genericpath")
_PATH_FUNCS = frozenset(
    {
        "join",
        "dirname",
        "basename",
        "split",
        "splitext",
        "splitdrive",
        "normpath",
        "normcase",
        "abspath",
        "relpath",
        "commonpath",
        "commonprefix",
        "expanduser",
    }
)
_STRING_METHODS = frozenset(
    {
        "format",
        "join",
        "upper",
        "lower",
        "strip",
        "split",
        "replace",
        "encode",
        "rjust",
        "ljust",
        "center",
        "zfill",
    }
)
_COLLECTION_NODES = (
    "list",
    "tuple",
    "set",
    "dictionary",
    "list_comprehension",
    "set_comprehension",
    "dictionary_comprehension",
    "string",
    "concatenated_string",
)
_COLLECTION_CALLS = frozenset({"list", "tuple", "set", "dict", "sorted", "frozenset", "range"})
_COLLECTION_TYPES = frozenset(
    {
        "list",
        "tuple",
        "set",
        "frozenset",
        "dict",
        "str",
        "bytes",
        "List",
        "Tuple",
        "Set",
        "FrozenSet",
        "Dict",
        "Sequence",
        "Mapping",
        "MutableSequence",
        "MutableMapping",
        "AbstractSet",
        "Collection",
    }
)
# calls that mean the loop waits for something else (another thread) to change state
_WAITING = frozenset({"sleep", "wait", "wait_for", "poll", "select", "acquire", "recv", "accept"})
_PURE_LEAVES = (
    "identifier",
    "string",
    "string_start",
    "string_content",
    "string_end",
    "escape_sequence",
    "concatenated_string",
    "interpolation",
    "format_specifier",
    "format_expression",
    "type_conversion",
    "integer",
    "float",
    "true",
    "false",
    "none",
    "attribute",
    "subscript",
    "slice",
    "binary_operator",
    "unary_operator",
    "comparison_operator",
    "boolean_operator",
    "not_operator",
    "parenthesized_expression",
    "conditional_expression",
    "tuple",
    "list",
    "argument_list",
    "keyword_argument",
    "list_splat",
    "call",
    "ellipsis",
)


@dataclass(frozen=True)
class Candidate:
    node: Node  # the call, or the attribute chain
    loop: Node  # the innermost loop that re-runs it
    kind: str  # "len", "cheap", "scan", "math", "heavy-math", "path", "string", "chain"
    label: str  # "len", "os.path.join", "self.a.b.c"
    reads: tuple[tuple[str, ...], ...]  # the chains it reads
    depth: int  # loops around it


def pure_kind(ctx: FileContext, call: Node) -> tuple[str, str] | None:
    """(cost class, qualified label) for a call of a known-pure function, else None."""
    func = call.child_by_field_name("function")
    if func is None:
        return None
    if func.type == "identifier":
        name = text(func)
        if name in _BUILTINS and ctx.is_builtin(func):
            args = call.child_by_field_name("arguments")
            positional = (
                [a for a in args.named_children if a.type != "keyword_argument"] if args else []
            )
            kind = _BUILTINS[name]
            if name in ("min", "max") and len(positional) > 1:
                kind = "cheap"
            return kind, name
    if func.type == "attribute":
        obj = func.child_by_field_name("object")
        method = text(func.child_by_field_name("attribute"))
        if (
            obj is not None
            and obj.type == "string"
            and method in _STRING_METHODS
            and not any(c.type == "interpolation" for c in obj.named_children)
        ):
            return ("scan" if method == "join" else "string"), f"str.{method}"
    if not maybe_imported(ctx, func):
        return None
    qualified = ctx.qualified(func)
    if qualified is None:
        return None
    module, _, name = qualified.rpartition(".")
    if module in _MATH_MODULES:
        return ("heavy-math" if name in _HEAVY_MATH else "math"), qualified
    if module in _PATH_MODULES and name in _PATH_FUNCS:
        return "path", qualified
    return None


def _name_reads(ctx: FileContext, expr: Node) -> tuple[tuple[str, ...], ...] | None:
    """The chains an expression reads (`self.root`, `base`), or None if it is not pure."""
    reads: list[tuple[str, ...]] = []
    for n in walk(expr):
        t = n.type
        if t not in _PURE_LEAVES:
            return None
        if t == "call" and n != expr and pure_kind(ctx, n) is None:
            return None
        if t != "identifier":
            continue
        parent = n.parent
        if parent is not None and (
            (parent.type == "attribute" and parent.child_by_field_name("attribute") == n)
            or (parent.type == "keyword_argument" and parent.child_by_field_name("name") == n)
        ):
            continue
        if (
            parent is not None
            and parent.type == "call"
            and parent.child_by_field_name("function") == (n)
        ):
            continue  # a pure function's own name (checked by pure_kind)
        top = n
        while top != expr and top.parent is not None:
            p = top.parent
            if (p.type == "attribute" and p.child_by_field_name("object") == top) or (
                p.type == "subscript" and p.child_by_field_name("value") == top
            ):
                if (
                    p.parent is not None
                    and p.parent.type == "call"
                    and (p.parent.child_by_field_name("function") == p)
                ):
                    break  # `os.path.join`: the function, not a value read
                top = p
            else:
                break
        chain = chain_of(top)
        if chain is None:
            continue
        if ctx.is_builtin(n) or (ctx.qualified(n) is not None and not ctx.is_local(n, text(n))):
            continue  # builtins and imported modules do not change in a loop
        reads.append(chain)
    return tuple(dict.fromkeys(reads))


def _exits_on_path(node: Node, loop: Node) -> bool:
    """Whether the code around `node` leaves the loop (return/break/raise in the same block),
    or `node` is on an error path: then it runs at most once, nothing to hoist."""
    parent = node.parent
    while parent is not None and parent != loop:
        if parent.type in ("return_statement", "raise_statement", "except_clause"):
            return True
        if parent.type == "block" and any(
            c.type in ("return_statement", "break_statement", "raise_statement")
            for c in parent.named_children
        ):
            return True
        parent = parent.parent
    return False


def _in_while_condition(node: Node, loop: Node) -> bool:
    cond = loop.child_by_field_name("condition") if loop.type == "while_statement" else None
    return cond is not None and cond.start_byte <= node.start_byte < cond.end_byte


def _known_collection(ctx: FileContext, arg: Node, loop: Node) -> bool:
    """Whether `arg` is certainly a collection (not an iterator a second call would find empty)."""
    if arg.type in _COLLECTION_NODES:
        return True
    if arg.type in ("attribute", "subscript"):
        return True  # stored collections; an iterator kept in an attribute is rare
    if arg.type == "call":
        func = arg.child_by_field_name("function")
        return (
            func is not None
            and func.type == "identifier"
            and text(func) in _COLLECTION_CALLS
            and ctx.is_builtin(func)
        )
    if arg.type != "identifier":
        return False
    name = text(arg)
    scope = next((f for f in ctx.enclosing_functions(loop) if name in ctx.local_names(f)), None)
    if scope is not None and scope.type == "function_definition":
        params = scope.child_by_field_name("parameters")
        for p in params.named_children if params is not None else []:
            ident = p if p.type == "identifier" else p.child_by_field_name("name")
            if ident is None and p.named_children:
                ident = p.named_children[0]
            if ident is not None and text(ident) == name:
                ann = p.child_by_field_name("type")
                words = {text(w) for w in walk(ann) if w.type == "identifier"} if ann else set()
                head = text(ann.named_children[0]) if ann and ann.named_children else ""
                head = head.split("[", 1)[0].rsplit(".", 1)[-1]
                return head in _COLLECTION_TYPES and not words & {"Iterator", "Generator"}
    bindings = 0
    for occ in occurrences(ctx, name):
        if not is_bound_here(occ):
            continue
        owner = ctx.enclosing(occ, NESTED_SCOPES)
        if owner != scope:
            continue
        parent = occ.parent
        if parent is None or parent.type != "assignment":
            return False
        if parent.child_by_field_name("left") != occ:
            return False
        right = parent.child_by_field_name("right")
        if right is None:
            continue
        if not _known_collection(ctx, right, loop) or right.type in ("attribute", "subscript"):
            return False
        bindings += 1
    return bindings > 0


def level_of(label: str) -> str:
    if label in _SIZE:
        return "size"
    if label in _CONTENT or label in ("str.format", "str.join"):
        return "content"
    return "none"


def conflicts(
    events: list[Mutation], reads: tuple[tuple[str, ...], ...], level: str
) -> Mutation | None:
    """The first change in the loop that can alter the value read, given how the result
    depends on its arguments (`level`: "none" — only rebinding; "size"; "content")."""
    for read in reads:
        for m in events:
            if m.chain[0] != read[0] or not related(m.chain, read):
                continue
            if len(m.chain) == 1 and m.kind in ("rebound", "augmented"):
                return m  # the name itself is rebound
            if len(m.chain) < len(read):
                return m  # an object the chain goes through may change its attributes
            rebinds = m.kind in ("assigned", "deleted", "rebound", "augmented")
            if len(m.chain) == len(read) and (rebinds or level != "none"):
                return m
            if len(m.chain) > len(read) and level == "content":
                return m  # an element or member changes
            if (
                level == "size"
                and len(m.chain) == len(read) + 1
                and m.chain[-1] == "[]"
                and m.kind in ("assigned", "deleted", "augmented")
            ):
                return m  # `d[k] = v`, `del xs[i:j]`: the size may change
    return None


class LoopInvariant(Detector):
    id = "loop-invariant"
    query_file = "loop_invariant.scm"

    def check(self, ctx: FileContext, matches: list[Captures]) -> Iterator[Finding]:
        events: dict[int, list[Mutation]] = {}
        seen: set[int] = set()
        found: list[Candidate] = []
        for m in matches:
            node = m["chain"][0] if "chain" in m else m["call"][0]
            if node.id in seen:
                continue
            seen.add(node.id)
            candidate = self.candidate(ctx, node, events)
            if candidate is not None:
                found.append(candidate)
        # report the outermost of nested candidates: len(sorted(x)) once
        found.sort(key=lambda c: (c.node.start_byte, -c.node.end_byte))
        last_end = -1
        for c in found:
            if c.node.start_byte < last_end:
                continue
            last_end = c.node.end_byte
            yield self._finding(ctx, c)

    def candidate(
        self, ctx: FileContext, node: Node, events: dict[int, list[Mutation]]
    ) -> Candidate | None:
        if node.type == "attribute":
            return self._chain_candidate(ctx, node, events)
        loops = ctx.loops_around(node)
        if not loops:
            return None
        kind_label = pure_kind(ctx, node)
        if kind_label is None:
            return None
        kind, label = kind_label
        loop = loops[0]
        parent = node.parent
        if (
            parent is not None
            and parent.type == "comparison_operator"
            and node.prev_sibling is not None
            and node.prev_sibling.type in ("in", "not in")
            and label in ("sorted", "tuple")
        ):
            return None  # `x in sorted(y)`: list-membership-in-loop reports it
        reads = _name_reads(ctx, node)
        if reads is None or not reads:
            return None  # impure parts, or a constant (`len("abc")`) the compiler may fold
        args = node.child_by_field_name("arguments")
        positional = (
            [a for a in args.named_children if a.type not in ("keyword_argument", "comment")]
            if args is not None
            else []
        )
        if (
            (label in _CONSUMING or label == "str.join")
            and kind == "scan"
            and (not positional or not _known_collection(ctx, positional[0], loop))
        ):
            return None  # maybe an iterator: a second call would see it exhausted
        if not self._invariant(ctx, node, loop, reads, level_of(label), events):
            return None
        return Candidate(node, loop, kind, label, reads, len(loops))

    def _chain_candidate(
        self, ctx: FileContext, node: Node, events: dict[int, list[Mutation]]
    ) -> Candidate | None:
        parent = node.parent
        if (
            parent is not None
            and parent.type == "attribute"
            and (parent.child_by_field_name("object") == node)
        ):
            return None  # not the whole chain
        chain_node = node
        if (
            parent is not None
            and parent.type == "call"
            and (parent.child_by_field_name("function") == node)
        ):
            chain_node = node.child_by_field_name("object") or node  # a method: hoist its object
        chain = chain_of(chain_node)
        if chain is None or len(chain) < 4 or "[]" in chain:
            return None
        root = root_identifier(chain_node)
        if root is None or _is_store(chain_node):
            return None
        loops = ctx.loops_around(chain_node)
        if not loops or ctx.is_builtin(root):
            return None
        if maybe_imported(ctx, root) and ctx.qualified(root) is not None:
            return None  # a module's attribute chain: constant and not worth a finding
        if not self._invariant(ctx, chain_node, loops[0], (chain,), "none", events):
            return None
        return Candidate(chain_node, loops[0], "chain", ".".join(chain), (chain,), len(loops))

    def _invariant(
        self,
        ctx: FileContext,
        node: Node,
        loop: Node,
        reads: tuple[tuple[str, ...], ...],
        level: str,
        events: dict[int, list[Mutation]],
    ) -> bool:
        if _exits_on_path(node, loop):
            return False
        if loop.id not in events:
            events[loop.id] = loop_mutations(ctx, loop)
        loop_events = events[loop.id]
        if conflicts(loop_events, reads, level) is not None:
            return False
        if _waits(loop):
            return False  # a polling loop: another thread is expected to change things
        changed_names = {m.chain[0] for m in loop_events}
        if _rare_branch(node, loop, changed_names):
            return False  # `if key == "y": int(d["y"])`: runs on one iteration, not every one
        exit_condition = _exit_condition(node, loop)
        if exit_condition is not None and not _all_reads(exit_condition) & changed_names:
            # the loop stops on a condition nothing in it changes: it waits for another
            # thread (polling), or it leaves on the first test; either way not a waste
            return False
        for read in reads:
            root = read[0]
            local = any(root in ctx.local_names(f) for f in ctx.enclosing_functions(node))
            if local or root in ctx.imports.bindings:
                continue
            if global_declared(ctx, root):
                return False  # a function may rebind the module-level name
            if level != "none":
                changes = [
                    m
                    for m in module_mutations(ctx, root)
                    if ctx.function_of(m.node) is not None or m.kind != "rebound"
                ]
                if changes:
                    return False  # a function changes the module-level value
        return True

    def _finding(self, ctx: FileContext, c: Candidate) -> Finding:
        expr = " ".join(text(c.node).split())
        if len(expr) > 70:
            expr = expr[:69] + "…"
        cost = {
            "len": 0.2,
            "cheap": 0.2,
            "string": 0.3,
            "math": 0.35,
            "path": 0.5,
            "heavy-math": 0.55,
            "scan": 0.6,
            "chain": 0.2,
        }[c.kind]
        if c.depth > 1:
            cost += 0.1
        where = (
            "each time the while condition is tested"
            if _in_while_condition(c.node, c.loop)
            else "on every iteration of the loop"
        )
        names = ", ".join(dict.fromkeys(".".join(r) for r in c.reads))
        what = {
            "scan": "walks the whole collection",
            "chain": "looks up each attribute in turn",
        }.get(c.kind, "computes the same value")
        message = (
            f"`{expr}` {what} {where}, but nothing it reads ({names}) changes in the loop; "
            "compute it once before the loop and reuse the local"
        )
        loop_head = text(c.loop).split("\n", 1)[0][:80]
        evidence = [
            ("expression", expr),
            ("function", c.label),
            ("reads", names),
            ("loop", f"line {c.loop.start_point.row + 1}: {loop_head}"),
            ("nested_loops", str(c.depth)),
        ]
        score = round(min(cost, 0.8) * test_scale(ctx, c.node), 2)
        return self.finding(ctx, c.node, message, score, evidence)


def root_identifier(node: Node | None) -> Node | None:
    while node is not None and node.type in ("attribute", "subscript"):
        node = node.child_by_field_name("object" if node.type == "attribute" else "value")
    return node if node is not None and node.type == "identifier" else None


def _is_store(node: Node) -> bool:
    parent = node.parent
    while parent is not None and parent.type in (
        "attribute",
        "subscript",
        "pattern_list",
        "tuple",
        "expression_list",
    ):
        node, parent = parent, parent.parent
    if parent is None:
        return False
    if parent.type in ("assignment", "augmented_assignment"):
        return parent.child_by_field_name("left") == node
    return parent.type == "delete_statement"


_EQUALITY = ("==", "is", "in")


def _rare_branch(node: Node, loop: Node, changed: set[str]) -> bool:
    """Whether `node` sits in a branch that runs on few iterations: one chosen by comparing
    something the loop changes for equality (`if key == "y":`, `case ...:`), or a one-shot
    branch that flips its own condition (`if not started: started = True`)."""
    child, parent = node, node.parent
    while parent is not None and parent != loop:
        if parent.type == "case_clause":
            return True
        if parent.type in ("if_statement", "elif_clause", "else_clause") and child.type == "block":
            own = parent.child_by_field_name("condition")
            if own is not None and _all_reads(own) & set(bound_names(child)):
                return True
            chain = parent
            while chain.type != "if_statement" and chain.parent is not None:
                chain = chain.parent
            conditions = [chain.child_by_field_name("condition")] + [
                c.child_by_field_name("condition")
                for c in chain.named_children
                if c.type == "elif_clause"
            ]
            for cond in conditions:
                if cond is None:
                    continue
                for n in walk(cond):
                    if (
                        n.type == "comparison_operator"
                        and any(c.type in _EQUALITY for c in n.children)
                        and _all_reads(n) & changed
                    ):
                        return True
        child, parent = parent, parent.parent
    return False


def _exit_condition(node: Node, loop: Node) -> Node | None:
    """The condition deciding whether the loop goes on that `node` is part of: the while
    condition, or an `if` whose block leaves the loop (break/return/raise)."""
    if _in_while_condition(node, loop):
        return loop.child_by_field_name("condition")
    child, parent = node, node.parent
    while parent is not None and parent != loop:
        if parent.type in ("if_statement", "elif_clause"):
            cond = parent.child_by_field_name("condition")
            body = parent.child_by_field_name("consequence")
            if (
                cond == child
                and body is not None
                and any(
                    c.type in ("break_statement", "return_statement", "raise_statement")
                    for c in body.named_children
                )
            ):
                return cond
        child, parent = parent, parent.parent
    return None


def _callee_name(call: Node) -> str:
    func = call.child_by_field_name("function")
    if func is None:
        return ""
    if func.type == "attribute":
        return text(func.child_by_field_name("attribute"))
    return text(func)


def _waits(loop: Node) -> bool:
    if loop.type == "for_statement":
        iterable = loop.child_by_field_name("right")
        if iterable is not None and iterable.type == "call":
            name = _callee_name(iterable).lower()
            if any(word in name for word in ("sleep", "retry", "wait", "poll")):
                return True  # `for _ in sleeping_retry(timeout):` waits between iterations
    for part in loop_region(loop):
        for n in walk(part):
            if n.type == "call" and _callee_name(n) in _WAITING:
                return True
    return False


def _all_reads(node: Node) -> set[str]:
    return {text(n) for n in walk(node) if n.type == "identifier" and _is_value_name(n)}


def _is_value_name(n: Node) -> bool:
    parent = n.parent
    return not (
        parent is not None
        and (
            (parent.type == "attribute" and parent.child_by_field_name("attribute") == n)
            or (parent.type == "keyword_argument" and parent.child_by_field_name("name") == n)
        )
    )
