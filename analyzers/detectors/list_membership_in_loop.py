"""`list-membership-in-loop`: `x in some_list` inside a loop scans the list on every test.

A membership test on a list or tuple compares element by element: O(len) per test, O(n·m) for
the loop. A set (or frozenset) built once answers in O(1). Only sequences the code shows to be
lists or tuples are reported, and only when the loop does not change them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from tree_sitter import Node

from megawatt.analyzers.context import FileContext, text
from megawatt.analyzers.detector import Captures, Detector
from megawatt.analyzers.detectors._loop_facts import (
    NESTED_SCOPES,
    Mutation,
    global_declared,
    is_bound_here,
    loop_mutations,
    module_mutations,
    mutations,
    occurrences,
    test_scale,
    walk,
)
from megawatt.model import Finding

SMALL = 15  # up to this many elements, a scan costs about what hashing does
_HASHABLE_CALLS = frozenset(
    {"str", "int", "float", "repr", "chr", "ord", "len", "bool", "hex", "oct", "bin", "format"}
)
_SEQUENCE_CALLS = {"list": "list", "tuple": "tuple", "sorted": "list"}
_ANNOTATIONS = {"list": "list", "List": "list", "tuple": "tuple", "Tuple": "tuple"}
_HASHABLE_TYPES = frozenset({"str", "int", "float", "bytes", "bool"})


@dataclass
class SeqFacts:
    kind: str  # "list" or "tuple"
    size: int | None  # element count when the code shows it
    hashable: bool | None  # True: every element is a hashable constant-like value


@dataclass
class Membership:
    cmp: Node
    left: Node
    right: Node
    loops: list[Node]
    facts: SeqFacts
    origin: str  # "display", "built" (a list built inline), "local", "param", "module"
    name: str | None = None
    scope: Node | None = None  # the function whose local the name is
    definitions: list[Node] = field(default_factory=list)  # the assignments that bind it
    changed_elsewhere: list[Mutation] = field(default_factory=list)  # module lists only


def _combine(parts: list[SeqFacts | None]) -> SeqFacts | None:
    if not parts or any(p is None for p in parts):
        return None
    facts = [p for p in parts if p is not None]
    kinds = {p.kind for p in facts}
    sizes = [p.size for p in facts]
    hashable: bool | None = True
    if any(p.hashable is False for p in facts):
        hashable = False
    elif any(p.hashable is None for p in facts):
        hashable = None
    return SeqFacts(
        kind=kinds.pop() if len(kinds) == 1 else "list",
        size=None if any(s is None for s in sizes) else max(s for s in sizes if s is not None),
        hashable=hashable,
    )


def value_hashable(ctx: FileContext, node: Node | None) -> bool | None:
    """True when the value is certainly hashable with ordinary equality (str, numbers, tuples
    of those); False when certainly unhashable (a list, dict or set); None when unknown."""
    if node is None:
        return None
    t = node.type
    if t in ("string", "concatenated_string", "integer", "float", "true", "false", "none"):
        return True
    if t == "unary_operator":
        return value_hashable(ctx, node.child_by_field_name("argument"))
    if t == "parenthesized_expression" and node.named_child_count == 1:
        return value_hashable(ctx, node.named_children[0])
    if t == "tuple":
        parts = [value_hashable(ctx, c) for c in node.named_children]
        if any(p is False for p in parts):
            return False
        return True if all(parts) else None
    if t in (
        "list",
        "dictionary",
        "set",
        "list_comprehension",
        "dictionary_comprehension",
        "set_comprehension",
    ):
        return False
    if t == "call":
        func = node.child_by_field_name("function")
        if (
            func is not None
            and func.type == "identifier"
            and text(func) in _HASHABLE_CALLS
            and ctx.is_builtin(func)
        ):
            return True
    if t == "binary_operator":
        left = value_hashable(ctx, node.child_by_field_name("left"))
        right = value_hashable(ctx, node.child_by_field_name("right"))
        lt = node.child_by_field_name("left")
        if left and right and lt is not None and lt.type in ("string", "integer", "float"):
            return True
    return None


def _range_size(ctx: FileContext, node: Node | None) -> int | None:
    """len(range(a, b)) for literal integer bounds."""
    if node is None or node.type != "call":
        return None
    func = node.child_by_field_name("function")
    args = node.child_by_field_name("arguments")
    if func is None or text(func) != "range" or not ctx.is_builtin(func) or args is None:
        return None
    try:
        values = [int(text(a), 0) for a in args.named_children]
    except ValueError:
        return None
    if not 1 <= len(values) <= 3:
        return None
    try:
        return len(range(*values))
    except (ValueError, OverflowError):
        return None


def _iter_facts(ctx: FileContext, node: Node | None) -> tuple[int | None, bool | None]:
    """Size and element hashability of what an iterable yields."""
    if node is None:
        return None, None
    size = _range_size(ctx, node)
    if size is not None:
        return size, True
    if node.type in ("list", "tuple"):
        facts = seq_facts(ctx, node)
        return (facts.size, facts.hashable) if facts else (None, None)
    if node.type == "string" and not any(c.type == "interpolation" for c in node.named_children):
        return None, True
    if node.type in ("list_comprehension", "generator_expression", "set_comprehension"):
        facts = _comprehension_facts(ctx, node)
        return facts.size, facts.hashable
    return None, None


def _comprehension_facts(ctx: FileContext, node: Node) -> SeqFacts:
    clauses = [c for c in node.named_children if c.type in ("for_in_clause", "if_clause")]
    size = None
    if len(clauses) == 1 and clauses[0].type == "for_in_clause":
        size, _ = _iter_facts(ctx, clauses[0].child_by_field_name("right"))
    return SeqFacts("list", size, value_hashable(ctx, node.child_by_field_name("body")))


def seq_facts(ctx: FileContext, node: Node | None) -> SeqFacts | None:
    """What the code shows about a list or tuple expression; None if it is not certainly one."""
    if node is None:
        return None
    t = node.type
    if t in ("list", "tuple"):
        elems = [c for c in node.named_children if c.type != "comment"]
        splat = any(c.type in ("list_splat", "parenthesized_list_splat") for c in elems)
        parts = [value_hashable(ctx, c) for c in elems if c.type != "list_splat"]
        hashable: bool | None = (
            False if any(p is False for p in parts) else True if all(parts) and not splat else None
        )
        return SeqFacts(t, None if splat else len(elems), hashable)
    if t == "list_comprehension":
        return _comprehension_facts(ctx, node)
    if t == "call":
        func = node.child_by_field_name("function")
        args = node.child_by_field_name("arguments")
        if (
            func is None
            or func.type != "identifier"
            or text(func) not in _SEQUENCE_CALLS
            or not ctx.is_builtin(func)
            or args is None
            or args.type == "generator_expression"
        ):
            if (
                args is not None
                and args.type == "generator_expression"
                and func is not None
                and text(func) in _SEQUENCE_CALLS
                and ctx.is_builtin(func)
            ):
                facts = _comprehension_facts(ctx, args)
                return SeqFacts(_SEQUENCE_CALLS[text(func)], facts.size, facts.hashable)
            return None
        positional = [a for a in args.named_children if a.type != "keyword_argument"]
        if len(positional) != 1:
            return SeqFacts(_SEQUENCE_CALLS[text(func)], 0 if not positional else None, None)
        size, hashable = _iter_facts(ctx, positional[0])
        return SeqFacts(_SEQUENCE_CALLS[text(func)], size, hashable)
    return None


def _annotation_facts(param: Node) -> SeqFacts | None:
    ann = param.child_by_field_name("type")
    if ann is None or not ann.named_children:
        return None
    inner = ann.named_children[0]
    if inner.type == "identifier":
        kind = _ANNOTATIONS.get(text(inner))
        return SeqFacts(kind, None, None) if kind else None
    if inner.type == "generic_type" and inner.named_children:
        kind = _ANNOTATIONS.get(text(inner.named_children[0]))
        if kind is None:
            return None
        args = [c for c in walk(inner) if c.type == "type"]
        elem = {text(a) for a in args}
        return SeqFacts(kind, None, True if elem and elem <= _HASHABLE_TYPES else None)
    return None


def _param_node(fn: Node, name: str) -> Node | None:
    params = fn.child_by_field_name("parameters")
    if params is None:
        return None
    for p in params.named_children:
        ident = p if p.type == "identifier" else p.child_by_field_name("name")
        if ident is None and p.named_children:
            ident = p.named_children[0]
        if ident is not None and text(ident) == name:
            return p
    return None


def _definition_facts(
    ctx: FileContext, ident: Node, scope: Node | None
) -> tuple[SeqFacts | None, list[Node]]:
    """Facts from every binding of the name in `scope` (None: module level)."""
    name = text(ident)
    parts: list[SeqFacts | None] = []
    definitions: list[Node] = []
    for occ in occurrences(ctx, name):
        if not is_bound_here(occ):
            continue
        owner = ctx.enclosing(occ, NESTED_SCOPES)
        if owner != scope:
            continue  # another function's local, or a class attribute of the same name
        parent = occ.parent
        if parent is None or parent.type not in ("assignment", "augmented_assignment"):
            parts.append(None)  # bound by a for, with, import, del…: type unknown
            continue
        if parent.child_by_field_name("left") != occ:
            parts.append(None)  # unpacking: element type unknown
            continue
        right = parent.child_by_field_name("right")
        if parent.type == "augmented_assignment":
            op = parent.child_by_field_name("operator")
            if op is None or op.type != "+=":
                parts.append(None)
                continue
            added = seq_facts(ctx, right)
            parts.append(SeqFacts("list", None, added.hashable if added else None))
        elif right is None:
            continue  # `names: list[str]` declares, binds nothing
        else:
            parts.append(seq_facts(ctx, right))
        definitions.append(parent)
    return _combine(parts), definitions


def analyze(ctx: FileContext, cmp: Node, right: Node) -> Membership | None:
    op = right.prev_sibling
    if op is None or op.type not in ("in", "not in"):
        return None
    left = op.prev_sibling
    if left is None:
        return None
    loops = ctx.loops_around(cmp)
    if not loops:
        return None
    if right.type != "identifier":
        facts = seq_facts(ctx, right)
        if facts is None:
            return None
        if right.type in ("list", "tuple"):
            if facts.size is None or facts.size <= SMALL:
                return None  # a short literal: CPython scans a constant tuple, fast enough
            return Membership(cmp, left, right, loops, facts, "display")
        return Membership(cmp, left, right, loops, facts, "built")
    name = text(right)
    scope = next(
        (f for f in ctx.enclosing_functions(cmp) if name in ctx.local_names(f)),
        None,
    )
    if scope is None and (name in ctx.imports.bindings or global_declared(ctx, name)):
        return None
    param = _param_node(scope, name) if scope is not None and scope.type != "lambda" else None
    if param is not None:
        facts = _annotation_facts(param)
        if facts is None:
            return None
        found = Membership(cmp, left, right, loops, facts, "param", name, scope)
    else:
        facts, definitions = _definition_facts(ctx, right, scope)
        if facts is None:
            return None
        origin = "local" if scope is not None else "module"
        found = Membership(cmp, left, right, loops, facts, origin, name, scope, definitions)
        if scope is None:
            changes = module_mutations(ctx, name)
        else:
            body = scope.child_by_field_name("body")
            changes = [m for m in mutations(ctx, body) if m.chain[0] == name] if body else []
        changes = [m for m in changes if not (m.kind == "rebound" and m.node in definitions)]
        if facts.kind == "tuple":
            changes = [m for m in changes if len(m.chain) == 1 and m.kind != "passed"]
        if changes:
            # grown or changed after it was built: what it holds is no longer known
            facts = found.facts = SeqFacts(facts.kind, None, None)
        if scope is None:
            found.changed_elsewhere = changes
    if facts.hashable is False:
        return None  # lists of lists: a set cannot hold them
    if facts.size is not None and facts.size <= SMALL:
        return None
    changed = [m for m in loop_mutations(ctx, loops[0]) if m.chain[0] == name]
    if facts.kind == "tuple":  # immutable: only rebinding the name changes it
        changed = [m for m in changed if len(m.chain) == 1 and m.kind != "passed"]
    if changed:
        return None  # the loop changes the list: a set built before it would go stale
    return found


def confidence(found: Membership) -> float:
    size = found.facts.size
    if found.origin == "display":
        value = 0.5 if (size or 0) >= 30 else 0.35
    elif found.origin == "built":
        value = 0.6
    elif size is None:
        value = 0.4 if found.origin == "param" else 0.5
    else:
        value = 0.85 if size >= 100 else 0.65 if size >= 30 else 0.45
    if found.changed_elsewhere:
        value -= 0.15
    if len(found.loops) > 1:
        value += 0.05
    return round(min(value, 0.9), 2)


def _copied_mapping(found: Membership) -> str | None:
    """`keys = list(d.keys())`: the name of the dict that already answers `in`."""
    sources = set()
    for definition in found.definitions:
        right = definition.child_by_field_name("right")
        if right is None or right.type != "call" or definition.type != "assignment":
            return None
        func, args = right.child_by_field_name("function"), right.child_by_field_name("arguments")
        if func is None or text(func) != "list" or args is None or args.named_child_count != 1:
            return None
        arg = args.named_children[0]
        method = arg.child_by_field_name("function") if arg.type == "call" else None
        if (
            method is None
            or method.type != "attribute"
            or text(method.child_by_field_name("attribute")) != "keys"
        ):
            return None  # only `list(d.keys())` shows that d is a mapping
        arg = method.child_by_field_name("object")
        if arg is None:
            return None
        if arg.type not in ("identifier", "attribute"):
            return None
        sources.add(text(arg))
    return sources.pop() if len(sources) == 1 and found.facts.size is None else None


def _describe(found: Membership) -> str:
    size = found.facts.size
    count = f"{size} elements" if size is not None else "size unknown here"
    return f"a {found.facts.kind}, {count}"


class ListMembershipInLoop(Detector):
    id = "list-membership-in-loop"
    query_file = "list_membership_in_loop.scm"

    def check(self, ctx: FileContext, matches: list[Captures]) -> Iterator[Finding]:
        for m in matches:
            cmp, right = m["cmp"][0], m["right"][0]
            found = analyze(ctx, cmp, right)
            if found is None:
                continue
            test = " ".join(text(found.cmp).split())
            if len(test) > 80:
                test = test[:79] + "…"
            seq = text(found.right)
            if found.origin == "display":
                message = (
                    f"`{test}` compares against each of the {found.facts.size} literal "
                    "elements on every iteration; a set literal {…} is hashed once "
                    "(CPython makes it a frozenset constant)"
                )
            elif found.origin == "built":
                message = (
                    f"`{test}` builds a new {found.facts.kind} and scans it on every iteration; "
                    "build a set once before the loop (or test the source container directly, "
                    "e.g. `key in mapping`)"
                )
            else:
                source = _copied_mapping(found)
                advice = (
                    f"test the mapping it copies directly (`… in {source}`)"
                    if source
                    else f"build a set once before the loop (frozenset({seq})) and test against it"
                )
                message = (
                    f"`{test}` scans {seq} ({_describe(found)}) element by element on every "
                    f"iteration; {advice}"
                )
            evidence = [
                ("test", test),
                ("sequence", f"{seq[:60]}: {_describe(found)}"),
                ("origin", found.origin),
                ("elements_hashable", str(found.facts.hashable).lower()),
                ("loop", text(found.loops[0]).split("\n", 1)[0][:80]),
            ]
            if found.definitions:
                first = found.definitions[0]
                evidence.append(
                    ("defined", f"line {first.start_point.row + 1}: {text(first)[:80]}")
                )
            if found.changed_elsewhere:
                where = found.changed_elsewhere[0].node
                evidence.append(
                    (
                        "changed_elsewhere",
                        f"line {where.start_point.row + 1}: {text(where).split(chr(10))[0][:80]}",
                    )
                )
            score = round(confidence(found) * test_scale(ctx, found.cmp), 2)
            yield self.finding(ctx, found.cmp, message, score, evidence)
