"""`deepcopy-in-hot-path`: `copy.deepcopy(...)` in a function body or a loop whose copy is
provably only read (or never used).

deepcopy walks the whole object graph through `__reduce_ex__`/`__deepcopy__`, keeping a memo
dict: 10-100× slower than a shallow copy or no copy. But a deep copy that is stored, returned,
handed to other code or changed is usually the point of the code (networkx's `to_directed`
promises one), and nothing local proves a cheaper copy keeps behaviour. So only two shapes are
reported: the copy (and every part of it taken) is only read while the original cannot change,
or the copy is never used. Everything else, and every function whose docstring documents a
deep copy, is left alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from tree_sitter import Node

from megawatt.analyzers.context import FileContext, text
from megawatt.analyzers.detector import Captures, Detector
from megawatt.analyzers.detectors._loop_facts import (
    chain_of,
    is_bound_here,
    maybe_imported,
    mutations,
    occurrences,
    target_names,
    test_scale,
    walk,
)
from megawatt.model import Finding

_PROTOCOL = frozenset({"__deepcopy__", "__copy__", "__reduce__", "__reduce_ex__"})
_COPYING_WORDS = frozenset(
    {"copy", "deepcopy", "clone", "duplicate", "snapshot", "replace", "copied", "cloned"}
)
# functions that only read their argument (serialise or print it)
_READING_FUNCTIONS = frozenset(
    {"json.dumps", "json.dump", "pickle.dumps", "pickle.dump", "pprint.pformat",
     "pprint.pprint", "marshal.dumps", "reprlib.repr"}
)  # fmt: skip
# what a docstring says when the deep copy is the function's contract
_DOCUMENTS_COPY = re.compile(r"deep[\s_-]*cop(?:y|ies)|independent\s+cop(?:y|ies)", re.I)
# builtins whose result holds nothing of their arguments (numbers, strings, bools)
_SCALAR_BUILTINS = frozenset(
    {"len", "print", "repr", "str", "ascii", "format", "bool", "int", "float", "complex",
     "hash", "id", "type", "isinstance", "issubclass", "callable", "any", "all", "sum", "abs",
     "round", "ord", "chr", "bytes", "bytearray", "range", "hasattr"}
)  # fmt: skip
# builtins whose result holds the argument's members: the copy lives on in it
_SHARING_BUILTINS = frozenset(
    {"sorted", "list", "tuple", "set", "frozenset", "dict", "min", "max", "enumerate", "zip",
     "reversed", "iter", "next", "map", "filter", "getattr", "vars"}
)  # fmt: skip
# methods that change nothing and return a value independent of the receiver
_SCALAR_METHODS = frozenset(
    {"count", "index", "startswith", "endswith", "find", "rfind", "rindex", "split", "rsplit",
     "splitlines", "strip", "lstrip", "rstrip", "lower", "upper", "casefold", "title",
     "capitalize", "replace", "format", "format_map", "encode", "decode", "isdigit", "isalpha",
     "isalnum", "isspace", "isupper", "islower", "isidentifier", "isdecimal", "isnumeric",
     "partition", "rpartition", "zfill", "ljust", "rjust", "center", "expandtabs", "translate",
     "hex", "issubset", "issuperset", "isdisjoint", "__len__", "__contains__"}
)  # fmt: skip
# methods that change nothing but return (views of) the receiver's members
_VIEW_METHODS = frozenset(
    {"get", "keys", "values", "items", "copy", "__getitem__", "union", "intersection",
     "difference", "symmetric_difference"}
)  # fmt: skip
# operators whose result may hold the operands' members (`xs + ys`, `xs * 2`, `d | e`)
_SHARING_OPERATORS = frozenset({"+", "*", "|"})
_COMPREHENSIONS = (
    "list_comprehension",
    "set_comprehension",
    "dictionary_comprehension",
    "generator_expression",
)
_DISPLAYS = ("list", "tuple", "set", "dictionary", "pair", "expression_list")
_LOGGING = frozenset({"debug", "info", "warning", "warn", "error", "exception", "critical", "log"})
_MAX_DEPTH = 4  # aliases followed; past that the copy is taken as kept


@dataclass(frozen=True)
class Use:
    # "read", "discarded": reportable; "mutated", "returned", "stored", "passed": the copy
    # matters (changed, or kept where this function cannot see what happens to it)
    kind: str
    node: Node | None
    detail: str


_READ = Use("read", None, "")


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
        ):
            return False
        child, parent = parent, parent.parent
    return False


def _in_place(call: Node) -> bool:
    """A call passing `inplace=True` (pandas and the like): it changes its receiver."""
    args = call.child_by_field_name("arguments")
    return args is not None and any(
        a.type == "keyword_argument"
        and text(a.child_by_field_name("name")) == "inplace"
        and text(a.child_by_field_name("value")) != "False"
        for a in args.named_children
    )


def documents_deep_copy(fn: Node | None) -> bool:
    """The function's docstring promises a deep (or independent) copy."""
    body = fn.child_by_field_name("body") if fn is not None else None
    if body is None or not body.named_children:
        return False
    first = body.named_children[0]
    if first.type != "expression_statement" or not first.named_children:
        return False
    doc = first.named_children[0]
    return doc.type in ("string", "concatenated_string") and bool(_DOCUMENTS_COPY.search(text(doc)))


