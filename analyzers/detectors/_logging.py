"""What the three logging detectors share: is this call a logger call, and on which logger?

An expression is a logger only when the code shows it: the `logging` module itself, a call to
`logging.getLogger(...)` (or `getLoggerClass()(...)`, `LoggerAdapter(...)`, `structlog.get_logger`,
`.getChild(...)` on a logger), a name or `self.<attr>` every binding of which is one of those, or a
parameter annotated `logging.Logger`, or such a name defined by another module of the same
project (`from .log import logger`, `_base.LOGGER`: that module is parsed once per process).
A name that merely sounds like a logger (`log = []`, `log = math.log`, `logger = AuditTrail()`,
an unannotated parameter called `logger`, a `logger` imported from a module we cannot see) is
not one: its methods may format nothing, or use `{}` placeholders, so nothing is reported for
it. The only guess admitted is a call to a project helper named `get_logger`/`getLogger`; its
findings rank lower and their rewrites are never offered as safe.

Also here: %-format parsing, format-spec translation (`{x:.2f}` -> `%.2f`), string literal
rendering, guards (`if logger.isEnabledFor(...)`) and the statement wrapping the rewrites share.
"""

from __future__ import annotations

import ast
import functools
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from tree_sitter import Node, Query, QueryCursor

from megawatt.analyzers.context import COMPREHENSION_TYPES, FileContext, text
from megawatt.analyzers.parsing import PYTHON
from megawatt.fixes.edits import ensure_import, indentation_at, line_start
from megawatt.model import Edit

LEVEL_OF_METHOD = {
    "debug": "DEBUG",
    "info": "INFO",
    "warning": "WARNING",
    "warn": "WARNING",
    "error": "ERROR",
    "exception": "ERROR",
    "critical": "CRITICAL",
    "fatal": "CRITICAL",
}
METHODS = frozenset((*LEVEL_OF_METHOD, "log"))
LEVEL_NUMBERS = {"10": "DEBUG", "20": "INFO", "30": "WARNING", "40": "ERROR", "50": "CRITICAL"}
QUIET_LEVELS = frozenset(("DEBUG", "INFO"))

# kinds of logger
STDLIB = "stdlib"  # logging.Logger / LoggerAdapter: %-style args, isEnabledFor
MODULE = "module"  # the logging module's functions: the root logger, basicConfig() on first use
STRUCTLOG = "structlog"  # %-interpolates positional args only in some configurations
LOGURU = "loguru"  # {}-style args: a %-style rewrite would be wrong
GUESS = "guess"  # a project helper named get_logger(): probably stdlib, not proven

_STDLIB_FACTORIES = frozenset(
    ("logging.getLogger", "logging.Logger", "logging.RootLogger", "logging.LoggerAdapter")
)
_STRUCTLOG_FACTORIES = frozenset(
    (
        "structlog.get_logger",
        "structlog.getLogger",
        "structlog.wrap_logger",
        "structlog.stdlib.get_logger",
    )
)
_LOGGER_TYPES = frozenset(("logging.Logger", "logging.LoggerAdapter", "logging.RootLogger"))
_STRUCTLOG_METHODS = frozenset(("bind", "new", "unbind", "try_unbind"))
_GLOBALS = Query(PYTHON, "(global_statement) @g")
_BODIES = frozenset(
    (
        "block",
        "module",
        "if_statement",
        "elif_clause",
        "else_clause",
        "try_statement",
        "except_clause",
        "except_group_clause",
        "finally_clause",
        "while_statement",
        "for_statement",
        "with_statement",
        "match_statement",
        "case_clause",
    )
)


def _target_names(target: Node | None) -> Iterator[str]:
    if target is None:
        return
    if target.type == "identifier":
        yield text(target)
    elif target.type in (
        "pattern_list",
        "tuple_pattern",
        "list_pattern",
        "tuple",
        "list",
        "as_pattern_target",
        "parenthesized_expression",
        "list_splat_pattern",
        "list_splat",
    ):
        for c in target.named_children:
            yield from _target_names(c)


@dataclass(frozen=True)
class LoggerRef:
    kind: str
    stable: bool  # the same logger every time it is evaluated (a name, param, self attr)


@dataclass(frozen=True)
class LoggerCall:
    call: Node
    method: str  # debug, info, ..., log
    receiver: Node | None  # the logger expression; None for `from logging import info`
    logger: LoggerRef
    level: str | None  # DEBUG ... CRITICAL; None when `.log(level, ...)` is not a constant
    level_node: Node | None  # the level argument of `.log()`
    message: Node | None  # the message argument (None when absent or not positional)
    args: tuple[Node, ...]  # positional arguments after the message
    keywords: tuple[Node, ...]  # keyword arguments (exc_info=..., extra=...)
    splat: bool  # *args or **kwargs in the call

    @property
    def label(self) -> str:
        """`logger.debug()` as the message shows it."""
        recv = text(self.receiver) if self.receiver is not None else ""
        recv = recv if len(recv) <= 40 else recv[:37] + "..."
        return f"{recv}.{self.method}()" if recv else f"{self.method}()"


# -- resolution -------------------------------------------------------------------------------


@dataclass
class _Bindings:
    """Per name: the value nodes bound to it (None = bound some other way: for, import, def)."""

    values: dict[str, list[Node | None]] = field(default_factory=dict)
    annotations: dict[str, list[Node]] = field(default_factory=dict)
    imported: dict[str, tuple[str, str]] = field(default_factory=dict)  # name -> (module, attr)

    def add(self, name: str, value: Node | None) -> None:
        self.values.setdefault(name, []).append(value)


