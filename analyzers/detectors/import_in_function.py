"""`import-in-function`: an import statement in a function body runs again on every call.

After the first time the module is in `sys.modules`, but the statement still costs a lookup, the
module-lock check and, for `from m import x`, `_handle_fromlist` and a getattr per name: about
50 ns for `import x`, 100-500 ns for dotted and from-imports (CPython 3.11). That matters in
small functions called often and in loops, and buys nothing when the module is loaded anyway.

Not flagged: relative imports and imports of the file's own package (cycle guards), imports
under `try/except ImportError` (optional dependencies), `if TYPE_CHECKING:` blocks, platform
modules (`winreg`, `pwd`...), module `__getattr__` (PEP 562 lazy attributes), entry points
(`main()`, tests) and cached functions, which run once, unless the import sits in a loop.
"""

from __future__ import annotations

import functools
import re
import sys
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePath

from tree_sitter import Node

from megawatt.analyzers.context import FileContext, text
from megawatt.analyzers.detector import Captures, Detector
from megawatt.model import Finding

STDLIB = frozenset(sys.stdlib_module_names)

# Loaded by every interpreter before user code runs: deferring them defers nothing.
STARTUP = frozenset(
    {
        "sys", "builtins", "os", "posixpath", "ntpath", "genericpath", "stat", "codecs", "io",
        "abc", "time", "marshal", "posix", "nt", "encodings", "site", "_thread", "_weakref",
        "_io", "_abc", "_codecs", "_stat", "_collections_abc", "_signal", "_warnings", "_imp",
        "_sitebuiltins", "zipimport",
    }
)  # fmt: skip

# Stdlib modules that import in well under a millisecond (or are loaded by almost any program):
# a lazy import of one of them saves no start-up time worth keeping.
LIGHT = frozenset(
    {
        "abc", "array", "atexit", "base64", "binascii", "bisect", "calendar", "cmath",
        "collections", "colorsys", "contextlib", "contextvars", "copy", "copyreg", "csv",
        "datetime", "difflib", "dis", "enum", "errno", "fnmatch", "functools", "gc", "glob",
        "hashlib", "heapq", "hmac", "itertools", "json", "keyword", "linecache", "locale",
        "math", "numbers", "opcode", "operator", "pickle", "queue", "random", "re", "reprlib",
        "select", "shlex", "signal", "string", "struct", "textwrap", "threading", "token",
        "tokenize", "types", "typing", "unicodedata", "warnings", "weakref", "zlib",
    }
)  # fmt: skip

# Available on some platforms or builds only: a lazy import there is how portable code uses them.
PLATFORM = frozenset(
    {
        "winreg", "_winreg", "msvcrt", "_winapi", "winsound", "nt", "_overlapped", "_msi",
        "msilib", "pwd", "grp", "spwd", "termios", "tty", "pty", "fcntl", "resource",
        "syslog", "crypt", "nis", "ossaudiodev", "posix", "_posixsubprocess", "_scproxy",
        "readline", "curses", "_curses", "tkinter", "_tkinter", "turtle", "ssl", "_ssl",
        "sqlite3", "_sqlite3", "lzma", "_lzma", "bz2", "_bz2", "ctypes", "_ctypes", "dbm",
        "_dbm", "_gdbm", "_uuid", "_decimal", "_hashlib", "_multiprocessing", "multiprocessing",
        "_posixshmem", "_tracemalloc", "__main__", "this", "antigravity",
    }
)  # fmt: skip

_ENTRY_NAMES = frozenset(
    {"main", "_main", "cli", "run_main", "entry_point", "benchmark", "demo", "_demo", "_test"}
    | {"__getattr__", "__dir__"}
)
_ONCE_DECORATORS = ("cache", "lru_cache", "cached_property", "command", "group", "fixture")
_OPTIONAL_ERRORS = frozenset(
    {"ImportError", "ModuleNotFoundError", "Exception", "BaseException", "AttributeError"}
)


@dataclass(frozen=True)
class Binding:
    """One name an import binds: `name` and what it denotes (`os.path` for `from os import path`)."""

    name: str
    target: str
    plain: bool  # `import a.b`: binds `a`, loads `a.b`, no alias


