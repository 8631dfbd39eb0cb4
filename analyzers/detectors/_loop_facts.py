"""Private helpers for regex-in-function, list-membership-in-loop, loop-invariant and
deepcopy-in-hot-path: what a region of code binds and mutates, where a name occurs, what kind
of sequence an expression certainly builds.

Candidates for `analyzers/context.py`: `occurrences` (every identifier node of one name, found
through the source bytes rather than a tree walk), `maybe_imported` (a dict lookup that saves
`ctx.qualified` its scope walk), `bound_names`, `mutations`/`loop_mutations`, `chain_of`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from tree_sitter import Node

from megawatt.analyzers.context import FileContext, text

NESTED_SCOPES = ("function_definition", "class_definition", "lambda")
_PATTERNS = (
    "pattern_list",
    "tuple_pattern",
    "list_pattern",
    "as_pattern_target",
    "tuple",
    "list",
    "expression_list",
    "parenthesized_expression",
)
STATEMENT_PARENTS = ("block", "module")

# methods that never change the object they are called on (lists, dicts, strings, sets)
READONLY_METHODS = frozenset(
    {
        "copy",
        "count",
        "index",
        "get",
        "keys",
        "values",
        "items",
        "startswith",
        "endswith",
        "find",
        "rfind",
        "rindex",
        "split",
        "rsplit",
        "splitlines",
        "strip",
        "lstrip",
        "rstrip",
        "lower",
        "upper",
        "casefold",
        "title",
        "capitalize",
        "replace",
        "format",
        "format_map",
        "encode",
        "decode",
        "isdigit",
        "isalpha",
        "isalnum",
        "isspace",
        "isupper",
        "islower",
        "isidentifier",
        "isdecimal",
        "isnumeric",
        "partition",
        "rpartition",
        "zfill",
        "ljust",
        "rjust",
        "center",
        "expandtabs",
        "translate",
        "hex",
        "issubset",
        "issuperset",
        "isdisjoint",
        "union",
        "intersection",
        "difference",
        "symmetric_difference",
        "__len__",
        "__contains__",
        "__getitem__",
    }
)
# builtins that read their arguments and never change them
READONLY_BUILTINS = frozenset(
    {
        "len",
        "print",
        "repr",
        "str",
        "ascii",
        "format",
        "bool",
        "int",
        "float",
        "complex",
        "hash",
        "id",
        "type",
        "isinstance",
        "issubclass",
        "callable",
        "sorted",
        "list",
        "tuple",
        "set",
        "frozenset",
        "dict",
        "any",
        "all",
        "sum",
        "min",
        "max",
        "enumerate",
        "zip",
        "reversed",
        "iter",
        "map",
        "filter",
        "abs",
        "round",
        "ord",
        "chr",
        "bytes",
        "bytearray",
        "range",
    }
)
# logging-style calls that only format their arguments
_READONLY_CALLEES = frozenset(
    {
        "debug",
        "info",
        "warning",
        "warn",
        "error",
        "exception",
        "critical",
        "log",
        "fromkeys",
        "isdisjoint",
        "issubset",
        "issuperset",
    }
)


def walk(node: Node, into_scopes: bool = True) -> Iterator[Node]:
    """`node` and its named descendants, depth first; optionally not into nested scopes."""
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        if not into_scopes and n is not node and n.type in NESTED_SCOPES:
            continue
        stack.extend(reversed(n.named_children))


def chain_of(node: Node | None) -> tuple[str, ...] | None:
    """`self.items[i].name` → ("self", "items", "[]", "name"); None unless rooted at a name."""
    parts: list[str] = []
    while node is not None:
        if node.type == "identifier":
            parts.append(text(node))
            return tuple(reversed(parts))
        if node.type == "attribute":
            parts.append(text(node.child_by_field_name("attribute")))
            node = node.child_by_field_name("object")
        elif node.type == "subscript":
            parts.append("[]")
            node = node.child_by_field_name("value")
        elif node.type == "parenthesized_expression" and node.named_child_count == 1:
            node = node.named_children[0]
        else:
            return None
    return None


def related(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """Whether one chain is a prefix of the other (`[]` matches any component)."""
    return all(x == y or "[]" in (x, y) for x, y in zip(a, b, strict=False))


def target_names(target: Node | None) -> Iterator[Node]:
    """Identifier nodes a target binds (not attributes or subscripts: those mutate)."""
    if target is None:
        return
    if target.type == "identifier":
        yield target
    elif target.type in _PATTERNS:
        for c in target.named_children:
            yield from target_names(c)
    elif target.type in ("list_splat_pattern", "list_splat") and target.named_children:
        yield from target_names(target.named_children[0])


def target_parts(target: Node | None) -> Iterator[Node]:
    """Every leaf of a target: identifiers, attributes and subscripts."""
    if target is None:
        return
    if target.type in _PATTERNS:
        for c in target.named_children:
            yield from target_parts(c)
    elif target.type in ("list_splat_pattern", "list_splat") and target.named_children:
        yield from target_parts(target.named_children[0])
    else:
        yield target


def maybe_imported(ctx: FileContext, node: Node | None) -> bool:
    """Cheap test before `ctx.qualified`: the expression's root name is bound by an import."""
    while node is not None and node.type == "attribute":
        node = node.child_by_field_name("object")
    return node is not None and node.type == "identifier" and text(node) in ctx.imports.bindings


