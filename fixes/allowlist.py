"""What an AI candidate may reference, checked before anything runs: an allowlist, not a deny list.

Every name the candidate reaches outside itself (a global, a builtin, an attribute chain rooted at
one, an import) must be something the original function already reached, or on a small reviewed
list: the base builtins below plus what the built-in skill declares (`fix.allow`). A project skill
can only narrow that list. Dunder access, computed attribute names and the introspection
builtins are refused outright: they are how a string turns back into `os.system`.

Python's own `ast` gives the scoping: what is local (parameters, assignments, comprehension
variables, nested definitions) is the candidate's own business; everything else is checked.
"""

from __future__ import annotations

import ast
import builtins
import importlib
import re
import string
import sys
import types
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from megawatt.skills import builtin_skills
from megawatt.skills.model import Skill

__all__ = [
    "BASE_ALLOW",
    "Allowlist",
    "Problem",
    "check_candidate",
    "check_imports",
    "check_signature",
    "skill_allowlist",
]

_EXCEPTIONS = frozenset(
    name
    for name, value in vars(builtins).items()
    if isinstance(value, type) and issubclass(value, BaseException)
)


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# builtins that reach neither I/O nor introspection
BASE_ALLOW: frozenset[str] = (
    _words(
        """
        len range min max sum sorted reversed enumerate zip map filter any all abs round divmod
        pow int float complex str bytes bytearray memoryview bool tuple list dict set frozenset
        isinstance issubclass iter next hash repr ascii chr ord bin oct hex slice object super
        type callable id property staticmethod classmethod
        None True False NotImplemented Ellipsis
        """
    )
    | _EXCEPTIONS
)

# refused even where the original used them: they run strings as code or hand out namespaces
_NEVER = {
    "eval": "runs a string as code",
    "exec": "runs a string as code",
    "compile": "turns a string into code",
    "breakpoint": "starts a debugger",
    "help": "starts the interactive help",
    "globals": "hands out the module's namespace",
    "locals": "hands out a namespace",
    "vars": "hands out a namespace",
    "dir": "introspects an object",
    "importlib": "imports modules by name",
}
# builtins that do I/O: kept where the original used them, never added
_IO_BUILTINS = {"open": "opens files", "print": "writes output", "input": "reads input"}
# the process, files, network and interpreter internals; never on an allowlist, so only a chain
# the original used reaches them (the reason just says why it matters)
_RISKY_ROOTS = _words(
    "os posix nt sys subprocess socket ssl builtins ctypes gc inspect shutil pathlib tempfile "
    "glob io multiprocessing pty signal threading _thread mmap pickle marshal shelve sqlite3 "
    "urllib http requests httpx aiohttp ftplib smtplib telnetlib webbrowser types code codeop "
    "runpy pdb traceback atexit resource fcntl select selectors asyncio"
)
# attributes that reach a running frame or code object without a dunder
_FRAME_ATTRS = _words(
    "gi_frame gi_code gi_yieldfrom gi_running cr_frame cr_code cr_await cr_origin ag_frame "
    "ag_code ag_await f_globals f_locals f_builtins f_back f_code f_trace f_generator tb_frame "
    "tb_next co_code co_consts co_names func_globals func_code im_func im_self"
)
# name an attribute by value: only a constant, non-dunder name is reviewable
_ATTR_BUILTINS = frozenset({"getattr", "setattr", "delattr", "hasattr"})
_ATTR_FACTORIES = frozenset({"operator.attrgetter", "operator.methodcaller"})
_DUNDER_TEXT = re.compile(r"__\w+__")


def _dunder(name: str) -> bool:
    return len(name) > 4 and name.startswith("__") and name.endswith("__")


@dataclass(frozen=True)
class Problem:
    """One construct the candidate may not use: where, what, and why (told to the model)."""

    line: int
    construct: str
    why: str

    def __str__(self) -> str:
        if self.line <= 0:  # the imports list: `why` reads "imports X ..."
            return f"the fix {self.why} ({self.construct!r} in the imports list)"
        return f"{self.construct} {self.why} (line {self.line} of the new function)"


@dataclass(frozen=True)
class Allowlist:
    """Dotted names a fix may newly reach: an entry allows itself and what hangs off it."""

    names: frozenset[str] = BASE_ALLOW
    decorators: frozenset[str] = frozenset()
    skill: str = ""

    def allows(self, chain: str) -> bool:
        return any(_covers(entry, chain) for entry in self.names if not entry.startswith("*."))

    def any_value_attrs(self) -> frozenset[str]:
        return frozenset(e[2:] for e in self.names if e.startswith("*."))

    def extras(self) -> list[str]:
        return sorted(self.names - BASE_ALLOW)