def bindings_of(stmt: Node) -> list[Binding] | None:
    """The names an import statement binds, or None for relative and star imports."""
    found: list[Binding] = []
    if stmt.type == "import_statement":
        for child in stmt.children_by_field_name("name"):
            if child.type == "dotted_name":
                full = text(child)
                found.append(Binding(full.split(".", 1)[0], full, True))
            elif child.type == "aliased_import":
                found.append(
                    Binding(
                        text(child.child_by_field_name("alias")),
                        text(child.child_by_field_name("name")),
                        False,
                    )
                )
        return found
    module_node = stmt.child_by_field_name("module_name")
    if module_node is None or module_node.type != "dotted_name":
        return None  # relative import
    module = text(module_node)
    if any(c.type == "wildcard_import" for c in stmt.named_children):
        return None
    for child in stmt.children_by_field_name("name"):
        if child.type == "dotted_name":
            found.append(Binding(text(child), f"{module}.{text(child)}", False))
        elif child.type == "aliased_import":
            found.append(
                Binding(
                    text(child.child_by_field_name("alias")),
                    f"{module}.{text(child.child_by_field_name('name'))}",
                    False,
                )
            )
    return found


def modules_of(stmt: Node) -> list[str]:
    """The modules an import statement loads (`a.b` for `import a.b as c`, `m` for `from m ...`)."""
    if stmt.type == "import_statement":
        out = []
        for child in stmt.children_by_field_name("name"):
            name = child.child_by_field_name("name") if child.type == "aliased_import" else child
            out.append(text(name))
        return out
    module_node = stmt.child_by_field_name("module_name")
    return [text(module_node)] if module_node is not None else []


@dataclass
class ModuleNames:
    """What the module's own top-level code binds (function and class bodies excluded)."""

    imports: dict[str, set[Binding]] = field(default_factory=dict)  # unconditional imports
    other: set[str] = field(default_factory=set)  # assignments, defs, classes, guarded imports
    global_decls: set[str] = field(default_factory=set)


def _targets(target: Node) -> Iterator[str]:
    """The names an assignment target binds (`a`, `a, (b, *c)`), not attributes or subscripts."""
    if target.type == "identifier":
        yield text(target)
    elif target.type in ("pattern_list", "tuple_pattern", "list_pattern", "as_pattern_target"):
        for c in target.named_children:
            yield from _targets(c)
    elif target.type == "list_splat_pattern" and target.named_children:
        yield from _targets(target.named_children[0])


def module_names(ctx: FileContext) -> ModuleNames:
    names = ModuleNames()
    stack: list[tuple[Node, bool]] = [(c, False) for c in ctx.tree.root_node.named_children]
    while stack:
        node, guarded = stack.pop()
        t = node.type
        if t in ("import_statement", "import_from_statement"):
            found = bindings_of(node) or []
            for b in found:
                if guarded:
                    names.other.add(b.name)
                else:
                    names.imports.setdefault(b.name, set()).add(b)
        elif t in ("function_definition", "class_definition"):
            names.other.add(text(node.child_by_field_name("name")))
        elif t == "decorated_definition":
            d = node.child_by_field_name("definition")
            if d is not None:
                names.other.add(text(d.child_by_field_name("name")))
        elif t == "expression_statement":
            for child in node.named_children:
                if child.type in ("assignment", "augmented_assignment"):
                    left = child.child_by_field_name("left")
                    if left is not None:
                        names.other.update(_targets(left))
                    right = child.child_by_field_name("right")
                    while right is not None and right.type == "assignment":  # a = b = 1
                        inner = right.child_by_field_name("left")
                        if inner is not None:
                            names.other.update(_targets(inner))
                        right = right.child_by_field_name("right")
        elif t in ("for_statement",):
            left = node.child_by_field_name("left")
            if left is not None:
                names.other.update(_targets(left))
            stack.extend(
                (c, True) for c in node.named_children if c.type in ("block", "else_clause")
            )
        elif t in (
            "if_statement",
            "try_statement",
            "with_statement",
            "while_statement",
            "block",
            "else_clause",
            "elif_clause",
            "except_clause",
            "finally_clause",
            "match_statement",
            "case_clause",
        ):
            if t == "with_statement":
                for item in node.named_children:
                    if item.type == "with_clause":
                        for w in item.named_children:
                            alias = w.child_by_field_name("alias")
                            if alias is not None:
                                names.other.update(_targets(alias))
            stack.extend((c, True) for c in node.named_children)
        elif t == "global_statement":
            names.global_decls.update(text(c) for c in node.named_children)
    return names


