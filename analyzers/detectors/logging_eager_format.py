"""`logging-eager-format`: a logger call whose message is formatted before the call.

`logger.debug(f"state {x}")`, `"..." % x`, `"...".format(x)` and `"..." + str(x)` build the
string whether or not the record is emitted; `logger.debug("state %s", x)` lets logging format
only the records that pass the level check. The conversion to lazy arguments lives here too, so
the skill's rewrite and the tests use the one implementation.
"""

from __future__ import annotations

import ast
import string
from collections.abc import Iterator
from dataclasses import dataclass

from tree_sitter import Node

from megawatt.analyzers.context import FileContext, text
from megawatt.analyzers.detector import Captures, Detector, distinct
from megawatt.analyzers.detectors._logging import (
    GUESS,
    LOGURU,
    STRUCTLOG,
    LoggerCall,
    argument_cost,
    argument_text,
    is_guarded,
    literal_prefix_quote,
    literal_value,
    logger_call,
    percent_placeholders,
    render_literal,
    translate_field,
)
from megawatt.model import Finding

STYLES = {
    "f-string": "an f-string",
    "%": "% formatting",
    "format": "str.format()",
    "+": "+ concatenation",
}


def unparen(node: Node) -> Node:
    while node.type == "parenthesized_expression" and len(node.named_children) == 1:
        node = node.named_children[0]
    return node


def _is_string(node: Node | None) -> bool:
    return node is not None and node.type in ("string", "concatenated_string")


def _pieces(node: Node) -> list[Node]:
    if node.type == "string":
        return [node]
    return [c for c in node.named_children if c.type == "string"]


def _has_interpolation(node: Node) -> bool:
    return any(c.type == "interpolation" for p in _pieces(node) for c in p.named_children)


def _plus_operands(node: Node) -> list[Node]:
    if node.type == "binary_operator" and text(node.child_by_field_name("operator")) == "+":
        left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
        if left is None or right is None:
            return [node]
        return _plus_operands(left) + _plus_operands(right)
    return [node]


def _literalish(node: Node) -> bool:
    """A string literal without fields, or a conditional choosing between such literals."""
    node = unparen(node)
    if _is_string(node):
        return not _has_interpolation(node)
    if node.type == "conditional_expression":
        kids = [c for c in node.named_children if c.type != "comment"]
        return len(kids) == 3 and _literalish(kids[0]) and _literalish(kids[2])
    return False


def eager_style(message: Node) -> str | None:
    """How the message is built eagerly: 'f-string', '%', 'format', '+'; None if it is not."""
    node = unparen(message)
    t = node.type
    if t in ("string", "concatenated_string"):
        return "f-string" if _has_interpolation(node) else None
    if t == "binary_operator":
        op = text(node.child_by_field_name("operator"))
        if op == "%" and _is_string(unparen(node.child_by_field_name("left") or node)):
            return "%"
        operands = [unparen(o) for o in _plus_operands(node)]
        if any(_is_string(o) for o in operands) and not all(_literalish(o) for o in operands):
            return "+"  # (a template assembled from literals is not formatting any value)
        return None
    if t == "call":
        func = node.child_by_field_name("function")
        if (
            func is not None
            and func.type == "attribute"
            and text(func.child_by_field_name("attribute")) == "format"
            and _is_string(func.child_by_field_name("object"))
        ):
            return "format"
    return None