def bound_names(region: Node) -> dict[str, Node]:
    """Names (re)bound anywhere in `region`, outside nested scopes: name → first binding node."""
    names: dict[str, Node] = {}

    def add(node: Node | None) -> None:
        for ident in target_names(node):
            names.setdefault(text(ident), ident)

    stack = [region]
    while stack:
        n = stack.pop()
        t = n.type
        if t in ("function_definition", "class_definition"):
            name = n.child_by_field_name("name")
            if name is not None:
                names.setdefault(text(name), name)
            continue
        if t == "lambda":
            continue
        if t in ("assignment", "augmented_assignment", "for_statement", "for_in_clause"):
            add(n.child_by_field_name("left"))
        elif t == "as_pattern":
            add(n.child_by_field_name("alias"))
        elif t == "named_expression":
            add(n.child_by_field_name("name"))
        elif t == "delete_statement":
            for c in n.named_children:
                add(c)
        elif t in ("import_statement", "import_from_statement"):
            for c in n.named_children:
                if c.type == "aliased_import":
                    add(c.child_by_field_name("alias"))
                elif c.type == "dotted_name" and n.child_by_field_name("module_name") != c:
                    first = c.named_children[0] if c.named_children else None
                    add(first)
        elif t == "case_pattern":
            for c in walk(n):
                if c.type == "identifier":
                    names.setdefault(text(c), c)
            continue
        stack.extend(n.named_children)
    return names


@dataclass(frozen=True, slots=True)
class Mutation:
    chain: tuple[str, ...]  # what changes: ("self", "items") for self.items.append(x)
    kind: str  # "rebound", "assigned", "augmented", "deleted", "method", "passed"
    node: Node


def _callee_is_readonly(ctx: FileContext, func: Node | None) -> bool:
    if func is None:
        return False
    if func.type == "identifier":
        return text(func) in READONLY_BUILTINS and ctx.is_builtin(func)
    if func.type == "attribute":
        name = text(func.child_by_field_name("attribute"))
        obj = func.child_by_field_name("object")
        if name in ("join", "format"):
            return obj is not None and obj.type in ("string", "concatenated_string")
        return name in _READONLY_CALLEES
    return False


def mutations(ctx: FileContext, region: Node) -> list[Mutation]:
    """Everything in `region` (nested scopes included) that may rebind or change a name's value."""
    found: list[Mutation] = []

    def targets(node: Node | None, kind: str, owner: Node) -> None:
        for part in target_parts(node):
            chain = chain_of(part)
            if chain is not None:
                found.append(Mutation(chain, "rebound" if len(chain) == 1 else kind, owner))

    for n in walk(region):
        t = n.type
        if t == "assignment":
            targets(n.child_by_field_name("left"), "assigned", n)
        elif t == "augmented_assignment":
            chain = chain_of(n.child_by_field_name("left"))
            if chain is not None:
                found.append(Mutation(chain, "augmented", n))
        elif t in ("for_statement", "for_in_clause"):
            targets(n.child_by_field_name("left"), "assigned", n)
        elif t == "as_pattern":
            targets(n.child_by_field_name("alias"), "assigned", n)
        elif t == "named_expression":
            targets(n.child_by_field_name("name"), "assigned", n)
        elif t == "delete_statement":
            for c in n.named_children:
                targets(c, "deleted", n)
        elif t in ("function_definition", "class_definition"):
            name = n.child_by_field_name("name")
            if name is not None:
                found.append(Mutation((text(name),), "rebound", n))
        elif t == "call":
            func = n.child_by_field_name("function")
            if func is not None and func.type == "attribute":
                method = text(func.child_by_field_name("attribute"))
                chain = chain_of(func.child_by_field_name("object"))
                if chain is not None and method not in READONLY_METHODS:
                    found.append(Mutation(chain, "method", n))
            args = n.child_by_field_name("arguments")
            if args is None or args.type != "argument_list" or _callee_is_readonly(ctx, func):
                continue
            for arg in args.named_children:
                value = arg
                if arg.type == "keyword_argument":
                    value = arg.child_by_field_name("value")
                elif arg.type in ("list_splat", "dictionary_splat") and arg.named_children:
                    value = arg.named_children[0]
                chain = chain_of(value)
                if chain is not None:
                    found.append(Mutation(chain, "passed", n))
        elif t in ("global_statement", "nonlocal_statement"):
            for c in n.named_children:
                if c.type == "identifier":
                    found.append(Mutation((text(c),), "rebound", n))
    return found


def loop_region(loop: Node) -> list[Node]:
    """The parts of a loop that run on every iteration (a for's iterable runs once)."""
    if loop.type == "for_statement":
        return [
            c for c in (loop.child_by_field_name("left"), loop.child_by_field_name("body")) if c
        ]
    if loop.type == "while_statement":
        return [
            c
            for c in (loop.child_by_field_name("condition"), loop.child_by_field_name("body"))
            if c
        ]
    return [loop]  # a comprehension: element, clauses and targets


