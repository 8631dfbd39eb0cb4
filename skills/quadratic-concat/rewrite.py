"""Rewrite string building in a loop to a list of parts joined once, and `sum(xs, [])` to
`list(itertools.chain.from_iterable(xs))`.

The `+=` rewrite handles one shape only, the one where it is provably the same:

    s = "head"                      s_parts = ["head"]
    for x in xs:             ->     for x in xs:
        s += f(x)                       s_parts.append(f(x))
                                    s = "".join(s_parts)

`s` is a local of a function, bound by that one literal assignment (a sibling statement before
the loop, with no use of `s` in between), changed in the loop only by `s += ...` statements and
not read there at all; the loop has no `else:`; no nested function sees `s`. Anything else is
left to the skill's guidance.
"""

from __future__ import annotations

from tree_sitter import Node

from megawatt.analyzers.context import FileContext, text
from megawatt.analyzers.detectors._scope_facts import (
    ScopeFacts,
    scope_facts,
    scope_of,
    string_kind,
)
from megawatt.fixes.edits import ensure_from_import, indentation_at, node_covering
from megawatt.model import Edit, Finding, Fix

_LOOPS = ("for_statement", "while_statement")


def rewrite(ctx: FileContext, finding: Finding) -> Fix | None:
    call = node_covering(ctx, finding, "call")
    if call is not None:
        return _rewrite_sum(ctx, call)
    aug = node_covering(ctx, finding, "augmented_assignment")
    if aug is None:
        return None
    return _rewrite_concat(ctx, aug)


# -- sum(xs, []) -------------------------------------------------------------------------------


def _rewrite_sum(ctx: FileContext, call: Node) -> Fix | None:
    args = call.child_by_field_name("arguments")
    if args is None or len(args.named_children) != 2:
        return None
    items, start = args.named_children
    if start.type == "keyword_argument":
        start = start.child_by_field_name("value")
    if start is None or start.type not in ("list", "tuple") or start.named_child_count:
        return None
    if items.type in ("keyword_argument", "list_splat", "dictionary_splat", "comment"):
        return None
    kind = "list" if start.type == "list" else "tuple"
    if kind in ctx.imports.module_names or ctx.is_local(call, kind):
        return None  # `list`/`tuple` are not the builtins here
    if ctx.is_local(call, "itertools") or ctx.is_local(call, "chain"):
        return None
    import_edit, chain = ensure_from_import(ctx, "itertools", "chain")
    edits = [Edit(call.start_byte, call.end_byte, f"{kind}({chain}.from_iterable({text(items)}))")]
    if import_edit is not None:
        edits.append(import_edit)
    return Fix(
        title=f"Flatten with {kind}(itertools.chain.from_iterable(...)) instead of sum(..., "
        f"{'[]' if kind == 'list' else '()'})",
        edits=tuple(edits),
        note="same result for every input sum() accepts; sum() raised TypeError on items that "
        f"are not {kind}s, chain accepts any iterable items",
    )


# -- s += ... in a loop -------------------------------------------------------------------------


def _rewrite_concat(ctx: FileContext, aug: Node) -> Fix | None:
    target = aug.child_by_field_name("left")
    if target is None or target.type != "identifier":
        return None
    name = text(target)
    scope = scope_of(aug)
    if scope.type != "function_definition":
        return None  # module globals can be read by any function the loop calls
    facts = scope_facts(ctx, scope, {})
    if name in facts.declared or name in facts.nested or name in facts.params:
        return None
    init, loop = _init_and_loop(ctx, facts, name, aug)
    if init is None or loop is None:
        return None
    value = init.child_by_field_name("right")
    if value is None or value.type not in ("string", "concatenated_string"):
        return None
    kind = string_kind(value if value.type == "string" else value.named_children[0])
    augs = _augs_in(facts, name, loop)
    if augs is None:
        return None
    # the only bindings of the name up to the loop's end: the init and the loop's `+=`s
    for b in facts.binds.get(name, ()):
        if init.start_byte <= b.start_byte < loop.end_byte and b != init and b not in augs:
            return None
    # no reads between the init and the end of the loop other than the `+=` targets
    aug_targets = {a.child_by_field_name("left").id for a in augs}  # type: ignore[union-attr]
    for use in facts.uses.get(name, ()):
        if init.end_byte <= use.start_byte < loop.end_byte and use.id not in aug_targets:
            return None
    parts = _fresh_name(ctx, facts, f"{name}_parts")
    empty = value.type == "string" and not any(
        c.type in ("string_content", "interpolation", "escape_sequence")
        for c in value.named_children
    )
    annotation = init.child_by_field_name("type")
    edits = [
        Edit(init.start_byte, init.end_byte, f"{parts} = [{'' if empty else text(value)}]"),
    ]
    for a in augs:
        rhs = a.child_by_field_name("right")
        if rhs is None:
            return None
        edits.append(Edit(a.start_byte, a.end_byte, f"{parts}.append({text(rhs)})"))
    sep = 'b""' if kind == "bytes" else '""'
    declared = f"{name}: {text(annotation)}" if annotation is not None else name
    edits.append(_after(ctx, loop, f"{declared} = {sep}.join({parts})"))
    safe, note = _exceptions_are_invisible(ctx, loop, scope)
    return Fix(
        title=f"Collect {name}'s parts in a list and join them once after the loop",
        edits=tuple(edits),
        safe=safe,
        note=note,
    )