def _covers(entry: str, chain: str) -> bool:
    return chain == entry or chain.startswith(entry + ".")


def _narrow(base: Iterable[str], project: Iterable[str] | None) -> frozenset[str]:
    """The part of `base` that `project` also names (either one may be the more specific)."""
    if project is None:
        return frozenset(base)
    kept: set[str] = set()
    for b in base:
        for p in project:
            if _covers(p, b):
                kept.add(b)
            elif _covers(b, p):
                kept.add(p)
    return frozenset(kept)


def skill_allowlist(skill_id: str | None, skill: Skill | None = None) -> Allowlist:
    """The allowlist for a fix of `skill_id`: the built-in skill's reviewed list, narrowed by a
    project skill's own `allow` when it has one. The repository never widens it: a project-only
    skill gets the base list."""
    sid = skill.id if skill is not None else (skill_id or "")
    builtin = builtin_skills().get(sid)
    if builtin is None:
        return Allowlist(skill=sid)
    allow = builtin.meta.fix.allow or []
    decorators = builtin.meta.fix.add_decorators or []
    project = skill if skill is not None and skill.origin == "project" else None
    names = _narrow(allow, project.meta.fix.allow if project else None)
    decos = _narrow(decorators, project.meta.fix.add_decorators if project else None)
    return Allowlist(BASE_ALLOW | names, decos, sid)


# -- scopes ---------------------------------------------------------------------------------------


@dataclass(eq=False)
class _Scope:
    kind: str  # "function", "lambda", "comprehension", "class"
    parent: _Scope | None
    bound: set[str] = field(default_factory=set)
    assigned: set[str] = field(default_factory=set)  # bound other than as a parameter
    imports: dict[str, str] = field(default_factory=dict)  # name -> the dotted module path
    declared_global: set[str] = field(default_factory=set)


_FUNCS = (ast.FunctionDef, ast.AsyncFunctionDef)
_COMPS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


def _import_bindings(node: ast.Import | ast.ImportFrom) -> Iterator[tuple[str, str]]:
    """(bound name, dotted path it stands for); relative imports get a leading dot."""
    for alias in node.names:
        if isinstance(node, ast.Import):
            if alias.asname:
                yield alias.asname, alias.name
            else:
                head = alias.name.split(".", 1)[0]
                yield head, head
        else:
            module = "." * node.level + (node.module or "")
            yield alias.asname or alias.name, f"{module}.{alias.name}".replace("..", ".", 1)


class _Binder:
    """First pass: which names each scope binds, so a load can be resolved like Python does."""

    def __init__(self) -> None:
        self.scope_of: dict[ast.AST, _Scope] = {}

    def function(self, fn: ast.FunctionDef | ast.AsyncFunctionDef) -> _Scope:
        scope = _Scope("function", None)
        self._enter(fn, scope)
        return scope

    def _enter(self, node: ast.AST, scope: _Scope) -> None:
        self.scope_of[node] = scope
        if isinstance(node, (*_FUNCS, ast.Lambda)):
            a = node.args
            for arg in (*a.posonlyargs, *a.args, *a.kwonlyargs, a.vararg, a.kwarg):
                if arg is not None:
                    scope.bound.add(arg.arg)
            body: list[ast.AST] = [node.body] if isinstance(node, ast.Lambda) else [*node.body]
            for child in body:
                self._bind(child, scope)
        elif isinstance(node, ast.ClassDef):
            for child in node.body:
                self._bind(child, scope)
        elif isinstance(node, _COMPS):
            for i, gen in enumerate(node.generators):
                self._bind(gen.target, scope)
                if i:  # the first iterable is evaluated outside
                    self._bind(gen.iter, scope)
                for cond in gen.ifs:
                    self._bind(cond, scope)
            elts = [node.key, node.value] if isinstance(node, ast.DictComp) else [node.elt]
            for child in elts:
                self._bind(child, scope)

    def _add(self, scope: _Scope, name: str) -> None:
        if name not in scope.declared_global:
            scope.bound.add(name)
            scope.assigned.add(name)

    def _bind(self, node: ast.AST, scope: _Scope) -> None:
        if isinstance(node, (*_FUNCS, ast.ClassDef)):
            self._add(scope, node.name)
            for child in (*node.decorator_list, *_outer_parts(node)):
                self._bind(child, scope)
            kind = "class" if isinstance(node, ast.ClassDef) else "function"
            self._enter(node, _Scope(kind, scope))
            return
        if isinstance(node, ast.Lambda):
            for child in _outer_parts(node):
                self._bind(child, scope)
            self._enter(node, _Scope("lambda", scope))
            return
        if isinstance(node, _COMPS):
            self._bind(node.generators[0].iter, scope)
            self._enter(node, _Scope("comprehension", scope))
            return
        if isinstance(node, ast.NamedExpr):
            home = scope
            while home.kind == "comprehension" and home.parent is not None:
                home = home.parent
            if isinstance(node.target, ast.Name):
                self._add(home, node.target.id)
            self._bind(node.value, scope)
            return
        if isinstance(node, (ast.Global, ast.Nonlocal)):
            scope.declared_global.update(node.names if isinstance(node, ast.Global) else ())
            return
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for name, path in _import_bindings(node):
                self._add(scope, name)
                scope.imports[name] = path
            return
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            self._add(scope, node.id)
        elif isinstance(node, (ast.ExceptHandler, ast.MatchAs, ast.MatchStar)) and node.name:
            self._add(scope, node.name)
        elif isinstance(node, ast.MatchMapping) and node.rest:
            self._add(scope, node.rest)
        for child in ast.iter_child_nodes(node):
            self._bind(child, scope)


