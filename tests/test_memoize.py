"""memoize: pure recursive functions found, every impure look-alike left alone, and the fix
keeps results while cutting the calls."""

from __future__ import annotations

import inspect
import sys
from pathlib import Path

import pytest

from tests.detectors import findings, fixed, lines, run

SKILL = "memoize"

# examples/shop.py's edit distance, copied so the test does not move with the example
EDIT_DISTANCE = '''
"""Fuzzy product matching."""

from __future__ import annotations

import logging

log = logging.getLogger("shop")


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance, straight from the textbook recurrence."""
    if not a:
        return len(b)
    if not b:
        return len(a)
    if a[0] == b[0]:
        return edit_distance(a[1:], b[1:])
    return 1 + min(
        edit_distance(a[1:], b),
        edit_distance(a, b[1:]),
        edit_distance(a[1:], b[1:]),
    )
'''

# appended to a module: run `name(*args)` and count how often its body really runs
COUNTER = """

def _count(name, *args):
    import sys

    fn = globals()[name]
    code = getattr(fn, "__wrapped__", fn).__code__
    calls = 0

    def profile(frame, event, arg):
        nonlocal calls
        if event == "call" and frame.f_code is code:
            calls += 1

    sys.setprofile(profile)
    try:
        return fn(*args), calls
    finally:
        sys.setprofile(None)
"""


def test_finds_overlapping_recursion() -> None:
    src = """
    import math

    def fib(n: int) -> int:
        if n < 2:
            return n
        return fib(n - 1) + fib(n - 2)

    def count_change(amount, coins):
        if amount == 0:
            return 1
        return sum(count_change(amount - c, coins) for c in coins if c <= amount)

    def paths(rows: int, cols: int) -> int:
        if rows == 1 or cols == 1:
            return 1
        return paths(rows - 1, cols) + paths(rows, cols - 1)

    def binom(n, k):
        if k in (0, n):
            return 1
        return binom(n - 1, k - 1) + binom(n - 1, k)

    class Grid:
        @staticmethod
        def routes(n: int) -> int:
            return 1 if n < 2 else Grid.routes(n - 1) + Grid.routes(n - 2) + math.isqrt(0)
    """
    found = findings(src, SKILL)
    assert [f.function for f in found] == ["fib", "count_change", "paths", "binom", "Grid.routes"]
    assert [f.span.line for f in found] == [4, 9, 14, 19, 26]
    fib, change, paths_, binom, routes = found
    # the span is the function's name, so editors underline the name
    assert (fib.span.column, fib.span.end_column) == (4, 7)
    assert fib.confidence >= 0.85 and paths_.confidence >= 0.85
    assert change.confidence >= 0.75  # parameters not annotated: a list could be passed
    assert "calls itself in a loop" in change.message
    assert "2 places" in fib.message and "@functools.cache" in fib.message
    assert dict(fib.evidence)["recursive_calls"] == "2"
    assert binom.confidence >= 0.75 and routes.confidence >= 0.75


def test_shop_example_edit_distance() -> None:
    shop = Path(__file__).parent.parent / "examples" / "shop.py"
    found = findings(shop.read_text(), SKILL, path="examples/shop.py")
    assert [f.function for f in found] == ["edit_distance"]
    (finding,) = found
    assert finding.fix is not None and finding.fix.title == (
        "Memoize edit_distance() with functools.cache"
    )