class _Resolver:
    def __init__(self, ctx: FileContext) -> None:
        self.ctx = ctx
        self._scope_bindings: dict[int, _Bindings] = {}
        self._class_bindings: dict[int, _Bindings] = {}
        self._module: _Bindings | None = None
        self._names: dict[tuple[int, str], LoggerRef | None] = {}
        self._busy: set[tuple[int, str]] = set()

    # --- bindings ---

    def module_bindings(self) -> _Bindings:
        if self._module is None:
            b = _Bindings()
            self._collect(self.ctx.tree.root_node, b)
            if b"global" in self.ctx.source:
                self._collect_globals(b)
            self._module = b
        return self._module

    def scope_bindings(self, scope: Node) -> _Bindings:
        b = self._scope_bindings.get(scope.id)
        if b is None:
            b = self._scope_bindings[scope.id] = _Bindings()
            params = scope.child_by_field_name("parameters")
            if params is not None:
                for p in params.named_children:
                    self._param(p, b)
            body = scope.child_by_field_name("body")
            if body is not None:
                self._collect(body, b)
        return b

    def _param(self, p: Node, b: _Bindings) -> None:
        if p.type == "identifier":
            b.add(text(p), None)
        elif p.type == "typed_parameter":
            ident = p.named_children[0] if p.named_children else None
            ann = p.child_by_field_name("type")
            if ident is not None and ident.type == "identifier":
                b.add(text(ident), None)
                if ann is not None:
                    b.annotations.setdefault(text(ident), []).append(ann)
        elif p.type in ("default_parameter", "typed_default_parameter"):
            ident = p.child_by_field_name("name")
            if ident is None or ident.type != "identifier":
                return
            name = text(ident)
            ann = p.child_by_field_name("type")
            if ann is not None:
                b.annotations.setdefault(name, []).append(ann)
            b.add(name, p.child_by_field_name("value"))

    def _collect(self, root: Node, b: _Bindings) -> None:
        """Bindings made by the statements of a body, not inside nested scopes or expressions
        (a walrus in a condition is missed, which only ever makes a name unknown)."""
        stack = list(reversed(root.named_children))
        while stack:
            n = stack.pop()
            t = n.type
            if t == "decorated_definition":
                n = n.child_by_field_name("definition") or n
                t = n.type
            if t in ("function_definition", "class_definition"):
                name = n.child_by_field_name("name")
                if name is not None:
                    b.add(text(name), None)
            elif t == "expression_statement":
                for c in n.named_children:
                    if c.type == "assignment":
                        self._assignment(c, b)
                    elif c.type == "augmented_assignment":
                        for name in _target_names(c.child_by_field_name("left")):
                            b.add(name, None)
            elif t in ("import_statement", "import_from_statement"):
                module = n.child_by_field_name("module_name")
                for child in n.named_children:
                    if child == module:
                        continue
                    if child.type == "aliased_import":
                        alias = text(child.child_by_field_name("alias"))
                        b.add(alias, None)
                        if module is not None:
                            b.imported[alias] = (
                                text(module),
                                text(child.child_by_field_name("name")),
                            )
                    elif child.type == "dotted_name":
                        name = text(child).split(".", 1)[0]
                        b.add(name, None)
                        if module is not None:
                            b.imported[name] = (text(module), text(child))
            elif t == "for_statement":
                for name in _target_names(n.child_by_field_name("left")):
                    b.add(name, None)
                stack.extend(c for c in n.named_children if c.type in _BODIES)
            elif t in ("with_statement", "with_clause", "with_item", "except_clause"):
                for c in n.named_children:
                    if c.type == "as_pattern":
                        for name in _target_names(c.child_by_field_name("alias")):
                            b.add(name, None)
                    elif c.type in _BODIES or c.type in ("with_clause", "with_item"):
                        stack.append(c)
            elif t in _BODIES:
                stack.extend(reversed(n.named_children))

    def _assignment(self, n: Node, b: _Bindings) -> None:
        left = n.child_by_field_name("left")
        right = n.child_by_field_name("right")
        while right is not None and right.type == "assignment":  # a = b = value
            right = right.child_by_field_name("right")
        if left is None:
            return
        if left.type == "identifier":
            name = text(left)
            ann = n.child_by_field_name("type")
            if ann is not None:
                b.annotations.setdefault(name, []).append(ann)
            if right is not None or ann is None:
                b.add(name, right)
            else:
                b.values.setdefault(name, [])  # `x: Logger` declares, binds nothing
        else:
            for name in _target_names(left):
                b.add(name, None)
        inner = n.child_by_field_name("right")
        if inner is not None and inner.type == "assignment":
            self._assignment(inner, b)

    def _collect_globals(self, b: _Bindings) -> None:
        """Assignments made through `global name` in functions count as module bindings."""
        for node in QueryCursor(_GLOBALS).captures(self.ctx.tree.root_node).get("g", []):
            fn = self.ctx.enclosing(node, ("function_definition",))
            if fn is None:
                continue
            inner = self.scope_bindings(fn)
            for ident in node.named_children:
                name = text(ident)
                b.values.setdefault(name, []).extend(inner.values.get(name, [None]))

    def class_bindings(self, cls: Node) -> _Bindings:
        b = self._class_bindings.get(cls.id)
        if b is not None:
            return b
        b = self._class_bindings[cls.id] = _Bindings()
        body = cls.child_by_field_name("body")
        if body is None:
            return b
        for stmt in body.named_children:
            if stmt.type == "expression_statement" and stmt.named_children:
                inner = stmt.named_children[0]
                if inner.type == "assignment":
                    self._assignment(inner, b)
            fn = (
                stmt.child_by_field_name("definition")
                if stmt.type == "decorated_definition"
                else stmt
            )
            if fn is not None and fn.type == "function_definition":
                self._self_assignments(fn, b)
        return b

    def _self_assignments(self, fn: Node, b: _Bindings) -> None:
        first = _first_param(fn)
        body = fn.child_by_field_name("body")
        if first is None or body is None:
            return
        stack = [body]
        while stack:
            n = stack.pop()
            if n.type in ("function_definition", "class_definition", "lambda"):
                continue
            if n.type in ("assignment", "augmented_assignment"):
                left = n.child_by_field_name("left")
                targets = [left] if left is not None else []
                if left is not None and left.type in ("pattern_list", "tuple_pattern"):
                    targets = list(left.named_children)
                for target in targets:
                    if target.type == "attribute":
                        obj = target.child_by_field_name("object")
                        if obj is not None and obj.type == "identifier" and text(obj) == first:
                            value = n.child_by_field_name("right")
                            while value is not None and value.type == "assignment":
                                value = value.child_by_field_name("right")
                            single = n.type == "assignment" and target is left
                            b.add(
                                text(target.child_by_field_name("attribute")),
                                value if single else None,
                            )
            stack.extend(n.named_children)

    # --- values ---

    def value(self, node: Node | None, depth: int = 0) -> LoggerRef | None:
        """The logger an expression evaluates to, or None when it is not known to be one."""
        if node is None or depth > 6:
            return None
        t = node.type
        if t == "parenthesized_expression" and node.named_children:
            return self.value(node.named_children[0], depth + 1)
        if t == "identifier":
            return self.name(node, depth)
        if t == "attribute":
            q = self.ctx.qualified(node)
            if q == "logging.root":
                return LoggerRef(STDLIB, True)
            if q == "loguru.logger":
                return LoggerRef(LOGURU, True)
            ref = self.self_attribute(node, depth)
            if ref is None:
                ref = self.module_attribute(node, q, depth)
            return ref
        if t == "call":
            return self.call_value(node, depth)
        if t == "boolean_operator" and text(node.child_by_field_name("operator")) == "or":
            # `logger or logging.getLogger(__name__)`: the default decides what it is
            left = node.child_by_field_name("left")
            right = self.value(node.child_by_field_name("right"), depth + 1)
            if right is None or left is None:
                return None
            known = self.value(left, depth + 1)
            if known is not None:
                return _join(known, right)
            if left.type == "identifier" and self._is_parameter(left):
                return LoggerRef(right.kind, False)
            return None
        if t == "conditional_expression":
            branches = [c for c in node.named_children if c.type != "comment"]
            if len(branches) == 3:
                a, b = self.value(branches[0], depth + 1), self.value(branches[2], depth + 1)
                if a is not None and b is not None:
                    return _join(a, b)
        return None

    def call_value(self, node: Node, depth: int) -> LoggerRef | None:
        func = node.child_by_field_name("function")
        if func is None:
            return None
        q = self.ctx.qualified(func)
        if q in _STDLIB_FACTORIES:
            return LoggerRef(STDLIB, _constant_args(node))
        if q in _STRUCTLOG_FACTORIES:
            return LoggerRef(STRUCTLOG, False)
        if func.type == "call" and self.ctx.qualified(func.child_by_field_name("function")) == (
            "logging.getLoggerClass"
        ):
            return LoggerRef(STDLIB, False)
        if func.type == "attribute":
            attr = text(func.child_by_field_name("attribute"))
            obj = func.child_by_field_name("object")
            if attr == "getChild" or attr in _STRUCTLOG_METHODS:
                base = self.value(obj, depth + 1)
                if base is not None and (attr == "getChild" or base.kind == STRUCTLOG):
                    return LoggerRef(base.kind, False)
            if q is not None and q.startswith(("logging.", "structlog.", "loguru.")):
                return None
            if attr in ("getLogger", "get_logger"):
                return LoggerRef(GUESS, False)
            return None
        if (
            func.type == "identifier"
            and text(func) in ("getLogger", "get_logger")
            and (q is None or not q.startswith(("logging.", "structlog.", "loguru.")))
        ):
            return LoggerRef(GUESS, False)  # a project helper: probably a stdlib logger
        return None

    def name(self, ident: Node, depth: int) -> LoggerRef | None:
        name = text(ident)
        if _bound_by_comprehension(ident, name):
            return None
        scope_node: Node | None = None
        for fn in self.ctx.enclosing_functions(ident):
            if name in self.ctx.local_names(fn):
                if _declares_global(fn, name):
                    break
                scope_node = fn
                break
        key = (scope_node.id if scope_node is not None else -1, name)
        if key in self._names:
            return self._names[key]
        if key in self._busy:
            return None
        self._busy.add(key)
        try:
            result = self._resolve_name(ident, name, scope_node, depth)
        finally:
            self._busy.discard(key)
        self._names[key] = result
        return result

    def _resolve_name(
        self, ident: Node, name: str, scope: Node | None, depth: int
    ) -> LoggerRef | None:
        if scope is None:
            q = self.ctx.imports.qualified(ident)
            if q == "logging.root":
                return LoggerRef(STDLIB, True)
            if q == "loguru.logger":
                return LoggerRef(LOGURU, True)
            bindings = self.module_bindings()
        else:
            bindings = self.scope_bindings(scope)
        imported = bindings.imported.get(name)
        if imported is not None and len(bindings.values.get(name, ())) == 1:
            # `from .log import logger`: look at the module it comes from
            return _imported_logger(self.ctx.path, *imported, depth)
        annotated = any(
            _is_logger_annotation(self.ctx, a) for a in bindings.annotations.get(name, ())
        )
        values = bindings.values.get(name)
        if values is None:
            return None
        refs: list[LoggerRef] = []
        for v in values:
            if v is None:
                if annotated:
                    continue  # an annotated parameter: the annotation says what it is
                return None
            if v.type == "none":
                continue  # `_logger = None`, set later: calling it while None would fail anyway
            ref = self.value(v, depth + 1)
            if ref is None:
                if annotated:
                    continue
                return None
            refs.append(ref)
        if annotated:
            return LoggerRef(STDLIB, True)
        if not refs:
            return None
        result = refs[0]
        for r in refs[1:]:
            result = _join(result, r)
        # a name is stable when bound once, at module level or as a parameter
        stable = len(values) == 1 and result.kind != GUESS
        return LoggerRef(result.kind, stable)

    def self_attribute(self, node: Node, depth: int) -> LoggerRef | None:
        obj = node.child_by_field_name("object")
        attr = text(node.child_by_field_name("attribute"))
        if obj is None or obj.type != "identifier":
            return None
        fn = self.ctx.function_of(node)
        if fn is None or _first_param(fn) != text(obj):
            return None
        cls = _class_of_method(fn)
        if cls is None:
            return None
        bindings = self.class_bindings(cls)
        values = bindings.values.get(attr)
        annotated = any(
            _is_logger_annotation(self.ctx, a) for a in bindings.annotations.get(attr, ())
        )
        if annotated:
            return LoggerRef(STDLIB, True)
        if not values:
            return None
        refs = []
        for v in values:
            if v is not None and v.type == "none":
                continue
            ref = self.value(v, depth + 1)
            if ref is None:
                return None
            refs.append(ref)
        if not refs:
            return None
        result = refs[0]
        for r in refs[1:]:
            result = _join(result, r)
        return LoggerRef(result.kind, result.kind != GUESS)

    def module_attribute(self, node: Node, q: str | None, depth: int) -> LoggerRef | None:
        """`_base.LOGGER` where `_base` is a module of the same project."""
        obj = node.child_by_field_name("object")
        attr = text(node.child_by_field_name("attribute"))
        if obj is None or obj.type != "identifier":
            return None
        if q is not None:
            module = q.rsplit(".", 1)[0]
            if module.split(".", 1)[0] in ("logging", "structlog", "loguru"):
                return None
            return _imported_logger(self.ctx.path, module, attr, depth)
        name = text(obj)
        if self.ctx.is_local(node, name):
            return None
        imported = self.module_bindings().imported.get(name)
        if imported is None or len(self.module_bindings().values.get(name, ())) != 1:
            return None
        package, module = imported
        if not package.startswith("."):
            return None
        joined = package + module if package.endswith(".") else f"{package}.{module}"
        return _imported_logger(self.ctx.path, joined, attr, depth)

    def value_of_module_name(self, name: str, depth: int) -> LoggerRef | None:
        """What a module-level name of this module is (for modules importing it)."""
        root = self.ctx.tree.root_node
        key = (-1, name)
        if key in self._names:
            return self._names[key]
        result = self._resolve_name(root, name, None, depth)
        self._names[key] = result
        return result

    def _is_parameter(self, ident: Node) -> bool:
        fn = self.ctx.function_of(ident)
        params = fn.child_by_field_name("parameters") if fn is not None else None
        if params is None:
            return False
        name = text(ident)
        for p in params.named_children:
            n = p if p.type == "identifier" else p.child_by_field_name("name")
            if n is None and p.named_children:
                n = p.named_children[0]
            if n is not None and text(n) == name:
                return True
        return False


