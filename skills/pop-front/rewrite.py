"""Turn a list drained (or filled) from the front into a `collections.deque`.

    queue = list(orders)                 queue = collections.deque(orders)
    while queue:                   ->    while queue:
        order = queue.pop(0)                 order = queue.popleft()

Offered only when the list is a local of the function, built once by a list display,
comprehension, `list(...)` or `sorted(...)`, and every other use of the name is one a deque
answers the same way: append/extend/pop()/clear/remove/count/reverse calls, `pop(0)` and
`insert(0, x)` (rewritten), truth tests, len(), `x in q`, `q[0]`/`q[-1]`, iteration that does
not touch the name, and builtins that only iterate (list(q), sorted(q), sum(q), ...). A list that
is returned, passed to another function, compared, sliced or printed stays a list.
"""

from __future__ import annotations

from tree_sitter import Node

from megawatt.analyzers.context import FileContext, text
from megawatt.analyzers.detectors._scope_facts import (
    scope_facts,
    scope_of,
    value_kind,
)
from megawatt.fixes.edits import ensure_from_import, node_covering
from megawatt.model import Edit, Finding, Fix

_SAME_METHODS = frozenset(("append", "extend", "clear", "remove", "count", "reverse"))
_ITERATING_BUILTINS = frozenset(
    (
        "len",
        "bool",
        "list",
        "tuple",
        "sorted",
        "set",
        "frozenset",
        "sum",
        "min",
        "max",
        "any",
        "all",
    )
)
_CONDITIONS = ("if_statement", "elif_clause", "while_statement", "conditional_expression")


def rewrite(ctx: FileContext, finding: Finding) -> Fix | None:
    call = node_covering(ctx, finding, "call")
    func = call.child_by_field_name("function") if call is not None else None
    recv = func.child_by_field_name("object") if func is not None else None
    if call is None or recv is None or recv.type != "identifier":
        return None
    name = text(recv)
    scope = scope_of(call)
    if scope.type != "function_definition":
        return None
    facts = scope_facts(ctx, scope, {})
    if name in facts.declared or name in facts.nested:
        return None
    binds = facts.binds.get(name, [])
    assigns = facts.assigns.get(name, [])
    if len(binds) != 1 or len(assigns) != 1 or binds[0] != assigns[0]:
        return None  # assigned exactly once, by a plain `name = value`
    assign = assigns[0]
    value = assign.child_by_field_name("right")
    if value is None or assign.child_by_field_name("type") is not None:
        return None  # an annotation would still say list
    if name in facts.params and not _replaces_parameter(assign, scope):
        return None  # the caller's list: draining it is visible to the caller
    if ctx.is_local(call, "collections") or ctx.is_local(call, "deque"):
        return None
    import_edit, deque = ensure_from_import(ctx, "collections", "deque")
    construct = _construct(ctx, value, deque)
    if construct is None:
        return None
    edits = [construct]
    target = assign.child_by_field_name("left")
    for use in facts.uses.get(name, ()):
        if use == target or value.start_byte <= use.start_byte < value.end_byte:
            continue  # `items = list(items)` reads the parameter, not the new list
        if use.start_byte < assign.start_byte and name in facts.params:
            return None
        edit = _compatible(ctx, use, name)
        if edit is False:
            return None
        if isinstance(edit, Edit):
            edits.append(edit)
    if import_edit is not None:
        edits.append(import_edit)
    return Fix(
        title=f"Make {name} a collections.deque and take items from its front in O(1)",
        edits=tuple(edits),
    )


def _replaces_parameter(assign: Node, fn: Node) -> bool:
    """`items = list(items)` as a statement of the function's own body: from there on the name
    is the new local list, whatever the caller passed."""
    stmt = assign.parent
    return (
        stmt is not None
        and stmt.type == "expression_statement"
        and stmt.parent == fn.child_by_field_name("body")
    )