def _outer_parts(node: ast.AST) -> list[ast.AST]:
    """What a def, lambda or class evaluates in the enclosing scope: defaults, annotations,
    bases (decorators are added by the caller)."""
    parts: list[ast.AST] = []
    if isinstance(node, ast.ClassDef):
        return [*node.bases, *(k.value for k in node.keywords)]
    args: ast.arguments = node.args  # type: ignore[attr-defined]
    parts.extend(args.defaults)
    parts.extend(d for d in args.kw_defaults if d is not None)
    if not isinstance(node, ast.Lambda):
        for arg in (*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg):
            if arg is not None and arg.annotation is not None:
                parts.append(arg.annotation)
        if node.returns is not None:  # type: ignore[attr-defined]
            parts.append(node.returns)  # type: ignore[attr-defined]
    return parts


# -- the module around the function ---------------------------------------------------------------


@dataclass(frozen=True)
class ModuleNames:
    """What the file binds at module level: imports (name -> dotted path) and everything else
    (the project's own functions, classes and values)."""

    imports: dict[str, str]
    own: frozenset[str]

    @classmethod
    def of(cls, source: str) -> ModuleNames:
        try:
            tree = ast.parse(source)
        except SyntaxError:
            return cls({}, frozenset())
        scope = _Scope("module", None)
        binder = _Binder()
        for stmt in tree.body:
            binder._bind(stmt, scope)
        # names a function declares global are module-level too
        declared = {
            n for node in ast.walk(tree) if isinstance(node, ast.Global) for n in node.names
        }
        return cls(dict(scope.imports), frozenset((scope.bound | declared) - set(scope.imports)))


# -- references -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Ref:
    chain: str  # canonical: an import-bound root replaced by its dotted path
    root_kind: str  # "import", "own" (module-level name of the file), "builtin", "unknown"
    line: int
    text: str  # as written


@dataclass
class _Facts:
    refs: list[_Ref] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    imports: list[tuple[int, str]] = field(default_factory=list)  # (line, ast.dump)
    declarations: list[tuple[int, str, str]] = field(default_factory=list)  # (line, kind, name)
    strings: set[str] = field(default_factory=set)
    # receivers of .format that are neither literals nor global chains -> line
    formats: dict[str, int] = field(default_factory=dict)


def _chain_parts(node: ast.expr) -> tuple[ast.expr, list[str]]:
    """The base expression and the attribute names of `base.a.b`."""
    attrs: list[str] = []
    while isinstance(node, ast.Attribute):
        attrs.append(node.attr)
        node = node.value
    return node, attrs[::-1]


