"""Hoist an import out of a function to the module's imports (or delete it when it is there)."""

from __future__ import annotations

from tree_sitter import Node

from megawatt.analyzers.context import BUILTIN_NAMES, FileContext, text
from megawatt.analyzers.detectors.import_in_function import (
    PLATFORM,
    STDLIB,
    Assessment,
    ModuleNames,
    assess,
    bindings_of,
    in_stdlib,
    module_names,
)
from megawatt.fixes.edits import line_start, node_covering
from megawatt.fixes.imports import import_edit
from megawatt.model import Edit, Finding, Fix

_BINDING_PARENTS = frozenset(
    {
        "pattern_list",
        "tuple_pattern",
        "list_pattern",
        "list_splat_pattern",
        "as_pattern_target",
        "parameters",
        "default_parameter",
        "typed_parameter",
        "typed_default_parameter",
        "global_statement",
        "nonlocal_statement",
        "delete_statement",
        "dotted_name",
        "aliased_import",
    }
)


_FIELD_BINDINGS = {
    "assignment": "left",
    "augmented_assignment": "left",
    "for_statement": "left",
    "for_in_clause": "left",
    "named_expression": "name",
    "function_definition": "name",
    "class_definition": "name",
}


def _is_binding(ident: Node) -> bool:
    parent = ident.parent
    if parent is None:
        return False
    field = _FIELD_BINDINGS.get(parent.type)
    if field is not None:
        return parent.child_by_field_name(field) == ident
    return parent.type in _BINDING_PARENTS


def _rebinds(fn: Node, stmt: Node, name: str) -> bool:
    """Whether anything in `fn` other than `stmt` binds (or deletes, or declares) `name`."""
    ours = {b for b in bindings_of(stmt) or [] if b.name == name}
    stack = [fn]
    while stack:
        n = stack.pop()
        if n == stmt:
            continue
        if n.type in ("import_statement", "import_from_statement"):
            theirs = {b for b in bindings_of(n) or [] if b.name == name}
            if theirs - ours:
                return True  # the same name imported as something else
            continue  # the same import again: it binds the same module
        if n.type == "identifier" and text(n) == name:
            if _is_binding(n):
                return True
            continue
        stack.extend(n.named_children)
    return False


def _whole_lines(ctx: FileContext, stmt: Node) -> tuple[int, int] | None:
    """The byte range of the lines the statement occupies, when nothing else shares them."""
    start = line_start(ctx, stmt.start_byte)
    if ctx.source[start : stmt.start_byte].strip():
        return None
    nl = ctx.source.find(b"\n", stmt.end_byte)
    end = len(ctx.source) if nl < 0 else nl + 1
    rest = ctx.source[stmt.end_byte : end].strip()
    if rest and not rest.startswith(b"#"):
        return None  # `import x; y()` shares the line
    return start, end


def _only_statement(stmt: Node) -> bool:
    block = stmt.parent
    if block is None:
        return False
    return [c for c in block.named_children if c.type != "comment"] == [stmt]


def _hoistable_site(a: Assessment, stmt: Node) -> bool:
    """The import runs unconditionally: directly in the body, or in loops directly in it."""
    if a.site.guarded:
        return False
    parent = stmt.parent
    while parent is not None and parent != a.site.fn:
        if parent.type not in ("block", "for_statement", "while_statement"):
            return False
        parent = parent.parent
    return parent == a.site.fn


def _outside_classes(a: Assessment, stmt: Node) -> bool:
    """No class body between the import and its function (there it binds a class attribute)."""
    parent = stmt.parent
    while parent is not None and parent != a.site.fn:
        if parent.type in ("class_definition", "lambda"):
            return False
        parent = parent.parent
    return parent == a.site.fn


def _conflicts(ctx: FileContext, stmt: Node, a: Assessment, names: ModuleNames) -> bool:
    found = bindings_of(stmt) or []
    for b in found:
        if b.name in BUILTIN_NAMES or b.name in names.global_decls:
            return True  # a module-level `open` would shadow the builtin for the whole module
        if b.name in names.other:
            return True
        existing = names.imports.get(b.name, set())
        # `import os.path` beside `import os` binds the same module: compatible
        if existing and b not in existing and not (b.plain and all(e.plain for e in existing)):
            return True
        if _rebinds(a.site.fn, stmt, b.name):
            return True
    return False


def rewrite(ctx: FileContext, finding: Finding) -> Fix | None:
    stmt = node_covering(ctx, finding, "import_statement") or node_covering(
        ctx, finding, "import_from_statement"
    )
    if stmt is None:
        return None
    names = module_names(ctx)
    a = assess(ctx, stmt, lambda: names)
    if a is None:
        return None
    if not (_hoistable_site(a, stmt) or (a.kind == "redundant" and _outside_classes(a, stmt))):
        return None  # a redundant line may go from any branch; a hoist changes when it runs
    if _conflicts(ctx, stmt, a, names):
        return None
    span = _whole_lines(ctx, stmt)
    if span is None:
        return None
    start, end = span
    fn_name = text(a.site.fn.child_by_field_name("name"))
    indent = ctx.source[start : stmt.start_byte].decode("utf-8", "replace")
    removal = Edit(start, end, f"{indent}pass\n" if _only_statement(stmt) else "")
    statement = text(stmt)
    if a.kind == "redundant":
        return Fix(
            title=f"Remove `{statement.splitlines()[0]}` from {fn_name}(): the module imports it",
            edits=(removal,),
        )
    comment = ctx.source[stmt.end_byte : end].decode("utf-8", "replace").strip()
    moved = import_edit(ctx, f"{statement}  {comment}" if comment else statement)
    edits = (moved, removal)
    if moved.start >= start:
        return None  # no import block above the function to join (odd file layout)
    title = f"Move `{statement.splitlines()[0]}` out of {fn_name}() to the module's imports"
    tops = {m.split(".", 1)[0] for m in a.modules}
    if not tops <= STDLIB or tops & PLATFORM:
        return Fix(
            title=title,
            edits=edits,
            safe=False,
            note="the import now runs when this module is imported: a circular import or an "
            "optional dependency that the lazy import avoided would fail there",
        )
    if in_stdlib(ctx.path):
        return Fix(
            title=title,
            edits=edits,
            safe=False,
            note="this file is part of the standard library, where a lazy import can break an "
            "import cycle between stdlib modules",
        )
    if a.kind == "heavy":
        return Fix(
            title=title,
            edits=edits,
            safe=False,
            note="the module is slow to import; every program that imports this module now "
            "pays for it at start-up, even if it never calls " + fn_name + "()",
        )
    return Fix(title=title, edits=edits)