def _caught(clause: Node) -> set[str]:
    value = clause.child_by_field_name("value")
    if value is None:
        return {"BaseException"}
    if value.type == "as_pattern" and value.named_children:
        value = value.named_children[0]
    parts = value.named_children if value.type == "tuple" else [value]
    return {text(p).rsplit(".", 1)[-1] for p in parts}


@dataclass(frozen=True)
class Site:
    """Where an import sits in its function, and what guards it."""

    fn: Node
    skip: str | None  # why it is not flagged
    guarded: bool  # under if/with/try/match: hoisting would change when (or whether) it runs
    in_loop: bool


def site_of(ctx: FileContext, stmt: Node) -> Site | None:
    fn = ctx.function_of(stmt)
    if fn is None or fn.has_error:
        return None  # at module level, or in a function still being typed
    guarded = False
    parent = stmt.parent
    while parent is not None and parent != fn:
        t = parent.type
        if t == "try_statement":
            for clause in parent.named_children:
                if clause.type == "except_clause" and _caught(clause) & _OPTIONAL_ERRORS:
                    return Site(fn, "optional dependency (try/except ImportError)", True, False)
            guarded = True
        elif t in ("if_statement", "elif_clause"):
            cond = text(parent.child_by_field_name("condition"))
            if "TYPE_CHECKING" in cond:
                return Site(fn, "TYPE_CHECKING block", True, False)
            if "__name__" in cond:
                return Site(fn, "__main__ block", True, False)
            guarded = True
        elif t in (
            "with_statement",
            "match_statement",
            "else_clause",
            "except_clause",
            "class_definition",
            "lambda",
        ):
            guarded = True
        parent = parent.parent
    return Site(fn, None, guarded, bool(ctx.loops_around(stmt)))


@functools.lru_cache(maxsize=256)
def _path_parts(path: str) -> frozenset[str]:
    """Folder names on the file's path and its own name: a project's own package is among them."""
    pure = PurePath(path)
    return frozenset({*pure.parts[:-1], pure.stem})


def is_test_code(path: str) -> bool:
    """Whether a file belongs to a test suite (tests run once per session: little to save)."""
    pure = PurePath(path)
    name = pure.name
    return (
        name.startswith("test_")
        or name.endswith("_test.py")
        or name == "conftest.py"
        or any(p in ("test", "tests", "testing") or p.endswith("_test") for p in pure.parts[:-1])
    )


def in_stdlib(path: str) -> bool:
    """Whether the analysed file is itself part of a standard library (its lazy imports may break
    import cycles between stdlib modules, which nothing in the file shows)."""
    norm = path.replace("\\", "/")
    return "/lib/python3" in norm and "-packages/" not in norm


def _decorators(fn: Node) -> list[str]:
    parent = fn.parent
    if parent is None or parent.type != "decorated_definition":
        return []
    return [text(d) for d in parent.named_children if d.type == "decorator"]


def _runs_once(fn: Node) -> bool:
    """An entry point, a test (or a function nested in one), a cached function."""
    if fn.type != "function_definition":
        return False
    name = text(fn.child_by_field_name("name"))
    return (
        name in _ENTRY_NAMES
        or name.startswith(("test", "setUp", "tearDown", "setup_", "teardown_"))
        or any(d.rsplit("(", 1)[0].rsplit(".", 1)[-1] in _ONCE_DECORATORS for d in _decorators(fn))
    )


def _main_block_calls(ctx: FileContext) -> set[str]:
    """Functions the module's `if __name__ == "__main__":` block calls by name."""
    names: set[str] = set()
    for child in ctx.tree.root_node.named_children:
        if child.type != "if_statement":
            continue
        cond = child.child_by_field_name("condition")
        if cond is None or "__name__" not in text(cond) or "__main__" not in text(cond):
            continue
        body = child.child_by_field_name("consequence")
        stack = [body] if body is not None else []
        while stack:
            n = stack.pop()
            if n.type == "call":
                func = n.child_by_field_name("function")
                if func is not None and func.type == "identifier":
                    names.add(text(func))
            stack.extend(n.named_children)
    return names