class _Walker:
    """Second pass: every reference out of the function, and the constructs refused anywhere."""

    def __init__(
        self, binder: _Binder, module: ModuleNames, line_offset: int, method_self: str | None
    ) -> None:
        self.binder = binder
        self.module = module
        self.offset = line_offset
        self.method_self = method_self
        self.top: _Scope | None = None
        self.facts = _Facts()

    def line(self, node: ast.AST) -> int:
        return getattr(node, "lineno", 1) + self.offset

    def refuse(self, node: ast.AST, construct: str, why: str) -> None:
        self.facts.problems.append(Problem(self.line(node), construct, why))

    def run(self, fn: ast.FunctionDef | ast.AsyncFunctionDef) -> _Facts:
        outer = _Scope("module", None)
        for child in (*fn.decorator_list, *_outer_parts(fn)):
            self.visit(child, outer)
        self.top = self.binder.scope_of[fn]
        self.top.parent = outer
        if self.method_self is not None and self.method_self in self.top.assigned:
            self.method_self = None  # rebound: no longer the instance
        self.body(fn, self.top)
        return self.facts

    def body(self, node: ast.AST, scope: _Scope) -> None:
        if isinstance(node, ast.Lambda):
            self.visit(node.body, scope)
        elif isinstance(node, (*_FUNCS, ast.ClassDef)):
            stmts = node.body
            if stmts and _is_docstring(stmts[0]):
                stmts = stmts[1:]
            for stmt in stmts:
                self.visit(stmt, scope)
        elif isinstance(node, _COMPS):
            for i, gen in enumerate(node.generators):
                self.visit(gen.target, scope)
                if i:
                    self.visit(gen.iter, scope)
                for cond in gen.ifs:
                    self.visit(cond, scope)
            elts = [node.key, node.value] if isinstance(node, ast.DictComp) else [node.elt]
            for e in elts:
                self.visit(e, scope)

    def visit(self, node: ast.AST, scope: _Scope) -> None:
        if isinstance(node, (*_FUNCS, ast.ClassDef)):
            for child in (*node.decorator_list, *_outer_parts(node)):
                self.visit(child, scope)
            self.body(node, self.binder.scope_of[node])
            return
        if isinstance(node, ast.Lambda):
            for child in _outer_parts(node):
                self.visit(child, scope)
            self.body(node, self.binder.scope_of[node])
            return
        if isinstance(node, _COMPS):
            self.visit(node.generators[0].iter, scope)
            self.body(node, self.binder.scope_of[node])
            return
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            self.facts.imports.append((self.line(node), ast.dump(node)))
            for _name, path in _import_bindings(node):
                self.reference(node, path, "import", ast.unparse(node), scope)
            return
        if isinstance(node, (ast.Global, ast.Nonlocal)):
            kind = "global" if isinstance(node, ast.Global) else "nonlocal"
            for name in node.names:
                self.facts.declarations.append((self.line(node), kind, name))
            return
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            self.facts.strings.add(node.value)
            if _DUNDER_TEXT.search(node.value):
                self.refuse(node, repr(node.value)[:60], "names a dunder in a string")
            return
        if isinstance(node, ast.AnnAssign) and scope.kind != "module":
            # a local's annotation is never evaluated; only the target and value run
            for child in (node.target, node.value):
                if child is not None:
                    self.visit(child, scope)
            return
        if isinstance(node, ast.Call):
            self.call(node, scope)
            return
        if isinstance(node, ast.Attribute):
            self.attribute(node, scope)
            return
        if isinstance(node, ast.Name):
            self.name(node, scope)
            return
        for child in ast.iter_child_nodes(node):
            self.visit(child, scope)

    def call(self, node: ast.Call, scope: _Scope) -> None:
        func = node.func
        target = self.resolve_expr(func, scope)
        if target in _ATTR_BUILTINS or target in _ATTR_FACTORIES:
            self.attribute_by_name(node, target)
            if target in _ATTR_FACTORIES:  # operator must still be on the allowlist
                self.reference(func, target, "import", ast.unparse(func), scope)
            for arg in (*node.args, *(k.value for k in node.keywords)):
                self.visit(arg, scope)
            return
        if isinstance(func, ast.Attribute) and func.attr in ("format", "format_map"):
            if isinstance(func.value, ast.Constant) and isinstance(func.value.value, str):
                self.format_fields(func.value, func.value.value)
            elif self.resolve_expr(func.value, scope) is None:
                self.facts.formats.setdefault(ast.unparse(func.value), self.line(func))
        for child in ast.iter_child_nodes(node):
            self.visit(child, scope)

    def format_fields(self, node: ast.AST, template: str) -> None:
        # "{0.gi_frame.f_globals}".format(g) walks attributes without writing them as code
        try:
            fields = [f for _, f, _, _ in string.Formatter().parse(template) if f]
        except ValueError:
            return
        for f in fields:
            for part in re.split(r"[.\[\]]", f)[1:]:
                if _dunder(part) or part in _FRAME_ATTRS:
                    self.refuse(node, repr(template)[:60], f"reaches .{part} in a format field")

    def attribute_by_name(self, node: ast.Call, target: str) -> None:
        short = target.rsplit(".", 1)[-1]
        if target in _ATTR_BUILTINS:
            names = node.args[1:2]
        elif short == "attrgetter":
            names = list(node.args)
        else:
            names = node.args[:1]
        if not names or any(isinstance(a, ast.Starred) for a in node.args):
            self.refuse(node, f"{short}()", "without a constant attribute name")
        for arg in names:
            if not (isinstance(arg, ast.Constant) and isinstance(arg.value, str)):
                self.refuse(
                    node,
                    f"{short}(…, {ast.unparse(arg)[:40]})",
                    "has a computed attribute name (only a constant, non-dunder name is allowed)",
                )
            elif any(_dunder(p) or p in _FRAME_ATTRS for p in arg.value.split(".")):
                self.refuse(node, f"{short}(…, {arg.value!r})", "reaches a dunder attribute")

    def resolve_expr(self, node: ast.expr, scope: _Scope) -> str | None:
        """The canonical dotted name `node` stands for, when it is a global chain."""
        base, attrs = _chain_parts(node)
        if not isinstance(base, ast.Name):
            return None
        found = self.resolve_name(base.id, scope)
        if found is None:
            return None
        root, _kind = found
        return ".".join([root, *attrs])

    def resolve_name(self, name: str, scope: _Scope) -> tuple[str, str] | None:
        """(canonical root, kind) for a name that leaves the function; None for a local."""
        s: _Scope | None = scope
        first = True
        while s is not None and s.kind != "module":
            if (first or s.kind != "class") and name in s.bound:
                if name in s.imports:
                    return s.imports[name], "import"
                return None
            first = False
            s = s.parent
        if name in self.module.imports:
            return self.module.imports[name], "import"
        if name in self.module.own:
            return name, "own"
        if hasattr(builtins, name):
            return name, "builtin"
        return name, "unknown"

    def is_method_self(self, name: ast.Name, scope: _Scope) -> bool:
        if self.method_self is None or name.id != self.method_self:
            return False
        s: _Scope | None = scope
        while s is not None and s is not self.top:
            if name.id in s.bound:
                return False  # a nested scope's own `self`
            s = s.parent
        return s is self.top

    def attribute(self, node: ast.Attribute, scope: _Scope) -> None:
        base, attrs = _chain_parts(node)
        for i, attr in enumerate(attrs):
            exempt = (
                i == 0
                and attr == "__dict__"
                and isinstance(base, ast.Name)
                and self.is_method_self(base, scope)
            )
            if _dunder(attr) and not exempt:
                self.refuse(node, f".{attr}", "is a dunder attribute (never allowed in a fix)")
            elif attr in _FRAME_ATTRS:
                self.refuse(node, f".{attr}", "reaches a frame or code object")
        if isinstance(base, ast.Name):
            if _dunder(base.id):
                self.refuse(base, base.id, "is a dunder name (never allowed in a fix)")
                return
            found = self.resolve_name(base.id, scope)
            if found is not None:
                root, kind = found
                self.reference(node, ".".join([root, *attrs]), kind, ast.unparse(node), scope)
        else:
            self.visit(base, scope)

    def name(self, node: ast.Name, scope: _Scope) -> None:
        if _dunder(node.id):
            self.refuse(node, node.id, "is a dunder name (never allowed in a fix)")
            return
        if not isinstance(node.ctx, ast.Load):
            return
        found = self.resolve_name(node.id, scope)
        if found is None:
            return
        root, kind = found
        if root in _ATTR_BUILTINS or root in _ATTR_FACTORIES:
            self.refuse(node, root, "used as a value (call it with a constant attribute name)")
            return
        self.reference(node, root, kind, node.id, scope)

    def reference(self, node: ast.AST, chain: str, kind: str, text: str, scope: _Scope) -> None:
        self.facts.refs.append(_Ref(chain, kind, self.line(node), text))