_MAX_MODULE_BYTES = 1 << 20


def _imported_logger(path: str, module: str, attr: str, depth: int) -> LoggerRef | None:
    """A logger another module of the same project defines (`from .log import logger`).

    The module is found beside the importing file (relative imports) or under the package
    root the importing file belongs to; it is parsed once per process and version (mtime).
    """
    if depth > 3:
        return None
    target = _module_file(path, module)
    if target is None:
        return None
    try:
        stat = os.stat(target)
    except OSError:
        return None
    if stat.st_size > _MAX_MODULE_BYTES:
        return None
    other = _module_resolver(target, stat.st_mtime_ns)
    if other is None:
        return None
    values = other.module_bindings().values.get(attr)
    if values is None:
        return None
    ref = other.value_of_module_name(attr, depth + 1)
    return LoggerRef(ref.kind, ref.stable) if ref is not None else None


@functools.lru_cache(maxsize=64)
def _module_resolver(path: str, mtime_ns: int) -> _Resolver | None:
    del mtime_ns  # part of the cache key only
    try:
        with open(path, "rb") as f:
            source = f.read()
    except OSError:
        return None
    return _Resolver(FileContext(path, source))


@functools.lru_cache(maxsize=512)
def _package_root(directory: str) -> str | None:
    """The directory holding the top-level package `directory` belongs to."""
    if not os.path.isfile(os.path.join(directory, "__init__.py")):
        return None
    parent = os.path.dirname(directory)
    if parent == directory:
        return None
    return _package_root(parent) or parent


