"""Hoist a literal regex to a module-level compiled constant: `_SKU_RE = re.compile(r"...")`.

`re.compile(r"…")` becomes the constant; `re.match(r"…", s, re.I)` becomes `_X_RE.match(s)`
with the flags moved into the compile. The pattern is compiled here first: a pattern that does
not compile would make the module fail to import, so it is never hoisted.
"""

from __future__ import annotations

import re
import warnings
from collections import Counter

from tree_sitter import Node

from megawatt.analyzers.context import FileContext, text
from megawatt.analyzers.detectors._loop_facts import maybe_imported, name_used, occurrences, walk
from megawatt.analyzers.detectors.regex_in_function import (
    RegexCall,
    classify,
    flag_value,
    pattern_value,
)
from megawatt.fixes.edits import import_insertion_point, node_covering
from megawatt.fixes.imports import import_edit
from megawatt.model import Edit, Finding, Fix

# variable names that say nothing about what the pattern matches
_GENERIC = frozenset(
    {"p", "r", "m", "rx", "re", "pat", "patt", "pattern", "regex", "regexp", "reg", "expr",
     "compiled", "matcher", "match", "result", "res", "mo", "obj", "tmp", "value", "val"}
)  # fmt: skip
# function names too vague to name a pattern after
_VAGUE_FUNCTIONS = frozenset(
    {"impl", "inner", "wrapper", "wrapped", "handler", "main", "run", "func", "fn", "f", "g",
     "helper", "callback", "cb", "process", "do", "check"}
)  # fmt: skip
_SUFFIXES = ("_RE", "_REGEX", "_PATTERN", "_PAT", "_RX")
# common patterns, anchors and outer groups stripped, by what they match
_SHAPES: dict[str, str] = {
    r"\s+": "WHITESPACE",
    r"\s*": "WHITESPACE",
    r"\s": "WHITESPACE",
    r"[ \t]+": "BLANKS",
    r"\d+": "DIGITS",
    r"\d": "DIGIT",
    r"[0-9]+": "DIGITS",
    r"[0-9]": "DIGIT",
    r"-?\d+": "INTEGER",
    r"[-+]?\d+": "INTEGER",
    r"\w+": "WORD",
    r"\W+": "NON_WORD",
    r"[a-z]+": "LETTERS",
    r"[A-Za-z]+": "LETTERS",
    r"[a-zA-Z]+": "LETTERS",
    r"\r?\n": "NEWLINE",
    r"\n": "NEWLINE",
    r"\n+": "NEWLINES",
    r"//+": "SLASHES",
    r"/+": "SLASHES",
    r"<[^>]+>": "TAG",
    r"<[^>]*>": "TAG",
    r"\w+://": "SCHEME",
    r"[a-zA-Z][a-zA-Z0-9+.-]*://": "SCHEME",
}
# shapes that an anchor at one end makes a different thing: `^//+` is the leading slashes
_RUNS = frozenset({"WHITESPACE", "BLANKS", "DIGITS", "SLASHES", "NEWLINES", "NEWLINE"})
# digits, a literal dot, digits: `\d+\.\d+`, `[-+]?\d*\.\d+`, `[0-9]+\.[0-9]*`
_FLOAT = re.compile(r"(?:\\d|\[0-9\])[*+]?\)?\??\\\.(?:\\d|\[0-9\])")
# a letter or underscore, then word characters: `[_a-zA-Z]\w*`, `[A-Za-z][0-9A-Za-z_]*`
_IDENTIFIER = re.compile(r"\[(?:_?a-zA-Z_?|_?A-Za-z_?)\](?:\\w|\[[-0-9A-Za-z_]+\])\*")
_NAMED_GROUP = re.compile(r"\(\?P<([A-Za-z_]\w*)>")
_WORD = re.compile(r"[A-Za-z]{3,}")
_STOP_WORDS = frozenset(
    {"the", "and", "for", "with", "which", "than", "that", "from", "this", "are"}
)
# what in a pattern is syntax rather than text to match: escapes, classes, counts, group heads
_SYNTAX = re.compile(
    r"\\.|\[(?:\\.|[^]\\])*\]|\{\d*,?\d*\}|\(\?(?:P<\w+>|P=\w+\)|[:=!]|<[=!]|[aiLmsux-]+\)?)"
)


def _upper_snake(name: str) -> str:
    name = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name.strip("_"))
    return re.sub(r"\W+|_+", "_", name).strip("_").upper()