def _is_docstring(stmt: ast.stmt) -> bool:
    return (
        isinstance(stmt, ast.Expr)
        and isinstance(stmt.value, ast.Constant)
        and isinstance(stmt.value.value, str)
    )


def _parse_function(text: str) -> tuple[ast.FunctionDef | ast.AsyncFunctionDef | None, int]:
    """The one definition in `text` and how far its line numbers are off. An indented method
    parses under `if 1:` (dedenting would break on a string literal less indented than it)."""
    shift = 0
    if text[:1].isspace():
        text, shift = "if 1:\n" + text, -1
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return None, 0
    body = tree.body[0].body if shift and isinstance(tree.body[0], ast.If) else tree.body
    fns = [n for n in body if isinstance(n, _FUNCS)]
    return (fns[0], shift) if len(fns) == 1 and len(body) == 1 else (None, 0)


def _facts(
    fn: ast.FunctionDef | ast.AsyncFunctionDef,
    module: ModuleNames,
    line_offset: int,
    is_method: bool,
) -> _Facts:
    binder = _Binder()
    binder.function(fn)
    statics = {"staticmethod"} & {ast.unparse(d) for d in fn.decorator_list}
    params = [*fn.args.posonlyargs, *fn.args.args]
    method_self = params[0].arg if is_method and params and not statics else None
    return _Walker(binder, module, line_offset, method_self).run(fn)