def loop_mutations(ctx: FileContext, loop: Node) -> list[Mutation]:
    """What may change on each iteration of `loop`: its targets, and its body's mutations."""
    found = [m for part in loop_region(loop) for m in mutations(ctx, part)]
    if loop.type == "for_statement":
        for part in target_parts(loop.child_by_field_name("left")):
            chain = chain_of(part)
            if chain is not None:
                kind = "rebound" if len(chain) == 1 else "assigned"
                found.append(Mutation(chain, kind, loop))
    return found


def statement_of(node: Node) -> Node | None:
    """The statement that contains `node` and sits directly in a block or the module."""
    while node.parent is not None and node.parent.type not in STATEMENT_PARENTS:
        node = node.parent
    return node if node.parent is not None else None


# -- occurrences of one name in a file, through the bytes ---------------------------------------


def occurrences(ctx: FileContext, name: str) -> list[Node]:
    """Every identifier node spelled `name` in the file (not strings or comments)."""
    per_file: dict[str, list[Node]] = ctx.memo.setdefault("occurrences", {})  # type: ignore[assignment]
    found = per_file.get(name)
    if found is not None:
        return found
    found = []
    if name.isidentifier():
        pattern = re.compile(rb"(?<![\w.])" + re.escape(name.encode()) + rb"(?!\w)")
        root = ctx.tree.root_node
        # preceded by a dot is an attribute name, never the variable itself
        for m in pattern.finditer(ctx.source):
            node = root.descendant_for_byte_range(m.start(), m.end())
            if (
                node is not None
                and node.type == "identifier"
                and node.start_byte == m.start()
                and node.end_byte == m.end()
            ):
                found.append(node)
    per_file[name] = found
    return found


def name_used(ctx: FileContext, name: str) -> bool:
    """Whether `name` appears anywhere in the source as a word (identifier, attribute, string)."""
    words = ctx.memo.get("words")
    if words is None:  # one pass over the file, however many names are asked about
        words = ctx.memo["words"] = frozenset(re.findall(rb"\w+", ctx.source))
    return name.encode() in words  # type: ignore[operator]


def global_declared(ctx: FileContext, name: str) -> bool:
    """Whether some function declares `global name` (so it may rebind the module's name)."""
    return any(
        n.parent is not None and n.parent.type in ("global_statement", "nonlocal_statement")
        for n in occurrences(ctx, name)
    )


def module_mutations(ctx: FileContext, name: str) -> list[Mutation]:
    """Places that may change the module-level `name` (ignoring functions where it is local)."""
    key = ("module_mutations", name)
    cached = ctx.memo.get(key)
    if cached is None:
        cached = ctx.memo[key] = _module_mutations(ctx, name)
    return cached  # type: ignore[return-value]


def _module_mutations(ctx: FileContext, name: str) -> list[Mutation]:
    found: list[Mutation] = []
    seen: set[int] = set()
    for ident in occurrences(ctx, name):
        fn = ctx.enclosing(ident, NESTED_SCOPES)
        if fn is not None and fn.type != "class_definition" and ctx.is_local(ident, name):
            continue
        stmt = statement_of(ident)
        if stmt is None or stmt.id in seen:
            continue
        seen.add(stmt.id)
        for mut in mutations(ctx, stmt):
            if mut.chain[0] == name:
                found.append(mut)
    return found


def is_bound_here(ident: Node) -> bool:
    """Whether this identifier node is where a name is bound (a target), not a read."""
    node = ident
    parent = node.parent
    while parent is not None and parent.type in (*_PATTERNS, "list_splat_pattern"):
        node, parent = parent, parent.parent
    if parent is None:
        return False
    if parent.type in ("assignment", "augmented_assignment", "for_statement", "for_in_clause"):
        return parent.child_by_field_name("left") == node
    if parent.type == "named_expression":
        return parent.child_by_field_name("name") == node
    if parent.type == "as_pattern":
        return parent.child_by_field_name("alias") == node
    return parent.type in (
        "delete_statement",
        "global_statement",
        "nonlocal_statement",
        "function_definition",
        "class_definition",
        "aliased_import",
        "dotted_name",
    )


def decorator_names(fn: Node) -> list[str]:
    """The decorators of a function, as written without arguments: ["functools.cache"]."""
    parent = fn.parent
    if parent is None or parent.type != "decorated_definition":
        return []
    names = []
    for dec in parent.named_children:
        if dec.type != "decorator" or not dec.named_children:
            continue
        expr = dec.named_children[0]
        if expr.type == "call":
            expr = expr.child_by_field_name("function") or expr
        names.append(text(expr))
    return names


def test_scale(ctx: FileContext, node: Node) -> float:
    """0.5 inside a test function (it runs once per test run), else 1."""
    for fn in ctx.enclosing_functions(node):
        if fn.type == "function_definition" and text(fn.child_by_field_name("name")).startswith(
            "test"
        ):
            return 0.5
    return 1.0