def _init_and_loop(
    ctx: FileContext, facts: ScopeFacts, name: str, aug: Node
) -> tuple[Node | None, Node | None]:
    """`name = <literal>` as a statement, and the loop holding `aug` that runs after it: a later
    sibling of the init, or reached from one through the bodies of with/try statements only."""
    for assign in facts.assigns.get(name, ()):
        stmt = assign.parent
        if stmt is None or stmt.type != "expression_statement" or stmt.named_child_count != 1:
            continue
        block = stmt.parent
        node = aug
        while node.parent is not None and node.parent != block and node != facts.scope:
            node = node.parent
        if node.parent != block or node.start_byte < stmt.end_byte:
            continue
        # nothing between the init and the loop may use or bind the name (a later
        # `name = ...` in between is the init to look at instead)
        sibling = stmt.next_named_sibling
        while sibling is not None and sibling != node and not _mentions(sibling, name):
            sibling = sibling.next_named_sibling
        if sibling != node:
            continue
        loop = _straight_line_loop(node, aug)
        if loop is None or loop.child_by_field_name("alternative") is not None:
            return None, None  # for/while ... else: the join would have to go in two places
        return assign, loop
    return None, None


def _straight_line_loop(stmt: Node, aug: Node) -> Node | None:
    """`stmt` if it is a loop, else the loop holding `aug` inside the bodies of the with/try
    statements `stmt` is made of (never an if, an except or a finally: the loop might not run
    and the name would stay unbound)."""
    while stmt.type not in _LOOPS:
        if stmt.type not in ("with_statement", "try_statement"):
            return None
        body = stmt.child_by_field_name("body")
        if body is None or not (body.start_byte <= aug.start_byte < body.end_byte):
            return None
        inner = next(
            (c for c in body.named_children if c.start_byte <= aug.start_byte < c.end_byte), None
        )
        if inner is None:
            return None
        stmt = inner
    return stmt


def _mentions(node: Node, name: str) -> bool:
    stack = [node]
    while stack:
        n = stack.pop()
        if n.type == "identifier" and text(n) == name:
            return True
        stack.extend(n.named_children)
    return False


def _augs_in(facts: ScopeFacts, name: str, loop: Node) -> list[Node] | None:
    augs = []
    for b in facts.binds.get(name, ()):
        if not (loop.start_byte <= b.start_byte < loop.end_byte):
            continue
        if b.type != "augmented_assignment" or text(b.child_by_field_name("operator")) != "+=":
            return None
        left = b.child_by_field_name("left")
        if left is None or left.type != "identifier" or text(left) != name:
            return None
        parent = b.parent
        if parent is None or parent.type != "expression_statement":
            return None
        augs.append(b)
    return augs or None


def _fresh_name(ctx: FileContext, facts: ScopeFacts, base: str) -> str:
    taken = set(facts.uses) | set(facts.binds) | facts.nested | set(facts.params)
    taken |= ctx.imports.module_names
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}{n}", n + 1
    return candidate


def _after(ctx: FileContext, stmt: Node, line: str) -> Edit:
    """An edit adding `line` after the last line of `stmt`, at `stmt`'s indentation."""
    newline = "\r\n" if b"\r\n" in ctx.source[: stmt.end_byte + 2] else "\n"
    indent = indentation_at(ctx, stmt)
    end = ctx.source.find(b"\n", stmt.end_byte)
    if end < 0:
        return Edit(len(ctx.source), len(ctx.source), f"{newline}{indent}{line}{newline}")
    return Edit(end + 1, end + 1, f"{indent}{line}{newline}")


def _exceptions_are_invisible(ctx: FileContext, loop: Node, scope: Node) -> tuple[bool, str]:
    """If the loop raises, the old code left a partial string behind; the new one leaves the
    name unbound until the join. That is only visible to a handler in the same function."""
    node = loop.parent
    while node is not None and node != scope:
        if node.type == "try_statement":
            return False, (
                "the loop is inside a try statement: if it raises, a handler or finally block "
                "that reads the partial string would find it unbound"
            )
        if node.type == "with_statement" and not _only_opens(ctx, node):
            return False, (
                "the loop is inside a with statement whose context manager could swallow an "
                "exception; the partial string would then be unbound after it"
            )
        node = node.parent
    return True, ""


def _only_opens(ctx: FileContext, with_stmt: Node) -> bool:
    clause = next((c for c in with_stmt.named_children if c.type == "with_clause"), None)
    if clause is None:
        return False
    for item in clause.named_children:
        value = item.child_by_field_name("value")
        if value is not None and value.type == "as_pattern":
            value = value.named_children[0] if value.named_children else None
        if value is None or value.type != "call":
            return False
        func = value.child_by_field_name("function")
        if func is None or func.type != "identifier" or text(func) != "open":
            return False
        if not ctx.is_builtin(func):
            return False
    return True