class LoggingEagerFormat(Detector):
    id = "logging-eager-format"
    query_file = "logging_eager_format.scm"

    def check(self, ctx: FileContext, matches: list[Captures]) -> Iterator[Finding]:
        for call in distinct(matches, "call"):
            lc = logger_call(ctx, call)
            if lc is None or lc.message is None:
                continue
            style = eager_style(lc.message)
            if style is None or is_guarded(call):
                continue  # under `if logger.isEnabledFor(...)` the string is wanted when built
            yield self._finding(ctx, lc, style)

    def _finding(self, ctx: FileContext, lc: LoggerCall, style: str) -> Finding:
        assert lc.message is not None
        in_loop = bool(ctx.loops_around(lc.call))
        level = lc.level or "its level"
        if lc.level == "DEBUG":
            confidence = 0.75
        elif lc.level == "INFO":
            confidence = 0.6
        elif lc.level is None:
            confidence = 0.45
        else:
            confidence = 0.3
        if in_loop:
            confidence += 0.1
        if lc.logger.kind == GUESS:
            confidence *= 0.8
        if lc.level in ("DEBUG", "INFO") or lc.level is None:
            cost = f"the string is built even when {level} is disabled and the record is dropped"
        else:
            cost = (
                f"at {level} the record is usually emitted, so this costs only where handlers "
                "or levels filter it out; lazy arguments also keep one message template for "
                "log aggregation"
            )
        lazy = lazy_message(ctx, lc)
        call_text = text(lc.call.child_by_field_name("function"))
        if lc.logger.kind == LOGURU:
            advice = (
                f'pass the values as arguments with {{}} placeholders: {call_text}("a {{}}", x)'
            )
        elif lc.logger.kind == STRUCTLOG:
            advice = f'pass the values as key-value pairs: {call_text}("event", key=value)'
        elif lazy is not None and len(lazy.text) <= 100 and "\n" not in lazy.text:
            first = f"{text(lc.level_node)}, " if lc.level_node is not None else ""
            advice = f"pass the values as arguments: {call_text}({first}{lazy.text})"
        else:
            advice = f'pass the values as %-style arguments: {call_text}("a %s", x)'
        heavy = [
            c for node in _field_nodes(lc.message) if (c := argument_cost(ctx, node)) is not None
        ]
        note = ""
        if heavy:
            note = (
                f"; {heavy[0].what} inside it runs either way: with lazy arguments, also guard "
                f"the call with isEnabledFor"
            )
        message = f"{lc.label} gets a message built with {STYLES[style]}: {cost}; {advice}{note}"
        evidence = [
            ("message", text(lc.message)[:120]),
            ("style", style),
            ("level", lc.level or "unknown"),
            ("logger", lc.logger.kind),
            ("in_loop", str(in_loop).lower()),
        ]
        if heavy:
            evidence.append(("costly", heavy[0].what))
        return self.finding(
            ctx, lc.call, message, confidence=round(min(confidence, 0.95), 2), evidence=evidence
        )


def _field_nodes(message: Node) -> list[Node]:
    """The expressions a message's eager formatting evaluates."""
    node = unparen(message)
    out: list[Node] = []
    if node.type in ("string", "concatenated_string"):
        for p in _pieces(node):
            for c in p.named_children:
                if c.type == "interpolation":
                    e = c.child_by_field_name("expression")
                    if e is not None:
                        out.append(e)
    elif node.type == "binary_operator":
        right = node.child_by_field_name("right")
        if text(node.child_by_field_name("operator")) == "%" and right is not None:
            out.append(right)
        else:
            for o in _plus_operands(node):
                if _is_string(o):
                    continue
                args = o.child_by_field_name("arguments") if o.type == "call" else None
                func = o.child_by_field_name("function") if o.type == "call" else None
                if (
                    func is not None
                    and text(func) in ("str", "repr", "ascii", "format")
                    and args is not None
                    and args.named_children
                ):
                    o = args.named_children[0]  # the rewrite leaves the conversion to logging
                out.append(o)
    elif node.type == "call":
        args = node.child_by_field_name("arguments")
        if args is not None:
            out.extend(args.named_children)
    return out


# -- the conversion to lazy arguments ---------------------------------------------------------


@dataclass(frozen=True)
class _Field:
    expr: str  # the argument's source text
    conversion: str | None
    spec: str
    assumed_str: bool = False  # an operand of + that is not known to be a str


Part = str | _Field


@dataclass(frozen=True)
class Lazy:
    text: str  # replaces the message argument: '"a %s b %r", x, y'
    exact: bool  # False: identical output only for the usual value types
    notes: tuple[str, ...]


class _NoFix(Exception):
    pass


