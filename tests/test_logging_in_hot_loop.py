"""logging-in-hot-loop: per-iteration DEBUG/INFO calls, the loops that are not hot, and the
hoisted level check, run with the level on (same records) and off (no logger call per item)."""

from __future__ import annotations

import textwrap
from pathlib import Path

from tests.detectors import findings, fixed, lines, run

SKILL = "logging-in-hot-loop"

SHOP = """
import logging
from dataclasses import dataclass

log = logging.getLogger("shop-hot")
DISCONTINUED = ["OLD-0001"]


@dataclass
class Order:
    id: int
    sku: str


def valid_orders(orders):
    kept = []
    for order in orders:
        if order.sku in DISCONTINUED:
            log.info(f"dropping discontinued order {order.id} ({order.sku})")
            continue
        kept.append(order)
    return kept


def settle(orders):
    queue = list(orders)
    settled = []
    while queue:
        order = queue.pop(0)
        log.debug("settling order %s: %s", order.id, str(order))
        settled.append(order.id)
    return settled
"""


def test_finds_the_example_shop_loops() -> None:
    found = findings(SHOP, SKILL)
    assert [(f.span.line, f.function) for f in found] == [(19, "valid_orders"), (30, "settle")]
    settle = found[1]
    assert "while loop at line 28" in settle.message
    assert dict(settle.evidence)["hot"] == "iterates over the input queue"
    shop = Path("examples/shop.py").read_text()
    assert {f.function for f in findings(shop, SKILL)} == {"valid_orders", "settle"}


def test_nested_loops_rank_higher() -> None:
    src = """
    import logging
    logger = logging.getLogger(__name__)

    def grid(rows):
        for row in rows:
            logger.debug("row %s", row)
            for cell in row:
                logger.debug("cell %s", cell)
    """
    found = findings(src, SKILL)
    assert [f.span.line for f in found] == [7, 9]
    assert found[1].confidence > found[0].confidence
    assert dict(found[1].evidence)["depth"] == "2"
    assert dict(found[0].evidence)["hot"] == "iterates over the input rows"


def test_loops_that_are_not_hot_or_calls_that_do_not_repeat() -> None:
    src = """
    import logging
    import time
    log = logging.getLogger(__name__)

    class Service:
        def __init__(self):
            self._handlers = []

        def notify(self, event):
            for handler in self._handlers:         # a registry, not the input
                log.debug("notify %s", handler)

        def close(self, items):
            for item in items:                     # cleanup runs once
                log.debug("closing %s", item)

    def warn_each(rows):
        for row in rows:
            log.warning("bad row %s", row)         # WARNING: an anomaly, not per item

    def few(rows):
        for name in ("a", "b", "c"):
            log.debug("name %s", name)
        for attempt in range(3):
            log.debug("attempt %s", attempt)

    def find(rows, key):
        for row in rows:
            if row.key == key:
                log.info("found %s", row)          # followed by return: runs once
                return row
            for cell in row:
                log.debug("cell %s", cell)
                break                               # leaves the inner loop: once per row

    def guarded(rows):
        debug = log.isEnabledFor(logging.DEBUG)
        for row in rows:
            if debug:
                log.debug("row %s", row)
            if log.isEnabledFor(logging.DEBUG):
                log.debug("row %s", row)

    def polling(jobs):
        while jobs:
            time.sleep(0.1)                         # the wait dominates
            log.debug("waiting for %s", jobs)

    def parse(rows):
        for row in rows:
            try:
                int(row)
            except ValueError:
                log.debug("skip %s", row)           # raising costs more than the call

    def not_a_logger(rows):
        log = []
        for row in rows:
            log.append(row)
    """
    # only the cell call, which the break makes once per row: still once per outer iteration
    assert lines(src, SKILL) == [34]