def _module_file(path: str, module: str) -> str | None:
    if not path or (not os.path.isabs(path) and not os.path.exists(path)):
        return None
    here = os.path.dirname(os.path.abspath(path))
    if module.startswith("."):
        dots = len(module) - len(module.lstrip("."))
        base = here
        for _ in range(dots - 1):
            base = os.path.dirname(base)
        rest = module[dots:]
        if not rest:
            return None  # `from . import log` binds a module, not a logger
    else:
        root = _package_root(here)
        if root is None:
            return None
        base, rest = root, module
    candidate = os.path.join(base, *rest.split("."))
    for option in (candidate + ".py", os.path.join(candidate, "__init__.py")):
        if os.path.isfile(option) and os.path.abspath(option) != os.path.abspath(path):
            return option
    return None


def resolver(ctx: FileContext) -> _Resolver:
    # kept in the file's own memo: a global map keyed by the file would keep every version of
    # every file alive, since the resolver refers back to it
    r = ctx.memo.get(_Resolver)  # type: ignore[assignment]
    if r is None:
        r = ctx.memo[_Resolver] = _Resolver(ctx)
    return r


def _join(a: LoggerRef, b: LoggerRef) -> LoggerRef:
    if a.kind == b.kind:
        return LoggerRef(a.kind, a.stable and b.stable)
    return LoggerRef(GUESS, False)


def _constant_args(call: Node) -> bool:
    """`getLogger(__name__)` / `getLogger("app")`: the same logger on every call."""
    args = call.child_by_field_name("arguments")
    if args is None:
        return False
    return all(
        a.type in ("string", "identifier", "attribute", "integer") for a in args.named_children
    )