# -- the verdict on references --------------------------------------------------------------------


def _module_attr_problem(entry: str, chain: str) -> str | None:
    """Why `chain` under a module-wide entry is not reviewable, or None. A module's attributes
    include the modules it imported (`collections._sys`, `re.enum`): those are refused."""
    rest = chain[len(entry) + 1 :].split(".") if chain != entry else []
    if not rest:
        return None
    if any(p.startswith("_") for p in rest):
        return f"reaches a private attribute of {entry}"
    if entry.split(".", 1)[0] not in sys.stdlib_module_names:
        return None  # reviewed third-party entries are named exactly; nothing to walk
    try:
        value: object = importlib.import_module(entry)
    except ImportError:
        return None
    if not isinstance(value, types.ModuleType):
        return None
    for part in rest:
        value = getattr(value, part, None)
        if value is None:
            return f"is not an attribute of {entry}"
        if isinstance(value, types.ModuleType):
            return "reaches another module through an attribute"
    return None


def _why_refused(ref: _Ref, allow: Allowlist, original: set[str]) -> str | None:
    chain, root = ref.chain, ref.chain.split(".", 1)[0]
    if root in _NEVER or chain in _NEVER:
        return f"is refused: it {_NEVER.get(root) or _NEVER[chain]}"
    if chain in original:
        return None
    if chain in ("str.format", "str.format_map"):
        return "formats a template the check cannot read (call .format on a string literal)"
    if ref.root_kind == "builtin" and root in _IO_BUILTINS:
        return f"is not allowed: it {_IO_BUILTINS[root]} and the original function did not use it"
    if allow.any_value_attrs() and "." in chain:
        prefix, last = chain.rsplit(".", 1)
        if last in allow.any_value_attrs() and any(_covers(prefix, o) for o in original):
            return None
    if ref.root_kind == "own":
        return (
            "is a module-level name of this file that the original function does not use "
            "(the project's code may do I/O); keep to what the function already calls"
        )
    if ref.root_kind == "unknown":
        return "is not defined in the function, the file or the builtins"
    if allow.allows(chain):
        entry = max((e for e in allow.names if _covers(e, chain)), key=len)
        return _module_attr_problem(entry, chain)
    if root in _RISKY_ROOTS or root.startswith("."):
        reach = (
            "is the project's own code"
            if root.startswith(".")
            else "gives network, process or file-system access (or interpreter internals)"
        )
        return f"is not allowed: {root} {reach}, and the original function did not use it"
    extras = allow.extras()
    listed = f" (beyond the safe builtins it allows: {', '.join(extras)})" if extras else ""
    return (
        f"is not on the reviewed allowlist of the {allow.skill or 'fix'} skill{listed} "
        "and the original function does not use it"
    )