def test_traps_that_look_memoizable() -> None:
    src = """
    import random
    import time
    import functools
    import logging
    from datetime import datetime

    log = logging.getLogger(__name__)
    RATES = [0.2]
    LIMITS = {"a": 1}
    counter = 0

    def mutates_argument(xs, n):
        if n == 0:
            return 0
        xs.append(n)
        return mutates_argument(xs, n - 1) + mutates_argument(xs, n - 2)

    def assigns_into_argument(xs, n):
        if n < 2:
            return n
        xs[0] = n
        return assigns_into_argument(xs, n - 1) + assigns_into_argument(xs, n - 2)

    def reads_mutable_global(n):
        if n < 2:
            return RATES[0]
        return reads_mutable_global(n - 1) + reads_mutable_global(n - 2)

    def uses_random(n):
        if n < 2:
            return random.random()
        return uses_random(n - 1) + uses_random(n - 2)

    def uses_time(n):
        if n < 2:
            return time.time()
        return uses_time(n - 1) + uses_time(n - 2)

    def uses_now(n):
        if n < 2:
            return datetime.now().year
        return uses_now(n - 1) + uses_now(n - 2)

    def logs(n):
        log.debug("n=%s", n)
        return n if n < 2 else logs(n - 1) + logs(n - 2)

    def prints(n):
        print(n)
        return n if n < 2 else prints(n - 1) + prints(n - 2)

    def returns_list(n):
        if n < 2:
            return [n]
        return returns_list(n - 1) + returns_list(n - 2)

    def returns_built_list(n):
        out = []
        if n >= 2:
            out = returns_built_list(n - 1) + returns_built_list(n - 2)
        return out

    def counts_globally(n):
        global counter
        counter += 1
        return n if n < 2 else counts_globally(n - 1) + counts_globally(n - 2)

    def mutable_default(n, memo={}):
        if n in memo:
            return memo[n]
        memo[n] = n if n < 2 else mutable_default(n - 1) + mutable_default(n - 2)
        return memo[n]

    def list_argument(xs: list[int], n: int) -> int:
        return n if n < 2 else list_argument(xs, n - 1) + list_argument(xs, n - 2)

    def generator(n):
        if n < 2:
            yield n
            return
        yield from generator(n - 1)
        yield from generator(n - 2)

    async def coroutine(n):
        return n if n < 2 else await coroutine(n - 1) + await coroutine(n - 2)

    @functools.cache
    def already_cached(n):
        return n if n < 2 else already_cached(n - 1) + already_cached(n - 2)

    def reads_file(path, n):
        with open(path) as f:
            f.read()
        return n if n < 2 else reads_file(path, n - 1) + reads_file(path, n - 2)

    def calls_unknown(n):
        return n if n < 2 else helper(n - 1) + calls_unknown(n - 1) + calls_unknown(n - 2)

    def calls_argument(f, n):
        return f(n) if n < 2 else calls_argument(f, n - 1) + calls_argument(f, n - 2)

    def changes_dict_global(n):
        LIMITS[n] = n
        return n if n < 2 else changes_dict_global(n - 1) + changes_dict_global(n - 2)

    class Tree:
        @classmethod
        def cfib(cls, n):
            return n if n < 2 else cls.cfib(n - 1) + cls.cfib(n - 2)

    def depth(node):                         # a tree walk: every subproblem is met once
        return 1 + max((depth(c) for c in node.children), default=0)

    def size(node):
        return 0 if node is None else 1 + size(node.left) + size(node.right)

    def product(lo, hi):                     # divide and conquer: disjoint halves
        if hi - lo < 2:
            return lo
        mid = (lo + hi) // 2
        return product(lo, mid) * product(mid, hi)

    def square(x):                           # trivial and not recursive
        return x * x

    def total(xs):                           # not recursive, arguments not annotated
        t = 0
        for x in xs:
            t += x
        return t

    def rebound(n):
        return n if n < 2 else rebound(n - 1) + rebound(n - 2)

    rebound = functools.partial(rebound)
    RATES.append(0.1)
    """
    assert lines(src, SKILL) == []


def test_weak_candidates_need_repeated_calls() -> None:
    src = """
    def factorial(n: int) -> int:
        return 1 if n == 0 else n * factorial(n - 1)

    def checksum(data: bytes, rounds: int) -> int:
        h = 0
        for _ in range(rounds):
            for b in data:
                h = (h * 31 + b) % 1_000_003
        return h

    def is_prime(n: int) -> bool:
        for d in range(2, int(n**0.5) + 1):
            if n % d == 0:
                return False
        return n > 1

    def report(orders, packets, limit):
        ways = [factorial(o.quantity) for o in orders]     # fields of records: values repeat
        sums = [checksum(p.payload, 3) for p in packets]
        primes = [n for n in range(limit) if is_prime(n)]  # a counter: never repeats
        return ways, sums, primes
    """
    factorial, checksum = findings(src, SKILL)
    assert (factorial.function, checksum.function) == ("factorial", "checksum")
    assert factorial.confidence <= 0.3 and checksum.confidence <= 0.3
    assert "one call per level" in factorial.message and "from a loop" in checksum.message
    assert checksum.fix is not None and not checksum.fix.safe
    assert "lru_cache(maxsize=1024)" in fixed(src, SKILL)
    # without the loop that repeats arguments, neither is worth a cache
    alone = src[: src.index("    def report")]
    assert lines(alone, SKILL) == []


def test_fix_keeps_results_and_cuts_calls() -> None:
    after = fixed(EDIT_DISTANCE, SKILL)
    assert "\nimport functools\nimport logging\n" in after  # isort order
    assert "\n\n@functools.cache\ndef edit_distance(a: str, b: str) -> int:\n" in after
    pairs = [
        ("kitten", "sitting"),
        ("espresso", "expresso"),
        ("", "abc"),
        ("flaw", "lawn"),
        ("gleam", "steam"),
        ("abc", "abc"),
    ]
    for a, b in pairs:
        expression = f"_count('edit_distance', {a!r}, {b!r})"
        before_result, before_calls = run(EDIT_DISTANCE + COUNTER, expression)
        after_result, after_calls = run(after + COUNTER, expression)
        assert before_result == after_result
        assert after_calls <= (len(a) + 1) * (len(b) + 1)  # one per pair of suffixes
        if a != b and a and b:
            assert after_calls * 10 < before_calls  # far fewer
    # the headline case from the skill: two 7-character names
    _, slow = run(EDIT_DISTANCE + COUNTER, "_count('edit_distance', 'espress', 'exprssa')")
    _, fast = run(after + COUNTER, "_count('edit_distance', 'espress', 'exprssa')")
    assert slow > 1000 and fast <= 64