class Usage:
    """Where the value a deepcopy produced (and every part taken from it) goes in its function.

    Each use is classified by the syntax it sits in, never by names alone; any context not
    known to only read gives a use that stops the report, so "only read" is a proof, not a
    guess.
    """

    def __init__(self, ctx: FileContext, fn: Node | None) -> None:
        self.ctx = ctx
        self.fn = fn
        self.last_read = 0  # end byte of the last use seen: how long the copy is live
        self.wraps = False  # a use earlier in a loop reads the copy of the previous pass

    def of_value(self, node: Node, depth: int = 0, part: bool = False) -> list[Use]:
        """Uses of the value `node` evaluates to: the copy itself, or (`part`) a member of it."""
        self.last_read = max(self.last_read, node.end_byte)
        top = node
        parent = top.parent
        while parent is not None and parent.type == "parenthesized_expression":
            top, parent = parent, parent.parent
        if parent is None:
            return [_READ]
        t = parent.type
        if t == "attribute" and parent.child_by_field_name("object") == top:
            return self._member(parent, depth)
        if t == "subscript":
            if parent.child_by_field_name("value") == top:
                return self._member(parent, depth)
            if _is_target(parent):  # `seen[copy] = 1`: the copy becomes a key
                return [Use("stored", parent, f"stored as a key in {_snippet(parent, 40)}")]
            return [_READ]
        if t == "expression_statement":
            if part:
                return [_READ]
            return [Use("discarded", parent, "discarded: the result is never used")]
        if t == "call":
            if parent.child_by_field_name("function") == top:
                return [Use("passed", parent, "called")]
            return self._argument(parent, depth)  # `f(x for x in copy)`: the generator
        if t in ("keyword_argument", "list_splat", "dictionary_splat"):
            if parent.parent is not None and parent.parent.type == "argument_list":
                return self.of_value(parent, depth, part)  # `f(k=copy)`, `f(*copy)`
            return self.of_value(parent, depth, True)  # `[*copy]`: a display of its members
        if t == "argument_list":
            call = parent.parent
            if call is not None and call.type == "call":
                return self._argument(call, depth)
            return [Use("stored", parent, f"used in {_snippet(call or parent, 40)}")]
        if t in ("return_statement", "yield", "lambda"):
            return [Use("returned", parent, "returned to the caller")]
        if t in ("for_statement", "for_in_clause") and parent.child_by_field_name("right") == top:
            return self._iterated(parent, depth)
        if t == "assignment" and parent.child_by_field_name("right") == top:
            return self._assigned(parent, parent.child_by_field_name("left"), depth, part)
        if t == "named_expression" and parent.child_by_field_name("value") == top:
            uses = self._assigned(parent, parent.child_by_field_name("name"), depth, part)
            return uses + self.of_value(parent, depth, part)
        if t == "augmented_assignment":
            return [Use("stored", parent, f"added to {_snippet(parent, 40)}")]
        if t == "conditional_expression":
            if len(parent.named_children) > 1 and parent.named_children[1] == top:
                return [_READ]  # the condition
            return self.of_value(parent, depth, part)
        if t == "boolean_operator":
            return self.of_value(parent, depth, part)  # `a or copy`: either may be the value
        if t == "binary_operator":
            op = parent.child_by_field_name("operator")
            if op is not None and op.type in _SHARING_OPERATORS:
                return self.of_value(parent, depth, True)
            return [_READ]
        if t in ("await",):
            return self.of_value(parent, depth, part)
        if t in _COMPREHENSIONS and parent.child_by_field_name("body") == top:
            return self.of_value(parent, depth, True)
        if t == "pair":
            grand = parent.parent
            if grand is not None and grand.type == "dictionary_comprehension":
                return self.of_value(grand, depth, True)
            return [Use("stored", parent, "put in a container")]
        if t in _DISPLAYS:
            return [Use("stored", parent, "put in a container")]
        if t in (
            "comparison_operator",
            "not_operator",
            "unary_operator",
            "interpolation",
            "assert_statement",
            "if_statement",
            "elif_clause",
            "while_statement",
            "if_clause",
            "format_specifier",
        ):
            return [_READ]
        # anything else (with, raise, decorators, slices, …): not known to only read
        return [Use("stored", parent, f"used in {_snippet(parent, 40)}")]

    def _member(self, access: Node, depth: int) -> list[Use]:
        """`copy.attr`, `copy[k]`, `copy.method(...)`: a read, a change, or a member taken."""
        parent = access.parent
        if _is_target(access):
            return [Use("mutated", access.parent, _snippet(access.parent or access))]
        if (
            access.type == "attribute"
            and parent is not None
            and parent.type == "call"
            and parent.child_by_field_name("function") == access
        ):
            method = text(access.child_by_field_name("attribute"))
            if _in_place(parent):
                return [Use("mutated", parent, _snippet(parent))]  # `snap.replace(…, inplace=True)`
            if method in _SCALAR_METHODS:
                self.last_read = max(self.last_read, parent.end_byte)
                return [_READ]
            if method in _VIEW_METHODS:
                return self.of_value(parent, depth, True)
            return [Use("mutated", parent, _snippet(parent))]  # may change the copy
        return self.of_value(access, depth, True)

    def _argument(self, call: Node, depth: int) -> list[Use]:
        """The copy (or a part of it) is an argument of `call`."""
        self.last_read = max(self.last_read, call.end_byte)
        func = call.child_by_field_name("function")
        if func is not None and func.type == "identifier" and self.ctx.is_builtin(func):
            name = text(func)
            args = call.child_by_field_name("arguments")
            if (
                name == "sum"
                and args is not None
                and args.type == "argument_list"
                and len(args.named_children) > 1
            ):
                return self.of_value(call, depth, True)  # `sum(lists, [])` joins the members
            if name in _SCALAR_BUILTINS:
                return [_READ]
            if name in _SHARING_BUILTINS:
                return self.of_value(call, depth, True)
        if self.ctx.qualified(func) in _READING_FUNCTIONS:
            return [_READ]
        if func is not None and func.type == "attribute":
            obj = func.child_by_field_name("object")
            name = text(func.child_by_field_name("attribute"))
            if name in _LOGGING or name.startswith("assert"):
                return [_READ]  # logging formats, unittest assertions compare
            if name in ("join", "format") and obj is not None and obj.type == "string":
                return [_READ]
        where = _snippet(func, 40) if func is not None else "?"
        return [Use("passed", call, f"passed to {where}()")]

    def _assigned(self, owner: Node, left: Node | None, depth: int, part: bool) -> list[Use]:
        if left is None:
            return [Use("stored", owner, "stored")]
        if left.type == "identifier":
            if text(left) == "_":
                return [Use("discarded", owner, "discarded: assigned to _")]
            if depth >= _MAX_DEPTH:
                return [Use("stored", owner, f"aliased as {text(left)}")]
            return self.of_name(left, owner.end_byte, depth + 1)
        return [Use("stored", owner, f"stored in {_snippet(left, 40)}")]

    def _iterated(self, loop: Node, depth: int) -> list[Use]:
        """`for item in copy.items:`: each item is a member of the copy, followed like one."""
        uses: list[Use] = []
        for ident in target_names(loop.child_by_field_name("left")):
            if depth >= _MAX_DEPTH:
                return [Use("stored", loop, f"aliased as {text(ident)}")]
            if loop.type == "for_statement":
                uses.extend(self.of_name(ident, ident.end_byte, depth + 1, loop))
            elif loop.parent is not None:  # a comprehension's element comes first in the text
                uses.extend(self.of_name(ident, loop.parent.start_byte, depth + 1, loop.parent))
        if any(
            p.type not in ("identifier", "pattern_list", "tuple_pattern", "list_pattern")
            for p in walk(loop.child_by_field_name("left") or loop)
        ):
            uses.append(Use("stored", loop, "items stored by the loop"))
        return uses or [_READ]

    def of_name(
        self, binding: Node, after: int, depth: int = 0, region: Node | None = None
    ) -> list[Use]:
        """Uses of the name `binding` binds, in its function (or `region`), after `after`."""
        name = text(binding)
        fn = self.fn
        if fn is None:
            return [Use("stored", binding, f"kept in the module global {name}")]
        body = fn.child_by_field_name("body")
        if body is not None and any(
            s.type in ("global_statement", "nonlocal_statement")
            and any(text(c) == name for c in s.named_children)
            for s in walk(body, into_scopes=False)
        ):
            return [Use("stored", binding, f"kept in the global {name}")]
        uses: list[Use] = []
        loop = _enclosing_loop(binding, fn)
        for occ in occurrences(self.ctx, name):
            if not (fn.start_byte <= occ.start_byte < fn.end_byte):
                continue
            if region is not None and not (region.start_byte <= occ.start_byte < region.end_byte):
                continue
            if occ == binding:
                continue
            if occ.start_byte < after:
                if loop is None or occ.start_byte < loop.start_byte:
                    continue  # before the binding, outside any loop that re-runs it
                self.wraps = True
            if self.ctx.function_of(occ) != fn:
                return [Use("stored", occ, f"captured by a nested function: {name}")]
            if is_bound_here(occ):
                parent = occ.parent
                if parent is not None and parent.type == "augmented_assignment":
                    uses.append(Use("mutated", parent, _snippet(parent)))
                continue
            uses.extend(self.of_value(occ, depth))
        return uses or [_READ]