def test_hoisted_check_keeps_records_and_skips_calls_when_off() -> None:
    src = """
    import logging
    import io

    stream = io.StringIO()
    log = logging.getLogger("hot-loop-test")
    log.handlers.clear()
    log.addHandler(logging.StreamHandler(stream))
    log.propagate = False
    calls = []
    _debug = log.debug

    def _counting(*args, **kwargs):
        calls.append(args)
        return _debug(*args, **kwargs)

    log.debug = _counting

    def total(rows):
        result = 0
        for row in rows:
            log.debug("row %s", row)
            result += row
        return result

    def go(level):
        log.setLevel(level)
        calls.clear()
        stream.seek(0)
        stream.truncate()
        return total(range(5)), stream.getvalue(), len(calls)
    """
    (finding,) = findings(src, SKILL)
    assert finding.fix is not None and finding.fix.safe, finding.fix
    assert finding.fix.title == (
        "Check log.isEnabledFor(logging.DEBUG) once before the loop at line 21 instead of in "
        "log.debug() on every iteration"
    )
    after = fixed(src, SKILL)
    assert textwrap.dedent(
        """\
        result = 0
            debug_enabled = log.isEnabledFor(logging.DEBUG)
            for row in rows:
                if debug_enabled:
                    log.debug("row %s", row)
                result += row
        """
    ) in textwrap.dedent(after).replace("\n    result = 0", "\nresult = 0")
    on_before, on_after = run(src, "go(logging.DEBUG)"), run(after, "go(logging.DEBUG)")
    assert on_before == on_after and on_before[2] == 5
    off_before, off_after = run(src, "go(logging.WARNING)"), run(after, "go(logging.WARNING)")
    assert off_before[:2] == off_after[:2]
    assert (off_before[2], off_after[2]) == (5, 0)
    assert findings(after, SKILL) == []


def test_while_loops_get_an_unsafe_fix_that_says_why() -> None:
    (_, settle) = findings(SHOP, SKILL)
    assert settle.fix is not None and not settle.fix.safe
    assert "while loop can run long" in settle.fix.note
    after = fixed(SHOP, SKILL)
    assert "    debug_enabled = log.isEnabledFor(logging.DEBUG)\n    while queue:\n" in after
    orders = "[Order(1, 'A'), Order(2, 'OLD-0001'), Order(3, 'B')]"
    call = f"repr((valid_orders({orders}), settle({orders})))"
    assert run(SHOP, call) == run(after, call)
    assert fixed(SHOP, SKILL, only_safe=True).count("_enabled = ") == 1  # the for loop only


def test_two_calls_share_one_flag_and_names_do_not_clash() -> None:
    src = """
    from logging import getLogger

    log = getLogger(__name__)

    def walk(items, debug_enabled):
        for item in items:
            log.debug("item %s", item)
            log.debug("again %s", item)
    """
    after = fixed(src, SKILL)
    assert after.count("isEnabledFor") == 1
    assert "import logging\n" in after  # for logging.DEBUG
    assert "_debug_enabled = log.isEnabledFor(logging.DEBUG)" in after
    assert after.count("if _debug_enabled:") == 2
    assert run(after, "walk([1, 2], None)") is None


def test_outer_finite_loop_takes_the_check_but_not_past_a_while() -> None:
    src = """
    import logging
    log = logging.getLogger(__name__)

    def matrix(rows):
        for row in rows:
            for cell in row:
                log.debug("cell %s", cell)

    def serve(queue):
        while queue:
            batch = queue.pop()
            for item in batch:
                log.debug("item %s", item)
    """
    found = findings(src, SKILL)
    assert all(f.fix is not None and f.fix.safe for f in found)
    after = fixed(src, SKILL)
    assert "    debug_enabled = log.isEnabledFor(logging.DEBUG)\n    for row in rows:" in after
    assert (
        "        debug_enabled = log.isEnabledFor(logging.DEBUG)\n        for item in batch:"
        in after
    )


def test_module_functions_and_side_effect_arguments_are_unsafe() -> None:
    src = """
    import logging

    def a(items):
        for item in items:
            logging.debug("item %s", item)

    def b(items, it):
        for item in items:
            logging.getLogger("b").debug("item %s %s", item, next(it))
    """
    first, second = findings(src, SKILL)
    assert first.fix is not None and not first.fix.safe and "basicConfig" in first.fix.note
    assert "logging.getLogger().isEnabledFor(logging.DEBUG)" in fixed(src, SKILL)
    assert second.fix is not None and not second.fix.safe and "pure" in second.fix.note


def test_suppression() -> None:
    src = """
    import logging
    log = logging.getLogger(__name__)

    def f(rows):
        for row in rows:
            log.debug("row %s", row)  # megawatt: ignore[logging-in-hot-loop]

    def g(rows):
        for row in rows:
            log.debug("row %s", row)
    """
    assert lines(src, SKILL) == [11]