def _string_parts(ctx: FileContext, piece: Node) -> list[Part]:
    """The literal text and fields of one string token (f-string or plain), via `ast`."""
    prefix, _ = literal_prefix_quote(text(piece))
    if "b" in prefix.lower():
        raise _NoFix
    try:
        body = ast.parse(text(piece), mode="eval").body
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        raise _NoFix from None
    if isinstance(body, ast.Constant) and isinstance(body.value, str):
        return [body.value]
    if not isinstance(body, ast.JoinedStr):
        raise _NoFix
    interps = [c for c in piece.named_children if c.type == "interpolation"]
    fields = [v for v in body.values if isinstance(v, ast.FormattedValue)]
    if len(interps) != len(fields):
        raise _NoFix
    parts: list[Part] = []
    nodes = iter(interps)
    for v in body.values:
        if isinstance(v, ast.Constant) and isinstance(v.value, str):
            parts.append(v.value)
            continue
        if not isinstance(v, ast.FormattedValue):
            raise _NoFix
        expr = next(nodes).child_by_field_name("expression")
        if expr is None:
            raise _NoFix
        spec = ""
        if v.format_spec is not None:
            if not isinstance(v.format_spec, ast.JoinedStr) or not all(
                isinstance(x, ast.Constant) and isinstance(x.value, str)
                for x in v.format_spec.values
            ):
                raise _NoFix  # a nested field: f"{x:{width}}"
            spec = "".join(str(x.value) for x in v.format_spec.values)  # type: ignore[attr-defined]
        conversion = {-1: None, 115: "s", 114: "r", 97: "a"}.get(v.conversion, "?")
        inner = _converted(ctx, expr)
        if inner is not None and conversion in (None, "s"):
            # {repr(x)} is x formatted with %r: logging calls repr() only if it emits
            expr, conversion = inner
        parts.append(_Field(argument_text(expr), conversion, spec))
    return parts


def _converted(ctx: FileContext, expr: Node) -> tuple[Node, str] | None:
    """`repr(x)` / `str(x)` / `ascii(x)` (the builtins) as (x, 'r' / 's' / 'a')."""
    if expr.type != "call":
        return None
    func = expr.child_by_field_name("function")
    args = expr.child_by_field_name("arguments")
    if func is None or args is None or args.type != "argument_list":
        return None
    items = [c for c in args.named_children if c.type != "comment"]
    if (
        func.type != "identifier"
        or text(func) not in ("str", "repr", "ascii")
        or not ctx.is_builtin(func)
        or len(items) != 1
        or items[0].type in ("keyword_argument", "list_splat", "dictionary_splat")
    ):
        return None
    return items[0], {"str": "s", "repr": "r", "ascii": "a"}[text(func)]


def _template(parts: list[Part], notes: list[str]) -> tuple[str, list[str], bool]:
    """The %-template, its arguments and whether the translation is exact."""
    out: list[str] = []
    args: list[str] = []
    exact = True
    for p in parts:
        if isinstance(p, str):
            out.append(p.replace("%", "%%"))
            continue
        ph = translate_field(p.conversion, p.spec)
        if ph is None:
            raise _NoFix
        if not ph.exact:
            exact = False
            note = (
                f"{{{p.expr}:{p.spec}}} becomes {ph.text}: the same text for int, float and str "
                "values, but a type with its own __format__ (Decimal, datetime, numpy) or a "
                "value of the wrong type formats differently"
            )
            if note not in notes:
                notes.append(note)
        if p.assumed_str:
            exact = False
            notes.append(
                f"assumes {p.expr} is a str: + would have raised TypeError for anything else, "
                "while %s formats it"
            )
        out.append(ph.text)
        args.append(p.expr)
    return "".join(out), args, exact


def lazy_message(ctx: FileContext, lc: LoggerCall) -> Lazy | None:
    """The lazy form of an eagerly built message, or None where no exact rewrite is known."""
    if lc.message is None or lc.args or lc.splat or lc.logger.kind == LOGURU:
        return None
    style = eager_style(lc.message)
    try:
        if style == "f-string":
            return _from_fstring(ctx, unparen(lc.message))
        if style == "%":
            return _from_percent(ctx, unparen(lc.message))
        if style == "format":
            return _from_format(ctx, unparen(lc.message))
        if style == "+":
            return _from_plus(ctx, unparen(lc.message))
    except _NoFix:
        return None
    return None


