"""logging-expensive-args: arguments evaluated whatever the level; the exact str()/repr() drop
and the isEnabledFor guard, run with the level on (same text) and off (the work is skipped)."""

from __future__ import annotations

import textwrap
from pathlib import Path

from tests.detectors import findings, fixed, lines, run

SKILL = "logging-expensive-args"


def test_finds_costly_arguments_at_debug_and_info() -> None:
    src = """
    import json
    import logging
    from pprint import pformat

    log = logging.getLogger(__name__)

    def handle(request, rows, order):
        log.debug("body %s", json.dumps(request.body))          # 9
        log.debug("rows %s", pformat(rows))                      # 10
        log.info("skus: %s", ", ".join(r.sku for r in rows))     # 11
        log.debug("ids %s", [r.id for r in rows])               # 12
        log.debug("order %s", str(order))                        # 13
        log.log(logging.DEBUG, "sorted %s", sorted(rows))        # 14
        log.debug("label %s", f"{order.id}-{order.sku}")         # 15
    """
    found = findings(src, SKILL)
    assert [f.span.line for f in found] == [9, 10, 11, 12, 13, 14, 15]
    assert dict(found[0].evidence)["costly"] == "json.dumps()"
    assert dict(found[1].evidence)["costly"] == "pprint.pformat()"
    assert found[0].confidence > found[2].confidence  # DEBUG is off more often than INFO
    assert "isEnabledFor(logging.DEBUG)" in found[0].message
    assert "pass the value itself" in found[4].message


def test_cheap_arguments_loud_levels_and_guarded_calls_are_left_alone() -> None:
    src = """
    import json
    import logging
    import os.path

    log = logging.getLogger(__name__)
    log2 = []

    def f(rows, state, path, worker):
        log.debug("n=%d id=%s t=%s", len(rows), id(state), type(state))   # cheap builtins
        log.debug("path %s", os.path.join(path, "x"))                      # not string building
        worker.join()
        log.warning("state %s", json.dumps(state))      # WARNING: the record is emitted anyway
        log.error("rows %s", ", ".join(rows))
        if log.isEnabledFor(logging.DEBUG):
            log.debug("state %s", json.dumps(state))
        log.debug(f"state {json.dumps(state)}")         # the message: logging-eager-format's
        log2.append(json.dumps(state))                  # not a logger
        log.debug("state %s", state)                    # lazy and cheap
    """
    assert lines(src, SKILL) == []
    eager = findings(
        "import json, logging\nlog = logging.getLogger()\nlog.debug(f'{json.dumps(1)}')\n",
        "logging-eager-format",
    )
    assert len(eager) == 1 and "json.dumps() inside it runs either way" in eager[0].message


HARNESS = """
import io
import json
import logging

stream = io.StringIO()
log = logging.getLogger("megawatt-args")
log.handlers.clear()
log.addHandler(logging.StreamHandler(stream))
log.propagate = False
defaults = []


class Item:
    def __init__(self, n):
        self.n = n

    def __repr__(self):
        return f"Item({self.n})"


def hook(obj):
    defaults.append(obj)
    return repr(obj)


def work(items, state):
    CALL
    return 1


def go(level, items, state):
    log.setLevel(level)
    stream.seek(0)
    stream.truncate()
    defaults.clear()
    return work(items, state), stream.getvalue(), len(defaults)
"""


def _case(call: str) -> str:
    return HARNESS.replace("CALL", call)


def test_redundant_str_and_repr_are_dropped_exactly() -> None:
    src = _case('log.debug("items %s and %-12s / %s", str(items), repr(state), ascii(state))')
    (finding,) = findings(src, SKILL)
    assert finding.fix is not None and finding.fix.safe
    assert finding.fix.title.startswith("Drop str(), repr(), ascii() around the arguments")
    after = fixed(src, SKILL)
    assert 'log.debug("items %s and %-12r / %a", items, state, state)' in after
    for level in ("logging.DEBUG", "logging.INFO"):
        for args in ("[Item(1), Item(2)], 'é'", "(1, 2), {'k': 'v'}", "{'a': 1}, None"):
            expr = f"go({level}, {args})"
            assert run(src, expr) == run(after, expr)
    assert findings(after, SKILL) == []


