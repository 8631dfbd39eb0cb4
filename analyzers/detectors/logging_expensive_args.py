"""`logging-expensive-args`: logger arguments that do real work even when nothing is logged.

`logger.debug("state %s", json.dumps(state))` defers the %-formatting but not `json.dumps`:
arguments are evaluated before the call, whatever the level. The message argument is
`logging-eager-format`'s business; this detector looks at the arguments after it, and only at
DEBUG and INFO, the levels that are commonly off (at WARNING and above the arguments are needed
because the record is emitted).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from tree_sitter import Node

from megawatt.analyzers.context import FileContext, text
from megawatt.analyzers.detector import Captures, Detector, distinct
from megawatt.analyzers.detectors._logging import (
    CONVERSIONS,
    GUESS,
    QUIET_LEVELS,
    Cost,
    LoggerCall,
    argument_cost,
    is_guarded,
    literal_value,
    logger_call,
    percent_placeholders,
)
from megawatt.model import Finding


@dataclass(frozen=True)
class Redundant:
    """`str(x)` passed for a `%s`: logging would apply str() itself, only when emitting."""

    arg: Node  # the str()/repr()/ascii() call
    inner: Node  # x
    conversion: str  # s, r, a
    placeholder: int  # index of its placeholder in the message


def costly_args(ctx: FileContext, lc: LoggerCall) -> list[tuple[Node, Cost]]:
    found = []
    for arg in lc.args:
        cost = argument_cost(ctx, arg)
        if cost is not None:
            found.append((arg, cost))
    return found


def redundant_conversions(ctx: FileContext, lc: LoggerCall) -> list[Redundant] | None:
    """Each costly argument as a str()/repr()/ascii() that a %s placeholder makes redundant;
    None unless every costly argument is one."""
    if lc.message is None or lc.message.type != "string" or lc.splat:
        return None
    value = literal_value(lc.message)
    placeholders = percent_placeholders(value) if value is not None else None
    if placeholders is None or len(placeholders) != len(lc.args):
        return None
    if any(p.key is not None for p in placeholders):
        return None
    found = []
    for arg, cost in costly_args(ctx, lc):
        if cost.node != arg or arg.type != "call":
            return None
        func = arg.child_by_field_name("function")
        name = text(func)
        args = arg.child_by_field_name("arguments")
        inner = [c for c in args.named_children if c.type != "comment"] if args else []
        if (
            name not in CONVERSIONS
            or len(inner) != 1
            or inner[0].type
            in (
                "keyword_argument",
                "list_splat",
                "dictionary_splat",
            )
        ):
            return None
        if argument_cost(ctx, inner[0]) is not None:
            return None  # str(json.dumps(x)): dropping str() leaves the cost
        index = lc.args.index(arg)
        if placeholders[index].type != "s":
            return None  # %r of str(x) is not the same as %r of x
        found.append(Redundant(arg, inner[0], CONVERSIONS[name], index))
    return found or None


class LoggingExpensiveArgs(Detector):
    id = "logging-expensive-args"
    query_file = "logging_expensive_args.scm"

    def check(self, ctx: FileContext, matches: list[Captures]) -> Iterator[Finding]:
        for call in distinct(matches, "call"):
            lc = logger_call(ctx, call)
            if lc is None or lc.level not in QUIET_LEVELS or not lc.args:
                continue
            costs = costly_args(ctx, lc)
            if not costs or is_guarded(call):
                continue
            yield self._finding(ctx, lc, costs)

    def _finding(self, ctx: FileContext, lc: LoggerCall, costs: list[tuple[Node, Cost]]) -> Finding:
        loops = ctx.loops_around(lc.call)
        confidence = 0.7 if lc.level == "DEBUG" else 0.5
        if loops:
            confidence += 0.15
        if lc.logger.kind == GUESS:
            confidence *= 0.8
        what = ", ".join(dict.fromkeys(c.what for _, c in costs))
        redundant = redundant_conversions(ctx, lc)
        if redundant is not None:
            names = ", ".join(
                dict.fromkeys(text(r.arg.child_by_field_name("function")) for r in redundant)
            )
            switch = sorted({f"%{r.conversion}" for r in redundant if r.conversion != "s"})
            placeholder = f" with {' / '.join(switch)} for %s" if switch else ""
            advice = (
                f"pass the value itself{placeholder}: logging applies {names}() when, and only "
                "when, the record is formatted"
            )
        elif lc.receiver is not None:
            advice = (
                f"guard the call with `if {text(lc.receiver)}.isEnabledFor(logging.{lc.level}):`"
            )
        else:
            advice = (
                f"guard the call with `if logging.getLogger().isEnabledFor(logging.{lc.level}):`"
            )
        where = " on every iteration" if loops else " on every call"
        message = (
            f"{lc.label} evaluates {what}{where}, even when {lc.level} is disabled and nothing "
            f"is logged: %-style arguments defer the formatting, not the arguments; {advice}"
        )
        evidence = [
            ("call", text(lc.call)[:120]),
            ("costly", what),
            ("level", lc.level or ""),
            ("in_loop", str(bool(loops)).lower()),
        ]
        return self.finding(
            ctx, lc.call, message, confidence=round(min(confidence, 0.95), 2), evidence=evidence
        )
