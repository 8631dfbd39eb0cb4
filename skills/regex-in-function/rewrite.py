"""Hoist a literal regex to a module-level compiled constant: `_SKU_RE = re.compile(r"...")`.

`re.compile(r"…")` becomes the constant; `re.match(r"…", s, re.I)` becomes `_X_RE.match(s)`
with the flags moved into the compile. The pattern is compiled here first: a pattern that does
not compile would make the module fail to import, so it is never hoisted.
"""

from __future__ import annotations

import re
import warnings

from tree_sitter import Node

from megawatt.analyzers.context import FileContext, text
from megawatt.analyzers.detectors._loop_facts import name_used, occurrences
from megawatt.analyzers.detectors.regex_in_function import (
    RegexCall,
    classify,
    flag_value,
    pattern_value,
)
from megawatt.fixes.edits import import_insertion_point, node_covering
from megawatt.model import Edit, Finding, Fix

_GENERIC = frozenset(
    {
        "p",
        "r",
        "m",
        "rx",
        "re",
        "pat",
        "patt",
        "pattern",
        "regex",
        "regexp",
        "reg",
        "expr",
        "compiled",
        "matcher",
        "match",
        "result",
    }
)
_SUFFIXES = ("_RE", "_REGEX", "_PATTERN", "_PAT", "_RX")


def _upper_snake(name: str) -> str:
    name = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name.strip("_"))
    return re.sub(r"_+", "_", name).upper()


def _base_name(ctx: FileContext, found: RegexCall) -> str:
    parent = found.call.parent
    if parent is not None and parent.type == "assignment":
        target = parent.child_by_field_name("left")
        if target is not None and parent.child_by_field_name("right") == found.call:
            last = target
            if target.type == "attribute":
                last = target.child_by_field_name("attribute") or target
            word = text(last).strip("_").lower()
            if last.type == "identifier" and len(word) > 2 and word not in _GENERIC:
                return _upper_snake(text(last))
    fn = ctx.function_of(found.call)
    if fn is not None:
        base = _upper_snake(text(fn.child_by_field_name("name")))
        if base:
            return base
    return "PATTERN"


def constant_name(ctx: FileContext, found: RegexCall) -> str:
    base = _base_name(ctx, found)
    if not base.endswith(_SUFFIXES):
        base += "_RE"
    name, n = f"_{base}", 2
    while name_used(ctx, name):
        name, n = f"_{base}_{n}", n + 1
    return name


def _top_statement(node: Node) -> Node | None:
    """The module-level statement containing `node`, unless it sits in a function or class."""
    while node.parent is not None and node.parent.type != "module":
        if node.parent.type in ("function_definition", "class_definition", "lambda"):
            return None
        node = node.parent
    return node if node.parent is not None else None


def _module_binding_end(ctx: FileContext, name: str) -> int | None:
    """End of the last module-level statement that imports `name`, or None if none does."""
    end = None
    for imp in ctx.imports.import_nodes:
        bound = set()
        for child in imp.named_children:
            if child.type == "aliased_import":
                bound.add(text(child.child_by_field_name("alias")))
            elif child.type == "dotted_name" and imp.child_by_field_name("module_name") != child:
                bound.add(text(child).split(".", 1)[0])
        if name not in bound:
            continue
        top = _top_statement(imp)
        if top is not None:
            end = max(end or 0, top.end_byte)
    return end


def _line_after(ctx: FileContext, offset: int) -> int:
    nl = ctx.source.find(b"\n", offset)
    return len(ctx.source) if nl < 0 else nl + 1


def _compile_head(ctx: FileContext, found: RegexCall) -> tuple[str, int, Edit | None] | None:
    """How the module level spells `<module>.compile`, the first offset where that name is
    bound, and an import edit when the module must be imported first."""
    func = found.call.child_by_field_name("function")
    if func is not None and func.type == "attribute":
        obj = func.child_by_field_name("object")
        if obj is None or obj.type != "identifier":
            return None
        end = _module_binding_end(ctx, text(obj))
        return (f"{text(obj)}.compile", _line_after(ctx, end), None) if end is not None else None
    for local, target in ctx.imports.bindings.items():
        if target in (f"{found.module}.compile", found.module):
            end = _module_binding_end(ctx, local)
            if end is not None:
                spelled = local if target.endswith(".compile") else f"{local}.compile"
                return spelled, _line_after(ctx, end), None
    if not _name_free(ctx, found.module):
        return None  # `re` means something else here: do not import over it
    at = import_insertion_point(ctx)
    return f"{found.module}.compile", at, Edit(at, at, f"import {found.module}\n")