def _from_fstring(ctx: FileContext, node: Node) -> Lazy:
    pieces = _pieces(node)
    notes: list[str] = []
    exact = True
    out: list[str] = []
    args: list[str] = []
    pos = pieces[0].start_byte
    for piece in pieces:
        out.append(ctx.source[pos : piece.start_byte].decode("utf-8"))  # whitespace, comments
        pos = piece.end_byte
        parts = _string_parts(ctx, piece)
        prefix, quote = literal_prefix_quote(text(piece))
        has_field = any(isinstance(p, _Field) for p in parts)
        if not has_field and "f" not in prefix.lower() and "%" not in text(piece):
            out.append(text(piece))  # a plain piece needs no change
            continue
        template, piece_args, piece_exact = _template(parts, notes)
        exact = exact and piece_exact
        args.extend(piece_args)
        out.append(render_literal(template, prefix.replace("f", "").replace("F", ""), quote))
    if not args:
        raise _NoFix
    return Lazy(", ".join(["".join(out), *args]), exact, tuple(notes))


_NOT_A_TUPLE = frozenset(
    (
        "string",
        "concatenated_string",
        "integer",
        "float",
        "list",
        "list_comprehension",
        "set",
        "set_comprehension",
        "true",
        "false",
        "none",
        "unary_operator",
    )
)


def _from_percent(ctx: FileContext, node: Node) -> Lazy:
    left = node.child_by_field_name("left")
    right = node.child_by_field_name("right")
    if left is None or right is None:
        raise _NoFix
    left = unparen(left)
    value = literal_value(left)
    if value is None:
        raise _NoFix
    placeholders = percent_placeholders(value)
    if not placeholders:
        raise _NoFix
    keyed = placeholders[0].key is not None
    fmt = text(left)
    inner = unparen(right)
    if inner.type == "tuple":
        items = [c for c in inner.named_children if c.type != "comment"]
        if keyed or any(i.type == "list_splat" for i in items) or len(items) != len(placeholders):
            raise _NoFix
        return Lazy(", ".join([fmt, *(argument_text(i) for i in items)]), True, ())
    if inner.type == "dictionary":
        items = [c for c in inner.named_children if c.type != "comment"]
        if not keyed or not items or any(i.type != "pair" for i in items):
            raise _NoFix  # logging only unpacks a single non-empty mapping argument
        return Lazy(f"{fmt}, {text(inner)}", True, ())
    if keyed:
        raise _NoFix
    if len(placeholders) == 1:
        if inner.type in _NOT_A_TUPLE or _builtin_scalar_call(ctx, inner):
            return Lazy(f"{fmt}, {argument_text(right)}", True, ())
        note = (
            f"if {text(right)[:40]} is a tuple at run time, % spreads it over the placeholders "
            "while the lazy call passes it as one argument"
        )
        return Lazy(f"{fmt}, {argument_text(right)}", False, (note,))
    note = (
        f"assumes {text(right)[:40]} is a tuple of {len(placeholders)}: it is unpacked into "
        "the call's arguments"
    )
    return Lazy(f"{fmt}, *{argument_text(right)}", False, (note,))


def _builtin_scalar_call(ctx: FileContext, node: Node) -> bool:
    func = node.child_by_field_name("function") if node.type == "call" else None
    return (
        func is not None
        and func.type == "identifier"
        and text(func) in ("str", "repr", "ascii", "len", "int", "float", "format", "sorted")
        and ctx.is_builtin(func)
    )


def _conversion_call(ctx: FileContext, node: Node) -> _Field | None:
    """`str(x)` / `repr(x)` / `ascii(x)` / `format(x, "spec")` as a field on x."""
    func = node.child_by_field_name("function") if node.type == "call" else None
    args = node.child_by_field_name("arguments") if node.type == "call" else None
    if func is None or args is None or func.type != "identifier" or not ctx.is_builtin(func):
        return None
    items = [c for c in args.named_children if c.type != "comment"]
    if any(i.type in ("keyword_argument", "list_splat", "dictionary_splat") for i in items):
        return None
    name = text(func)
    if name in ("str", "repr", "ascii") and len(items) == 1:
        conv = {"str": "s", "repr": "r", "ascii": "a"}[name]
        return _Field(argument_text(items[0]), conv, "")
    if name == "format" and len(items) == 2:
        spec = literal_value(items[1])
        if spec is not None:
            return _Field(argument_text(items[0]), None, spec)
    return None