def test_guard_keeps_records_and_skips_the_work_when_off() -> None:
    src = _case('log.debug("state %s", json.dumps(state, default=hook))')
    (finding,) = findings(src, SKILL)
    assert finding.fix is not None and finding.fix.safe
    after = fixed(src, SKILL)
    assert (
        "    if log.isEnabledFor(logging.DEBUG):\n"
        '        log.debug("state %s", json.dumps(state, default=hook))\n'
    ) in after
    state = "{'k': Item(3)}"
    assert run(src, f"go(logging.DEBUG, [], {state})") == run(
        after, f"go(logging.DEBUG, [], {state})"
    )
    assert run(src, f"go(logging.DEBUG, [], {state})")[2] == 1
    off_before = run(src, f"go(logging.INFO, [], {state})")
    off_after = run(after, f"go(logging.INFO, [], {state})")
    assert off_before[:2] == off_after[:2] == (1, "")
    assert (off_before[2], off_after[2]) == (1, 0)  # json.dumps no longer runs
    assert findings(after, SKILL) == []


def test_multiline_call_is_reindented_and_logging_imported() -> None:
    src = """
    from logging import getLogger

    log = getLogger(__name__)

    def show(rows):
        for row in rows:
            log.info(
                "row %s: %s",
                row,
                ", ".join(sorted(row)),
            )
        return len(rows)
    """
    (finding,) = findings(src, SKILL)
    assert finding.fix is not None and finding.fix.safe
    after = fixed(src, SKILL)
    assert after.startswith("\nimport logging\nfrom logging import getLogger\n")
    assert (
        "    for row in rows:\n"
        "        if log.isEnabledFor(logging.INFO):\n"
        "            log.info(\n"
        '                "row %s: %s",\n'
        "                row,\n"
        '                ", ".join(sorted(row)),\n'
        "            )\n"
        "    return len(rows)\n"
    ) in after
    assert run(after, "show([{'b', 'a'}])") == 1


def test_unknown_calls_in_the_arguments_make_the_guard_unsafe() -> None:
    src = """
    import logging
    log = logging.getLogger(__name__)

    def f(fetch):
        log.debug("names %s", ", ".join(fetch()))
        logging.debug("names %s", sorted([1]))
    """
    first, second = findings(src, SKILL)
    assert first.fix is not None and not first.fix.safe and "pure" in first.fix.note
    reads = "import logging\nlog = logging.getLogger()\nlog.debug('%s', ', '.join(d.get('k')))\n"
    takes = "import logging\nlog = logging.getLogger()\nlog.debug('%s', ', '.join(q.get()))\n"
    (read,) = findings(reads, SKILL)
    (take,) = findings(takes, SKILL)
    assert read.fix is not None and read.fix.safe  # dict.get("key") only reads
    assert take.fix is not None and not take.fix.safe  # queue.get() takes an item
    assert second.fix is not None and not second.fix.safe and "basicConfig" in second.fix.note
    assert "if logging.getLogger().isEnabledFor(logging.DEBUG):" in fixed(src, SKILL)
    assert fixed(src, SKILL, only_safe=True) == textwrap.dedent(src)


def test_no_guard_where_the_statement_cannot_be_wrapped() -> None:
    src = """
    import json, logging
    log = logging.getLogger(__name__)

    def f(state):
        if state: log.debug("s %s", json.dumps(state))
        x = 1; log.debug("s %s", json.dumps(state))
        log.debug('''multi
    line %s''', json.dumps(state))
    """
    found = findings(src, SKILL)
    assert len(found) == 3 and all(f.fix is None for f in found)


def test_example_shop_settle() -> None:
    shop = Path("examples/shop.py").read_text()
    (finding,) = [f for f in findings(shop, SKILL) if f.function == "settle"]
    assert "str()" in finding.message and "every iteration" in finding.message
    assert finding.fix is not None and finding.fix.safe
    assert 'log.debug("settling order %s: %s", order.id, order)' in fixed(shop, SKILL)


def test_suppression() -> None:
    src = """
    import json, logging
    log = logging.getLogger(__name__)

    def f(state):
        log.debug("s %s", json.dumps(state))  # megawatt: ignore[logging-expensive-args]
        log.debug("s %s", json.dumps(state))
    """
    assert lines(src, SKILL) == [7]