def _name_free(ctx: FileContext, name: str) -> bool:
    """No identifier `name` anywhere, except as the module of `from name import …`."""
    for ident in occurrences(ctx, name):
        parent = ident.parent
        grand = parent.parent if parent is not None else None
        if not (
            parent is not None
            and parent.type == "dotted_name"
            and grand is not None
            and grand.type == "import_from_statement"
            and grand.child_by_field_name("module_name") == parent
        ):
            return False
    return True


def _existing_constant(ctx: FileContext, found: RegexCall, value: object, flags: int) -> str | None:
    """A module-level `NAME = re.compile(<same pattern>, <same flags>)` already there."""
    for stmt in ctx.tree.root_node.named_children:
        if stmt.type != "expression_statement" or not stmt.named_children:
            continue
        assign = stmt.named_children[0]
        if assign.type != "assignment":
            continue
        left, right = assign.child_by_field_name("left"), assign.child_by_field_name("right")
        if left is None or left.type != "identifier" or right is None or right.type != "call":
            continue
        other = classify(ctx, right)
        if (
            other is None
            or other.name != "compile"
            or other.module != found.module
            or other.kept
            or pattern_value(other) != value
            or flag_value(ctx, other.flags) != flags
            or type(pattern_value(other)) is not type(value)
        ):
            continue
        if left.start_byte < found.call.start_byte or ctx.function_of(found.call) is not None:
            return text(left)
    return None


def _replacement(found: RegexCall, name: str) -> str:
    if found.name == "compile":
        return name
    return f"{name}.{found.name}({', '.join(text(a) for a in found.kept)})"


def rewrite(ctx: FileContext, finding: Finding) -> Fix | None:
    call = node_covering(ctx, finding, "call")
    if call is None:
        return None
    found = classify(ctx, call)
    if found is None or not found.rewritable:
        return None
    value = pattern_value(found)
    flags = flag_value(ctx, found.flags)
    if value is None or flags is None:
        return None
    checked = found.module == "re"
    if checked:
        if flags & re.DEBUG:
            return None  # DEBUG prints while compiling: moving it changes the output
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # FutureWarnings about set syntax and such
                re.compile(value, flags)
        except (re.error, TypeError, ValueError, OverflowError):
            return None  # hoisted, a bad pattern would fail the module's import
    top = _top_statement(call)
    if top is None:
        top = call
        while top.parent is not None and top.parent.type != "module":
            top = top.parent
    reuse = _existing_constant(ctx, found, value, flags)
    edits: list[Edit] = []
    if reuse is not None:
        name = reuse
    else:
        head = _compile_head(ctx, found)
        if head is None:
            return None
        spelled, bound_at, import_edit = head
        at = max(import_insertion_point(ctx), bound_at)
        for ident in _flag_names(found):
            end = _module_binding_end(ctx, ident)
            if end is None:
                return None  # the flags name is not imported at module level
            at = max(at, _line_after(ctx, end))
        if at > top.start_byte:
            return None  # the constant could not be defined before its first use
        name = constant_name(ctx, found)
        definition = f"{spelled}({', '.join(_compile_args(found))})"
        prev_line = ctx.source[:at].rstrip(b"\n").rsplit(b"\n", 1)[-1].lstrip()
        lead = "\n" if prev_line.startswith((b"import ", b"from ")) or import_edit else ""
        if import_edit is not None:
            edits.append(import_edit)
        edits.append(Edit(at, at, f"{lead}{name} = {definition}\n"))
    edits.append(Edit(call.start_byte, call.end_byte, _replacement(found, name)))
    if found.name == "compile":
        title = f"Compile {_short(found.pattern)} once, as module-level {name}"
    else:
        title = f"Compile {_short(found.pattern)} once as {name} and call {name}.{found.name}()"
    return Fix(
        title=title,
        edits=tuple(edits),
        safe=checked,
        note=""
        if checked
        else "the pattern is for the `regex` module, which is not installed here to check "
        "that it compiles; a bad pattern now fails when the module is imported",
    )


def _flag_names(found: RegexCall) -> set[str]:
    """The module-level names the flags expression reads: `re` in `re.I | re.M`."""
    names: set[str] = set()
    stack = [found.flags] if found.flags is not None else []
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


def _compile_args(found: RegexCall) -> list[str]:
    args = [text(found.pattern)]
    if found.flags is not None:
        args.append(text(found.flags))
    return args


def _short(node: Node) -> str:
    s = " ".join(text(node).split())
    return s if len(s) <= 40 else s[:39] + "…"
