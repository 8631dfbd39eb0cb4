"""`memoize`: a pure function recomputed for arguments it has already seen.

The finding is for functions a cache can wrap without changing what the program does: module
functions and static methods (a cached method keeps `self` alive), neither async nor generators,
that write no global and no argument, do no I/O and read nothing that changes (no time, no
randomness, no module-level list that is mutated), take no argument annotated as unhashable and
return an immutable value.

The strong case is recursion whose subproblems overlap: two or more recursive calls per level
(or one in a loop) with arguments that step from the parameters (`n - 1`, `n - coin`, `a[1:]`),
as in fib or a textbook edit distance, which then run in exponential time. Tree walks
(`size(node.left)`), divide and conquer (`f(lo, mid)`) and accumulator threading never repeat a
subproblem and are not reported. The weak cases (one recursive call per level, or a pure
annotated function with loops) are reported only when the file calls the function from a loop
with fields of the items walked (`order.product`): values that repeat.

Candidates are narrowed by cheap tests first (the name followed by `(` in the body, the shape of
the recursive calls, a text search for call sites), so the purity proof, a walk over the
candidate's own body, runs for very few functions.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from tree_sitter import Node, Query, QueryCursor

from megawatt.analyzers.context import BUILTIN_NAMES, COMPREHENSION_TYPES, FileContext, text
from megawatt.analyzers.detector import Captures, Detector
from megawatt.analyzers.parsing import PYTHON
from megawatt.model import Finding

# -- what is known about names and calls ------------------------------------------------------

# builtins that do I/O, reach into frames or namespaces, or depend on object identity
IMPURE_BUILTINS = frozenset(
    {
        "print", "open", "input", "exec", "eval", "compile", "globals", "locals", "vars",
        "setattr", "delattr", "__import__", "breakpoint", "exit", "quit", "help", "id",
        "memoryview", "super", "object",
    }
)  # fmt: skip
# builtins whose result is immutable (or an element of the input)
IMMUTABLE_RESULT_BUILTINS = frozenset(
    {
        "abs", "all", "any", "ascii", "bin", "bool", "bytes", "callable", "chr", "complex",
        "divmod", "float", "format", "frozenset", "hasattr", "hash", "hex", "int",
        "isinstance", "issubclass", "len", "max", "min", "oct", "ord", "pow", "range", "repr",
        "round", "str", "sum", "tuple", "type", "getattr", "slice",
    }
)  # fmt: skip
# modules (and single functions) whose functions are pure: same arguments, same result, no effect
PURE_MODULES = frozenset(
    {
        "math", "cmath", "operator", "itertools", "string", "unicodedata", "statistics",
        "fractions", "keyword", "colorsys", "binascii", "textwrap", "difflib",
    }
)  # fmt: skip
PURE_FUNCTIONS = frozenset(
    {
        "functools.reduce", "functools.partial", "functools.cmp_to_key",
        "re.match", "re.fullmatch", "re.search", "re.sub", "re.subn", "re.split",
        "re.findall", "re.escape", "re.compile",
        "bisect.bisect", "bisect.bisect_left", "bisect.bisect_right",
        "heapq.nlargest", "heapq.nsmallest", "heapq.merge",
        "json.dumps", "json.loads", "struct.pack", "struct.unpack", "struct.calcsize",
        "collections.Counter", "collections.deque", "collections.namedtuple",
        "collections.OrderedDict", "collections.defaultdict", "copy.copy", "copy.deepcopy",
        "typing.cast", "dataclasses.replace", "hashlib.sha256", "hashlib.md5", "hashlib.sha1",
        "zlib.crc32", "zlib.adler32", "base64.b64encode", "base64.b64decode",
    }
)  # fmt: skip
IMMUTABLE_RESULT_FUNCTIONS = frozenset(
    {
        "functools.reduce", "re.sub", "re.escape", "re.match", "re.fullmatch", "re.search",
        "bisect.bisect", "bisect.bisect_left", "bisect.bisect_right", "json.dumps",
        "struct.pack", "struct.unpack", "struct.calcsize", "zlib.crc32", "zlib.adler32",
        "base64.b64encode", "base64.b64decode", "fractions.Fraction",
    }
)  # fmt: skip
IMMUTABLE_RESULT_MODULES = frozenset({"math", "cmath", "unicodedata", "statistics", "colorsys"})
# methods that change their object
MUTATING_METHODS = frozenset(
    {
        "append", "extend", "update", "pop", "popleft", "popitem", "sort", "add", "clear",
        "insert", "remove", "setdefault", "discard", "reverse", "appendleft", "extendleft",
        "rotate", "difference_update", "intersection_update", "symmetric_difference_update",
        "__setitem__", "__delitem__", "write", "writelines", "send", "put", "put_nowait",
        "get_nowait", "seek", "truncate", "close", "flush", "read", "readline", "readlines",
        "recv", "acquire", "release", "wait", "set", "cancel", "__next__",
        "debug", "info", "warning", "warn", "error", "exception", "critical", "log",
    }
)  # fmt: skip
# methods of str/bytes/int/tuple/match objects whose result is immutable
IMMUTABLE_METHODS = frozenset(
    {
        "join", "lower", "upper", "strip", "lstrip", "rstrip", "replace", "format", "casefold",
        "title", "capitalize", "swapcase", "startswith", "endswith", "count", "find", "rfind",
        "index", "rindex", "encode", "decode", "zfill", "center", "ljust", "rjust",
        "removeprefix", "removesuffix", "translate", "expandtabs", "partition", "rpartition",
        "isdigit", "isalpha", "isalnum", "isspace", "isupper", "islower", "isidentifier",
        "isdecimal", "isnumeric", "isascii", "istitle", "hexdigest", "digest", "bit_length",
        "bit_count", "group", "groups", "span", "start", "end", "is_integer", "conjugate",
        "as_integer_ratio", "to_bytes", "from_bytes", "hex", "fromhex",
    }
)  # fmt: skip
# annotations naming immutable, hashable types
HASHABLE_TYPES = frozenset(
    {
        "int", "float", "str", "bool", "bytes", "complex", "None", "tuple", "Tuple",
        "frozenset", "FrozenSet", "Literal", "Optional", "Union", "Hashable", "Fraction",
        "Decimal", "range", "typing", "t", "Final",
    }
)  # fmt: skip
# annotations naming mutable (unhashable) or single-use types: a cache cannot take them
UNHASHABLE_TYPES = frozenset(
    {
        "list", "dict", "set", "List", "Dict", "Set", "DefaultDict", "defaultdict",
        "OrderedDict", "Counter", "deque", "Deque", "bytearray", "MutableMapping",
        "MutableSequence", "MutableSet", "Mapping", "Sequence", "Collection", "Iterable",
        "Iterator", "Generator", "AsyncIterator", "AsyncIterable", "ndarray", "DataFrame",
        "Series", "Tensor", "array", "IO", "TextIO", "BinaryIO", "Any", "object",
    }
)  # fmt: skip
MUTABLE_DISPLAYS = frozenset(
    {"list", "dictionary", "set", "list_comprehension", "dictionary_comprehension"}
    | {"set_comprehension", "generator_expression"}
)
MUTABLE_CONSTRUCTORS = frozenset({"list", "dict", "set", "bytearray", "defaultdict", "deque"})
ALREADY_CACHED = ("cache", "lru_cache", "cached_property", "memoize", "memoized", "cached")
# the evidence key of a memoize finding made from the profile's call counts, not by this detector
# (megawatt/profiled_memoize.py): the rewrite then trusts the purity gate, not the static shapes
PROFILED = "profile_calls"

_IDENT = re.compile(r"[A-Za-z_][A-Za-z_0-9]*")
_LOOP_WORD = re.compile(rb"\b(for|while)\b")

_MUTATIONS = Query(
    PYTHON,
    """
    (assignment left: [(subscript) (attribute)] @target)
    (augmented_assignment left: [(subscript) (attribute) (identifier)] @target)
    (delete_statement) @delete
    (call
      function: (attribute attribute: (identifier) @method) @target
      (#any-of? @method
        "append" "extend" "update" "pop" "popleft" "popitem" "sort" "add" "clear" "insert"
        "remove" "setdefault" "discard" "reverse" "appendleft" "extendleft" "rotate"
        "difference_update" "intersection_update" "symmetric_difference_update"
        "__setitem__" "__delitem__"))
    (global_statement (identifier) @global)
    """,
)


def root_name(node: Node | None) -> Node | None:
    """The identifier an attribute/subscript/call chain starts from (`a` in `a.b[c].d()`)."""
    while node is not None:
        if node.type == "identifier":
            return node
        if node.type == "attribute":
            node = node.child_by_field_name("object")
        elif node.type == "subscript":
            node = node.child_by_field_name("value")
        elif node.type == "parenthesized_expression" and node.named_children:
            node = node.named_children[0]
        else:
            return None
    return None


def _targets(target: Node | None) -> Iterator[Node]:
    if target is None:
        return
    if target.type == "identifier":
        yield target
    elif target.type in ("pattern_list", "tuple_pattern", "list_pattern", "as_pattern_target"):
        for c in target.named_children:
            yield from _targets(c)
    elif target.type == "list_splat_pattern" and target.named_children:
        yield from _targets(target.named_children[0])


def annotation_kind(type_node: Node | None) -> str:
    """ "hashable", "unhashable" or "unknown" for a parameter or return annotation."""
    if type_node is None:
        return "unknown"
    src = text(type_node)
    if src.startswith(("'", '"')):
        src = src.strip("'\"")
    names = {n for n in _IDENT.findall(re.sub(r"Literal\[[^\]]*\]", "Literal", src))}
    if names & UNHASHABLE_TYPES:
        return "unhashable"
    if names and names <= HASHABLE_TYPES:
        return "hashable"
    return "unknown"


# -- module facts ------------------------------------------------------------------------------


@dataclass
class ModuleFacts:
    ctx: FileContext
    kinds: dict[str, str] = field(default_factory=dict)  # name -> const/container/function/...
    functions: dict[str, Node] = field(default_factory=dict)
    _mutated: set[str] | None = None

    @property
    def mutated(self) -> set[str]:
        """Module-level names changed somewhere in the file (computed on first use)."""
        if self._mutated is None:
            self._mutated = _mutated_names(self.ctx, self.kinds)
        return self._mutated


def _value_kind(value: Node | None) -> str:
    if value is None:
        return "other"
    t = value.type
    if t in ("integer", "float", "string", "concatenated_string", "true", "false", "none"):
        return "const"
    if t == "unary_operator" and value.named_children:
        return _value_kind(value.named_children[-1])
    if t in ("tuple", "parenthesized_expression"):
        kinds = {_value_kind(c) for c in value.named_children}
        return "const" if kinds <= {"const"} else "other"
    if t == "binary_operator":
        left, right = value.child_by_field_name("left"), value.child_by_field_name("right")
        return "const" if _value_kind(left) == _value_kind(right) == "const" else "other"
    if t in MUTABLE_DISPLAYS:
        return "container"
    if t == "call":
        func = value.child_by_field_name("function")
        name = text(func)
        if name in ("frozenset", "re.compile", "tuple"):
            return "const"
        if name.rsplit(".", 1)[-1] in MUTABLE_CONSTRUCTORS:
            return "container"
    return "other"


def module_facts(ctx: FileContext) -> ModuleFacts:
    facts = ModuleFacts(ctx)
    counts: dict[str, int] = {}

    def bind(name: str, kind: str) -> None:
        counts[name] = counts.get(name, 0) + 1
        facts.kinds[name] = kind

    stack = list(reversed(ctx.tree.root_node.named_children))
    while stack:
        node = stack.pop()
        t = node.type
        if t == "decorated_definition":
            d = node.child_by_field_name("definition")
            if d is not None:
                name = text(d.child_by_field_name("name"))
                bind(name, "decorated")
        elif t == "function_definition":
            name = text(node.child_by_field_name("name"))
            bind(name, "function")
            facts.functions[name] = node
        elif t == "class_definition":
            bind(text(node.child_by_field_name("name")), "class")
        elif t in ("import_statement", "import_from_statement"):
            for child in node.named_children:
                if child.type == "aliased_import":
                    bind(text(child.child_by_field_name("alias")), "import")
                elif (
                    child.type == "dotted_name" and node.child_by_field_name("module_name") != child
                ):
                    bind(text(child).split(".", 1)[0], "import")
        elif t == "expression_statement":
            for child in node.named_children:
                if child.type == "assignment":
                    value = child
                    lefts = []
                    while value is not None and value.type == "assignment":
                        lefts.append(value.child_by_field_name("left"))
                        value = value.child_by_field_name("right")
                    for left in lefts:
                        single = left is not None and left.type == "identifier"
                        for ident in _targets(left):
                            bind(text(ident), _value_kind(value) if single else "other")
                elif child.type == "augmented_assignment":
                    for ident in _targets(child.child_by_field_name("left")):
                        bind(text(ident), "rebound")
                        bind(text(ident), "rebound")
        elif t in ("for_statement", "with_statement", "if_statement", "try_statement"):
            if t == "for_statement":
                for ident in _targets(node.child_by_field_name("left")):
                    bind(text(ident), "rebound")
                    bind(text(ident), "rebound")
            stack.extend(
                c
                for c in reversed(node.named_children)
                if c.type
                in ("block", "else_clause", "elif_clause", "except_clause", "finally_clause")
            )
        elif t in ("block", "else_clause", "elif_clause", "except_clause", "finally_clause"):
            stack.extend(reversed(node.named_children))
    for name, n in counts.items():
        if n > 1 and facts.kinds[name] != "import":
            facts.kinds[name] = "rebound"
    return facts


def _mutated_names(ctx: FileContext, kinds: dict[str, str]) -> set[str]:
    mutated: set[str] = set()
    for pattern_name, nodes in QueryCursor(_MUTATIONS).captures(ctx.tree.root_node).items():
        for node in nodes:
            if pattern_name == "global":
                mutated.add(text(node))
                continue
            if pattern_name == "delete":
                for target in node.named_children:
                    parts = target.named_children if target.type == "expression_list" else [target]
                    for part in parts:
                        root = root_name(part)
                        if root is not None and part.type != "identifier":
                            mutated.add(text(root))
                continue
            parent = node.parent
            if node.type == "attribute" and parent is not None and parent.type == "call":
                root = root_name(node.child_by_field_name("object"))
            else:
                root = root_name(node)
            if root is None:
                continue
            r = text(root)
            if r not in kinds or r in mutated:
                continue  # not a module-level name, or known already
            if ctx.function_of(node) is None or not ctx.is_local(node, r):
                mutated.add(r)
    return mutated


# -- the purity proof --------------------------------------------------------------------------


@dataclass
class Verdict:
    pure: bool
    reason: str = ""
    self_calls: list[Node] = field(default_factory=list)
    linear_path: bool = False  # some path recurses exactly once per level
    has_loop: bool = False
    mutable_reads: list[str] = field(default_factory=list)  # globals that may change
    unknown_params: list[str] = field(default_factory=list)
    immutable_return: bool = True
    return_note: str = ""


def _impure(reason: str) -> Verdict:
    return Verdict(False, reason)


class Prover:
    """Proves functions of one file pure (or says why not); results are cached per function."""

    def __init__(self, ctx: FileContext) -> None:
        self.ctx = ctx
        self._facts: ModuleFacts | None = None
        self._done: dict[int, Verdict] = {}
        self._busy: set[int] = set()
        # function id → its `self` name, for instance methods that call themselves as self.f()
        self.receivers: dict[int, str] = {}

    @property
    def facts(self) -> ModuleFacts:
        if self._facts is None:
            self._facts = module_facts(self.ctx)
        return self._facts

    def verdict(self, fn: Node, class_name: str | None = None) -> Verdict:
        cached = self._done.get(fn.id)
        if cached is not None:
            return cached
        if fn.id in self._busy:
            return Verdict(True)  # mutual recursion: assume pure while proving the cycle
        self._busy.add(fn.id)
        try:
            result = self._prove(fn, class_name)
        except RecursionError:
            result = _impure("too deeply nested to analyse")
        finally:
            self._busy.discard(fn.id)
        self._done[fn.id] = result
        return result

    # ---------------------------------------------------------------------------------------

    def params(self, fn: Node) -> tuple[dict[str, str], str | None]:
        """Parameter name -> annotation kind; or a reason the function cannot be cached."""
        params: dict[str, str] = {}
        node = fn.child_by_field_name("parameters")
        for p in node.named_children if node is not None else []:
            t = p.type
            if t in ("keyword_separator", "positional_separator", "comment"):
                continue
            ident = p if t == "identifier" else p.child_by_field_name("name")
            if ident is None and p.named_children:
                ident = p.named_children[0]
                if ident.type in ("list_splat_pattern", "dictionary_splat_pattern"):
                    ident = ident.named_children[0] if ident.named_children else None
            if t in ("list_splat_pattern", "dictionary_splat_pattern") and p.named_children:
                ident = p.named_children[0]
            if ident is None or ident.type != "identifier":
                return params, "has a parameter the analysis does not understand"
            value = p.child_by_field_name("value")
            if value is not None and (
                value.type in MUTABLE_DISPLAYS
                or (
                    value.type == "call"
                    and text(value.child_by_field_name("function")).rsplit(".", 1)[-1]
                    in MUTABLE_CONSTRUCTORS
                )
            ):
                return params, f"parameter {text(ident)} has a mutable default"
            kind = annotation_kind(p.child_by_field_name("type"))
            if kind == "unhashable":
                return params, f"parameter {text(ident)} is annotated as an unhashable type"
            params[text(ident)] = kind
        return params, None

    def _prove(self, fn: Node, class_name: str | None) -> Verdict:
        ctx = self.ctx
        if any(c.type == "async" for c in fn.children):
            return _impure("is async")
        params, problem = self.params(fn)
        if problem is not None:
            return _impure(problem)
        name = text(fn.child_by_field_name("name"))
        body = fn.child_by_field_name("body")
        if body is None:
            return _impure("has no body")
        local = set(ctx.local_names(fn))
        aliases = set(params)  # names that may be (part of) an argument object
        verdict = Verdict(True)
        verdict.unknown_params = [p for p, k in params.items() if k == "unknown"]
        returns: list[Node] = []
        stack = [body]
        nodes: list[Node] = []
        while stack:  # first pass: collect, find inner locals and aliases of arguments
            n = stack.pop()
            t = n.type
            if t in ("function_definition", "class_definition", "decorated_definition"):
                return _impure("defines a nested function or class")
            if t in ("yield", "await"):
                return _impure("is a generator" if t == "yield" else "is async")
            if t in ("global_statement", "nonlocal_statement"):
                return _impure("writes a global or nonlocal name")
            if t == "with_statement":
                return _impure("uses a with block (a resource or a lock)")
            if t in ("for_in_clause", "for_statement"):
                verdict.has_loop = True
                targets = list(_targets(n.child_by_field_name("left")))
                local.update(text(i) for i in targets)
                source = root_name(n.child_by_field_name("right"))
                if source is not None and text(source) in aliases:
                    aliases.update(text(i) for i in targets)  # elements of an argument
            elif t == "while_statement" or t in COMPREHENSION_TYPES:
                verdict.has_loop = True
            elif t == "lambda":
                lp = n.child_by_field_name("parameters")
                for p in lp.named_children if lp is not None else []:
                    ident = p if p.type == "identifier" else p.child_by_field_name("name")
                    if ident is not None:
                        local.add(text(ident))
            elif t == "case_pattern":
                local.update(text(i) for i in _descendant_identifiers(n))
            elif t == "assignment":
                left, right = n.child_by_field_name("left"), n.child_by_field_name("right")
                if left is not None and left.type == "identifier" and right is not None:
                    src = root_name(right)
                    is_slice = right.type == "subscript" and any(
                        s.type == "slice" for s in right.children_by_field_name("subscript")
                    )
                    if src is not None and text(src) in aliases and not is_slice:
                        aliases.add(text(left))
            elif t == "return_statement":
                returns.append(n)
            nodes.append(n)
            stack.extend(n.named_children)
        for n in nodes:  # second pass: every write, call and read
            reason = self._check_node(n, fn, name, class_name, local, aliases, verdict)
            if reason:
                return _impure(reason)
        self._check_returns(fn, returns, local, params, verdict)
        verdict.linear_path = self._linear(fn, verdict.self_calls)
        return verdict

    def _check_node(
        self,
        n: Node,
        fn: Node,
        name: str,
        class_name: str | None,
        local: set[str],
        aliases: set[str],
        verdict: Verdict,
    ) -> str:
        t = n.type
        if t in ("assignment", "augmented_assignment"):
            left = n.child_by_field_name("left")
            targets = (
                left.named_children if left is not None and left.type == "pattern_list" else [left]
            )
            for target in targets:
                if target is None or target.type not in ("attribute", "subscript"):
                    continue
                root = root_name(target)
                if root is None:
                    continue
                rname = text(root)
                if rname in aliases:
                    return f"changes its argument {rname}"
                if rname not in local:
                    return f"changes module-level {rname}"
            return ""
        if t == "delete_statement":
            for target in n.named_children:
                parts = target.named_children if target.type == "expression_list" else [target]
                for part in parts:
                    root = root_name(part)
                    if (
                        part.type != "identifier"
                        and root is not None
                        and (text(root) in aliases or text(root) not in local)
                    ):
                        return f"deletes from {text(root)}"
            return ""
        if t in ("import_statement", "import_from_statement"):
            for mod in _imported_modules(n):
                if mod.split(".", 1)[0] not in PURE_MODULES and not any(
                    f.startswith(mod + ".") for f in PURE_FUNCTIONS
                ):
                    return f"imports {mod}"
            return ""
        if t == "call":
            if _raised(n):
                return ""  # `raise Error(...)`: an exception is not cached, it propagates
            return self._check_call(n, fn, name, class_name, local, aliases, verdict)
        if t == "identifier":
            return self._check_read(n, name, class_name, local, verdict)
        return ""

    def _check_call(
        self,
        call: Node,
        fn: Node,
        name: str,
        class_name: str | None,
        local: set[str],
        aliases: set[str],
        verdict: Verdict,
    ) -> str:
        ctx = self.ctx
        func = call.child_by_field_name("function")
        if func is None:
            return "makes a call the analysis does not understand"
        if func.type == "identifier":
            f = text(func)
            if f in local:
                return f"calls {f}, which is an argument or a local (unknown code)"
            if class_name is None and f == name:
                verdict.self_calls.append(call)
                return ""
            kind = self.facts.kinds.get(f)
            if kind == "function":
                other = self.facts.functions[f]
                sub = self.verdict(other)
                return "" if sub.pure else f"calls {f}(), which {sub.reason}"
            if kind is not None and kind != "import":
                return f"calls {f}, whose effects the analysis cannot see"
            if kind is None and f in BUILTIN_NAMES:
                if f in IMPURE_BUILTINS:
                    return f"calls {f}()"
                if f in ("next", "iter"):
                    args = call.child_by_field_name("arguments")
                    first = (
                        args.named_children[0] if args is not None and args.named_children else None
                    )
                    root = root_name(first)
                    if f == "next" and (root is None or text(root) in aliases):
                        return "advances an iterator it was given"
                return ""
            q = ctx.qualified(func)
            if q is None:
                return f"calls {f}, defined elsewhere"
            return "" if _pure_qualified(q) else f"calls {q}"
        if func.type == "attribute":
            method = text(func.child_by_field_name("attribute"))
            obj = func.child_by_field_name("object")
            if (
                class_name is not None
                and method == name
                and obj is not None
                and obj.type == "identifier"
                and (
                    (text(obj) == class_name and class_name not in local)
                    or text(obj) == self.receivers.get(fn.id)
                )
            ):
                verdict.self_calls.append(call)
                return ""
            receiver = self.receivers.get(fn.id)
            if receiver is not None and obj is not None and text(obj) == receiver:
                return f"calls {receiver}.{method}(), which may change the instance"
            q = ctx.qualified(func)
            root = root_name(obj)
            rname = text(root) if root is not None else None
            if rname is not None and rname not in local and self.facts.kinds.get(rname) == "import":
                if q is None:
                    return f"calls {text(func)}"
                return "" if _pure_qualified(q) else f"calls {q}"
            if method in MUTATING_METHODS:
                if rname is None:
                    return (
                        ""
                        if obj is not None and obj.type in ("call", "string")
                        else (f"calls .{method}() on an object it did not create")
                    )
                if rname in aliases:
                    return f"changes its argument {rname} (.{method}())"
                if rname not in local:
                    return f"changes module-level {rname} (.{method}())"
                return ""
            if rname is not None and rname not in local:
                kind = self.facts.kinds.get(rname)
                if kind == "const" or kind == "container":
                    return ""  # "x".join, PATTERN.match, TABLE.get: read below
                if kind is None and rname in BUILTIN_NAMES:
                    return ""  # str.lower, int.from_bytes
                return f"calls {text(func)}, whose effects the analysis cannot see"
            return ""
        return f"calls {text(func)[:40]}, which the analysis cannot resolve"

    def _check_read(
        self,
        ident: Node,
        name: str,
        class_name: str | None,
        local: set[str],
        verdict: Verdict,
    ) -> str:
        parent = ident.parent
        if parent is None:
            return ""
        pt = parent.type
        if pt == "attribute" and parent.child_by_field_name("attribute") == ident:
            return ""
        if pt == "keyword_argument" and parent.child_by_field_name("name") == ident:
            return ""
        if pt in ("dotted_name", "aliased_import", "type", "lambda_parameters"):
            return ""
        if (
            pt in ("default_parameter", "typed_default_parameter")
            and parent.child_by_field_name("name") == ident
        ):
            return ""
        r = text(ident)
        if r in local or (class_name is None and r == name):
            return ""
        kind = self.facts.kinds.get(r)
        if kind is None:
            if r in BUILTIN_NAMES or r == "__name__":
                return ""
            if r == class_name:
                return ""
            return f"reads {r}, defined elsewhere"
        if kind == "decorated":
            return f"uses {r}, a decorated function the analysis cannot see through"
        if kind in ("const", "class", "import"):
            return "" if r not in self.facts.mutated else f"reads module-level {r}, which changes"
        if kind == "function":
            sub = self.verdict(self.facts.functions[r])
            return "" if sub.pure else f"uses {r}(), which {sub.reason}"
        if kind == "container":
            if r in self.facts.mutated:
                return f"reads module-level {r}, which is changed in this file"
            if r not in verdict.mutable_reads:
                verdict.mutable_reads.append(r)
            return ""
        if kind == "other":
            if r in self.facts.mutated:
                return f"reads module-level {r}, which is changed in this file"
            if r not in verdict.mutable_reads:
                verdict.mutable_reads.append(r)
            return ""
        return f"reads module-level {r}, which is assigned more than once"

    # -- results -------------------------------------------------------------------------------

    def _check_returns(
        self,
        fn: Node,
        returns: list[Node],
        local: set[str],
        params: dict[str, str],
        verdict: Verdict,
    ) -> None:
        declared = annotation_kind(fn.child_by_field_name("return_type"))
        self_ids = {c.id for c in verdict.self_calls}
        for ret in returns:
            value = ret.named_children[0] if ret.named_children else None
            if value is None:
                continue
            if value.type in MUTABLE_DISPLAYS:
                verdict.pure = False
                verdict.reason = (
                    "returns a new mutable object (callers could change the cached one)"
                )
                return
            if declared == "hashable":
                continue
            if not self._immutable(value, fn, local, set(), self_ids):
                verdict.immutable_return = False
                verdict.return_note = text(value)[:60]
        if declared == "unhashable":
            verdict.pure = False
            verdict.reason = "is annotated to return a mutable object"

    def _immutable(
        self, value: Node, fn: Node, local: set[str], seen: set[str], self_ids: set[int]
    ) -> bool:
        t = value.type
        if t in ("integer", "float", "string", "concatenated_string", "true", "false", "none"):
            return True
        if t in ("comparison_operator", "not_operator", "lambda"):
            return True
        if t in MUTABLE_DISPLAYS:
            return False
        if t in ("tuple", "parenthesized_expression", "conditional_expression"):
            parts = value.named_children
            if t == "conditional_expression" and len(parts) == 3:
                parts = [parts[0], parts[2]]
            return all(self._immutable(p, fn, local, seen, self_ids) for p in parts)
        if t == "boolean_operator":
            return all(
                self._immutable(p, fn, local, seen, self_ids)
                for p in (value.child_by_field_name("left"), value.child_by_field_name("right"))
                if p is not None
            )
        if t == "unary_operator":
            return True
        if t == "binary_operator":  # numbers and strings, unless an operand is a list: [0] * n
            return all(
                self._immutable(p, fn, local, seen, self_ids)
                for p in (value.child_by_field_name("left"), value.child_by_field_name("right"))
                if p is not None
            )
        if t == "subscript":
            return True  # an element (or a slice of an argument, as hashable as the argument)
        if t == "identifier":
            r = text(value)
            if r not in local:
                return True  # an argument, a constant or the function itself
            if r in seen:
                return True
            seen = seen | {r}
            return all(
                self._immutable(v, fn, local, seen, self_ids) for v in _assigned_values(fn, r)
            )
        if t == "call":
            func = value.child_by_field_name("function")
            if func is None:
                return False
            if value.id in self_ids:
                return True
            if func.type == "identifier":
                f = text(func)
                if f == text(fn.child_by_field_name("name")):
                    return True
                if f in local:
                    return False
                kind = self.facts.kinds.get(f)
                if kind == "function":
                    sub = self.verdict(self.facts.functions[f])
                    return sub.pure and sub.immutable_return
                if kind is None and f in BUILTIN_NAMES:
                    return f in IMMUTABLE_RESULT_BUILTINS
                q = self.ctx.qualified(func)
                return q is not None and _immutable_qualified(q)
            if func.type == "attribute":
                method = text(func.child_by_field_name("attribute"))
                q = self.ctx.qualified(func)
                if q is not None:
                    return _immutable_qualified(q)
                return method in IMMUTABLE_METHODS
        return False

    @staticmethod
    def _linear(fn: Node, calls: list[Node]) -> bool:
        """Whether some path makes exactly one recursive call per level (so deep inputs are
        reachable quickly): per statement, the possible numbers of recursive calls, following
        both arms of `a if c else b` and the short-circuit of `and`/`or`."""
        if not calls:
            return False
        ids = {c.id for c in calls}
        spans = [(c.start_byte, c.end_byte) for c in calls]
        statements: dict[int, Node] = {}
        for call in calls:
            if _in_loop_of(call, fn):
                continue  # many calls per level
            stmt = call.parent
            while stmt is not None and stmt != fn and not stmt.type.endswith("statement"):
                stmt = stmt.parent
            if stmt is not None and stmt != fn:
                statements[stmt.id] = stmt
        return any(1 in _call_counts(s, ids, spans) for s in statements.values())


def _add(a: frozenset[int], b: frozenset[int]) -> frozenset[int]:
    return frozenset(min(x + y, 2) for x in a for y in b)  # 2 stands for "two or more"


_ZERO = frozenset({0})


def _call_counts(node: Node, ids: set[int], spans: list[tuple[int, int]]) -> frozenset[int]:
    """How many of the calls `ids` evaluating `node` can make: a subset of {0, 1, 2+}."""
    if not any(node.start_byte <= s and e <= node.end_byte for s, e in spans):
        return _ZERO
    t = node.type
    if t in ("block", "lambda", "function_definition", "class_definition"):
        return _ZERO  # nested statements are counted on their own; lambdas run later
    if t in COMPREHENSION_TYPES:
        return frozenset({2})
    parts = node.named_children
    if t == "conditional_expression" and len(parts) == 3:
        body, cond, alt = (_call_counts(p, ids, spans) for p in parts)
        return _add(cond, body | alt)
    if t == "boolean_operator":
        left_node, right_node = node.child_by_field_name("left"), node.child_by_field_name("right")
        left = _call_counts(left_node, ids, spans) if left_node is not None else _ZERO
        right = _call_counts(right_node, ids, spans) if right_node is not None else _ZERO
        return _add(left, _ZERO | right)
    result = frozenset({1}) if node.id in ids else _ZERO
    for child in parts:
        result = _add(result, _call_counts(child, ids, spans))
    return result


def _raised(call: Node) -> bool:
    """Whether `call` is the exception a `raise` statement constructs (`raise E(msg)`)."""
    parent = call.parent
    return (
        parent is not None
        and parent.type == "raise_statement"
        and call.child_by_field_name("function") is not None
        and call.child_by_field_name("function").type in ("identifier", "attribute")
    )


def _descendant_identifiers(node: Node) -> Iterator[Node]:
    stack = [node]
    while stack:
        n = stack.pop()
        if n.type == "identifier":
            yield n
        stack.extend(n.named_children)


def _assigned_values(fn: Node, name: str) -> Iterator[Node]:
    """The right-hand sides assigned to a local name (for-loop targets yield nothing)."""
    body = fn.child_by_field_name("body")
    stack = [body] if body is not None else []
    while stack:
        n = stack.pop()
        if n.type in ("function_definition", "class_definition", "lambda"):
            continue
        if n.type == "assignment":
            left, right = n.child_by_field_name("left"), n.child_by_field_name("right")
            if left is not None and right is not None:
                if left.type == "identifier" and text(left) == name:
                    yield right
                elif any(text(i) == name for i in _targets(left)):
                    pass  # unpacked: an element of something, like a subscript
        elif n.type == "augmented_assignment":
            left, right = n.child_by_field_name("left"), n.child_by_field_name("right")
            if left is not None and right is not None and text(left) == name:
                yield right
        stack.extend(n.named_children)


def _imported_modules(stmt: Node) -> list[str]:
    if stmt.type == "import_statement":
        out = []
        for child in stmt.named_children:
            target = child.child_by_field_name("name") if child.type == "aliased_import" else child
            out.append(text(target))
        return out
    module = stmt.child_by_field_name("module_name")
    return [text(module)] if module is not None else ["."]


def _pure_qualified(q: str) -> bool:
    return q in PURE_FUNCTIONS or q.split(".", 1)[0] in PURE_MODULES


def _immutable_qualified(q: str) -> bool:
    return q in IMMUTABLE_RESULT_FUNCTIONS or q.split(".", 1)[0] in IMMUTABLE_RESULT_MODULES


# -- the detector ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    fn: Node
    name: Node
    class_name: str | None  # for a static method
    verdict: Verdict
    params: dict[str, str]
    steps: tuple[Node, ...]  # recursive calls whose arguments step from the parameters
    # an instance method's `self`: no decorator can cache it safely (it would keep every
    # instance alive and share results across instances), so the fix needs judgement
    receiver: str | None = None

    @property
    def recursive(self) -> bool:
        return bool(self.verdict.self_calls)

    @property
    def branching(self) -> bool:
        """Overlapping subproblems: two stepping calls per level, or one in a loop."""
        return len(self.steps) >= 2 or any(_in_loop_of(c, self.fn) for c in self.steps)


def _step_like(call: Node, params: dict[str, str]) -> bool:
    """Whether a recursive call's arguments step from the parameters by a little (`n - 1`,
    `n - coin`, `a[1:]`, `s[:-1]`), the shape whose subproblems overlap. Arguments taken out of
    a parameter (`node.left`, `items[i]`, a loop's element) walk a structure instead: each
    subproblem is met once (trees), as are the halves of divide and conquer (`mid`)."""
    args = call.child_by_field_name("arguments")
    if args is None or args.type != "argument_list":
        return False
    stepped = False
    for arg in args.named_children:
        if arg.type == "comment":
            continue
        if arg.type == "keyword_argument":
            arg = arg.child_by_field_name("value")
        if arg is None:
            return False
        kind = _arg_kind(arg, params)
        if kind == "other":
            return False
        stepped = stepped or kind == "step"
    return stepped


def _small_constant(node: Node) -> bool:
    if node.type == "integer":
        return True
    return node.type == "unary_operator" and all(c.type == "integer" for c in node.named_children)


def _arg_kind(arg: Node, params: dict[str, str]) -> str:
    t = arg.type
    if t in ("integer", "float", "string", "true", "false", "none"):
        return "same"
    if t == "identifier":
        return "same" if text(arg) in params else "other"
    if t == "parenthesized_expression" and arg.named_children:
        return _arg_kind(arg.named_children[0], params)
    if t == "binary_operator":
        op = arg.child_by_field_name("operator")
        left, right = arg.child_by_field_name("left"), arg.child_by_field_name("right")
        if op is None or text(op) not in ("+", "-") or left is None or right is None:
            return "other"
        operands = (left, right)
        if not any(o.type == "identifier" and text(o) in params for o in operands):
            return "other"
        if all(o.type in ("identifier", "integer", "attribute") for o in operands):
            return "step"
        return "other"
    if t == "subscript":
        value = arg.child_by_field_name("value")
        subs = arg.children_by_field_name("subscript")
        if (
            value is not None
            and value.type == "identifier"
            and text(value) in params
            and len(subs) == 1
            and subs[0].type == "slice"
            and all(_small_constant(b) for b in subs[0].named_children)
        ):
            return "step"  # a[1:], s[:-1]; a[lo:mid] partitions instead
        return "other"
    return "other"


def _in_loop_of(node: Node, fn: Node) -> bool:
    parent = node.parent
    while parent is not None and parent != fn:
        if (
            parent.type in ("for_statement", "while_statement")
            or parent.type in COMPREHENSION_TYPES
        ):
            return True
        parent = parent.parent
    return False


def _calls_name(src: bytes, name: bytes, owner: bytes | None = None) -> bool:
    """Whether `name(` (or `owner.name(`) appears in `src`: a cheap test before any tree walk."""
    i = src.find(name)
    while i >= 0:
        after = src[i + len(name) : i + len(name) + 8].lstrip()
        before = src[max(0, i - 1 - (len(owner) + 4 if owner else 0)) : i]
        if after.startswith(b"(") and not (before[-1:].isalnum() or before[-1:] == b"_"):
            if owner is None:
                if not before.endswith(b"."):
                    return True
            elif before.replace(b" ", b"").endswith(owner + b"."):
                return True
        i = src.find(name, i + 1)
    return False


def _decorators(decorated: Node | None) -> list[str]:
    if decorated is None:
        return []
    return [text(d).lstrip("@").strip() for d in decorated.named_children if d.type == "decorator"]


def candidate(
    ctx: FileContext,
    prover: Prover,
    fn: Node,
    name_node: Node,
    decorated: Node | None,
    class_node: Node | None,
) -> Candidate | None:
    """The function as a memoization candidate, with its purity verdict; None when it is not."""
    placed = _placement(fn, decorated, class_node)
    if isinstance(placed, str):
        return None
    class_name, receiver = placed
    name = text(name_node)
    body = fn.child_by_field_name("body")
    if body is None:
        return None
    src = ctx.source[body.start_byte : body.end_byte]
    owner = receiver or class_name
    if owner is None:
        recursive = _calls_name(src, name.encode())
    else:
        recursive = _calls_name(src, name.encode(), owner.encode())
    if receiver is not None and not recursive:
        return None  # a method: only the strong case (overlapping self-recursion) is reported
    params, problem = prover.params(fn)
    if receiver is not None:
        params.pop(receiver, None)
        prover.receivers[fn.id] = receiver
    if problem is not None or not params:
        return None
    # the weak case (not recursive): every parameter annotated hashable, and a loop to save
    if not recursive and (
        any(k != "hashable" for k in params.values()) or not _LOOP_WORD.search(src)
    ):
        return None
    # cheap syntactic filters before the purity proof: stepping recursion, or repeated calls
    if recursive:
        calls = _self_calls(body, name, owner)
        stepping = [c for c in calls if _step_like(c, params) and not _threads_state(c, params)]
        if not stepping:
            return None  # structural recursion (trees, divide and conquer): nothing repeats
        branching = len(stepping) >= 2 or any(_in_loop_of(c, fn) for c in stepping)
    else:
        branching = False
    if not branching and not _called_again(ctx, fn, name, class_name):
        return None  # no overlap inside, and nothing in the file calls it repeatedly
    if _binding_problem(prover, name, class_name, receiver):
        return None
    verdict = prover.verdict(fn, class_name)
    if _verdict_problem(verdict):
        return None
    steps = tuple(
        c for c in verdict.self_calls if _step_like(c, params) and not _threads_state(c, params)
    )
    if verdict.self_calls and not steps:
        return None  # structural recursion (trees, divide and conquer): no subproblem repeats
    if not verdict.self_calls and (
        not verdict.has_loop or any(k != "hashable" for k in params.values())
    ):
        return None
    cand = Candidate(fn, name_node, class_name, verdict, params, steps, receiver)
    if not cand.branching and not _called_again(ctx, fn, name, class_name):
        return None
    return cand


def _placement(
    fn: Node, decorated: Node | None, class_node: Node | None
) -> tuple[str | None, str | None] | str:
    """(the class of a static method, an instance method's `self`) for a def a cache can wrap
    as written, or why it cannot."""
    decorators = _decorators(decorated)
    class_name: str | None = None
    receiver: str | None = None
    if class_node is not None:
        if not decorators:
            receiver = _first_parameter(fn)
            if receiver is None:
                return "is a method without a receiver"
        elif decorators != ["staticmethod"]:
            # classmethods and wrapped methods: the analysis cannot see through
            return "is a classmethod or a decorated method"
        class_name = text(class_node.child_by_field_name("name"))
        if class_node.parent is None or class_node.parent.type != "module":
            # a nested class: its name is not a global the recursion can use
            return "is a method of a nested class"
    elif decorators:
        # any decorator: already cached, or a wrapper the analysis cannot see through
        return "is decorated (already cached, or wrapped)"
    if fn.has_error:
        return "does not parse"
    if any(c.type == "async" for c in fn.children):
        return "is async"
    return class_name, receiver


def _binding_problem(
    prover: Prover, name: str, class_name: str | None, receiver: str | None
) -> str:
    if class_name is None and prover.facts.kinds.get(name) != "function":
        # the name is rebound at module level: calls may not reach this function
        return f"{name} is rebound at module level"
    if (
        class_name is not None
        and receiver is None
        and ("staticmethod" in prover.facts.kinds or prover.facts.kinds.get(class_name) != "class")
    ):
        # `staticmethod` rebound, or the class name is: `C.f(...)` may not reach f
        return f"staticmethod or {class_name} is rebound"
    return ""


def _verdict_problem(verdict: Verdict) -> str:
    if not verdict.pure:
        return verdict.reason
    if not verdict.immutable_return:
        # a cache hands every caller the same object: one that changes it changes them all
        return f"may return a mutable object ({verdict.return_note})"
    return ""


def enclosing(fn: Node) -> tuple[Node | None, Node | None] | None:
    """(its `decorated_definition`, its class) for a def at module level or in a module-level
    block's class; None for a def nested in a function (a cache there is rebuilt per call)."""
    decorated = (
        fn.parent if fn.parent is not None and fn.parent.type == "decorated_definition" else None
    )
    outer = decorated if decorated is not None else fn
    block = outer.parent
    if block is not None and block.type == "block" and block.parent is not None:
        if block.parent.type == "class_definition":
            return decorated, block.parent
        return None
    if block is None or block.type != "module":
        return None
    return decorated, None


@dataclass(frozen=True)
class Gate:
    """The purity gate's answer for one def: whether a cache can wrap it without changing what
    the program does (module function or static method; no writes, no I/O, reads nothing that
    changes, no unhashable parameter, immutable result), and if not, why."""

    reason: str  # "" when it passes
    class_name: str | None = None
    params: dict[str, str] = field(default_factory=dict)
    verdict: Verdict | None = None

    @property
    def passed(self) -> bool:
        return not self.reason


def purity_gate(ctx: FileContext, prover: Prover, fn: Node) -> Gate:
    """The checks `candidate` makes about purity, without its static tests of repetition
    (stepping recursion, calls from loops): for a caller that knows from elsewhere (a profile's
    call counts) that the function runs very often."""
    placed = enclosing(fn)
    if placed is None:
        return Gate("is nested in a function or in a nested block")
    where = _placement(fn, *placed)
    if isinstance(where, str):
        return Gate(where)
    class_name, receiver = where
    if receiver is not None:
        # a cache keeps every instance alive and shares results across instances
        return Gate(f"is an instance method (of {receiver})")
    name_node = fn.child_by_field_name("name")
    if name_node is None or fn.child_by_field_name("body") is None:
        return Gate("has no name or no body")
    params, problem = prover.params(fn)
    if problem is not None:
        return Gate(problem)
    if not params:
        return Gate("takes no arguments")
    problem = _binding_problem(prover, text(name_node), class_name, receiver)
    if problem:
        return Gate(problem)
    verdict = prover.verdict(fn, class_name)
    problem = _verdict_problem(verdict)
    if problem:
        return Gate(problem, class_name, params, verdict)
    return Gate("", class_name, params, verdict)


def _first_parameter(fn: Node) -> str | None:
    params = fn.child_by_field_name("parameters")
    first = params.named_children[0] if params is not None and params.named_children else None
    return text(first) if first is not None and first.type == "identifier" else None


def _self_calls(body: Node, name: str, class_name: str | None) -> list[Node]:
    """Calls of `name(...)` (or `Class.name(...)`) in a body, by shape only."""
    found: list[Node] = []
    stack = [body]
    while stack:
        n = stack.pop()
        if n.type == "call":
            func = n.child_by_field_name("function")
            if func is not None and (
                (class_name is None and func.type == "identifier" and text(func) == name)
                or (
                    class_name is not None and text(func).replace(" ", "") == f"{class_name}.{name}"
                )
            ):
                found.append(n)
        stack.extend(n.named_children)
    return found


def _threads_state(call: Node, params: dict[str, str]) -> bool:
    """`total, count = walk(..., total, count)`: results fed back into the parameters (an
    accumulator), so two calls rarely see the same arguments."""
    parent = call.parent
    while parent is not None and parent.type in ("parenthesized_expression", "expression_list"):
        parent = parent.parent
    if parent is None or parent.type not in ("assignment", "augmented_assignment"):
        return False
    left = parent.child_by_field_name("left")
    return any(text(i) in params for i in _targets(left))


def _called_again(ctx: FileContext, fn: Node, name: str, class_name: str | None) -> bool:
    """Whether the file calls the function from a loop with arguments that can repeat: fields
    of the items walked, not counters (`is_prime(i) for i in range(n)` never repeats)."""
    source = ctx.source
    needle = name.encode()
    i = source.find(needle)
    while i >= 0:
        j = i + len(needle)
        if fn.start_byte <= i < fn.end_byte or not source[j : j + 8].lstrip().startswith(b"("):
            i = source.find(needle, j)
            continue
        node = ctx.tree.root_node.descendant_for_byte_range(i, j)
        call = node.parent if node is not None else None
        if call is not None and call.type == "attribute" and class_name is not None:
            call = call.parent
        if call is not None and call.type == "call":
            loops = ctx.loops_around(call)
            if loops and _fields_of_items(call, loops):
                return True
        i = source.find(needle, j)
    return False


def _fields_of_items(call: Node, loops: list[Node]) -> bool:
    """Whether an argument is a field of the items a loop walks (`order.product`, `row["sku"]`):
    records repeat such values (categories, names), where counters (`i`, `n + 1`) never do."""
    items: set[str] = set()
    for loop in loops:
        clauses = [loop] if loop.type == "for_statement" else list(loop.named_children)
        for clause in clauses:
            if clause.type in ("for_statement", "for_in_clause"):
                items.update(text(t) for t in _targets(clause.child_by_field_name("left")))
    args = call.child_by_field_name("arguments")
    for arg in args.named_children if args is not None else []:
        if arg.type == "keyword_argument":
            arg = arg.child_by_field_name("value")
        if arg is None or arg.type not in ("attribute", "subscript"):
            continue
        if arg.type == "subscript" and any(
            s.type == "slice" for s in arg.children_by_field_name("subscript")
        ):
            continue
        root = root_name(arg)
        if root is not None and text(root) in items:
            return True
    return False


class Memoize(Detector):
    id = "memoize"
    query_file = "memoize.scm"

    def check(self, ctx: FileContext, matches: list[Captures]) -> Iterator[Finding]:
        prover = Prover(ctx)
        for m in matches:
            fn, name_node = m["fn"][0], m["name"][0]
            decorated = m["decorated"][0] if "decorated" in m else None
            class_node = None
            if "class" in m:
                class_node = m["class"][0].parent
            cand = candidate(ctx, prover, fn, name_node, decorated, class_node)
            if cand is None:
                continue
            yield self._finding(ctx, cand)

    def _finding(self, ctx: FileContext, cand: Candidate) -> Finding:
        name = text(cand.name)
        v = cand.verdict
        hashable = all(k == "hashable" for k in cand.params.values())
        if cand.branching:
            calls = len(cand.steps)
            what = (
                f"{name}() calls itself from {calls} places with stepped arguments"
                if calls >= 2
                else f"{name}() calls itself in a loop"
            )
            if cand.receiver is not None:
                message = (
                    f"{what}, so the same arguments are recomputed exponentially often; it "
                    "writes nothing and returns an immutable value: cache it per instance "
                    "(@functools.cache on a method would keep every instance alive), if the "
                    f"attributes of {cand.receiver} it reads do not change"
                )
            else:
                message = (
                    f"{what}, so the same arguments are recomputed exponentially often; it is "
                    "pure (no writes, no I/O, immutable result): cache it with @functools.cache"
                )
            confidence = 0.9 if hashable and not v.mutable_reads else 0.8
        elif cand.recursive:
            message = (
                f"{name}() is pure and recursive (one call per level) and this file calls it "
                "from a loop: a cache pays when those calls repeat arguments; consider "
                "@functools.cache"
            )
            confidence = 0.3
        else:
            message = (
                f"{name}() is pure (no writes, no I/O, hashable arguments, immutable result), "
                "loops, and this file calls it from a loop: if those calls repeat arguments, "
                "@functools.lru_cache(maxsize=...) returns the result without recomputing it"
            )
            confidence = 0.25
        if v.mutable_reads:
            confidence -= 0.1
        evidence = [
            ("function", ctx.qualname(cand.fn)),
            ("recursive_calls", str(len(v.self_calls))),
            ("parameters", ", ".join(f"{p}: {k}" for p, k in cand.params.items())),
        ]
        if v.mutable_reads:
            evidence.append(("reads_globals", ", ".join(v.mutable_reads)))
        if cand.receiver is not None:
            evidence.append(("instance_method", cand.receiver))
            confidence = min(confidence, 0.7)  # instance state may change between calls
        return self.finding(
            ctx,
            cand.name,
            message,
            confidence=round(max(confidence, 0.1), 2),
            evidence=evidence,
        )