def check_candidate(
    candidate: str,
    original: str,
    module_source: str,
    allow: Allowlist,
    *,
    line_offset: int = 0,
    is_method: bool = False,
) -> list[Problem]:
    """Everything the candidate function reaches outside itself that neither the original
    function reached nor the allowlist admits, and every construct refused outright. Lines
    count from the candidate's first line plus `line_offset` (its place in the new file)."""
    new_fn, shift = _parse_function(candidate)
    if new_fn is None:
        return [Problem(1 + line_offset, "the candidate", "is not one function definition")]
    module = ModuleNames.of(module_source)
    old_fn, _ = _parse_function(original)
    old = _facts(old_fn, module, 0, is_method) if old_fn is not None else _Facts()
    new = _facts(new_fn, module, line_offset + shift, is_method)
    problems = list(new.problems)
    problems = [p for p in problems if not _kept_string(p, old)]
    original_chains = {r.chain for r in old.refs}
    for ref in new.refs:
        why = _why_refused(ref, allow, original_chains)
        if why is not None:
            problems.append(Problem(ref.line, ref.text, why))
    old_imports = {dump for _, dump in old.imports}
    for line, dump in new.imports:
        if dump not in old_imports:
            problems.append(
                Problem(
                    line,
                    "an import inside the function",
                    "is not allowed: put it in the imports list (the file's import block)",
                )
            )
    old_decl = {(kind, name) for _, kind, name in old.declarations}
    for line, kind, name in new.declarations:
        if (kind, name) not in old_decl:
            problems.append(
                Problem(line, f"{kind} {name}", "is new: the original function did not have it")
            )
    for receiver, line in new.formats.items():
        if receiver in old.formats:
            continue
        problems.append(
            Problem(
                line,
                f"{receiver[:40]}.format(…)",
                "formats a template that is not a string literal",
            )
        )
    # source order, each once: the first is what the model is told
    return sorted(dict.fromkeys(problems), key=lambda p: p.line)


def _kept_string(problem: Problem, old: _Facts) -> bool:
    """A dunder-naming string the original already had (e.g. a message) is not new."""
    return problem.why == "names a dunder in a string" and any(
        repr(s)[:60] == problem.construct for s in old.strings
    )


def check_imports(
    imports: Sequence[str], original_function: str, module_source: str, allow: Allowlist
) -> list[Problem]:
    """The import lines the fix adds to the file: each must bind a module or name the allowlist
    admits, or one the original function imported itself (an import moved out of it), and may
    not rebind a name the file already uses for something else."""
    module = ModuleNames.of(module_source)
    old_fn, _ = _parse_function(original_function)
    moved: set[tuple[str, str]] = set()
    if old_fn is not None:
        for node in ast.walk(old_fn):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                moved.update(_import_bindings(node))
    problems: list[Problem] = []
    for line in imports:
        try:
            nodes = ast.parse(line.strip()).body
        except SyntaxError:
            problems.append(Problem(0, line.strip(), "imports nothing: not an import statement"))
            continue
        for node in nodes:
            if not isinstance(node, (ast.Import, ast.ImportFrom)):
                problems.append(
                    Problem(0, line.strip(), "imports nothing: not an import statement")
                )
                continue
            if any(a.name == "*" for a in node.names):
                problems.append(Problem(0, line.strip(), "imports * (not allowed)"))
                continue
            for name, path in _import_bindings(node):
                why = _import_refused(name, path, module, moved, allow)
                if why:
                    problems.append(Problem(0, line.strip(), why))
    return problems


def _import_refused(
    name: str, path: str, module: ModuleNames, moved: set[tuple[str, str]], allow: Allowlist
) -> str | None:
    root = path.split(".", 1)[0]
    if module.imports.get(name) == path:
        return None  # the file already binds exactly this
    if name in module.imports or name in module.own:
        return f"imports {name!r}, which the file already uses for something else"
    if root in _NEVER:
        return f"imports {root}, which is refused: it {_NEVER[root]}"
    if (name, path) in moved:
        return None
    if any(_covers(path, e) or _covers(e, path) for e in allow.names if not e.startswith("*.")):
        return None
    if path.startswith("."):
        return f"imports {path}, the project's own code, which the original function did not use"
    if root in _RISKY_ROOTS:
        return (
            f"imports {path} (network, process or file-system access, or interpreter "
            "internals), which the original function did not use"
        )
    extras = allow.extras()
    listed = ", ".join(extras) or "nothing beyond builtins"
    return f"imports {path}, which is not on the reviewed allowlist of the fix (allowed: {listed})"


# -- the signature ---------------------------------------------------------------------------------


