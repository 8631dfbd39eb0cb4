"""Rewrite an eagerly built logging message into a %-template with lazy arguments.

`log.info(f"a {x} b {y!r}")` -> `log.info("a %s b %r", x, y)`; likewise `"..." % (a, b)`,
`"...".format(a, b)` and `"..." + str(a)`. Only conversions known to format identically are made;
format specs whose output depends on the value's type, and loggers not proven to be stdlib ones,
give a fix marked unsafe with the reason.
"""

from __future__ import annotations

from megawatt.analyzers.context import FileContext
from megawatt.analyzers.detectors._logging import logger_call
from megawatt.analyzers.detectors.logging_eager_format import (
    STYLES,
    eager_style,
    kind_note,
    lazy_message,
)
from megawatt.fixes.edits import node_covering
from megawatt.model import Edit, Finding, Fix


def rewrite(ctx: FileContext, finding: Finding) -> Fix | None:
    call = node_covering(ctx, finding, "call")
    if call is None:
        return None
    lc = logger_call(ctx, call)
    if lc is None or lc.message is None:
        return None
    style = eager_style(lc.message)
    lazy = lazy_message(ctx, lc)
    if style is None or lazy is None:
        return None
    notes = list(lazy.notes)
    extra = kind_note(lc)
    if extra is not None:
        notes.append(extra)
    return Fix(
        title=f"Pass the values of {lc.label} as lazy %-style arguments instead of {STYLES[style]}",
        edits=(Edit(lc.message.start_byte, lc.message.end_byte, lazy.text),),
        safe=lazy.exact and extra is None,
        note="; ".join(notes),
    )
