"""`regex-in-function`: a literal regex looked up (or compiled) again on every call or iteration.

`re.compile(r"...")` inside a function, or `re.match(r"...", s)` and friends, pay the re
module's cache lookup each time (and a full recompile once more than 512 patterns are in use).
A literal pattern with literal flags can be compiled once at module level.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass

from tree_sitter import Node

from megawatt.analyzers.context import FileContext, text
from megawatt.analyzers.detector import Captures, Detector, distinct
from megawatt.analyzers.detectors._loop_facts import (
    chain_of,
    maybe_imported,
    test_scale,
    walk,
)
from megawatt.model import Finding

MODULES = ("re", "regex")
# the parameters after `pattern`, in order, of each module-level function
PARAMS: dict[str, tuple[str, ...]] = {
    "compile": ("flags",),
    "match": ("string", "flags"),
    "search": ("string", "flags"),
    "fullmatch": ("string", "flags"),
    "findall": ("string", "flags"),
    "finditer": ("string", "flags"),
    "sub": ("repl", "string", "count", "flags"),
    "subn": ("repl", "string", "count", "flags"),
    "split": ("string", "maxsplit", "flags"),
}
# keywords the `regex` module accepts beyond re's; they block the rewrite, not the finding
_REGEX_EXTRA = frozenset(
    {"pos", "endpos", "concurrent", "timeout", "partial", "overlapped", "ignore_unused"}
)
_CACHING_DECORATORS = ("cache", "lru_cache", "cached_property", "cached")


@dataclass(frozen=True)
class RegexCall:
    call: Node
    module: str  # "re" or "regex"
    name: str  # "compile", "match", …
    pattern: Node
    flags: Node | None
    kept: tuple[Node, ...]  # the other arguments, in order, as they go to the Pattern method
    rewritable: bool  # every argument maps onto the compiled pattern's method


def is_literal(node: Node) -> bool:
    """A string (or implicit concatenation) without `{…}` placeholders."""
    parts = node.named_children if node.type == "concatenated_string" else [node]
    return all(
        p.type == "string" and not any(c.type == "interpolation" for c in p.named_children)
        for p in parts
    )


def flag_value(ctx: FileContext, node: Node | None) -> int | None:
    """The integer value of a constant flags expression (`re.I | re.M`), else None."""
    if node is None:
        return 0
    t = node.type
    if t == "integer":
        try:
            return int(text(node), 0)
        except ValueError:
            return None
    if t == "parenthesized_expression" and node.named_child_count == 1:
        return flag_value(ctx, node.named_children[0])
    if t == "binary_operator":
        op = node.child_by_field_name("operator")
        left = flag_value(ctx, node.child_by_field_name("left"))
        right = flag_value(ctx, node.child_by_field_name("right"))
        if left is None or right is None or op is None:
            return None
        return left | right if op.type == "|" else left + right if op.type == "+" else None
    if t in ("attribute", "identifier"):
        qualified = ctx.qualified(node)
        if qualified is None:
            return None
        parts = qualified.split(".")
        if parts[0] not in MODULES or not parts[-1].isupper():
            return None
        if parts[0] == "regex":
            return 0  # a regex-module flag: constant, its value unknown here
        value = getattr(re, parts[-1], None)
        return int(value) if isinstance(value, int) else None
    return None


def classify(ctx: FileContext, call: Node) -> RegexCall | None:
    """The regex call at `call` if it is one this class reports, else None."""
    func = call.child_by_field_name("function")
    args = call.child_by_field_name("arguments")
    if func is None or args is None or args.type != "argument_list":
        return None
    if not maybe_imported(ctx, func):
        return None  # cheap exit for print("…"), "".join(…) and the like
    qualified = ctx.qualified(func)
    if qualified is None:
        return None
    module, _, name = qualified.rpartition(".")
    if module not in MODULES or name not in PARAMS:
        return None
    items = [a for a in args.named_children if a.type != "comment"]
    if not items or not is_literal(items[0]):
        return None
    params = PARAMS[name]
    flags: Node | None = None
    kept: list[Node] = []
    rewritable = not any(a.type == "comment" for a in args.named_children)
    for i, arg in enumerate(items[1:]):
        if arg.type in ("list_splat", "dictionary_splat"):
            return None  # flags may hide in *args: nothing is known
        if arg.type == "keyword_argument":
            key = text(arg.child_by_field_name("name"))
            if key == "flags":
                flags = arg.child_by_field_name("value")
            elif key in params:
                kept.append(arg)
            elif module == "regex" and key in _REGEX_EXTRA:
                kept.append(arg)
                rewritable = False
            else:
                return None  # an unknown keyword (regex named lists) or a call that fails
        elif i < len(params):
            if params[i] == "flags":
                flags = arg
            else:
                kept.append(arg)
        else:
            return None
    if flags is not None and flag_value(ctx, flags) is None:
        return None  # flags computed at run time: the pattern cannot be compiled ahead
    return RegexCall(call, module, name, items[0], flags, tuple(kept), rewritable)


def _cached(ctx: FileContext, fn: Node) -> bool:
    """A caching decorator, by what its name is bound to: `@memo` after `from functools import
    lru_cache as memo` is one; an unimported `@cached` is taken at its word (a project's own)."""
    parent = fn.parent
    if parent is None or parent.type != "decorated_definition":
        return False
    for dec in parent.named_children:
        if dec.type != "decorator" or not dec.named_children:
            continue
        expr = dec.named_children[0]
        if expr.type == "call":
            expr = expr.child_by_field_name("function") or expr
        qualified = ctx.qualified(expr)
        name = (qualified or text(expr)).rsplit(".", 1)[-1]
        if name in _CACHING_DECORATORS:
            return True
    return False


def _assigned_name(call: Node) -> Node | None:
    """The target of `target = <call>`, if the call is the whole right-hand side."""
    parent = call.parent
    if (
        parent is not None
        and parent.type == "assignment"
        and parent.child_by_field_name("right") == (call)
    ):
        return parent.child_by_field_name("left")
    return None


def _lazy_initialised(ctx: FileContext, call: Node, fn: Node | None) -> bool:
    """`global _RE; if _RE is None: _RE = re.compile(…)`, `if self._re is None: self._re = …`,
    `if key not in _CACHE: _CACHE[key] = …`: compiled once, kept where later calls find it.

    Names are compared as nodes (an identifier, or an attribute chain), never as text inside
    other text: `if verbose: s = re.sub(…)` does not test `s`."""
    target = _assigned_name(call)
    if target is None or fn is None:
        return False
    holder = chain_of(target.child_by_field_name("value") if target.type == "subscript" else target)
    if holder is None:
        return False
    body = fn.child_by_field_name("body")
    declared = body is not None and any(
        stmt.type in ("global_statement", "nonlocal_statement")
        and any(c.type == "identifier" and text(c) == holder[0] for c in stmt.named_children)
        for stmt in walk(body, into_scopes=False)
    )
    if target.type == "identifier":
        return declared  # a plain local is recompiled on every call, tested or not
    local = len(holder) == 1 and not declared and ctx.is_local(target, holder[0])
    if target.type == "subscript" and local:
        return False  # a dict made in this call
    node = call.parent
    while node is not None and node != fn:
        if node.type in ("if_statement", "elif_clause"):
            cond = node.child_by_field_name("condition")
            if cond is not None and _tests(cond, holder):
                return True
        node = node.parent
    return False


def _tests(condition: Node, holder: tuple[str, ...]) -> bool:
    """Whether `condition` reads `holder` (a name or attribute chain) as a whole node."""
    for node in walk(condition):
        if node.type not in ("identifier", "attribute"):
            continue
        parent = node.parent
        if (
            node.type == "identifier"
            and parent is not None
            and parent.type == "attribute"
            and parent.child_by_field_name("attribute") == node
        ):
            continue  # `x.s` does not read the name `s`
        if chain_of(node) == holder:
            return True
    return False


def _display(node: Node, limit: int = 60) -> str:
    s = " ".join(text(node).split())
    return s if len(s) <= limit else s[: limit - 1] + "…"


class RegexInFunction(Detector):
    id = "regex-in-function"
    query_file = "regex_in_function.scm"

    def check(self, ctx: FileContext, matches: list[Captures]) -> Iterator[Finding]:
        for call in distinct(matches, "call"):
            found = classify(ctx, call)
            if found is None:
                continue
            scopes = list(ctx.enclosing_functions(call))
            loops = ctx.loops_around(call)
            if not scopes and not loops:
                continue  # module level, runs once
            fn = ctx.function_of(call)
            if fn is not None and scopes and scopes[0] == fn:
                if _cached(ctx, fn):
                    continue  # runs once per distinct argument: already cached
                if _lazy_initialised(ctx, call, fn):
                    continue
            yield self._finding(ctx, found, fn, loops)

    def _finding(
        self, ctx: FileContext, found: RegexCall, fn: Node | None, loops: list[Node]
    ) -> Finding:
        call = found.call
        func = text(call.child_by_field_name("function"))
        where = (
            "on every iteration of the loop"
            if loops
            else f"on every call of {text(fn.child_by_field_name('name'))}()"
            if fn is not None
            else "on every call of the lambda"
        )
        pattern = _display(found.pattern)
        if found.name == "compile":
            message = (
                f"{func}({pattern}) is compiled again {where}: each time the re module hashes the "
                "pattern and looks it up in its cache (a full recompile once more than 512 "
                "patterns are in use); compile it once at module level and use the constant"
            )
        else:
            message = (
                f"{func}({pattern}, …) looks the pattern up in the re module's cache {where}; "
                f"compile it once at module level (_X_RE = {found.module}.compile({pattern})) and "
                f"call _X_RE.{found.name}(…)"
            )
        confidence = 0.45 if found.name == "compile" else 0.4
        if loops:
            confidence = 0.7 if len(loops) == 1 else 0.75
        evidence = [
            ("call", _display(call, 120)),
            ("pattern", _display(found.pattern, 120)),
            ("in_loop", str(bool(loops)).lower()),
        ]
        if found.flags is not None:
            evidence.append(("flags", _display(found.flags)))
        confidence = round(confidence * test_scale(ctx, call), 2)
        return self.finding(ctx, call, message, confidence, evidence)


def pattern_value(found: RegexCall) -> str | bytes | None:
    """The pattern literal's value, or None when it cannot be evaluated safely."""
    try:
        value = ast.literal_eval(f"({text(found.pattern)})")  # parts may span lines
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None
    return value if isinstance(value, str | bytes) else None