def _enclosing_loop(node: Node, fn: Node | None) -> Node | None:
    """The outermost loop in `fn` around `node`: a use earlier in it runs after a later pass."""
    found = None
    parent = node.parent
    while parent is not None and parent != fn:
        if parent.type in ("for_statement", "while_statement"):
            found = parent
        parent = parent.parent
    return found


def _copying_api(name: str) -> bool:
    """`clone`, `copy_graph`, `deepCopy`, `snapshot_state`: a word of the name says it copies
    (whole words: `copyright_notice` does not)."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name)
    words = {w for w in spaced.lower().split("_") if w}
    return bool(words & _COPYING_WORDS)


def summarize(uses: list[Use]) -> Use:
    """The use that decides: any use that makes the copy matter, else discarded, else read."""
    for kind in ("mutated", "returned", "stored", "passed", "discarded"):
        for use in uses:
            if use.kind == kind:
                return use
    return Use("read", None, "only read")


def original_may_change(ctx: FileContext, call: Node, arg: Node, usage: Usage) -> bool:
    """Whether anything after the copy, while it is live, may change what was copied: any
    change to an attribute or item (it may reach the original through an alias), any call not
    known to only read, or a rebinding of the copied name. A copy taken before such a change
    is a snapshot, and using the original instead would see the change."""
    chain = chain_of(arg)
    fn = ctx.function_of(call)
    loop = _enclosing_loop(call, fn)
    region = fn.child_by_field_name("body") if fn is not None else loop
    if region is None:
        return True
    start, end = call.end_byte, usage.last_read
    if loop is not None and usage.wraps:  # the copy outlives its pass: the next one counts
        start, end = loop.start_byte, max(end, loop.end_byte)
    for m in mutations(ctx, region):
        node = m.node
        if node.end_byte <= start or node.start_byte >= end:
            continue
        if call.start_byte <= node.start_byte and node.end_byte <= call.end_byte:
            continue  # the deepcopy call itself
        if node.type == "call" and ctx.qualified(node.child_by_field_name("function")) in (
            _READING_FUNCTIONS
        ):
            continue  # json.dumps and the like only read
        if m.kind == "rebound":
            if chain is None or m.chain[0] != chain[0]:
                continue  # another local name rebound: no object changes
            around = node.type in ("for_statement", "for_in_clause") and _runs_before(node, call)
            if around and not usage.wraps:
                continue  # the loop rebinds it before the next copy, after this one is used
        return True
    return False


def _runs_before(loop: Node, call: Node) -> bool:
    """Whether `loop` (a for or comprehension clause) re-runs `call` on each pass."""
    owner = loop if loop.type == "for_statement" else loop.parent
    return owner is not None and owner.start_byte <= call.start_byte < owner.end_byte


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
            if fn_name in _PROTOCOL or _copying_api(fn_name):
                continue  # implementing a copy: the deep copy is the contract
            if any(documents_deep_copy(f) for f in scopes):
                continue  # the docstring promises the deep copy
            if test_scale(ctx, call) < 1:
                continue  # a test function runs once per test run: never a hot path
            usage = Usage(ctx, fn)
            use = summarize(usage.of_value(call))
            if use.kind not in ("read", "discarded"):
                continue  # changed or kept: the copy is doing its job as far as is visible
            if use.kind == "read" and original_may_change(ctx, call, positional[0], usage):
                continue  # a snapshot taken before the original may change: it is needed
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
                f"{head}, but the copy is only read and {_snippet(arg, 40)} does not change "
                f"while it is in use: use {_snippet(arg, 40)} directly"
            )
            base = 0.7
            status = "the copy is only read"
        else:
            message = f"{head}, and the copy is never used: remove the call"
            base = 0.5
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