def _first_param(fn: Node) -> str | None:
    params = fn.child_by_field_name("parameters")
    if params is None or not params.named_children:
        return None
    p = params.named_children[0]
    if p.type == "identifier":
        return text(p)
    if p.type == "typed_parameter" and p.named_children:
        return text(p.named_children[0])
    return None


def _class_of_method(fn: Node) -> Node | None:
    parent = fn.parent
    if parent is not None and parent.type == "decorated_definition":
        for d in parent.named_children:
            if d.type == "decorator" and text(d).strip() == "@staticmethod":
                return None
        parent = parent.parent
    if parent is None or parent.type != "block":
        return None
    cls = parent.parent
    return cls if cls is not None and cls.type == "class_definition" else None


def _declares_global(fn: Node, name: str) -> bool:
    body = fn.child_by_field_name("body")
    if body is None or b"global" not in (body.text or b""):
        return False
    stack = [body]
    while stack:
        n = stack.pop()
        if n.type == "global_statement":
            if any(text(c) == name for c in n.named_children):
                return True
            continue
        if n.type in ("function_definition", "class_definition", "expression_statement"):
            continue
        stack.extend(n.named_children)
    return False


def _bound_by_comprehension(ident: Node, name: str) -> bool:
    parent = ident.parent
    while parent is not None and parent.type not in ("function_definition", "class_definition"):
        if parent.type in COMPREHENSION_TYPES:
            for clause in parent.named_children:
                if clause.type == "for_in_clause":
                    left = clause.child_by_field_name("left")
                    if left is not None and name in _target_names(left):
                        return True
        parent = parent.parent
    return False


def _is_logger_annotation(ctx: FileContext, ann: Node) -> bool:
    node = ann.named_children[0] if ann.type == "type" and ann.named_children else ann
    if node.type == "string":
        content = "".join(text(c) for c in node.named_children if c.type == "string_content")
        return _annotation_text_is_logger(ctx, content.strip())
    if node.type == "binary_operator" and text(node.child_by_field_name("operator")) == "|":
        left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
        sides = [s for s in (left, right) if s is not None and s.type != "none"]
        return len(sides) == 1 and _is_logger_annotation(ctx, sides[0])
    if node.type in ("generic_type", "subscript"):
        head = node.named_children[0] if node.named_children else None
        q = ctx.qualified(head) if head is not None else None
        if q in ("typing.Optional",) or text(head) == "Optional":
            inner = [c for c in node.named_children[1:]]
            flat: list[Node] = []
            for c in inner:
                flat.extend(c.named_children if c.type == "type_parameter" else [c])
            return len(flat) == 1 and _is_logger_annotation(ctx, flat[0])
        return False
    if node.type in ("identifier", "attribute"):
        return ctx.qualified(node) in _LOGGER_TYPES
    return False


def _annotation_text_is_logger(ctx: FileContext, s: str) -> bool:
    s = s.removeprefix("Optional[").removesuffix("]").replace(" | None", "").strip()
    head, _, rest = s.partition(".")
    target = ctx.imports.bindings.get(head)
    if target is None:
        return False
    return (f"{target}.{rest}" if rest else target) in _LOGGER_TYPES


# -- calls ------------------------------------------------------------------------------------


def logger_call(ctx: FileContext, call: Node) -> LoggerCall | None:
    """The logger call `call` is, or None when it is not one on a known logger."""
    func = call.child_by_field_name("function")
    if func is None:
        return None
    receiver: Node | None
    if func.type == "attribute":
        method = text(func.child_by_field_name("attribute"))
        receiver = func.child_by_field_name("object")
        if method not in METHODS or receiver is None:
            return None
        if ctx.qualified(receiver) == "logging":
            ref: LoggerRef | None = LoggerRef(MODULE, True)
        else:
            ref = resolver(ctx).value(receiver)
    elif func.type == "identifier":
        method = text(func)
        if method not in METHODS or ctx.qualified(func) != f"logging.{method}":
            return None
        receiver, ref = None, LoggerRef(MODULE, True)
    else:
        return None
    if ref is None:
        return None
    arglist = call.child_by_field_name("arguments")
    if arglist is None or arglist.type != "argument_list":
        return None
    positional: list[Node] = []
    keywords: list[Node] = []
    splat = False
    for a in arglist.named_children:
        if a.type == "comment":
            continue
        if a.type == "keyword_argument":
            keywords.append(a)
        elif a.type in ("list_splat", "dictionary_splat"):
            splat = True
            if a.type == "list_splat" and not keywords:
                positional.append(a)
        else:
            positional.append(a)
    level_node: Node | None = None
    if method == "log":
        if not positional:
            return None
        level_node = positional[0]
        level = _level_of(ctx, level_node)
        rest = positional[1:]
    else:
        level = LEVEL_OF_METHOD[method]
        rest = positional
    message = rest[0] if rest and rest[0].type != "list_splat" else None
    args = tuple(rest[1:]) if message is not None else ()
    return LoggerCall(
        call=call,
        method=method,
        receiver=receiver,
        logger=ref,
        level=level,
        level_node=level_node,
        message=message,
        args=args,
        keywords=tuple(keywords),
        splat=splat,
    )


def _level_of(ctx: FileContext, node: Node) -> str | None:
    if node.type == "integer":
        return LEVEL_NUMBERS.get(text(node))
    q = ctx.qualified(node)
    if q is not None and q.startswith("logging."):
        name = q.removeprefix("logging.")
        if name in ("DEBUG", "INFO", "WARNING", "WARN", "ERROR", "CRITICAL", "FATAL"):
            return {"WARN": "WARNING", "FATAL": "CRITICAL"}.get(name, name)
    return None


_GUARD_WORDS = re.compile(
    r"isEnabledFor|getEffectiveLevel|is_enabled_for|_enabled\b|\blevel\b|debug|verbose|trace|"
    r"\bdisp\b|\bquiet\b",
    re.IGNORECASE,
)


