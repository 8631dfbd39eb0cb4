"""`loop-invariant`: a pure computation inside a loop whose inputs the loop never changes.

`len(items)` in a `while` condition, `os.path.join(base, "x")`, `sorted(names)` or
`math.sqrt(n)` in a loop body compute the same value on every iteration. Only calls of
functions known to be pure (builtins, math, the string functions of os.path, methods of string
literals) and long attribute chains are reported; arbitrary methods may have side effects.

"Nothing changes it" covers more than the names the loop mentions: a change through an alias
(`queue = order`; `remaining = self.remaining_degree` shrunk by a `self.` method), and in a
generator or coroutine whatever the caller or event loop does at each `yield`/`await`. A str,
bytes, number or tuple cannot change, so only rebinding its name counts. Loops bounded to a few
iterations (over a literal, `name.split(".")`, a small range, `while n < 3`) are not reported:
hoisting out of them saves nothing. One finding per expression per loop.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from tree_sitter import Node

from megawatt.analyzers.context import FileContext, text
from megawatt.analyzers.detector import Captures, Detector
from megawatt.analyzers.detectors._loop_facts import (
    NESTED_SCOPES,
    READONLY_BUILTINS,
    READONLY_METHODS,
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
from megawatt.analyzers.detectors._scope_facts import (
    ScopeFacts,
    bound_value,
    loop_is_small,
    scope_facts,
    value_kind,
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


def name_reads(ctx: FileContext, expr: Node) -> tuple[tuple[str, ...], ...] | None:
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
        # one finding per expression per loop, at its first occurrence: one hoist covers all
        groups: dict[tuple[int, str], list[Candidate]] = {}
        for c in found:
            if c.node.start_byte < last_end:
                continue
            last_end = c.node.end_byte
            groups.setdefault((c.loop.id, same_expression(c.node)), []).append(c)
        for group in groups.values():
            yield self._finding(ctx, group[0], group[1:])

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
        reads = name_reads(ctx, node)
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
        if bounded(ctx, loop):
            return False  # a few iterations: cold, whatever the profile says of the function
        if not self.unchanged_in(ctx, node, loop, reads, level, events):
            return False
        loop_events = events[loop.id]
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

    def unchanged_in(
        self,
        ctx: FileContext,
        node: Node,
        loop: Node,
        reads: tuple[tuple[str, ...], ...],
        level: str,
        events: dict[int, list[Mutation]],
    ) -> bool:
        """Whether nothing in `loop` can change what `node` reads: a rebinding, a change to
        the object (through its own name or an alias), or - in a generator or coroutine - the
        code that runs at each `yield`/`await`, for anything but a local only this function
        holds."""
        if loop.id not in events:
            events[loop.id] = loop_mutations(ctx, loop)
        loop_events = events[loop.id]
        pauses = suspends(loop)
        for read in reads:
            facts = read_facts(ctx, node, read)
            own = level
            if unchangeable(facts, read, level) and not _changed_in_place(loop_events, read):
                own = "none"  # a str or tuple: only rebinding the name changes it
            if conflicts(loop_events, (read,), own) is not None:
                return False
            if (own != "none" or len(read) > 1) and alias_conflict(
                loop_events, facts, read, own
            ) is not None:
                return False
            if pauses and not (
                facts is not None and len(read) == 1 and (own == "none" or facts.fresh)
            ):
                return False  # the caller may change it between two yields
        # a polling loop: another thread is expected to change things
        return not _waits(loop)

    def _finding(self, ctx: FileContext, c: Candidate, others: list[Candidate]) -> Finding:
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
            ("occurrences", str(1 + len(others))),
        ]
        if others:
            where_else = ", ".join(str(o.node.start_point.row + 1) for o in others)
            evidence.append(("also_on_lines", where_else))
        score = round(min(cost, 0.8) * test_scale(ctx, c.node), 2)
        return self.finding(ctx, c.node, message, score, evidence)


def same_expression(node: Node) -> str:
    """The expression's tokens without its layout or comments: `len( xs )` is `len(xs)`, and
    the spaces inside a string literal still count."""
    tokens: list[str] = []
    stack = [node]
    while stack:
        n = stack.pop()
        if n.type == "comment":
            continue
        if n.child_count == 0 or n.type == "string_content":
            tokens.append(text(n))
        else:
            stack.extend(reversed(n.children))
    return " ".join(tokens)


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


# -- what a name holds, and who else can reach it --------------------------------------------
# A hoist is sound only when nothing can change the value between two evaluations: not the loop
# (through the name, an alias, or a call that reaches the object some other way), and not the
# code a generator or coroutine hands control to at each `yield`/`await`.

# type names whose values never change (in an annotation: every name in it must be one of these)
_IMMUTABLE_TYPES = frozenset(
    {
        "str",
        "bytes",
        "int",
        "float",
        "complex",
        "bool",
        "tuple",
        "Tuple",
        "frozenset",
        "FrozenSet",
        "None",
        "Optional",
        "Union",
        "Literal",
        "LiteralString",
        "Final",
        "typing",
    }
)
# containers in that list: their size is fixed, their elements are whatever the caller put there
_IMMUTABLE_CONTAINERS = frozenset({"tuple", "Tuple", "frozenset", "FrozenSet"})
_SIZED_TYPES = frozenset({"str", "bytes", "tuple", "Tuple", "frozenset", "FrozenSet", "list"})
_SCALAR_KINDS = frozenset({"str", "bytes", "strlike", "number", "bool", "none"})
_SIZED_KINDS = frozenset({"str", "bytes", "strlike", "list", "tuple", "dict", "set", "deque"})
# mutable builtin collections a function can build for itself (value_kind's names)
_FRESH_KINDS = frozenset({"list", "dict", "set", "deque", "bytearray", "array"})
_SHALLOW_CALLS = frozenset({"tuple", "frozenset"})
# builtins that call their first argument
_CALLS_FIRST = frozenset({"map", "filter"})
# a value passes through these unchanged on its way to whatever consumes it
_TRANSPARENT = ("parenthesized_expression", "conditional_expression", "boolean_operator")
# a value used here is held by something else: a container (or a tuple unpacked into an alias
# the alias search does not follow), the caller of a generator, an awaited coroutine
_HOLDERS = (
    "list",
    "tuple",
    "set",
    "pair",
    "expression_list",
    "yield",
    "await",
    "list_splat",
    "dictionary_splat",
)
# kinds of immutability: DEEP, nothing in it changes; SHALLOW, its size never changes
NONE, SHALLOW, DEEP = 0, 1, 2


@dataclass(frozen=True)
class NameFacts:
    """What every binding of one local name in one function shows about its value."""

    immutable: int  # NONE, SHALLOW or DEEP
    fresh: bool  # a new builtin collection built here that no other code ever receives
    sized: bool  # certainly a str/bytes/tuple/list/dict/set: len() cannot raise
    param: bool
    aliases: tuple[tuple[str, ...], ...]  # other chains the same object is reached through


def _facts_of(ctx: FileContext, fn: Node) -> ScopeFacts:
    cache: dict[int, ScopeFacts] = ctx.memo.setdefault("loop-invariant.scopes", {})  # type: ignore[assignment]
    return scope_facts(ctx, fn, cache)


def annotation_immutability(annotation: Node | None) -> int:
    """DEEP for `str`, `tuple[int, ...]`, `bytes | None`; SHALLOW for `tuple[list, ...]`'s size
    (a tuple of anything cannot grow); NONE for everything else."""
    if annotation is None:
        return NONE
    names = [text(n) for n in walk(annotation) if n.type == "identifier"]
    if not names:  # a string annotation: read its words
        names = [w for w in text(annotation).replace(".", " ").split() if w.isidentifier()]
        names = [w for part in names for w in part.replace("[", " ").split()]
    if not names:
        return NONE
    if all(n in _IMMUTABLE_TYPES for n in names):
        return DEEP
    head = text(annotation).strip("'\"").split("[", 1)[0].rsplit(".", 1)[-1].strip()
    return SHALLOW if head in _IMMUTABLE_CONTAINERS else NONE


def _annotation_sized(annotation: Node | None) -> bool:
    if annotation is None:
        return False
    head = text(annotation).strip("'\"").split("[", 1)[0].rsplit(".", 1)[-1].strip()
    return head in _SIZED_TYPES and "None" not in text(annotation)


def value_immutability(ctx: FileContext, value: Node | None) -> int:
    if value is None:
        return NONE
    if value.type == "parenthesized_expression" and value.named_children:
        return value_immutability(ctx, value.named_children[0])
    if value.type == "tuple":
        parts = [value_immutability(ctx, c) for c in value.named_children]
        return DEEP if all(p == DEEP for p in parts) else SHALLOW
    if value.type == "call":
        func = value.child_by_field_name("function")
        if (
            func is not None
            and func.type == "identifier"
            and text(func) in _SHALLOW_CALLS
            and ctx.is_builtin(func)
        ):
            return SHALLOW
    return DEEP if value_kind(ctx, value) in _SCALAR_KINDS else NONE


def _value_sized(ctx: FileContext, value: Node | None) -> bool:
    if value is None:
        return False
    if value.type == "call":
        func = value.child_by_field_name("function")
        if func is not None and text(func) in _SHALLOW_CALLS and ctx.is_builtin(func):
            return True
    return value_kind(ctx, value) in _SIZED_KINDS


def name_facts(ctx: FileContext, fn: Node, name: str) -> NameFacts:
    key = ("loop-invariant.name", fn.id, name)
    found = ctx.memo.get(key)
    if found is None:
        found = ctx.memo[key] = _name_facts(ctx, fn, name, set())
    return found  # type: ignore[return-value]


def _name_facts(ctx: FileContext, fn: Node, name: str, visiting: set[str]) -> NameFacts:
    facts = _facts_of(ctx, fn)
    unknown = NameFacts(NONE, False, False, name in facts.params, ())
    if name in facts.declared or (name in facts.nested and _nonlocal_in(fn, name)):
        return unknown  # `global`/`nonlocal`: rebound where this function cannot see
    visiting = visiting | {name}
    immutable, sized, fresh = DEEP, True, name not in facts.params
    if name in facts.params:
        annotation = facts.params[name]
        immutable = annotation_immutability(annotation)
        sized = _annotation_sized(annotation)
    aliases: list[tuple[str, ...]] = []
    bindings = facts.binds.get(name, [])
    for binding in bindings:
        if binding.type == "augmented_assignment":
            continue  # `s += t` keeps a str a str and a list the same list
        value = bound_value(binding, name)
        if _slice_of(value, name):
            continue  # `line = line[:-1]`: a str stays a str, a tuple a tuple
        declared = annotation_immutability(binding.child_by_field_name("type"))
        immutable = min(immutable, max(declared, value_immutability(ctx, value)))
        sized = sized and _value_sized(ctx, value)
        fresh = fresh and value is not None and value_kind(ctx, value) in _FRESH_KINDS
        chain = chain_of(value) if value is not None and value.type != "call" else None
        if chain is not None:
            aliases.append(chain)
            if chain[0] not in visiting and (chain[0] in facts.binds or chain[0] in facts.params):
                origin = _name_facts(ctx, fn, chain[0], visiting)
                aliases.extend(a + chain[1:] for a in origin.aliases)
    if not bindings and name not in facts.params:
        return unknown
    derived = _derived_aliases(ctx, facts, name)
    aliases.extend((a,) for a in derived)
    if fresh and (name in facts.nested or _escapes(ctx, facts, (name, *derived))):
        fresh = False  # a closure, a callee or a container holds it too
    return NameFacts(
        immutable,
        fresh,
        sized,
        name in facts.params,
        tuple(dict.fromkeys(a for a in aliases if a != (name,))),
    )


def _slice_of(value: Node | None, name: str) -> bool:
    """`name[a:b]`: a slice of the name itself, the same type as what it slices (a new object,
    so for a list not the one other code may hold - which only makes it safer)."""
    if value is None or value.type != "subscript":
        return False
    obj = value.child_by_field_name("value")
    subscripts = value.children_by_field_name("subscript")
    return (
        obj is not None
        and obj.type == "identifier"
        and text(obj) == name
        and len(subscripts) == 1
        and subscripts[0].type == "slice"
    )


def _nonlocal_in(fn: Node, name: str) -> bool:
    """Whether a function nested in `fn` declares `nonlocal name` (and so may rebind it)."""
    if b"nonlocal" not in (fn.text or b""):
        return False
    return any(
        n.type == "nonlocal_statement"
        and any(c.type == "identifier" and text(c) == name for c in n.named_children)
        for n in walk(fn)
    )


def _derived_aliases(ctx: FileContext, facts: ScopeFacts, name: str) -> list[str]:
    """Local names bound to `name` or to a part of it (`todo = queue`, `row = grid[i]`),
    transitively."""
    found: list[str] = []
    todo = [name]
    while todo:
        root = todo.pop()
        for other, assigns in facts.assigns.items():
            if other == name or other in found:
                continue
            for a in assigns:
                chain = chain_of(bound_value(a, other))
                if chain is not None and chain[0] == root:
                    found.append(other)
                    todo.append(other)
                    break
    return found


def _escapes(ctx: FileContext, facts: ScopeFacts, names: tuple[str, ...]) -> bool:
    """Whether a use of one of `names` hands the object to code that may keep or change it:
    an argument to a call that is not a known reader, an element of a container, a stored
    attribute or item, a yielded value, or an alias the alias search cannot follow."""
    for name in names:
        for use in facts.uses.get(name, ()):
            node, parent = use, use.parent
            through = False
            while parent is not None and parent.type in _TRANSPARENT:
                if parent.type == "conditional_expression" and parent.named_children[1:2] == [node]:
                    break  # the condition of `a if cond else b`: only read
                through = through or parent.type != "parenthesized_expression"
                node, parent = parent, parent.parent
            if parent is None:
                continue
            t = parent.type
            if t in ("argument_list", "keyword_argument"):
                call = parent.parent if t == "argument_list" else parent.parent.parent
                if call is None or call.type != "call" or not _reads_only(ctx, call):
                    return True
            elif t in ("assignment", "named_expression"):
                target = parent.child_by_field_name("left" if t == "assignment" else "name")
                right = parent.child_by_field_name("right" if t == "assignment" else "value")
                if right == node and (through or target is None or target.type != "identifier"):
                    return True
            elif t in _HOLDERS:
                return True
    return False


def _reads_only(ctx: FileContext, call: Node) -> bool:
    """A call known not to change, keep or call back into its arguments."""
    func = call.child_by_field_name("function")
    if func is None:
        return False
    if func.type == "identifier":
        name = text(func)
        if not ((name in READONLY_BUILTINS or name in _BUILTINS) and ctx.is_builtin(func)):
            return False
        return not _passes_code(call, name)
    return pure_kind(ctx, call) is not None


def _passes_code(call: Node, name: str) -> bool:
    """`sorted(xs, key=self.rank)`, `map(f, xs)`: a function handed to the builtin runs inside
    it (a lambda is fine: its body is looked at where it is written)."""
    args = call.child_by_field_name("arguments")
    if args is None or args.type != "argument_list":
        return False
    for i, arg in enumerate(args.named_children):
        if arg.type == "keyword_argument":
            keyword = text(arg.child_by_field_name("name"))
            value = arg.child_by_field_name("value")
            if keyword == "key" and value is not None and value.type != "lambda":
                return True
        elif i == 0 and name in _CALLS_FIRST and arg.type != "lambda":
            return True
    return False


def suspends(loop: Node) -> bool:
    """Whether the loop hands control to other code mid-way: `yield`, `await`, `async for`,
    `async with` (the caller or the event loop runs between two tests of its condition)."""
    source = loop.text or b""
    if b"yield" not in source and b"await" not in source and b"async" not in source:
        return False  # the words are not there: no walk
    for part in loop_region(loop):
        for n in walk(part, into_scopes=False):
            if n.type in ("yield", "await"):
                return True
            if (
                n.type in ("for_statement", "with_statement")
                and n.children[:1]
                and (n.children[0].type == "async")
            ):
                return True
    return False


def opaque_calls(ctx: FileContext, loop: Node, fn: Node | None) -> list[Node]:
    """Calls in the loop that may run code which changes objects other than the ones named:
    everything but known-pure functions, reading builtins, reading methods, and methods of a
    collection this function built and keeps to itself (`out.append`)."""
    found: list[Node] = []
    for part in loop_region(loop):
        for n in walk(part):
            if n.type != "call" or _reads_only(ctx, n):
                continue
            func = n.child_by_field_name("function")
            if func is not None and func.type == "attribute":
                method = text(func.child_by_field_name("attribute"))
                obj = func.child_by_field_name("object")
                if method in READONLY_METHODS:
                    continue
                if (
                    fn is not None
                    and obj is not None
                    and obj.type == "identifier"
                    and text(obj) in ctx.local_names(fn)
                    and name_facts(ctx, fn, text(obj)).fresh
                ):
                    continue  # its own list/dict/set: reaches nothing else
            found.append(n)
    return found


def read_facts(ctx: FileContext, node: Node, read: tuple[str, ...]) -> NameFacts | None:
    """Facts for a read rooted at a local name of the function around `node`, else None."""
    fn = ctx.function_of(node)
    if fn is None or read[0] not in ctx.local_names(fn):
        return None
    if any(read[0] in ctx.local_names(f) for f in ctx.enclosing_functions(node) if f != fn):
        return None  # bound by a lambda or comprehension in between
    return name_facts(ctx, fn, read[0])


def _changed_in_place(events: list[Mutation], read: tuple[str, ...]) -> bool:
    """A mutating method call or item store on the name itself: whatever its bindings looked
    like (`buf = data.strip()` on a bytearray), the value is not an immutable one."""
    return any(
        m.chain[: len(read)] == read
        and (m.kind == "method" or (len(m.chain) > len(read) and m.kind != "passed"))
        for m in events
    )


def unchangeable(facts: NameFacts | None, read: tuple[str, ...], level: str) -> bool:
    """Whether nothing but rebinding the name can change what the expression reads of it."""
    if facts is None or len(read) != 1:
        return False
    return facts.immutable == DEEP or (facts.immutable == SHALLOW and level == "size")


def alias_conflict(
    events: list[Mutation], facts: NameFacts | None, read: tuple[str, ...], level: str
) -> Mutation | None:
    """A change in the loop to the same object reached through another name."""
    if facts is None or not facts.aliases:
        return None
    variants = tuple(alias + read[1:] for alias in facts.aliases)
    # rebinding an alias name leaves the object alone; everything else counts
    changes = [m for m in events if not (len(m.chain) == 1 and m.kind == "rebound")]
    return conflicts(changes, variants, "content" if level == "none" else level)


# -- loops that run a few times at most ------------------------------------------------------

_SMALL = 16
# separators that cut names and paths into a handful of parts (`__module__.split(".")`)
_FEW_PARTS = frozenset({'"."', "'.'", '"/"', "'/'", '":"', "':'", '"::"', "'::'"})


def _few_items(ctx: FileContext, node: Node | None, fn: Node | None, depth: int = 0) -> bool:
    """Whether an iterable certainly has a handful of items."""
    if node is None or depth > 3:
        return False
    t = node.type
    if t in ("list", "tuple", "set", "dictionary"):
        return len(node.named_children) <= _SMALL
    if t in ("string", "concatenated_string"):
        return len(text(node)) <= _SMALL + 3
    if t == "parenthesized_expression" and node.named_children:
        return _few_items(ctx, node.named_children[0], fn, depth + 1)
    if t == "call":
        func = node.child_by_field_name("function")
        args = node.child_by_field_name("arguments")
        positional = [a for a in args.named_children] if args is not None else []
        if func is not None and func.type == "attribute":
            method = text(func.child_by_field_name("attribute"))
            if method in ("partition", "rpartition"):
                return True
            if method in ("split", "rsplit"):
                if positional and text(positional[0]) in _FEW_PARTS:
                    return True
                return len(positional) > 1 and _small_int(positional[1])
            return False
        if func is not None and func.type == "identifier" and ctx.is_builtin(func):
            name = text(func)
            if name == "range":
                ints = [a for a in positional if a.type == "integer"]
                if len(ints) != len(positional) or not ints:
                    return False
                values = [int(text(a), 0) for a in ints]
                return (values[0] if len(values) == 1 else values[1] - values[0]) <= _SMALL
            if name in ("enumerate", "reversed", "sorted", "list", "tuple", "zip"):
                return bool(positional) and any(
                    _few_items(ctx, a, fn, depth + 1) for a in positional
                )
        return False
    if t == "identifier" and fn is not None and text(node) in ctx.local_names(fn):
        facts = _facts_of(ctx, fn)
        name = text(node)
        if name in facts.params or not facts.binds.get(name):
            return False
        # a list literal bound to a name may be only the start (`found = []`, then appends):
        # only values that cannot grow, or that split something into a few parts, count
        return all(
            (value := bound_value(b, name)) is not None
            and value.type not in ("list", "set", "dictionary")
            and _few_items(ctx, value, fn, depth + 1)
            for b in facts.binds[name]
        )
    return False


def _small_int(node: Node | None) -> bool:
    if node is None or node.type != "integer":
        return False
    try:
        return int(text(node), 0) <= _SMALL
    except ValueError:
        return False


def _bounded_condition(node: Node | None) -> bool:
    """`attempts < 3`, `len(parts) <= 2 and ...`: a while condition that caps its count."""
    if node is None:
        return False
    if node.type == "parenthesized_expression" and node.named_children:
        return _bounded_condition(node.named_children[0])
    if node.type == "boolean_operator":
        op = node.child_by_field_name("operator")
        left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
        if op is not None and op.type == "and":
            return _bounded_condition(left) or _bounded_condition(right)
        return _bounded_condition(left) and _bounded_condition(right)
    if node.type != "comparison_operator" or len(node.named_children) != 2:
        return False
    ops = [c.type for c in node.children if not c.is_named]
    left, right = node.named_children
    if ops in (["<"], ["<="]):
        return _small_int(right)
    if ops in ([">"], [">="]):
        return _small_int(left)
    return False


def bounded(ctx: FileContext, loop: Node) -> bool:
    """A loop that runs a handful of times: over a literal, a `name.split(".")`, a small
    `range`, or a `while` capped by a small constant. Hoisting out of it saves nothing."""
    if loop.type == "while_statement":
        return _bounded_condition(loop.child_by_field_name("condition"))
    fn = ctx.function_of(loop)
    if loop.type == "for_statement":
        return loop_is_small(ctx, loop) or _few_items(ctx, loop.child_by_field_name("right"), fn)
    clauses = [c for c in loop.named_children if c.type == "for_in_clause"]
    return bool(clauses) and all(
        _few_items(ctx, c.child_by_field_name("right"), fn) for c in clauses
    )
