"""Stop logger arguments from doing work when the level is off.

Two rewrites, the first preferred: a `str(x)` / `repr(x)` / `ascii(x)` argument whose placeholder
is `%s` becomes `x` (with `%s` -> `%r` / `%a`), which is exact; otherwise the statement is wrapped
in `if logger.isEnabledFor(logging.LEVEL):`, which is exact unless the skipped arguments had
side effects the program needed (calls not known to be pure make the fix unsafe).
"""

from __future__ import annotations

from megawatt.analyzers.context import FileContext, text
from megawatt.analyzers.detectors._logging import (
    GUESS,
    MODULE,
    STDLIB,
    LoggerCall,
    argument_text,
    literal_prefix_quote,
    literal_value,
    logger_call,
    logging_name,
    own_statement,
    percent_placeholders,
    render_literal,
    side_effect_free,
    wrap_in_if,
)
from megawatt.analyzers.detectors.logging_expensive_args import (
    costly_args,
    redundant_conversions,
)
from megawatt.fixes.edits import node_covering
from megawatt.model import Edit, Finding, Fix

_STABLE_RECEIVERS = ("identifier", "attribute")


def rewrite(ctx: FileContext, finding: Finding) -> Fix | None:
    call = node_covering(ctx, finding, "call")
    lc = logger_call(ctx, call) if call is not None else None
    if lc is None or lc.message is None or lc.level is None:
        return None
    redundant = redundant_conversions(ctx, lc)
    if redundant is not None and lc.logger.kind in (STDLIB, MODULE, GUESS):
        edits = [Edit(r.arg.start_byte, r.arg.end_byte, argument_text(r.inner)) for r in redundant]
        if any(r.conversion != "s" for r in redundant):
            value = literal_value(lc.message)
            placeholders = percent_placeholders(value) if value is not None else None
            if value is None or placeholders is None:
                return None
            chars = list(value)
            for r in redundant:
                p = placeholders[r.placeholder]
                chars[p.end - 1] = r.conversion
            prefix, quote = literal_prefix_quote(text(lc.message))
            edits.append(
                Edit(
                    lc.message.start_byte,
                    lc.message.end_byte,
                    render_literal("".join(chars), prefix, quote),
                )
            )
        names = ", ".join(
            dict.fromkeys(text(r.arg.child_by_field_name("function")) + "()" for r in redundant)
        )
        guess = lc.logger.kind == GUESS
        return Fix(
            title=f"Drop {names} around the arguments of {lc.label}: logging converts them "
            "only when the record is emitted",
            edits=tuple(edits),
            safe=not guess,
            note="the logger comes from a project helper; the rewrite assumes a stdlib "
            "logging.Logger (%-style arguments)"
            if guess
            else "",
        )
    return _guard(ctx, lc)


def _guard(ctx: FileContext, lc: LoggerCall) -> Fix | None:
    if lc.level is None or lc.logger.kind not in (STDLIB, MODULE, GUESS):
        return None  # structlog and loguru have no isEnabledFor
    stmt = own_statement(ctx, lc.call)
    if stmt is None:
        return None
    notes: list[str] = []
    if lc.level_node is not None and lc.level_node.type in ("identifier", "attribute", "integer"):
        level, import_edit = text(lc.level_node), None
    else:
        found = logging_name(ctx, lc.call, lc.level)
        if found is None:
            return None
        level, import_edit = found
    if lc.receiver is None or lc.logger.kind == MODULE:
        module = logging_name(ctx, lc.call, "getLogger")
        if module is None:
            return None
        getter, more = module
        receiver = f"{getter}()"
        if import_edit is None:
            import_edit = more
        notes.append(
            "the logging module's functions call basicConfig() when the root logger has no "
            "handlers; under the guard that no longer happens while the level is off"
        )
    elif lc.receiver.type in _STABLE_RECEIVERS or (lc.receiver.type == "call" and lc.logger.stable):
        receiver = text(lc.receiver)
    else:
        return None
    if lc.logger.kind == GUESS:
        notes.append("the logger comes from a project helper: it must have isEnabledFor()")
    costs = costly_args(ctx, lc)
    if not side_effect_free(ctx, [a for a, _ in costs]):
        notes.append(
            "the arguments call functions that are not known to be pure; with the level off "
            "they no longer run"
        )
    edits = wrap_in_if(ctx, stmt, f"{receiver}.isEnabledFor({level})")
    if edits is None:
        return None
    if import_edit is not None:
        edits.append(import_edit)
    what = ", ".join(dict.fromkeys(c.what for _, c in costs)) or "its arguments"
    return Fix(
        title=f"Guard {lc.label} with `if {receiver}.isEnabledFor({level}):` so {what} runs "
        f"only when {lc.level} is enabled",
        edits=tuple(edits),
        safe=not notes,
        note="; ".join(notes),
    )