def is_guarded(call: Node) -> bool:
    """Whether the call only runs under a level check or a debug/verbose flag."""
    child, parent = call, call.parent
    while parent is not None and parent.type not in ("function_definition", "lambda", "module"):
        cond: Node | None = None
        if parent.type in ("if_statement", "elif_clause", "while_statement"):
            cond = parent.child_by_field_name("condition")
        elif parent.type == "conditional_expression":
            kids = parent.named_children
            cond = kids[1] if len(kids) == 3 and child != kids[1] else None
        elif parent.type == "boolean_operator" and child == parent.child_by_field_name("right"):
            cond = parent.child_by_field_name("left")
        if cond is not None and cond != child and _GUARD_WORDS.search(text(cond)):
            return True
        if parent.type == "else_clause":
            ifs = parent.parent
            c = ifs.child_by_field_name("condition") if ifs is not None else None
            if c is not None and _GUARD_WORDS.search(text(c)):
                return True
        child, parent = parent, parent.parent
    return False


def logging_name(ctx: FileContext, at: Node, name: str) -> tuple[str, Edit | None] | None:
    """`logging.<name>` (DEBUG, getLogger) spelt the way this module reaches it, and the import
    edit if the module must import logging first; None when a local shadows `logging`."""
    for local, target in ctx.imports.bindings.items():
        if target == "logging" and not ctx.is_local(at, local):
            return f"{local}.{name}", None
    for local, target in ctx.imports.bindings.items():
        if target == f"logging.{name}" and not ctx.is_local(at, local):
            return local, None
    if ctx.is_local(at, "logging") or "logging" in ctx.imports.module_names:
        return None
    return f"logging.{name}", ensure_import(ctx, "logging")


# -- %-format strings -------------------------------------------------------------------------

_PERCENT = re.compile(
    r"%(?:\((?P<key>[^)]*)\))?(?P<flags>[-#0 +]*)(?P<width>\*|\d+)?(?:\.(?P<prec>\*|\d*))?"
    r"[hlL]?(?P<type>[diouxXeEfFgGcrsa%])?"
)


@dataclass(frozen=True)
class Placeholder:
    start: int  # offsets into the format string's value
    end: int
    key: str | None
    type: str


def percent_placeholders(fmt: str) -> list[Placeholder] | None:
    """The %-placeholders of a format string (without `%%`); None if malformed or uses `*`."""
    found: list[Placeholder] = []
    i = fmt.find("%")
    while i >= 0:
        m = _PERCENT.match(fmt, i)
        if m is None or m.group("type") is None:
            return None
        if m.group("type") == "%":
            if m.end() - m.start() != 2:
                return None
        else:
            if m.group("width") == "*" or m.group("prec") == "*":
                return None
            found.append(Placeholder(m.start(), m.end(), m.group("key"), m.group("type")))
        i = fmt.find("%", m.end())
    keyed = {p.key is not None for p in found}
    return found if len(keyed) <= 1 else None


# -- format specs: str.format / f-string fields as %-placeholders ------------------------------

_SPEC = re.compile(
    r"(?:(?P<fill>.)?(?P<align>[<>=^]))?(?P<sign>[-+ ])?(?P<z>z)?(?P<alt>#)?(?P<zero>0)?"
    r"(?P<width>\d+)?(?P<grouping>[,_])?(?:\.(?P<prec>\d+))?(?P<type>[bcdeEfFgGnosxX%])?",
    re.S,
)
_CONVERSION = {None: "s", "s": "s", "r": "r", "a": "a"}


@dataclass(frozen=True)
class Placeholding:
    text: str  # the %-placeholder: %s, %-10r, %.2f
    exact: bool  # identical for every value; False: identical for int/float/str values only


def translate_field(conversion: str | None, spec: str) -> Placeholding | None:
    """The %-placeholder that formats a `{x!conv:spec}` field the same way, or None."""
    if conversion not in _CONVERSION:
        return None
    if spec == "":
        # format(x, "") is str(x) for every type that does not override __format__ perversely
        return Placeholding("%" + _CONVERSION[conversion], True)
    m = _SPEC.fullmatch(spec)
    if m is None:
        return None
    g = m.groupdict()
    if g["fill"] is not None or g["align"] in ("=", "^") or g["z"] or g["grouping"]:
        return None
    align, width, prec, typ = g["align"], g["width"] or "", g["prec"], g["type"]
    if typ in ("b", "n", "%"):
        return None
    if conversion is not None:
        # the value is a str (the conversion's result): only str formatting applies
        if typ not in (None, "s") or g["sign"] or g["alt"] or g["zero"]:
            return None
        flag = "" if align == ">" else "-"  # strings align left by default
        if not width:
            flag = ""
        precision = f".{prec}" if prec is not None else ""
        return Placeholding(f"%{flag}{width}{precision}{_CONVERSION[conversion]}", True)
    if typ is None or typ == "s":
        # no type: numbers align right and strings left by default, and precision means
        # different things for each; only an explicit alignment of the str() form is safe
        if g["sign"] or g["alt"] or g["zero"]:
            return None
        if typ is None and (prec is not None or (width and align is None)):
            return None
        flag = "" if align == ">" or not width else "-"
        if typ == "s" and width and align is None:
            flag = "-"
        precision = f".{prec}" if prec is not None else ""
        return Placeholding(f"%{flag}{width}{precision}s", False)
    if g["zero"] and align is not None:
        return None
    flags = "-" if align == "<" else ""
    if align == "<" and not width:
        flags = ""
    sign = g["sign"] if g["sign"] in ("+", " ") else ""
    alt = "#" if g["alt"] else ""
    zero = "0" if g["zero"] else ""
    if typ in ("d", "c") and (alt or prec is not None):
        return None
    if typ in ("o", "x", "X") and prec is not None:
        return None
    if typ == "c" and (sign or zero):
        return None
    precision = f".{prec}" if prec is not None else ""
    return Placeholding(f"%{flags}{sign}{alt}{zero}{width}{precision}{typ}", False)


# -- string literals --------------------------------------------------------------------------


