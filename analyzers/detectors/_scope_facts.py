"""Private helpers shared by the quadratic-concat, pop-front and blocking-in-async detectors.

`ScopeFacts` is what one function (or the module) does with each of its names, from one walk of
its body: which statements bind a name, where it is read, whether a nested scope sees it.
`value_kind` says what type an expression certainly produces, where the syntax shows it.

Candidates for `analyzers/context.py`: both are per-scope facts several detectors need.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tree_sitter import Node

from megawatt.analyzers.context import COMPREHENSION_TYPES, FileContext, text
from megawatt.analyzers.detectors._loop_facts import global_declared, module_mutations
from megawatt.model import Edit

NESTED_SCOPES = ("function_definition", "class_definition", "lambda")
_TARGET_CONTAINERS = ("pattern_list", "tuple_pattern", "list_pattern", "as_pattern_target")

# what a call to a builtin returns
_BUILTIN_KINDS = {
    "str": "str",
    "repr": "str",
    "ascii": "str",
    "chr": "str",
    "format": "str",
    "hex": "str",
    "oct": "str",
    "bin": "str",
    "input": "str",
    "bytes": "bytes",
    "bytearray": "bytearray",
    "list": "list",
    "sorted": "list",
    "tuple": "tuple",
    "dict": "dict",
    "set": "set",
    "frozenset": "set",
    "int": "number",
    "float": "number",
    "len": "number",
    "abs": "number",
    "round": "number",
    "ord": "number",
    "complex": "number",
    "bool": "bool",
    "object": "object",
}
_QUALIFIED_KINDS = {
    "collections.deque": "deque",
    "collections.defaultdict": "dict",
    "collections.OrderedDict": "dict",
    "collections.Counter": "dict",
    "collections.ChainMap": "dict",
    "array.array": "array",
    "io.StringIO": "stream",
    "io.BytesIO": "stream",
    "os.listdir": "list",
    "glob.glob": "list",
    "copy.copy": "unknown",
    "string.Template": "object",
}
# str methods returning str; on bytes the same methods return bytes
_STR_METHODS = frozenset(
    [
        "upper",
        "lower",
        "strip",
        "lstrip",
        "rstrip",
        "ljust",
        "rjust",
        "center",
        "zfill",
        "title",
        "casefold",
        "capitalize",
        "swapcase",
        "expandtabs",
        "removeprefix",
        "removesuffix",
    ]
)
_LIST_METHODS = frozenset(("split", "rsplit", "splitlines", "readlines"))


def snippet(node: Node, limit: int = 60) -> str:
    """The node's source on one line, shortened."""
    flat = " ".join(text(node).split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def string_kind(node: Node) -> str:
    """'bytes' or 'str' for a string literal node."""
    first = node.children[0] if node.children else None
    prefix = text(first).lower() if first is not None else ""
    return "bytes" if "b" in prefix else "str"


def value_kind(ctx: FileContext, node: Node | None) -> str:
    """The type an expression certainly has, as far as its syntax shows.

    One of str, bytes, strlike (str or bytes), list, tuple, dict, set, number, bool, none,
    bytearray, deque, array, stream, object, unknown.
    """
    if node is None:
        return "unknown"
    t = node.type
    if t == "string":
        return string_kind(node)
    if t == "concatenated_string":
        return string_kind(node.named_children[0]) if node.named_children else "str"
    if t in ("list", "list_comprehension"):
        return "list"
    if t == "tuple":
        return "tuple"
    if t in ("dictionary", "dictionary_comprehension"):
        return "dict"
    if t in ("set", "set_comprehension"):
        return "set"
    if t in ("integer", "float"):
        return "number"
    if t in ("true", "false"):
        return "bool"
    if t == "none":
        return "none"
    if t == "parenthesized_expression":
        inner = node.named_children[0] if node.named_children else None
        return value_kind(ctx, inner)
    if t == "assignment":  # a = b = value
        return value_kind(ctx, node.child_by_field_name("right"))
    if t == "conditional_expression":
        kids = node.named_children
        if len(kids) == 3:
            a, b = value_kind(ctx, kids[0]), value_kind(ctx, kids[2])
            return a if a == b else "unknown"
        return "unknown"
    if t == "binary_operator":
        op = node.child_by_field_name("operator")
        left = value_kind(ctx, node.child_by_field_name("left"))
        if op is None:
            return "unknown"
        if op.type == "%":
            return left if left in ("str", "bytes", "strlike") else "unknown"
        if op.type in ("+", "*"):
            right = value_kind(ctx, node.child_by_field_name("right"))
            for k in (left, right):
                if k in ("str", "bytes", "strlike", "list", "tuple"):
                    return k
        return "unknown"
    if t == "call":
        return _call_kind(ctx, node)
    return "unknown"


def _call_kind(ctx: FileContext, node: Node) -> str:
    func = node.child_by_field_name("function")
    if func is None:
        return "unknown"
    if func.type == "identifier" and ctx.is_builtin(func):
        return _BUILTIN_KINDS.get(text(func), "unknown")
    qualified = ctx.qualified(func)
    if qualified is not None:
        return _QUALIFIED_KINDS.get(qualified, "unknown")
    if func.type != "attribute":
        return "unknown"
    method = text(func.child_by_field_name("attribute"))
    obj = func.child_by_field_name("object")
    obj_kind = value_kind(ctx, obj) if obj is not None and obj.type == "string" else "unknown"
    if method in ("format", "decode", "format_map"):
        return "str" if method != "format" or obj_kind != "bytes" else "unknown"
    if method == "encode":
        return "bytes"
    if method == "join" or method in _STR_METHODS:
        return obj_kind if obj_kind != "unknown" else "strlike"
    if method in _LIST_METHODS:
        return "list"
    return "unknown"


def is_stringish(kind: str) -> bool:
    return kind in ("str", "bytes", "strlike")


@dataclass
class ScopeFacts:
    """One scope's names: bindings, plain assignments, reads, and names nested scopes mention."""

    scope: Node
    assigns: dict[str, list[Node]] = field(default_factory=dict)  # `name = value` statements
    binds: dict[str, list[Node]] = field(default_factory=dict)  # every node (re)binding a name
    attr_binds: dict[str, list[Node]] = field(default_factory=dict)  # "self.buf" -> assignments
    uses: dict[str, list[Node]] = field(default_factory=dict)  # identifier nodes, this scope
    # identifiers inside nested def/class/lambda (left empty for the module scope)
    nested: set[str] = field(default_factory=set)
    declared: set[str] = field(default_factory=set)  # global / nonlocal
    params: dict[str, Node | None] = field(default_factory=dict)  # parameter -> annotation

    def _bind(self, name: str, node: Node) -> None:
        self.binds.setdefault(name, []).append(node)

    def _bind_target(self, target: Node | None, node: Node) -> None:
        if target is None:
            return
        if target.type == "identifier":
            self._bind(text(target), node)
        elif target.type in _TARGET_CONTAINERS:
            for c in target.named_children:
                self._bind_target(c, node)
        elif target.type == "list_splat_pattern" and target.named_children:
            self._bind_target(target.named_children[0], node)
        elif target.type == "attribute":
            self.attr_binds.setdefault(text(target), []).append(node)

    def values(self, name: str) -> list[tuple[Node, Node | None]]:
        """(binding, value) for every binding of `name` except augmented assignments; the value
        is None where the syntax does not show it (a for target, `with ... as`, an import)."""
        out: list[tuple[Node, Node | None]] = []
        for b in self.binds.get(name, ()):
            if b.type != "augmented_assignment":
                out.append((b, bound_value(b, name)))
        return out

    def bindings_inside(self, name: str, node: Node, exclude: Node | None = None) -> list[Node]:
        """Nodes binding `name` (a plain name or 'obj.attr' text) within `node`'s range."""
        table = self.attr_binds if "." in name else self.binds
        return [
            b
            for b in table.get(name, ())
            if b is not exclude and node.start_byte <= b.start_byte < node.end_byte
        ]


def bound_value(binding: Node, name: str) -> Node | None:
    """The expression an assignment binds `name` to: `name = v`, `a = name = v`, and the
    matching item of `a, name = x, v`; None when it cannot be told."""
    if binding.type != "assignment":
        return None
    left, right = binding.child_by_field_name("left"), binding.child_by_field_name("right")
    while right is not None and right.type == "assignment":  # a = b = value
        if left is not None and left.type == "identifier" and text(left) == name:
            break
        left, right = right.child_by_field_name("left"), right.child_by_field_name("right")
    if left is None or right is None:
        return None
    while right.type == "assignment":
        right = right.child_by_field_name("right")
        if right is None:
            return None
    if left.type == "identifier":
        return right if text(left) == name else None
    if left.type in ("pattern_list", "tuple_pattern") and right.type in (
        "expression_list",
        "tuple",
    ):
        targets, values = left.named_children, right.named_children
        if len(targets) != len(values) or any(v.type == "list_splat" for v in values):
            return None
        for t, v in zip(targets, values, strict=True):
            if t.type == "identifier" and text(t) == name:
                return v
    return None


def scope_facts(ctx: FileContext, scope: Node, cache: dict[int, ScopeFacts]) -> ScopeFacts:
    """Facts for a function_definition (or the module), computed once per scope per `cache`."""
    found = cache.get(scope.id)
    if found is not None:
        return found
    facts = ScopeFacts(scope)
    cache[scope.id] = facts
    if scope.type == "function_definition":
        _params(scope, facts)
        body = scope.child_by_field_name("body")
        stack = [body] if body is not None else []
    else:
        stack = list(reversed(scope.named_children))
    while stack:
        n = stack.pop()
        t = n.type
        if t == "identifier":
            facts.uses.setdefault(text(n), []).append(n)
            continue
        if t in NESTED_SCOPES:
            name = n.child_by_field_name("name") if t != "lambda" else None
            if name is not None:
                facts._bind(text(name), n)
            if scope.type != "module":  # module scope: not needed, and it is the whole file
                facts.nested.update(_identifiers(n))
            continue
        if t == "attribute":
            obj = n.child_by_field_name("object")
            if obj is not None:
                stack.append(obj)
            continue
        if t == "keyword_argument":
            value = n.child_by_field_name("value")
            if value is not None:
                stack.append(value)
            continue
        if t == "assignment":
            left = n.child_by_field_name("left")
            if left is not None and left.type == "identifier":
                facts.assigns.setdefault(text(left), []).append(n)
            facts._bind_target(left, n)
        elif t == "augmented_assignment" or t in ("for_statement", "for_in_clause"):
            facts._bind_target(n.child_by_field_name("left"), n)
        elif t in ("as_pattern", "with_item"):
            facts._bind_target(n.child_by_field_name("alias"), n)
        elif t == "named_expression":
            facts._bind_target(n.child_by_field_name("name"), n)
        elif t == "delete_statement":
            for c in n.named_children:
                facts._bind_target(c, n)
                if c.type == "expression_list":
                    for cc in c.named_children:
                        facts._bind_target(cc, n)
        elif t in ("import_statement", "import_from_statement"):
            for c in n.named_children:
                if c.type == "aliased_import":
                    facts._bind(text(c.child_by_field_name("alias")), n)
                elif c.type == "dotted_name" and n.child_by_field_name("module_name") != c:
                    facts._bind(text(c).split(".", 1)[0], n)
            continue
        elif t in ("global_statement", "nonlocal_statement"):
            facts.declared.update(text(c) for c in n.named_children if c.type == "identifier")
            continue
        stack.extend(reversed(n.named_children))
    return facts


def _params(fn: Node, facts: ScopeFacts) -> None:
    params = fn.child_by_field_name("parameters")
    if params is None:
        return
    for p in params.named_children:
        if p.type == "identifier":
            facts.params[text(p)] = None
            continue
        name = p.child_by_field_name("name")
        if name is None and p.named_children:
            name = p.named_children[0]
            if name.type in ("list_splat_pattern", "dictionary_splat_pattern"):
                name = name.named_children[0] if name.named_children else None
        if name is not None and name.type == "identifier":
            facts.params[text(name)] = p.child_by_field_name("type")


def _identifiers(node: Node) -> set[str]:
    names: set[str] = set()
    stack = [node]
    while stack:
        n = stack.pop()
        if n.type == "identifier":
            names.add(text(n))
        elif n.type == "attribute":
            obj = n.child_by_field_name("object")
            if obj is not None:
                stack.append(obj)
        else:
            stack.extend(n.named_children)
    return names


def scope_of(node: Node) -> Node:
    """The scope whose names `node` sees: the innermost function_definition, lambda or
    class_definition around it, or the module."""
    parent = node.parent
    last = node
    while parent is not None:
        if parent.type in NESTED_SCOPES:
            return parent
        last = parent
        parent = parent.parent
    return last


def in_comprehension(node: Node, stop: Node) -> bool:
    """Whether `node` sits in a comprehension or generator expression below `stop`."""
    parent = node.parent
    while parent is not None and parent != stop:
        if parent.type in COMPREHENSION_TYPES:
            return True
        parent = parent.parent
    return False


def statement_of(node: Node) -> Node | None:
    """The expression_statement whose whole expression is `node`, if it is one."""
    parent = node.parent
    if (
        parent is not None
        and parent.type == "expression_statement"
        and parent.named_child_count == 1
    ):
        return parent
    return None


_ANNOTATION_KINDS = {
    "str": "str",
    "bytes": "bytes",
    "tuple": "tuple",
    "list": "list",
    "List": "list",
    "typing.List": "list",
    "bytearray": "bytearray",
    "dict": "dict",
    "Dict": "dict",
    "deque": "deque",
    "collections.deque": "deque",
}


def annotation_kind(annotation: Node | None) -> str:
    """The kind an annotation names ('other' for any type not in the table)."""
    if annotation is None:
        return "unknown"
    name = text(annotation).split("[", 1)[0].strip()
    if name in _ANNOTATION_KINDS:
        return _ANNOTATION_KINDS[name]
    return "other" if name else "unknown"


def self_attribute_kinds(
    ctx: FileContext, facts: ScopeFacts, target: Node, cache: dict[int, dict[str, set[str]]]
) -> tuple[set[str], str]:
    """For `self.x` in a method: the kinds of every `self.x = value` in the class, and a note
    saying so; ({"unknown"}, "") for anything else."""
    obj = target.child_by_field_name("object")
    fn = facts.scope
    if obj is None or obj.type != "identifier" or fn.type != "function_definition":
        return {"unknown"}, ""
    first = next(iter(facts.params), None)
    if first is None or text(obj) != first:
        return {"unknown"}, ""
    holder = fn.parent.parent if fn.parent is not None else None
    if holder is not None and holder.type == "decorated_definition":
        holder = holder.parent.parent if holder.parent is not None else None
    if holder is None or holder.type != "class_definition":
        return {"unknown"}, ""
    table = cache.get(holder.id)
    if table is None:
        table = cache[holder.id] = _class_attributes(ctx, holder)
    attr = text(target.child_by_field_name("attribute"))
    kinds = table.get(attr)
    if not kinds:
        return {"unknown"}, ""
    return set(kinds), f"self.{attr} is set to a {'/'.join(sorted(kinds))} in the class"


def _class_attributes(ctx: FileContext, cls: Node) -> dict[str, set[str]]:
    """`self.x = value` anywhere in the class's methods: x -> kinds of the values."""
    table: dict[str, set[str]] = {}
    body = cls.child_by_field_name("body")
    stack = [body] if body is not None else []
    while stack:
        n = stack.pop()
        if n.type == "assignment":
            left = n.child_by_field_name("left")
            if left is not None and left.type == "attribute":
                obj = left.child_by_field_name("object")
                if obj is not None and obj.type == "identifier":
                    kind = annotation_kind(n.child_by_field_name("type"))
                    if kind == "unknown":
                        kind = value_kind(ctx, n.child_by_field_name("right"))
                    attr = text(left.child_by_field_name("attribute"))
                    table.setdefault(attr, set()).add(kind)
        elif n.type in ("string", "comment", "class_definition"):
            continue
        stack.extend(n.named_children)
    return table


_SMALL_LOOP = 16  # `for i in range(3)` or a literal of a few items: not worth a report


def loop_is_small(ctx: FileContext, loop: Node) -> bool:
    """A for loop over a literal collection or `range(<small int>)`: bounded, cheap."""
    if loop.type != "for_statement":
        return False
    it = loop.child_by_field_name("right")
    if it is None:
        return False
    if it.type in ("tuple", "list", "set"):
        return len(it.named_children) <= _SMALL_LOOP
    if it.type == "call":
        func = it.child_by_field_name("function")
        args = it.child_by_field_name("arguments")
        if (
            func is not None
            and func.type == "identifier"
            and text(func) == "range"
            and ctx.is_builtin(func)
            and args is not None
        ):
            nums = args.named_children
            if nums and all(n.type == "integer" for n in nums):
                try:
                    values = [int(text(n), 0) for n in nums]
                except ValueError:
                    return False
                span = values[0] if len(values) == 1 else values[1] - values[0]
                return span <= _SMALL_LOOP
    return False


def accumulating_loops(ctx: FileContext, facts: ScopeFacts, target: str, aug: Node) -> list[Node]:
    """Loops around `aug`, innermost first, across whose iterations `target` keeps growing:
    up to (not including) the first loop that starts it afresh - rebinds it other than with
    `+=` or with a value computed from itself (`s = s + x`, `q = extra + q`); for `obj.attr`,
    also a loop that rebinds `obj`."""
    loops: list[Node] = []
    head = target.split(".", 1)[0] if "." in target else None
    for loop in ctx.loops_around(aug):
        if head is not None and facts.bindings_inside(head, loop):
            break  # `obj.text += ...` where obj is another object each iteration
        if any(_resets(b, target) for b in facts.bindings_inside(target, loop, exclude=aug)):
            break
        loops.append(loop)
    return loops


def _resets(binding: Node, target: str) -> bool:
    if binding.type == "augmented_assignment":
        return not (
            text(binding.child_by_field_name("operator")) == "+="
            and text(binding.child_by_field_name("left")) == target
        )
    if binding.type == "assignment" and text(binding.child_by_field_name("left")) == target:
        value = binding.child_by_field_name("right")
        return value is None or not _mentions_text(value, target)
    return True


def _mentions_text(node: Node, target: str) -> bool:
    """Whether `target` (a name or `obj.attr`) occurs in `node` as an expression."""
    kinds = ("attribute",) if "." in target else ("identifier",)
    stack = [node]
    while stack:
        n = stack.pop()
        if n.type in kinds and text(n) == target:
            return True
        stack.extend(n.named_children)
    return False


def name_kinds(ctx: FileContext, facts: ScopeFacts, name: str) -> tuple[set[str], str]:
    """The kinds of every value `name` is bound to in the scope (parameter annotation included;
    'unknown' for a binding whose value the syntax does not show), and the first binding that
    shows a kind, as text for evidence."""
    kinds: set[str] = set()
    origin = ""
    if name in facts.params:
        annotation = facts.params[name]
        kind = annotation_kind(annotation)
        kinds.add(kind)
        if kind != "unknown" and annotation is not None:
            origin = f"parameter annotated {text(annotation)}"
    for binding, value in facts.values(name):
        kind = annotation_kind(binding.child_by_field_name("type"))
        if kind == "unknown":
            kind = value_kind(ctx, value)
        kinds.add(kind)
        if not origin and kind not in ("unknown", "none"):
            origin = snippet(binding, 80)
    return kinds or {"unknown"}, origin


def place_import(ctx: FileContext, edit: Edit | None) -> Edit | None:
    """Move an import edit that `fixes.edits.ensure_import` put at byte 0 below the module's
    header: leading comments (a shebang, a coding line, a licence), the docstring,
    `from __future__` imports and the imports right after them. (`import_insertion_point` stops at a docstring that follows a
    comment; at byte 0 the import would push a coding line out of the first two lines, or land
    above `from __future__` - a SyntaxError.) To move into fixes/edits.py."""
    if edit is None or edit.start != 0 or edit.end != 0:
        return edit
    at = 0
    seen_code = False
    for child in ctx.tree.root_node.named_children:
        if child.type == "comment":
            if not seen_code:
                at = child.end_byte
        elif (
            child.type == "expression_statement"
            and not seen_code
            and child.named_children
            and child.named_children[0].type == "string"
        ) or child.type in (
            "future_import_statement",
            "import_statement",
            "import_from_statement",
        ):
            at, seen_code = child.end_byte, True
        else:
            break
    if at == 0:
        return edit
    nl = ctx.source.find(b"\n", at)
    if nl < 0:
        return Edit(len(ctx.source), len(ctx.source), "\n" + edit.text)
    return Edit(nl + 1, nl + 1, edit.text)


# -- loops bounded by a small constant ---------------------------------------------------------

_PASS_THROUGH = frozenset(("enumerate", "reversed", "sorted", "list", "tuple", "set", "frozenset"))
_SMALL_CONTAINERS = ("tuple", "list", "set", "dictionary", "string", "concatenated_string")
_IMMUTABLE_CONTAINERS = ("tuple", "string", "concatenated_string")


def small_literal_size(node: Node | None) -> int | None:
    """How many items iterating over a literal yields (a tuple, list, set or dict display, or a
    plain string: its characters); None when it is not such a literal."""
    if node is None:
        return None
    if node.type in ("parenthesized_expression",) and node.named_children:
        return small_literal_size(node.named_children[0])
    if node.type in ("tuple", "list", "set"):
        if any(c.type in ("list_splat", "comment") for c in node.named_children):
            return None
        return len(node.named_children)
    if node.type == "dictionary":
        if any(c.type != "pair" for c in node.named_children):
            return None
        return len(node.named_children)
    if node.type == "string":
        if any(c.type == "interpolation" for c in node.named_children):
            return None  # an f-string: its length is not in the source
        body = [c for c in node.named_children if c.type == "string_content"]
        return sum(len(text(c)) for c in body)
    return None


def _constant_value(ctx: FileContext, ident: Node, cache: dict[int, ScopeFacts]) -> Node | None:
    """The literal a name is bound to once and for all: one binding in its scope (the function
    when the name is local there, else the module), no `global` rebinding it, and for a
    mutable display no call or store that may change it."""
    name = text(ident)
    fn = ctx.function_of(ident)
    local = fn is not None and ctx.is_local(ident, name)
    facts = scope_facts(ctx, fn if local and fn is not None else ctx.tree.root_node, cache)
    bound = facts.binds.get(name, [])
    if len(bound) != 1 or name in facts.declared:
        return None
    value = bound_value(bound[0], name)
    if value is None or small_literal_size(value) is None:
        return None
    if not local:
        if global_declared(ctx, name):
            return None
        if value.type not in _IMMUTABLE_CONTAINERS and any(
            m.node.start_byte != bound[0].start_byte for m in module_mutations(ctx, name)
        ):
            return None
    elif value.type not in _IMMUTABLE_CONTAINERS:
        return None  # a local list may be grown anywhere in the function: not worth proving
    return value


def iteration_bound(
    ctx: FileContext, iterable: Node | None, cache: dict[int, ScopeFacts]
) -> int | None:
    """At most how many items `for ... in iterable` yields, when the source says so: a literal,
    a name bound once to one (`_COOKIE_KEYS = ("sessionid", "csrftoken")`), a literal dict's
    `.items()`/`.keys()`/`.values()`, `range(<int>)`, and `zip`/`enumerate`/`reversed`/
    `sorted` of those (zip stops at its shortest argument)."""
    if iterable is None:
        return None
    size = small_literal_size(iterable)
    if size is not None:
        return size
    if iterable.type == "identifier":
        value = _constant_value(ctx, iterable, cache)
        return small_literal_size(value) if value is not None else None
    if iterable.type != "call":
        return None
    func, args = iterable.child_by_field_name("function"), iterable.child_by_field_name("arguments")
    if func is None or args is None or args.type != "argument_list":
        return None
    positional = [a for a in args.named_children if a.type not in ("keyword_argument", "comment")]
    if func.type == "attribute":
        attr = func.child_by_field_name("attribute")
        obj = func.child_by_field_name("object")
        if attr is not None and text(attr) in ("items", "keys", "values") and not positional:
            return iteration_bound(ctx, obj, cache)
        return None
    if func.type != "identifier" or not ctx.is_builtin(func):
        return None
    name = text(func)
    if any(a.type in ("list_splat", "dictionary_splat") for a in args.named_children):
        return None
    if name == "range":
        if not positional or not all(a.type == "integer" for a in positional):
            return None
        try:
            values = [int(text(a), 0) for a in positional]
        except ValueError:
            return None
        start, stop = (0, values[0]) if len(values) == 1 else (values[0], values[1])
        step = values[2] if len(values) > 2 else 1
        return max(0, -(-(stop - start) // step)) if step > 0 else None
    if name == "zip" and positional:
        bounds = [iteration_bound(ctx, a, cache) for a in positional]
        known = [b for b in bounds if b is not None]
        return min(known) if known else None
    if name in _PASS_THROUGH and len(positional) == 1:
        return iteration_bound(ctx, positional[0], cache)
    return None


def _len_of(node: Node | None, target: str) -> bool:
    """`node` is `len(target)`."""
    if node is None or node.type != "call":
        return False
    func, args = node.child_by_field_name("function"), node.child_by_field_name("arguments")
    if func is None or text(func) != "len" or args is None:
        return False
    items = [a for a in args.named_children if a.type != "comment"]
    return len(items) == 1 and text(items[0]) == target


def _small_int(node: Node | None, limit: int) -> bool:
    if node is None or node.type != "integer":
        return False
    try:
        return 0 < int(text(node), 0) <= limit
    except ValueError:
        return False


def while_bounded_by_growth(loop: Node, target: str, limit: int = _SMALL_LOOP) -> bool:
    """A `while` whose condition stops it once `target`, which the loop grows, reaches a small
    length: `while len(s) % 4:` (base64 padding: at most 3 rounds), `while len(s) % 4 != 0:`,
    `while len(s) < 8:`. Each `+=` makes `target` longer, so the loop runs at most that many
    times."""
    if loop.type != "while_statement":
        return False
    cond = loop.child_by_field_name("condition")
    while cond is not None and cond.type == "parenthesized_expression" and cond.named_children:
        cond = cond.named_children[0]
    if cond is None:
        return False

    def modulo(node: Node | None) -> bool:
        return (
            node is not None
            and node.type == "binary_operator"
            and text(node.child_by_field_name("operator")) == "%"
            and _len_of(node.child_by_field_name("left"), target)
            and _small_int(node.child_by_field_name("right"), limit)
        )

    if modulo(cond):
        return True
    if cond.type != "comparison_operator" or len(cond.named_children) != 2:
        return False
    left, right = cond.named_children
    ops = [text(c) for c in cond.children if not c.is_named]
    if len(ops) != 1:
        return False
    op = ops[0]
    if op == "!=" and modulo(left) and right.type == "integer" and text(right) == "0":
        return True
    if op in ("<", "<=") and _len_of(left, target) and _small_int(right, limit):
        return True
    return op in (">", ">=") and _small_int(left, limit) and _len_of(right, target)


def loop_is_bounded(
    ctx: FileContext, loop: Node, target: str, cache: dict[int, ScopeFacts]
) -> bool:
    """The loop runs only a few times, as the source shows: `loop_is_small`, a `for` over
    something `iteration_bound` finds small, or a `while` that `target`'s growth ends soon."""
    if loop_is_small(ctx, loop):
        return True
    if loop.type == "for_statement":
        bound = iteration_bound(ctx, loop.child_by_field_name("right"), cache)
        return bound is not None and bound <= _SMALL_LOOP
    return while_bounded_by_growth(loop, target)