def _subcommand_handlers(ctx: FileContext) -> set[str]:
    """Functions given to argparse as a subcommand's handler: `p.set_defaults(func=build)`.
    The program runs one of them per process."""
    names: set[str] = set()
    if b"set_defaults" not in ctx.source:
        return names
    stack = [ctx.tree.root_node]
    while stack:
        n = stack.pop()
        if n.type == "call":
            func = n.child_by_field_name("function")
            attr = func.child_by_field_name("attribute") if func is not None else None
            args = n.child_by_field_name("arguments")
            if attr is not None and text(attr) == "set_defaults" and args is not None:
                for kw in args.named_children:
                    value = kw.child_by_field_name("value")
                    if (
                        kw.type == "keyword_argument"
                        and value is not None
                        and (value.type == "identifier")
                    ):
                        names.add(text(value))
        stack.extend(n.named_children)
    return names


def _script_targets(doc: dict[str, object]) -> list[str]:
    """`module:function` values of a pyproject's console and GUI scripts and entry points."""
    found: list[str] = []
    project = doc.get("project")
    tool = doc.get("tool")
    poetry = tool.get("poetry") if isinstance(tool, dict) else None
    tables: list[object] = []
    if isinstance(project, dict):
        tables += [project.get("scripts"), project.get("gui-scripts")]
        groups = project.get("entry-points")
        if isinstance(groups, dict):
            tables += list(groups.values())
    if isinstance(poetry, dict):
        tables.append(poetry.get("scripts"))
    for table in tables:
        if isinstance(table, dict):
            found += [v for v in table.values() if isinstance(v, str) and ":" in v]
    return found