def _from_plus(ctx: FileContext, node: Node) -> Lazy:
    parts: list[Part] = []
    style: tuple[str, str] | None = None
    for operand in _plus_operands(node):
        op = unparen(operand)
        if _is_string(op):
            for piece in _pieces(op):
                parts.extend(_string_parts(ctx, piece))
                if style is None:
                    prefix, quote = literal_prefix_quote(text(piece))
                    style = (prefix.replace("f", "").replace("F", ""), quote)
            continue
        field = _conversion_call(ctx, op)
        if field is None:
            if op.type not in ("identifier", "attribute", "subscript", "call"):
                raise _NoFix
            field = _Field(argument_text(op), None, "", assumed_str=True)
        parts.append(field)
    notes: list[str] = []
    template, args, exact = _template(parts, notes)
    if not args or style is None:
        raise _NoFix
    literal = render_literal(template, style[0], style[1])
    return Lazy(", ".join([literal, *args]), exact, tuple(notes))


_SIMPLE = frozenset(("identifier", "string", "integer", "float", "true", "false", "none"))


def _from_format(ctx: FileContext, node: Node) -> Lazy:
    func = node.child_by_field_name("function")
    arglist = node.child_by_field_name("arguments")
    receiver = func.child_by_field_name("object") if func is not None else None
    if receiver is None or arglist is None:
        raise _NoFix
    value = literal_value(receiver)
    if value is None:
        raise _NoFix
    positional: list[Node] = []
    keywords: dict[str, Node] = {}
    order: list[Node] = []
    for a in arglist.named_children:
        if a.type == "comment":
            continue
        if a.type in ("list_splat", "dictionary_splat"):
            raise _NoFix
        if a.type == "keyword_argument":
            name = a.child_by_field_name("name")
            val = a.child_by_field_name("value")
            if name is None or val is None:
                raise _NoFix
            keywords[text(name)] = val
            order.append(val)
        else:
            if keywords:
                raise _NoFix
            positional.append(a)
            order.append(a)
    parts: list[Part] = []
    used: list[Node] = []
    auto = 0
    numbering: set[str] = set()
    try:
        parsed = list(string.Formatter().parse(value))
    except ValueError:
        raise _NoFix from None
    for literal, name, spec, conversion in parsed:
        if literal:
            parts.append(literal)
        if name is None:
            continue
        if "{" in (spec or ""):
            raise _NoFix
        if name == "":
            numbering.add("auto")
            index = auto
            auto += 1
            target = positional[index] if index < len(positional) else None
        elif name.isdigit():
            numbering.add("manual")
            index = int(name)
            target = positional[index] if index < len(positional) else None
        elif name.isidentifier():
            target = keywords.get(name)
        else:
            raise _NoFix  # {0.attr} / {0[key]}
        if target is None:
            raise _NoFix
        if target in used and unparen(target).type not in _SIMPLE:
            raise _NoFix  # used twice: it would be evaluated twice
        used.append(target)
        parts.append(_Field(argument_text(target), conversion, spec or ""))
    if len(numbering) > 1 or {n.id for n in order} != {n.id for n in used}:
        raise _NoFix  # mixed numbering raises; unused arguments would raise "not all converted"
    notes: list[str] = []
    template, args, exact = _template(parts, notes)
    first_use = list(dict.fromkeys(n.id for n in used))
    if first_use != [n.id for n in order] and any(next(_calls(n), None) for n in order):
        exact = False
        notes.append("the arguments are evaluated in a different order")
    prefix, quote = literal_prefix_quote(text(_pieces(receiver)[0]))
    literal = render_literal(template, prefix, quote)
    return Lazy(", ".join([literal, *args]), exact, tuple(notes))


def _calls(node: Node) -> Iterator[Node]:
    stack = [node]
    while stack:
        n = stack.pop()
        if n.type == "call":
            yield n
        stack.extend(n.named_children)


def kind_note(lc: LoggerCall) -> str | None:
    """Why a rewrite on this logger cannot be called safe, if it cannot."""
    if lc.logger.kind == STRUCTLOG:
        return (
            "structlog interpolates positional arguments only with the filtering bound "
            "logger or PositionalArgumentsFormatter; check the configuration"
        )
    if lc.logger.kind == GUESS:
        return (
            "the logger comes from a project helper; the rewrite assumes it is a stdlib "
            "logging.Logger (%-style arguments)"
        )
    return None