def test_fix_safety_follows_what_the_analysis_can_see() -> None:
    src = """
    def fib(n: int) -> int:
        return n if n < 2 else fib(n - 1) + fib(n - 2)

    def count_change(amount, coins):
        if amount == 0:
            return 1
        return sum(count_change(amount - c, coins) for c in coins if c <= amount)
    """
    fib, change = findings(src, SKILL)
    assert fib.fix is not None and fib.fix.safe  # annotated, branching on every path
    assert change.fix is not None and not change.fix.safe
    assert "not annotated with a hashable type" in change.fix.note
    # the shop's edit distance has a branch that recurses once per level: deep inputs
    # that finish today would hit the recursion limit through the cache wrapper
    (edit,) = findings(EDIT_DISTANCE, SKILL)
    assert edit.fix is not None and not edit.fix.safe
    assert "RecursionError" in edit.fix.note
    after = fixed(src, SKILL, only_safe=True)
    assert "@functools.cache\ndef fib" in after and "def count_change" in after
    assert after.count("@functools") == 1
    assert run(src, "fib(20), count_change(12, (1, 2, 5))") == run(
        after, "fib(20), count_change(12, (1, 2, 5))"
    )


def test_unchanged_module_list_is_read_but_the_fix_is_unsafe() -> None:
    src = """
    WEIGHTS = [1, 3, 7]

    def best(n: int) -> int:
        if n <= 0:
            return 0
        return max(best(n - w) + w for w in WEIGHTS)
    """
    (finding,) = findings(src, SKILL)
    assert dict(finding.evidence)["reads_globals"] == "WEIGHTS"
    assert finding.fix is not None and not finding.fix.safe
    assert "module-level WEIGHTS" in finding.fix.note
    assert run(src, "best(15)") == run(fixed(src, SKILL), "best(15)") == 21


def test_fix_reuses_existing_imports() -> None:
    src = """
    from functools import cache

    def fib(n: int) -> int:
        return n if n < 2 else fib(n - 1) + fib(n - 2)
    """
    assert "\n@cache\ndef fib" in fixed(src, SKILL)
    src = """
    import functools as ft

    class Seq:
        @staticmethod
        def fib(n: int) -> int:
            return n if n < 2 else Seq.fib(n - 1) + Seq.fib(n - 2)
    """
    after = fixed(src, SKILL)
    assert "    @staticmethod\n    @ft.cache\n    def fib" in after
    assert run(after, "Seq.fib(60)") == 1548008755920


def test_a_function_level_import_of_functools_does_not_count() -> None:
    src = """
    def helper():
        import functools
        return functools

    def fib(n: int) -> int:
        return n if n < 2 else fib(n - 1) + fib(n - 2)
    """
    after = fixed(src, SKILL)
    assert after.startswith("import functools\n")
    assert run(after, "fib(80)") == 23416728348467685


def test_recursion_depth_note_is_real() -> None:
    """Why the edit-distance fix is unsafe: equal strings recurse linearly, so deep inputs are
    quick today, and through the cache wrapper each level costs two frames (CPython 3.11)."""
    free = sys.getrecursionlimit() - len(inspect.stack()) - 30
    depth = int(free * 0.7)  # fits once, not twice
    after = fixed(EDIT_DISTANCE, SKILL)
    same = f"edit_distance('a' * {depth}, 'a' * {depth})"
    assert run(EDIT_DISTANCE, same) == 0
    if sys.version_info < (3, 12):
        with pytest.raises(RecursionError):
            run(after, same)


def test_suppression_and_half_typed_file() -> None:
    src = """
    def fib(n):  # megawatt: ignore[memoize]
        return n if n < 2 else fib(n - 1) + fib(n - 2)

    def fib2(n):
        return n if n < 2 else fib2(n - 1) + fib2(n - 2)

    def broken(n:
        return n if n < 2 else broken(n - 1) + broken(n - 2)
    """
    assert lines(src, SKILL) == [5]


def test_instance_methods_get_a_finding_but_no_decorator() -> None:
    # a method's cache must be per instance (a judgement for the AI fix); @functools.cache on
    # it would keep every instance alive, so no deterministic fix is offered
    src = """
    class Aligner:
        def __init__(self, gap):
            self.gap = gap

        def distance(self, a: str, b: str) -> int:
            if not a or not b:
                return (len(a) + len(b)) * self.gap
            if a[0] == b[0]:
                return self.distance(a[1:], b[1:])
            return self.gap + min(self.distance(a[1:], b), self.distance(a, b[1:]))

        def walk(self, node):                # structural: nothing repeats
            return 0 if node is None else self.walk(node.left) + self.walk(node.right)

        def counts(self, n):                 # writes the instance
            self.calls = n
            return n if n < 2 else self.counts(n - 1) + self.counts(n - 2)

        def hilbert(self, size, level):      # draws: other methods change the instance
            if level == 0:
                return
            self.left(90)
            self.hilbert(size, level - 1)
            self.forward(size)
            self.hilbert(size, level - 1)
    """
    found = findings(src, SKILL)
    assert [(f.function, f.span.line) for f in found] == [("Aligner.distance", 6)]
    assert ("instance_method", "self") in found[0].evidence
    assert "per instance" in found[0].message
    assert found[0].fix is None
