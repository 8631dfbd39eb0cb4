"""Memoize a pure function: add `@functools.cache` (recursive) or `@functools.lru_cache`."""

from __future__ import annotations

from megawatt.analyzers.context import FileContext, text
from megawatt.analyzers.detectors.memoize import (
    PROFILED,
    Candidate,
    Prover,
    candidate,
    enclosing,
    purity_gate,
)
from megawatt.fixes.edits import indentation_at, line_start
from megawatt.fixes.imports import import_edit
from megawatt.model import Edit, Finding, Fix

LRU_SIZE = 1024


def _locate(ctx: FileContext, finding: Finding) -> Candidate | None:
    node = ctx.tree.root_node.descendant_for_byte_range(
        finding.span.start_byte, finding.span.end_byte
    )
    if node is None or node.type != "identifier":
        return None
    fn = node.parent
    if fn is None or fn.type != "function_definition" or fn.child_by_field_name("name") != node:
        return None
    placed = enclosing(fn)
    if placed is None:
        return None
    prover = Prover(ctx)
    if dict(finding.evidence).get(PROFILED) is None:
        return candidate(ctx, prover, fn, node, *placed)
    # found from the profile's call counts (megawatt/profiled_memoize.py): the static tests of
    # repetition do not apply, the purity gate does
    gate = purity_gate(ctx, prover, fn)
    if not gate.passed or gate.verdict is None:
        return None
    return Candidate(fn, node, gate.class_name, gate.verdict, gate.params, ())


def _top_level_binding(ctx: FileContext, name: str) -> tuple[str | None, bool]:
    """How `functools.<name>` is reachable at module level (an expression), and whether the name
    `functools` is taken by something else there. Function-level imports do not count."""
    taken = False
    for stmt in ctx.tree.root_node.named_children:
        if stmt.type == "import_statement":
            for child in stmt.named_children:
                if child.type == "dotted_name" and text(child) == "functools":
                    return "functools." + name, False
                if child.type == "aliased_import":
                    alias = text(child.child_by_field_name("alias"))
                    if text(child.child_by_field_name("name")) == "functools":
                        return f"{alias}.{name}", False
                    taken = taken or alias == "functools"
                elif child.type == "dotted_name" and text(child).split(".", 1)[0] == "functools":
                    return "functools." + name, False  # `import functools.x` binds functools
        elif stmt.type == "import_from_statement":
            module = text(stmt.child_by_field_name("module_name"))
            for child in stmt.children_by_field_name("name"):
                if child.type == "aliased_import":
                    bound = text(child.child_by_field_name("alias"))
                    orig = text(child.child_by_field_name("name"))
                else:
                    bound = orig = text(child)
                if module == "functools" and orig == name:
                    return bound, False
                taken = taken or bound == "functools"
    return None, taken


def rewrite(ctx: FileContext, finding: Finding) -> Fix | None:
    cand = _locate(ctx, finding)
    if cand is None or cand.receiver is not None:
        return None  # an instance method needs a per-instance cache: a judgement, not a rewrite
    v = cand.verdict
    name = text(cand.name)
    recursive = bool(v.self_calls)
    profiled = dict(finding.evidence).get(PROFILED) is not None
    # an unbounded cache only where the source shows the subproblems overlap (a bounded set of
    # arguments); from call counts alone, nothing bounds how many distinct arguments come
    unbounded = recursive and not profiled
    attr = "cache" if unbounded else "lru_cache"
    expr, taken = _top_level_binding(ctx, attr)
    edits: list[Edit] = []
    if expr is None:
        if taken or "functools" in ctx.imports.module_names - set(ctx.imports.bindings):
            return None  # `functools` means something else in this module
        added = import_edit(ctx, "import functools")
        if added.start > cand.fn.start_byte:
            return None
        edits.append(added)
        expr = f"functools.{attr}"
    decorator = expr if unbounded else f"{expr}(maxsize={LRU_SIZE})"
    def_line = line_start(ctx, cand.fn.start_byte)
    edits.append(Edit(def_line, def_line, f"{indentation_at(ctx, cand.fn)}@{decorator}\n"))
    label = "functools.cache" if unbounded else "functools.lru_cache"
    title = f"Memoize {name}() with {label}"

    notes: list[str] = []
    if profiled:
        notes.append(
            "found from the profile's call counts, which cannot tell how often the arguments "
            "repeat: caching arguments that never come back only adds hashing, a lookup and "
            f"memory to every call, and up to {LRU_SIZE} results are kept alive (compare the "
            f"call count with the distinct arguments: {name}.cache_info() after a run)"
        )
    elif not recursive:
        notes.append(
            "it only pays if the program calls it again with equal arguments (check call "
            f"counts in a profile); up to {LRU_SIZE} results are kept alive"
        )
    elif not cand.branching:
        notes.append(
            "it recurses once per level, so the cache only helps calls repeated across the "
            "program, and every distinct argument stays cached"
        )
    if v.linear_path:
        notes.append(
            "a branch recurses once per level, so deep inputs finish quickly today; through the "
            "cache wrapper each level uses two frames of the recursion limit (CPython 3.11), so "
            "about half the depth raises RecursionError"
        )
    if v.unknown_params:
        notes.append(
            f"parameter{'s' if len(v.unknown_params) > 1 else ''} "
            f"{', '.join(v.unknown_params)} "
            f"{'are' if len(v.unknown_params) > 1 else 'is'} not annotated with a hashable type: "
            "a list or dict argument would raise TypeError, a mutable argument changed between "
            "calls would get a stale result, and 1, 1.0 and True share one cache entry"
        )
    if v.mutable_reads:
        notes.append(
            f"it reads module-level {', '.join(v.mutable_reads)}; if other code changes "
            f"{'them' if len(v.mutable_reads) > 1 else 'it'}, cached results go stale"
        )
    return Fix(title=title, edits=tuple(edits), safe=not notes, note="; ".join(notes))
