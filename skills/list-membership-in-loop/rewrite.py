"""Test membership against a set built once instead of scanning a list on every iteration.

Three shapes:
- a long literal display `x in ["a", "b", …]` becomes a set literal `x in {"a", "b", …}`;
- a module-level constant list that nothing in the module changes gets a module-level
  `_NAME_SET = frozenset(NAME)` right after its definition;
- any other list gets `name_set = set(name)` just before the outermost loop that leaves it alone.

The fix is safe only when the analysis sees everything that matters: the elements are hashable
constants (strings, numbers), the list cannot change while the set is in use, and the value
tested is itself a plain str/number. Otherwise it is offered as unsafe, with the reason.
"""

from __future__ import annotations

from tree_sitter import Node

from megawatt.analyzers.context import FileContext, text
from megawatt.analyzers.detectors._loop_facts import (
    loop_mutations,
    name_used,
    statement_of,
)
from megawatt.analyzers.detectors.list_membership_in_loop import (
    Membership,
    analyze,
    value_hashable,
)
from megawatt.fixes.edits import indentation_at, line_start
from megawatt.model import Edit, Finding, Fix


def _comparison(ctx: FileContext, finding: Finding) -> Node | None:
    node = ctx.tree.root_node.descendant_for_byte_range(
        finding.span.start_byte, finding.span.end_byte
    )
    while node is not None and not (
        node.type == "comparison_operator"
        and node.start_byte == finding.span.start_byte
        and node.end_byte == finding.span.end_byte
    ):
        node = node.parent
    return node


def _right_operands(cmp: Node) -> list[Node]:
    return [
        c
        for c in cmp.children
        if c.prev_sibling is not None and c.prev_sibling.type in ("in", "not in")
    ]


def _unsafe_reasons(ctx: FileContext, found: Membership) -> list[str]:
    reasons = []
    if found.facts.hashable is not True:
        reasons.append(
            f"the elements of {text(found.right)[:40]} are not known to be hashable "
            "(a set cannot hold lists or dicts)"
        )
    if value_hashable(ctx, found.left) is not True:
        reasons.append(
            f"{text(found.left)[:40]} must be hashable and hash like the values it equals "
            "(true of str, int, float; a list raises TypeError, an object with a custom __eq__ "
            "may stop matching)"
        )
    return reasons


def _display_fix(ctx: FileContext, found: Membership) -> Fix | None:
    node = found.right
    if node.type not in ("list", "tuple") or any(c.type == "comment" for c in node.children):
        return None
    open_, close = node.children[0], node.children[-1]
    if open_.type not in ("[", "(") or close.type not in ("]", ")"):
        return None
    reasons = _unsafe_reasons(ctx, found)
    return Fix(
        title=f"Test against a set literal instead of a {found.facts.size}-element {node.type}",
        edits=(
            Edit(open_.start_byte, open_.end_byte, "{"),
            Edit(close.start_byte, close.end_byte, "}"),
        ),
        safe=not reasons,
        note="; ".join(reasons),
    )


def _set_name(ctx: FileContext, base: str, upper: bool) -> str:
    stem = base.strip("_")
    name = f"_{stem.upper()}_SET" if upper else f"{stem}_set"
    n = 2
    while name_used(ctx, name):
        name = f"_{stem.upper()}_SET_{n}" if upper else f"{stem}_set_{n}"
        n += 1
    return name


def _set_call(target: Node | None, name: str) -> bool:
    """`target` is `<id> = set(name)` or `<id> = frozenset(name)`."""
    if target is None or target.type != "expression_statement" or not target.named_children:
        return False
    assign = target.named_children[0]
    if assign.type != "assignment":
        return False
    left, right = assign.child_by_field_name("left"), assign.child_by_field_name("right")
    if left is None or left.type != "identifier" or right is None or right.type != "call":
        return False
    func, args = right.child_by_field_name("function"), right.child_by_field_name("arguments")
    return (
        func is not None
        and text(func) in ("set", "frozenset")
        and args is not None
        and text(args) == f"({name})"
    )


def _assigned_name(stmt: Node) -> str:
    return text(stmt.named_children[0].child_by_field_name("left"))