@functools.lru_cache(maxsize=64)
def _entry_points(pyproject: str, stamp: float) -> tuple[tuple[str, str], ...]:
    try:
        doc = tomllib.loads(Path(pyproject).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return ()
    out: list[tuple[str, str]] = []
    for target in _script_targets(doc):
        module, _, attr = target.partition(":")
        function = attr.strip().split(".", 1)[0].split("[", 1)[0].strip()
        if module.strip() and function:
            out.append((module.strip(), function))
    return tuple(out)


@functools.lru_cache(maxsize=64)
def _setup_cfg_entry_points(setup_cfg: str, stamp: float) -> tuple[tuple[str, str], ...]:
    """`[options.entry_points]` of a setup.cfg: `console_scripts = tool = pkg.cli:main`."""
    import configparser  # only for projects that still configure setuptools this way

    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(setup_cfg, encoding="utf-8")
    except (configparser.Error, UnicodeDecodeError):
        return ()
    if not parser.has_section("options.entry_points"):
        return ()
    out: list[tuple[str, str]] = []
    for group in parser["options.entry_points"].values():
        for line in group.splitlines():
            _, _, target = line.partition("=")
            module, _, attr = target.strip().partition(":")
            function = attr.strip().split(".", 1)[0].split("[", 1)[0].strip()
            if module and function:
                out.append((module.strip(), function))
    return tuple(out)


def _script_entry_points(path: str) -> set[str]:
    """Functions of this file that the nearest pyproject.toml (or setup.cfg) installs as a
    command (`[project.scripts] tool = "pkg.cli:main"`): each run of the command calls one
    once."""
    try:
        full = Path(path).resolve()
    except OSError:
        return set()
    as_posix = full.as_posix()
    for folder in full.parents:
        targets: list[tuple[str, str]] = []
        found = False
        for name, read in (
            ("pyproject.toml", _entry_points),
            ("setup.cfg", _setup_cfg_entry_points),
        ):
            try:
                stamp = (folder / name).stat().st_mtime
            except OSError:
                continue
            found = True
            targets += read(str(folder / name), stamp)
        if not found:
            if (folder / ".git").exists():
                return set()
            continue
        names: set[str] = set()
        for module, function in targets:
            rel = module.replace(".", "/")
            if as_posix.endswith((f"/{rel}.py", f"/{rel}/__init__.py")):
                names.add(function)
        return names
    return set()


def once_per_process(ctx: FileContext) -> frozenset[str]:
    """Module-level functions the program calls once per run: installed commands, the
    `__main__` block's calls, argparse subcommand handlers."""
    found = ctx.memo.get("once_per_process")
    if found is None:
        found = ctx.memo["once_per_process"] = frozenset(
            _main_block_calls(ctx) | _subcommand_handlers(ctx) | _script_entry_points(ctx.path)
        )
    return found  # type: ignore[return-value]


def _top_level(fn: Node) -> bool:
    parent = fn.parent
    if parent is not None and parent.type == "decorated_definition":
        parent = parent.parent
    return parent is not None and parent.type == "module"


def _guards_optional_dependency(fn: Node) -> bool:
    """The function imports a third-party or heavy module under try/except ImportError: it
    is the lazy path of an optional feature, and its other imports are lazy on purpose."""
    stack = list(fn.named_children)
    while stack:
        n = stack.pop()
        if n.type in ("function_definition", "class_definition", "lambda"):
            continue
        if n.type == "try_statement" and any(
            c.type == "except_clause" and _caught(c) & _OPTIONAL_ERRORS for c in n.named_children
        ):
            body = n.child_by_field_name("body")
            for stmt in body.named_children if body is not None else ():
                if stmt.type in ("import_statement", "import_from_statement"):
                    tops = {m.split(".", 1)[0] for m in modules_of(stmt)}
                    if tops and not tops <= LIGHT | STARTUP:
                        return True
        stack.extend(n.named_children)
    return False


def _body_size(fn: Node) -> int:
    body = fn.child_by_field_name("body")
    if body is None:
        return 0
    stmts = [c for c in body.named_children if c.type != "comment"]
    first = stmts[0] if stmts else None
    if (
        first is not None
        and first.type == "expression_statement"
        and first.named_children
        and first.named_children[0].type == "string"
    ):
        stmts = stmts[1:]
    return len(stmts)


_REASONS = re.compile(
    rb"lazy|lazily|delay|defer|circular|cycle|start-?up|import time|speed|slow|expensive|heavy"
    rb"|bootstrap|avoid|recursi|import loop|optional",
    re.I,
)


def _explained(ctx: FileContext, stmt: Node) -> bool:
    """Whether a comment on the import's line or just above it gives a reason for laziness."""
    line = stmt.start_point.row
    first = max(0, line - 3)
    above = ctx.source[ctx.line_starts[first] : stmt.end_byte]
    nl = ctx.source.find(b"\n", stmt.end_byte)
    rest = ctx.source[stmt.end_byte : nl if nl >= 0 else len(ctx.source)]
    comments = [c for c in (above + rest).split(b"\n") if b"#" in c]
    return any(_REASONS.search(c[c.index(b"#") :]) for c in comments)


def _behind_fast_path(stmt: Node, fn: Node) -> bool:
    """Whether an earlier `if ...: return` (or raise) in the function lets common calls leave
    before the import runs: `if s.isascii(): return s` then `import unicodedata`."""
    child, parent = stmt, stmt.parent
    while parent is not None and parent != fn:
        if parent.type == "block":
            for sibling in parent.named_children:
                if sibling == child:
                    break
                if sibling.type == "if_statement" and _exits(sibling):
                    return True
        child, parent = parent, parent.parent
    return False


def _exits(node: Node) -> bool:
    stack = [node]
    while stack:
        n = stack.pop()
        if n.type in ("return_statement", "raise_statement", "continue_statement"):
            return True
        if n.type in ("function_definition", "class_definition", "lambda"):
            continue
        stack.extend(n.named_children)
    return False


@dataclass(frozen=True)
class Assessment:
    kind: str  # "redundant", "startup", "light", "heavy", "third-party"
    confidence: float
    modules: tuple[str, ...]
    site: Site


def assess(
    ctx: FileContext, stmt: Node, names: Callable[[], ModuleNames] | None = None
) -> Assessment | None:
    """Whether an import statement is flagged, and how it is classified; None when it is not."""
    site = site_of(ctx, stmt)
    if site is None or site.skip is not None:
        return None
    found = bindings_of(stmt)
    if not found:
        return None  # relative or star import: cycle guard, or not valid in a function
    modules = modules_of(stmt)
    tops = {m.split(".", 1)[0] for m in modules}
    own = _path_parts(ctx.path)  # cached per path
    if tops & own or "__future__" in tops:
        return None  # the file's own package: a cycle guard
    if tops & PLATFORM:
        return None
    fn = site.fn
    once = any(_runs_once(f) for f in ctx.enclosing_functions(stmt)) or any(
        _top_level(f) and text(f.child_by_field_name("name")) in once_per_process(ctx)
        for f in ctx.enclosing_functions(stmt)
        if f.type == "function_definition"
    )
    if not once and _guards_optional_dependency(fn):
        once = True  # an optional feature's lazy path: its imports wait for it on purpose
    if once and not site.in_loop:
        return None  # runs once per program (or per cached argument): nothing to gain
    bound = names() if names is not None else module_names(ctx)
    if all(b in bound.imports.get(b.name, ()) for b in found):
        kind, confidence = "redundant", 0.7
    elif not tops <= STDLIB:
        kind, confidence = "third-party", 0.2
    elif tops <= STARTUP:
        kind, confidence = "startup", 0.6
    elif tops <= LIGHT | STARTUP:
        kind, confidence = "light", 0.45
    else:
        kind, confidence = "heavy", 0.2
    if kind != "redundant":
        if kind in ("heavy", "third-party") and not site.in_loop:
            return None  # a deliberate trade: start-up time (or a cycle) against ~100 ns a call
        if site.guarded or (not site.in_loop and _behind_fast_path(stmt, fn)):
            return None  # runs only on a rare path (a branch, or after an early return)
        if _explained(ctx, stmt):
            return None  # a comment says why it is lazy
    stdlib_file = kind in ("startup", "light", "heavy") and in_stdlib(ctx.path)
    if stdlib_file and not site.in_loop:
        return None  # inside the stdlib, lazy imports guard start-up and stdlib cycles
    if site.in_loop:
        confidence = max(confidence + 0.2, 0.6 if kind in ("heavy", "third-party") else 0.8)
    elif _body_size(fn) <= 3:
        confidence += 0.1  # the import is a large share of a small function's time
    if site.guarded:
        confidence -= 0.1
    if is_test_code(ctx.path):
        confidence = min(confidence, 0.3)  # tests run once; their imports are often the subject
    if stdlib_file:
        confidence = min(confidence, 0.5)  # the loop is real, the cycle risk too
    return Assessment(kind, round(min(max(confidence, 0.05), 0.95), 2), tuple(modules), site)


_WHY = {
    "redundant": "the module already imports it at the top, so this line only re-binds it",
    "startup": "the interpreter loads it at start-up, so deferring it defers nothing",
    "light": "it imports in well under a millisecond, so deferring it saves little start-up",
    "heavy": "deferring it may be deliberate, to keep start-up fast",
    "third-party": "deferring it may be deliberate (start-up time, optional dependency)",
}


class ImportInFunction(Detector):
    id = "import-in-function"
    query_file = "import_in_function.scm"

    def check(self, ctx: FileContext, matches: list[Captures]) -> Iterator[Finding]:
        cache: list[ModuleNames] = []

        def names() -> ModuleNames:
            if not cache:
                cache.append(module_names(ctx))
            return cache[0]

        for m in matches:
            stmt = m["import"][0]
            if ctx.function_of(stmt) is None:
                continue
            a = assess(ctx, stmt, names)
            if a is None:
                continue
            fn_name = text(a.site.fn.child_by_field_name("name"))
            statement = " ".join(text(stmt).split())
            where = "on every iteration" if a.site.in_loop else "on every call"
            cost = (
                "a sys.modules lookup and the module-lock check (~50-150 ns)"
                if stmt.type == "import_statement"
                else "a sys.modules lookup, the module-lock check and a getattr per name "
                "(~200-500 ns)"
            )
            action = "delete it" if a.kind == "redundant" else "move it to the module's imports"
            yield self.finding(
                ctx,
                stmt,
                f"`{statement[:80]}` in {fn_name}() runs {where}: each run costs {cost}; "
                f"{_WHY[a.kind]}: {action}",
                confidence=a.confidence,
                evidence=[
                    ("import", statement[:120]),
                    ("module", ", ".join(a.modules)),
                    ("kind", a.kind),
                    ("in_loop", str(a.site.in_loop).lower()),
                ],
            )