def pattern_meaning(value: str | bytes, flags: int) -> str | None:
    """A name for what a pattern matches: its named groups, a common shape (`\\s+` is
    WHITESPACE, `\\d+\\.\\d+` is FLOAT), or the literal words in it (`charset=` is CHARSET);
    None when the pattern says nothing a name could."""
    pattern = value.decode("latin-1") if isinstance(value, bytes) else value
    groups = [g for g in _NAMED_GROUP.findall(pattern) if len(g) > 1]
    if groups:
        return _upper_snake("_".join(groups[:3]))
    stripped = pattern.strip()
    core = re.sub(r"^(?:\^|\\A)+", "", stripped)
    leading = core != stripped
    bare = re.sub(r"(?:\$|\\Z|\\z)+$", "", core)
    trailing, core = bare != core, bare
    while core.startswith("(") and core.endswith(")") and _one_group(core):
        core = core[1:-1].removeprefix("?:")
    if core in _SHAPES:
        shape = _SHAPES[core]
        if shape in _RUNS and leading != trailing:  # `^\s+` strips the start, `\s+$` the end
            return f"{'LEADING' if leading else 'TRAILING'}_{shape}"
        return shape
    if _FLOAT.search(core):
        return "FLOAT"
    if _IDENTIFIER.fullmatch(core):
        return "IDENTIFIER"
    if flags & re.VERBOSE:
        return None  # words there are comments and layout, not what is matched
    words: list[str] = []
    for word in _WORD.findall(_SYNTAX.sub(" ", pattern)):
        if word.lower() not in _STOP_WORDS and word.lower() not in (w.lower() for w in words):
            words.append(word)
    return _upper_snake("_".join(words[:2])) if words else None  # `goToPage` gives three


def _one_group(core: str) -> bool:
    """Whether `core` is one parenthesised group: its first `(` closes at the very end."""
    depth, escaped = 0, False
    for i, ch in enumerate(core):
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return i == len(core) - 1
    return False


def _variable(found: RegexCall) -> str | None:
    """The variable a compiled pattern is assigned to, if it names the pattern; the result of
    `re.sub`/`re.match` is text or a match, so its variable (`text = re.sub(…)`) is not used."""
    if found.name != "compile":
        return None
    parent = found.call.parent
    if parent is None or parent.type != "assignment":
        return None
    if parent.child_by_field_name("right") != found.call:
        return None
    target = parent.child_by_field_name("left")
    if target is not None and target.type == "attribute":
        target = target.child_by_field_name("attribute")
    if target is None or target.type != "identifier":
        return None
    word = text(target).strip("_").lower()
    if len(word) <= 2 or word in _GENERIC:
        return None
    return _upper_snake(text(target))


def _function_base(ctx: FileContext, found: RegexCall) -> str | None:
    fn = ctx.function_of(found.call)
    name = text(fn.child_by_field_name("name")) if fn is not None else ""
    name = name.removeprefix("test_")  # `test_multi_seq` is about MULTI_SEQ
    if not name or name in _VAGUE_FUNCTIONS or name.startswith(("test", "__")):
        return None
    return _upper_snake(name) or None


def _candidates(ctx: FileContext, found: RegexCall) -> list[str]:
    """Names for the constant, best first, each distinct."""
    value = pattern_value(found)
    flags = flag_value(ctx, found.flags) or 0
    meaning = pattern_meaning(value, flags) if value is not None else None
    function = _function_base(ctx, found)
    method = found.name.upper() if found.name != "compile" else None
    bases = [
        _variable(found),
        meaning,
        function,
        f"{function}_{meaning}" if function and meaning else None,
        f"{function}_{method}" if function and method else None,
        f"{meaning}_{method}" if meaning and method else None,
    ]
    names: list[str] = []
    for base in bases:
        if base:
            name = f"_{base}" if base.endswith(_SUFFIXES) else f"_{base}_RE"
            if name not in names:
                names.append(name)
    if not names:
        fn = ctx.function_of(found.call)
        fallback = _upper_snake(text(fn.child_by_field_name("name"))) if fn is not None else ""
        names.append(f"_{fallback or 'PATTERN'}_RE")
    return names


def _key(ctx: FileContext, found: RegexCall) -> tuple[object, ...]:
    return (pattern_value(found), flag_value(ctx, found.flags), found.module)


def _claims(ctx: FileContext) -> list[tuple[Node, tuple[object, ...], list[str]]]:
    """Every regex call in the file that could be hoisted: (call, pattern key, candidates)."""
    cached = ctx.memo.get("regex_claims")
    if cached is None:
        cached = []
        for node in walk(ctx.tree.root_node):
            if node.type == "call" and maybe_imported(ctx, node.child_by_field_name("function")):
                other = classify(ctx, node)
                if other is not None:
                    cached.append((node, _key(ctx, other), _candidates(ctx, other)))
        ctx.memo["regex_claims"] = cached
    return cached  # type: ignore[return-value]