def literal_prefix_quote(src: str) -> tuple[str, str]:
    i = 0
    while i < len(src) and src[i] not in "'\"":
        i += 1
    rest = src[i:]
    quote = rest[:3] if rest[:3] in ('"""', "'''") else rest[:1]
    return src[:i], quote


def literal_value(node: Node) -> str | None:
    """The value of a plain (not f, not bytes) string literal or implicit concatenation."""
    if node.type not in ("string", "concatenated_string"):
        return None
    pieces = (
        [node] if node.type == "string" else [c for c in node.named_children if c.type == "string"]
    )
    for p in pieces:
        prefix, _ = literal_prefix_quote(text(p))
        if "f" in prefix.lower() or "b" in prefix.lower():
            return None
    try:
        value = ast.literal_eval(text(node).strip())
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        try:
            value = ast.literal_eval("(" + text(node) + ")")
        except (SyntaxError, ValueError, MemoryError, RecursionError):
            return None
    return value if isinstance(value, str) else None


def _evaluates_to(candidate: str, value: str) -> bool:
    try:
        return ast.literal_eval(candidate) == value
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return False


def render_literal(value: str, prefix: str, quote: str) -> str:
    """A string literal for `value` in the style of an existing one (its quotes, raw-ness)."""
    quote = quote or '"'
    keep = "".join(c for c in prefix if c.lower() == "r")
    if keep and ("\n" not in value or len(quote) == 3):
        candidate = f"{keep}{quote}{value}{quote}"
        if _evaluates_to(candidate, value):
            return candidate
    out: list[str] = []
    last = len(value) - 1
    for i, ch in enumerate(value):
        if ch == "\\":
            out.append("\\\\")
        elif ch == quote[0]:
            # inside triple quotes a quote only needs escaping where it could close the string
            lone = len(quote) == 3 and i < last and value[i + 1] != ch
            out.append(ch if lone else "\\" + ch)
        elif ch == "\n":
            out.append("\n" if len(quote) == 3 else "\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\r":
            out.append("\\r")
        elif not ch.isprintable():
            out.append(repr(ch)[1:-1])
        else:
            out.append(ch)
    candidate = f"{quote}{''.join(out)}{quote}"
    if _evaluates_to(candidate, value):
        return candidate
    return repr(value)


def argument_text(node: Node) -> str:
    """An expression's text, parenthesized where it could not stand alone as an argument."""
    t = text(node)
    if node.type in ("expression_list", "yield", "named_expression", "lambda"):
        return f"({t})"
    return t


# -- statements -------------------------------------------------------------------------------


def own_statement(ctx: FileContext, call: Node) -> Node | None:
    """The expression statement that is exactly this call, alone on its lines; else None."""
    stmt = call.parent
    if stmt is None or stmt.type != "expression_statement" or len(stmt.named_children) != 1:
        return None
    if stmt.parent is None or stmt.parent.type not in ("block", "module"):
        return None
    start = line_start(ctx, stmt.start_byte)
    if ctx.source[start : stmt.start_byte].strip():
        return None  # `if x: log.debug(...)` or `a(); log.debug(...)`
    end_line = ctx.line_of_byte(stmt.end_byte)
    end = ctx.line_starts[end_line] if end_line < len(ctx.line_starts) else len(ctx.source)
    after = ctx.source[stmt.end_byte : end].strip()
    if after and not after.startswith(b"#"):
        return None  # `log.debug(...); x = 1`
    return stmt


def indent_unit(ctx: FileContext, stmt: Node) -> str:
    own = indentation_at(ctx, stmt)
    block = stmt.parent
    owner = block.parent if block is not None and block.type == "block" else None
    if owner is not None:
        outer = indentation_at(ctx, owner)
        if own.startswith(outer) and len(own) > len(outer):
            return own[len(outer) :]
    return "\t" if own.startswith("\t") else "    "


def _spans_lines_in_string(node: Node) -> bool:
    stack = [node]
    while stack:
        n = stack.pop()
        if n.type == "string" and n.start_point.row != n.end_point.row:
            return True
        stack.extend(n.named_children)
    return False


def wrap_in_if(ctx: FileContext, stmt: Node, condition: str) -> list[Edit] | None:
    """Edits turning `stmt` into `if condition:\\n    stmt`, re-indenting its other lines."""
    if stmt.start_point.row != stmt.end_point.row and _spans_lines_in_string(stmt):
        return None  # re-indenting would change a multi-line string's content
    indent = indentation_at(ctx, stmt)
    unit = indent_unit(ctx, stmt)
    edits = [Edit(stmt.start_byte, stmt.start_byte, f"if {condition}:\n{indent}{unit}")]
    for row in range(stmt.start_point.row + 1, stmt.end_point.row + 1):
        at = ctx.line_starts[row]
        nl = ctx.source.find(b"\n", at)
        line = ctx.source[at : nl if nl >= 0 else len(ctx.source)]
        if line.strip():
            edits.append(Edit(at, at, unit))
    return edits


def calls_in(node: Node) -> Iterator[Node]:
    stack = [node]
    while stack:
        n = stack.pop()
        if n.type == "call":
            yield n
        if n.type != "lambda":
            stack.extend(n.named_children)


# -- what costs: arguments evaluated whether or not the record is emitted -----------------------

CHEAP_BUILTINS = frozenset(
    (
        "len",
        "id",
        "type",
        "isinstance",
        "issubclass",
        "bool",
        "int",
        "float",
        "abs",
        "round",
        "hasattr",
        "getattr",
        "callable",
        "chr",
        "ord",
        "hash",
        "hex",
        "oct",
        "bin",
        "divmod",
        "iter",
        "next",
        "vars",
        "super",
    )
)
# builtins that build a string or a collection from their argument
_PURE_CHEAP = CHEAP_BUILTINS - {"next", "iter"}
# methods of str, dict, datetime... that only read: skipping them cannot lose a side effect
_PURE_METHODS = frozenset(
    (
        "get",
        "keys",
        "values",
        "items",
        "lower",
        "upper",
        "strip",
        "lstrip",
        "rstrip",
        "split",
        "rsplit",
        "startswith",
        "endswith",
        "replace",
        "encode",
        "decode",
        "count",
        "find",
        "isoformat",
        "total_seconds",
        "hex",
    )
)
COSTLY_BUILTINS = frozenset(
    ("str", "repr", "ascii", "format", "sorted", "list", "tuple", "set", "frozenset", "dict", "sum")
)
CONVERSIONS = {"str": "s", "repr": "r", "ascii": "a"}
COSTLY_QUALIFIED = frozenset(
    (
        "json.dumps",
        "pprint.pformat",
        "pprint.saferepr",
        "reprlib.repr",
        "traceback.format_exc",
        "traceback.format_exception",
        "traceback.format_exception_only",
        "traceback.format_stack",
        "traceback.format_tb",
        "traceback.format_list",
        "textwrap.indent",
        "textwrap.dedent",
        "textwrap.fill",
        "textwrap.shorten",
        "yaml.dump",
        "yaml.safe_dump",
        "pickle.dumps",
        "base64.b64encode",
        "binascii.hexlify",
        "inspect.getsource",
        "inspect.stack",
        "dataclasses.asdict",
        "dataclasses.astuple",
        "copy.deepcopy",
    )
)
COSTLY_METHODS = frozenset(
    (
        "format",
        "join",
        "tolist",
        "to_string",
        "to_json",
        "to_dict",
        "to_csv",
        "pformat",
        "dumps",
        "model_dump_json",
        "model_dump",
        "tobytes",
        "describe",
    )
)
CHEAP_QUALIFIED_PREFIXES = ("os.path.", "time.", "threading.", "os.getpid")


@dataclass(frozen=True)
class Cost:
    node: Node
    what: str  # "json.dumps()", "str()", "list comprehension", "f-string"
    pure: bool  # known not to have side effects worth keeping


def argument_cost(ctx: FileContext, arg: Node) -> Cost | None:
    """The first piece of real work evaluating `arg` does, or None if it is cheap."""
    stack = [arg]
    while stack:
        n = stack.pop()
        t = n.type
        if t == "lambda":
            continue
        if t == "call":
            cost = _call_cost(ctx, n)
            if cost is not None:
                return cost
        elif t in ("list_comprehension", "set_comprehension", "dictionary_comprehension"):
            return Cost(n, t.replace("_", " ").replace("dictionary", "dict"), True)
        elif t == "string" and any(c.type == "interpolation" for c in n.named_children):
            return Cost(n, "f-string", True)
        elif t == "binary_operator":
            op = text(n.child_by_field_name("operator"))
            left = n.child_by_field_name("left")
            right = n.child_by_field_name("right")
            if op == "%" and left is not None and left.type in ("string", "concatenated_string"):
                return Cost(n, "% formatting", True)
            if op == "+" and any(
                s is not None and s.type in ("string", "concatenated_string") for s in (left, right)
            ):
                return Cost(n, "string concatenation", True)
        stack.extend(reversed(n.named_children))
    return None


def _call_cost(ctx: FileContext, call: Node) -> Cost | None:
    func = call.child_by_field_name("function")
    if func is None:
        return None
    if func.type == "identifier":
        name = text(func)
        if name in COSTLY_BUILTINS and ctx.is_builtin(func):
            return Cost(call, f"{name}()", True)
        if name in ("min", "max") and ctx.is_builtin(func) and _single_iterable(call):
            return Cost(call, f"{name}()", True)
    q = ctx.qualified(func)
    if q in COSTLY_QUALIFIED:
        return Cost(call, f"{q}()", True)
    if func.type == "attribute" and (q is None or not q.startswith(CHEAP_QUALIFIED_PREFIXES)):
        method = text(func.child_by_field_name("attribute"))
        if method in COSTLY_METHODS:
            obj = func.child_by_field_name("object")
            if method == "join" and not _string_join(obj, call):
                return None  # os.path.join / thread.join: not string building over an iterable
            shown = f"{text(obj)[:20]}.{method}()" if obj is not None else f"{method}()"
            return Cost(call, shown, method in ("format", "join"))
    return None


def _string_join(obj: Node | None, call: Node) -> bool:
    if obj is None or obj.type not in ("string", "identifier", "attribute"):
        return False
    args = call.child_by_field_name("arguments")
    if args is not None and args.type == "generator_expression":
        return True  # ", ".join(x for x in xs)
    if args is None or len(args.named_children) != 1:
        return False
    arg = args.named_children[0]
    return arg.type not in ("keyword_argument", "integer", "float", "string")


def _single_iterable(call: Node) -> bool:
    args = call.child_by_field_name("arguments")
    if args is not None and args.type == "generator_expression":
        return True
    return (
        args is not None
        and len(args.named_children) == 1
        and args.named_children[0].type not in ("keyword_argument", "integer", "float")
    )


def _pure_method(call: Node, func: Node) -> bool:
    method = text(func.child_by_field_name("attribute"))
    if method not in _PURE_METHODS:
        return False
    if method != "get":
        return True
    # d.get("key") reads; queue.get() takes an item away
    args = call.child_by_field_name("arguments")
    first = args.named_children[0] if args is not None and args.named_children else None
    return first is not None and first.type == "string"


def side_effect_free(ctx: FileContext, nodes: list[Node]) -> bool:
    """Whether every call in the nodes is one known not to matter when skipped."""
    for node in nodes:
        for call in calls_in(node):
            cost = _call_cost(ctx, call)
            if cost is not None and cost.pure:
                continue
            func = call.child_by_field_name("function")
            if (
                func is not None
                and func.type == "identifier"
                and text(func) in _PURE_CHEAP
                and ctx.is_builtin(func)
            ):
                continue
            if func is not None and func.type == "attribute" and _pure_method(call, func):
                continue
            return False
    return True