def _params(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> list[tuple[str, str, str | None]]:
    """(name, kind, default as ast.dump) in order."""
    a = fn.args
    positional = [*a.posonlyargs, *a.args]
    defaults: list[ast.expr | None] = [None] * (len(positional) - len(a.defaults)) + [*a.defaults]
    out: list[tuple[str, str, str | None]] = []
    for i, arg in enumerate(positional):
        kind = "positional-only" if i < len(a.posonlyargs) else "positional-or-keyword"
        d = defaults[i]
        out.append((arg.arg, kind, None if d is None else ast.unparse(d)))
    if a.vararg is not None:
        out.append((a.vararg.arg, "*args", None))
    for arg, d in zip(a.kwonlyargs, a.kw_defaults, strict=True):
        out.append((arg.arg, "keyword-only", None if d is None else ast.unparse(d)))
    if a.kwarg is not None:
        out.append((a.kwarg.arg, "**kwargs", None))
    return out


def _decorator_name(node: ast.expr, module: ModuleNames) -> str:
    """The canonical dotted name of a decorator (`cache` from functools -> functools.cache)."""
    target = node.func if isinstance(node, ast.Call) else node
    base, attrs = _chain_parts(target)
    if not isinstance(base, ast.Name):
        return ast.unparse(node)
    root = module.imports.get(base.id, base.id)
    return ".".join([root, *attrs])


def check_signature(
    candidate: str, original: str, allow: Allowlist, module_source: str = ""
) -> list[Problem]:
    """Callers see the same function: parameter names, kinds and defaults, async-ness and the
    decorators it had; the only decorators it may gain are the skill's `add_decorators`."""
    (new_fn, shift), (old_fn, _) = _parse_function(candidate), _parse_function(original)
    if new_fn is None or old_fn is None:
        return []
    problems: list[Problem] = []
    line = new_fn.lineno + shift
    if isinstance(new_fn, ast.AsyncFunctionDef) != isinstance(old_fn, ast.AsyncFunctionDef):
        made = "async" if isinstance(new_fn, ast.AsyncFunctionDef) else "sync"
        problems.append(Problem(line, f"def {new_fn.name}", f"is made {made}: callers would break"))
    old_p, new_p = _params(old_fn), _params(new_fn)
    for (o_name, o_kind, o_def), (n_name, n_kind, n_def) in zip(old_p, new_p, strict=False):
        if o_name != n_name:
            problems.append(
                Problem(line, "the signature", f"renames parameter {o_name!r} to {n_name!r}")
            )
        elif o_kind != n_kind:
            problems.append(
                Problem(line, f"parameter {o_name!r}", f"changes from {o_kind} to {n_kind}")
            )
        elif o_def != n_def:
            problems.append(
                Problem(
                    line,
                    f"parameter {o_name!r}",
                    f"changes its default from {o_def or 'none'} to {n_def or 'none'}",
                )
            )
    for name, _, _ in old_p[len(new_p) :]:
        problems.append(Problem(line, "the signature", f"drops parameter {name!r}"))
    for name, _, _ in new_p[len(old_p) :]:
        problems.append(Problem(line, "the signature", f"adds parameter {name!r}"))
    module = ModuleNames.of(module_source)
    old_d = [ast.dump(d) for d in old_fn.decorator_list]
    new_d = [ast.dump(d) for d in new_fn.decorator_list]
    kept = [d for d in new_d if d in old_d]
    for d, node in zip(old_d, old_fn.decorator_list, strict=True):
        if d not in new_d:
            problems.append(
                Problem(line, "the signature", f"drops the decorator @{ast.unparse(node)}")
            )
    if kept != [d for d in old_d if d in new_d]:
        problems.append(Problem(line, "the decorators", "are reordered"))
    for d, node in zip(new_d, new_fn.decorator_list, strict=True):
        if d in old_d:
            continue
        name = _decorator_name(node, module)
        args_ok = not isinstance(node, ast.Call) or all(
            isinstance(a, ast.Constant) for a in (*node.args, *(k.value for k in node.keywords))
        )
        if name not in allow.decorators or not args_ok:
            allowed = ", ".join(f"@{x}" for x in sorted(allow.decorators)) or "none"
            problems.append(
                Problem(
                    node.lineno + shift,
                    f"@{ast.unparse(node)}",
                    f"is a decorator the fix may not add (allowed to add: {allowed}, "
                    "with constant arguments)",
                )
            )
    return problems
