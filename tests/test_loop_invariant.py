"""loop-invariant: positives, the traps that make a value change, and the while-condition fix."""

from __future__ import annotations

from tests.detectors import findings, fixed, lines, run

SKILL = "loop-invariant"


def test_finds_pure_invariant_calls() -> None:
    src = """
    import math
    import os.path
    from os.path import join as pjoin


    def paths(base, names):
        out = []
        for name in names:
            cfg = os.path.join(base, "config")
            out.append(pjoin(cfg, name))
        return out


    def primes(n):
        found = []
        for k in range(2, n):
            if k > math.sqrt(n):
                break
            found.append(k)
        return found


    def ranks(scores: list[int], queries):
        return [sorted(scores).index(q) for q in queries]


    def labels(a, b, rows):
        return ["{}-{}".format(a, b) + r for r in rows]


    def limits(self, rows):
        for r in rows:
            if r > self.config.limits.max_rows:
                print(r)
    """
    found = findings(src, SKILL)
    assert [(f.span.line, dict(f.evidence)["function"]) for f in found] == [
        (10, "os.path.join"),
        (18, "math.sqrt"),
        (25, "sorted"),
        (29, "str.format"),
        (34, "self.config.limits.max_rows"),
    ]
    by_fn = {dict(f.evidence)["function"]: f for f in found}
    assert by_fn["sorted"].confidence > by_fn["math.sqrt"].confidence
    assert by_fn["sorted"].confidence > by_fn["self.config.limits.max_rows"].confidence
    assert "walks the whole collection" in by_fn["sorted"].message
    assert dict(by_fn["os.path.join"].evidence)["reads"] == "base"
    assert all(f.fix is None for f in found)  # loop bodies: no mechanical fix


def test_while_condition_len() -> None:
    src = """
    def tokenize(text):
        i = 0
        out = []
        while i < len(text):
            out.append(text[i])
            i += 1
        return out


    class Lexer:
        def run(self):
            while self.pos < len(self.text):
                self.pos += 1
                self.tokens.append(self.pos)
    """
    found = findings(src, SKILL)
    assert [f.span.line for f in found] == [5, 13]
    assert "each time the while condition is tested" in found[0].message
    assert all(f.confidence <= 0.3 for f in found)  # len() is cheap


def test_traps_are_not_reported() -> None:
    src = """
    import os
    import re
    import time

    def target(names, base):
        return [os.path.join(base, n) for n in names]            # reads the loop target

    def rebound(base, names):
        for n in names:
            base = os.path.join(base, n)                          # base changes
        return base

    def grows(xs):
        for x in list(xs):
            if len(xs) > 10:                                      # xs.append below
                xs.append(x)

    def dict_grows(keys):
        d = {}
        for k in keys:
            if len(d) > 3:                                        # d[k] = ... adds keys
                break
            d[k] = 1

    def method_on_owner(self):
        while self.pos < len(self.text):
            self.advance()                                        # may change self.text

    def polling(self):
        while len(self.items) < 5:
            time.sleep(0.1)                                       # another thread fills it

    def waiting(results, n):
        while len(results) < n:                                   # nothing in it changes
            pass

    def iterator(it, queries):
        return [max(it) for q in queries]                         # it may be an iterator

    def early(xs, ys):
        for x in xs:
            if x:
                return len(ys)                                    # runs once

    def dispatch(found):
        for key in found:
            if key == "y":
                year = int(found["y"])                            # one iteration of many
            elif key == "m":
                month = int(found["m"])
        return year, month

    def once(items, header):
        started = False
        for item in items:
            if not started:
                started = True
                title = "{}:".format(header)                      # first iteration only
            print(title, item)

    def regex(lines):
        return [re.compile("a+").match(l) for l in lines]         # regex-in-function's

    def membership(xs, ys: list[int]):
        return [x for x in xs if x in sorted(ys)]                 # list-membership's

    def impure(xs, conn):
        return [conn.fetch(len(xs)) for x in xs]                  # len(xs) is invariant
    """
    found = findings(src, SKILL)
    # only the len(xs) inside conn.fetch(...) is invariant and pure
    assert [f.span.line for f in found] == [69]

    waiting = """
    def wait_done(self, n):
        for _ in sleeping_retry(10):
            if len(self.finished) >= n:                           # filled by other threads
                break

    def spin(results, n):
        for attempt in range(100):
            if len(results) >= n:                                 # nothing here changes it
                break
            tick()
    """
    assert lines(waiting, SKILL) == []

    globals_src = """
    CACHE = []

    def fill(x):
        CACHE.append(x)

    def use(xs):
        for x in xs:
            fill(x)
            if len(CACHE) > 100:                                  # fill() changes CACHE
                break
    """
    assert lines(globals_src, SKILL) == []