def _construct(ctx: FileContext, value: Node, deque: str) -> Edit | None:
    """The edit building a deque where the list was built."""
    if value.type == "list" and value.named_child_count == 0:
        return Edit(value.start_byte, value.end_byte, f"{deque}()")
    func = value.child_by_field_name("function") if value.type == "call" else None
    if func is not None and func.type == "identifier" and text(func) == "list":
        if ctx.is_builtin(func):
            return Edit(func.start_byte, func.end_byte, deque)
        return None
    if value_kind(ctx, value) == "list":
        return Edit(value.start_byte, value.end_byte, f"{deque}({text(value)})")
    return None


def _compatible(ctx: FileContext, use: Node, name: str) -> Edit | bool:
    """An edit (for pop(0)/insert(0, x)), True when the use needs none, False when a deque
    could behave differently there."""
    parent = use.parent
    if parent is None:
        return False
    if parent.type == "attribute" and parent.child_by_field_name("object") == use:
        return _method_use(parent)
    if parent.type == "subscript" and parent.child_by_field_name("value") == use:
        index = parent.child_by_field_name("subscript")
        return index is not None and text(index).replace(" ", "") in ("0", "-1")
    if parent.type == "comparison_operator":
        ops = [c.type for c in parent.children if not c.is_named]
        kids = parent.named_children
        return ops in (["in"], ["not in"], ["not", "in"]) and len(kids) == 2 and kids[1] == use
    if parent.type == "argument_list" and parent.named_child_count == 1:
        call = parent.parent
        func = call.child_by_field_name("function") if call is not None else None
        return (
            func is not None
            and func.type == "identifier"
            and text(func) in _ITERATING_BUILTINS
            and ctx.is_builtin(func)
        )
    if (
        parent.type in ("for_statement", "for_in_clause")
        and parent.child_by_field_name("right") == use
    ):
        # iterating a deque that the loop changes raises RuntimeError; a list does not
        owner = parent if parent.type == "for_statement" else parent.parent
        body = owner.child_by_field_name("body") if owner is not None else None
        scan = body if body is not None else owner
        return scan is not None and not _mentions(scan, name, skip=use)
    return _in_condition(use)


def _method_use(attribute: Node) -> Edit | bool:
    call = attribute.parent
    method = text(attribute.child_by_field_name("attribute"))
    if call is None or call.type != "call" or call.child_by_field_name("function") != attribute:
        return False  # a bound method passed on, or an attribute read
    args = call.child_by_field_name("arguments")
    if args is None or args.type != "argument_list":
        return False
    values = args.named_children
    name_node = attribute.child_by_field_name("attribute")
    if name_node is None:
        return False
    if method == "pop":
        if not values:
            return True
        if len(values) == 1 and text(values[0]) == "0":
            return Edit(name_node.start_byte, args.end_byte, "popleft()")
        return False
    if method == "insert":
        if len(values) == 2 and text(values[0]) == "0" and values[1].type != "keyword_argument":
            return Edit(name_node.start_byte, args.end_byte, f"appendleft({text(values[1])})")
        return False
    if method in _SAME_METHODS:
        return not any(v.type in ("keyword_argument", "dictionary_splat") for v in values)
    return False


def _in_condition(use: Node) -> bool:
    """A truth test: the condition of if/elif/while/ternary, possibly under not/and/or."""
    node = use
    parent = use.parent
    while parent is not None and parent.type in (
        "not_operator",
        "boolean_operator",
        "parenthesized_expression",
    ):
        if parent.type == "not_operator":
            return True  # `not q` is a bool whatever q is
        node, parent = parent, parent.parent
    if parent is None or parent.type not in _CONDITIONS:
        return False
    if parent.type == "conditional_expression":
        kids = parent.named_children
        return len(kids) == 3 and kids[1] == node
    return parent.child_by_field_name("condition") == node


def _mentions(node: Node, name: str, skip: Node) -> bool:
    stack = [node]
    while stack:
        n = stack.pop()
        if n.type == "identifier" and text(n) == name and n != skip:
            return True
        stack.extend(n.named_children)
    return False