def _module_fix(ctx: FileContext, found: Membership) -> Fix | None:
    """`_NAME_SET = frozenset(NAME)` after NAME's only definition."""
    name = found.name or ""
    if found.changed_elsewhere or len(found.definitions) != 1:
        return None
    definition = found.definitions[0]
    stmt = definition.parent
    if (
        definition.type != "assignment"
        or stmt is None
        or stmt.type != "expression_statement"
        or stmt.parent is None
        or stmt.parent.type != "module"
        or (stmt.end_byte > found.cmp.start_byte and ctx.function_of(found.cmp) is None)
    ):
        return None
    edits: list[Edit] = []
    following = stmt.next_named_sibling
    if _set_call(following, name) and following is not None:
        set_name = _assigned_name(following)
    else:
        set_name = _set_name(ctx, name, upper=True)
        nl = ctx.source.find(b"\n", stmt.end_byte)
        at = len(ctx.source) if nl < 0 else nl + 1
        prefix = "\n" if nl < 0 else ""
        edits.append(Edit(at, at, f"{prefix}{set_name} = frozenset({name})\n"))
    edits.append(Edit(found.right.start_byte, found.right.end_byte, set_name))
    reasons = _unsafe_reasons(ctx, found)
    if not name.isupper():
        reasons.append(
            f"{name} is not named as a constant; another module could change it after import"
        )
    return Fix(
        title=f"Test against a module-level frozenset {set_name} instead of scanning {name}",
        edits=tuple(edits),
        safe=not reasons,
        note="; ".join(reasons),
    )


def _dominated(found: Membership, stmt: Node) -> bool:
    """Whether a definition of the local name runs before `stmt` on every path to it: some
    definition is a statement earlier in the same block as `stmt` or as one of its ancestors."""
    node: Node | None = stmt
    while node is not None and node != found.scope:
        if node.parent is not None and node.parent.type in ("block", "module"):
            sibling = node.prev_named_sibling
            while sibling is not None:
                if any(d.parent == sibling for d in found.definitions):
                    return True
                sibling = sibling.prev_named_sibling
        node = node.parent
    return False


def _local_fix(ctx: FileContext, found: Membership) -> Fix | None:
    """`name_set = set(name)` before the outermost loop that does not change the list."""
    name = found.name or ""
    outer = None
    for loop in found.loops:
        if any(m.chain[0] == name for m in loop_mutations(ctx, loop)):
            break
        outer = loop
    if outer is None:
        return None
    stmt = statement_of(outer)
    if stmt is None or ctx.source[line_start(ctx, stmt.start_byte) : stmt.start_byte].strip():
        return None  # shares its line with other code (`if x: for …`)
    if ctx.function_of(stmt) != ctx.function_of(found.cmp):
        return None
    edits: list[Edit] = []
    previous = stmt.prev_named_sibling
    if _set_call(previous, name) and previous is not None:
        set_name = _assigned_name(previous)
    else:
        set_name = _set_name(ctx, name, upper=False)
        at = line_start(ctx, stmt.start_byte)
        edits.append(Edit(at, at, f"{indentation_at(ctx, stmt)}{set_name} = set({name})\n"))
    edits.append(Edit(found.right.start_byte, found.right.end_byte, set_name))
    reasons = _unsafe_reasons(ctx, found)
    if found.origin == "local" and not _dominated(found, stmt):
        reasons.append(f"{name} may not be assigned yet where the set is built")
    if found.origin == "param":
        reasons.append(f"{name} is a parameter: only its annotation says it is a list")
    if found.changed_elsewhere:
        where = found.changed_elsewhere[0].node
        reasons.append(
            f"{name} is changed elsewhere in the module (line {where.start_point.row + 1}); "
            "nothing the loop calls may change it"
        )
    return Fix(
        title=f"Build {set_name} = set({name}) once before the loop and test against it",
        edits=tuple(edits),
        safe=not reasons,
        note="; ".join(reasons),
    )


def rewrite(ctx: FileContext, finding: Finding) -> Fix | None:
    cmp = _comparison(ctx, finding)
    if cmp is None:
        return None
    for right in _right_operands(cmp):
        found = analyze(ctx, cmp, right)
        if found is None:
            continue
        if found.origin == "display":
            return _display_fix(ctx, found)
        if found.origin == "built" or found.name is None:
            return None
        if found.origin == "module":
            fix = _module_fix(ctx, found)
            if fix is not None:
                return fix
        return _local_fix(ctx, found)
    return None