def test_len_fix_for_a_fresh_local_is_safe_and_behaves_the_same() -> None:
    src = """
    def pairs(n):
        items = [i * i for i in range(n)]
        out = []
        i = 0
        while i < len(items) - 1:
            out.append(items[i] + items[i + 1])
            i += 1
        return out
    """
    (finding,) = findings(src, SKILL)
    assert finding.fix is not None and finding.fix.safe
    assert finding.fix.title == "Compute len(items) once before the while loop, as items_len"
    after = fixed(src, SKILL, only_safe=True)
    assert "    items_len = len(items)\n    while i < items_len - 1:\n" in after
    assert run(src, "pairs(6), pairs(0)") == run(after, "pairs(6), pairs(0)")
    assert findings(after, SKILL) == []


def test_len_fix_for_parameters_and_attributes_is_unsafe() -> None:
    rebound = """
    def chunks(data):
        data = list(data)
        i = 0
        while i < len(data):
            i += 2
        return i
    """
    (finding,) = findings(rebound, SKILL)
    assert finding.fix is not None and not finding.fix.safe  # a parameter, even if rebound
    src = """
    def tokenize(text):
        i = 0
        out = []
        while i < len(text):
            out.append(text[i])
            i += 1
        return out


    class Scanner:
        def __init__(self, text):
            self.text = text
            self.pos = 0

        def skip(self):
            while self.pos < len(self.text) and self.text[self.pos] == " ":
                self.pos += 1
            return self.pos
    """
    param, attr = findings(src, SKILL)
    assert param.fix is not None and not param.fix.safe
    assert "shared with other code" in param.fix.note
    assert attr.fix is not None and not attr.fix.safe
    assert "reachable from outside this function" in attr.fix.note
    after = fixed(src, SKILL)
    assert "    text_len = len(text)\n    while i < text_len:\n" in after
    assert "        text_len = len(self.text)\n        while self.pos < text_len and" in after
    assert run(src, "tokenize('abc')") == run(after, "tokenize('abc')") == ["a", "b", "c"]
    probe = "Scanner('   x').skip(), Scanner('').skip()"
    assert run(src, probe) == run(after, probe) == (3, 0)


def test_no_fix_behind_short_circuit_or_in_a_body() -> None:
    src = """
    def scan(xs, limit):
        i = 0
        while i < limit and i < len(xs):
            i += 1
        return i
    """
    (finding,) = findings(src, SKILL)
    assert finding.fix is None  # len(xs) is not evaluated when i >= limit


def test_suppression_and_half_typed_file() -> None:
    src = """
    import os

    def f(base, names):
        return [os.path.join(base, "x") for n in names]  # megawatt: ignore[loop-invariant]

    def g(base, names):  # megawatt: ignore
        return [os.path.join(base, "x") for n in names]

    def h(base, names):
        return [os.path.join(base, "x") for n in names]

    def broken(:
        return [os.path.join(base, "x") for n in
    """
    assert lines(src, SKILL) == [11]