def _assignment(ctx: FileContext) -> dict[tuple[object, ...], str]:
    """One name per distinct pattern in the file, decided for all of them at once, so fixes
    applied together never define a name twice. First, every pattern whose first choice is its
    own and free takes it; a first choice two patterns share goes to neither (`_LINKS_RE` for
    both of `links`' patterns: they become `_LINKS_SPLIT_RE` and `_LINKS_MATCH_RE`); then, in
    source order, each of the rest takes its next free candidate, or a number after the first."""
    cached = ctx.memo.get("regex_names")
    if cached is not None:
        return cached  # type: ignore[return-value]
    patterns: dict[tuple[object, ...], tuple[Node, list[str]]] = {}
    firsts: Counter[str] = Counter()
    for call, key, names in _claims(ctx):
        if ctx.function_of(call) is not None:
            patterns.setdefault(key, (call, names))
            continue
        # a constant at module level (hoisted by an earlier round, or the project's own) still
        # claims what its pattern means: `\s+` hoisted as _SQUASH_RE keeps `\s+` with re.M
        # from becoming _WHITESPACE_RE in the next round
        found = classify(ctx, call)
        value = pattern_value(found) if found is not None else None
        if found is not None and value is not None:
            meaning = pattern_meaning(value, flag_value(ctx, found.flags) or 0)
            if meaning and key not in patterns:
                firsts[f"_{meaning}" if meaning.endswith(_SUFFIXES) else f"_{meaning}_RE"] += 1
    firsts.update(names[0] for _, names in patterns.values())
    chosen: dict[tuple[object, ...], str] = {}

    def free(call: Node, name: str) -> bool:
        return (
            not name_used(ctx, name)
            and name not in chosen.values()
            and not _hoisted_sibling(ctx, call, name)
        )

    for key, (call, names) in patterns.items():
        if firsts[names[0]] == 1 and free(call, names[0]):
            chosen[key] = names[0]
    for key, (call, names) in patterns.items():
        if key in chosen:
            continue
        name = next((n for n in names[1:] if firsts[n] <= 1 and free(call, n)), None)
        if name is None:
            base, n = names[0].removesuffix("_RE"), 2
            while not free(call, f"{base}_{n}_RE"):
                n += 1
            name = f"{base}_{n}_RE"
        chosen[key] = name
    ctx.memo["regex_names"] = chosen
    return chosen


def _hoisted_sibling(ctx: FileContext, call: Node, name: str) -> bool:
    """Whether the function already uses a constant hoisted from it under a longer form of
    `name` (`_LINKS_SPLIT_RE` where this call would take `_LINKS_RE`): then the plain name
    would read as that one's twin, so this one keeps its method too (`_LINKS_MATCH_RE`)."""
    fn = ctx.function_of(call)
    if fn is None:
        return False
    stem = name.removesuffix("_RE")
    hoisted = _module_constants(ctx)
    return any(
        node.type == "identifier"
        and text(node) in hoisted
        and text(node).startswith(f"{stem}_")
        and text(node) != name
        for node in walk(fn)
    )


def _module_constants(ctx: FileContext) -> frozenset[str]:
    """Names bound at module level to a compiled regex."""
    cached = ctx.memo.get("regex_constants")
    if cached is None:
        names = set()
        for stmt in ctx.tree.root_node.named_children:
            assign = stmt.named_children[0] if stmt.named_children else None
            if stmt.type != "expression_statement" or assign is None:
                continue
            left, right = assign.child_by_field_name("left"), assign.child_by_field_name("right")
            if (
                assign.type == "assignment"
                and left is not None
                and left.type == "identifier"
                and right is not None
                and right.type == "call"
                and classify(ctx, right) is not None
            ):
                names.add(text(left))
        cached = ctx.memo["regex_constants"] = frozenset(names)
    return cached  # type: ignore[return-value]


def constant_name(ctx: FileContext, found: RegexCall) -> str:
    """A module-level name that reads like the project's own: after the variable the pattern
    was assigned to, what it matches, or the function it serves; never one the module already
    uses or another pattern of the file gets, and a number only when every readable name is
    taken."""
    name = _assignment(ctx).get(_key(ctx, found))
    if name is not None:
        return name
    base, n = _candidates(ctx, found)[0].removesuffix("_RE"), 2
    while name_used(ctx, f"{base}_{n}_RE"):
        n += 1
    return f"{base}_{n}_RE"


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
    # where the project's isort settings put it (section, order), not just after the last import
    added = import_edit(ctx, f"import {found.module}")
    return f"{found.module}.compile", import_insertion_point(ctx), added


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
        if import_edit is None:
            at = _after_constants(ctx, at, top)
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


def _after_constants(ctx: FileContext, at: int, top: Node) -> int:
    """Past the block of compiled constants that starts at `at` (those of earlier rounds, or
    the project's own): a new one joins the end of the block, in order and with no blank line,
    as long as that is still before its first use."""
    starts = {stmt.start_byte: stmt for stmt in ctx.tree.root_node.named_children}
    rest = ctx.source[at:]
    stmt = starts.get(at + len(rest) - len(rest.lstrip(b"\n")))
    while stmt is not None and stmt.end_byte < top.start_byte and _is_constant(ctx, stmt):
        at = _line_after(ctx, stmt.end_byte)
        stmt = starts.get(at)  # the next line only: a blank line ends the block
    return at


def _is_constant(ctx: FileContext, stmt: Node) -> bool:
    assign = stmt.named_children[0] if stmt.named_children else None
    left = assign.child_by_field_name("left") if assign is not None else None
    return (
        stmt.type == "expression_statement"
        and assign is not None
        and assign.type == "assignment"
        and left is not None
        and text(left) in _module_constants(ctx)
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
