"""any-all-materialized: positives, negatives with their traps, and the fix's behaviour."""

from __future__ import annotations

from tests.detectors import findings, fixed, lines, run

SKILL = "any-all-materialized"


def test_finds_list_comprehensions_passed_to_any_and_all() -> None:
    src = """
    def has_overdue(invoices, today):
        return any([inv.due < today for inv in invoices])

    def all_valid(rows):
        for batch in rows:
            if not all([r.ok for r in batch]):
                return False
        return True
    """
    found = findings(src, SKILL)
    assert [f.span.line for f in found] == [3, 7]
    assert found[0].function == "has_overdue" and found[1].function == "all_valid"
    assert found[1].confidence > found[0].confidence  # inside a loop


def test_traps() -> None:
    src = """
    from mylib import any

    def a(xs):
        return any([x for x in xs])          # not the builtin: imported over it

    def b(xs, all):
        return all([x for x in xs])          # a parameter named all

    def c(xs):
        return any(x for x in xs)            # already a generator

    def d(xs):
        return any([x, xs])                  # a list literal, not a comprehension

    def e(xs):
        return sorted([x for x in xs])       # another builtin
    """
    assert lines(src, SKILL) == []


def test_fix_keeps_behaviour_and_short_circuits() -> None:
    src = """
    calls = []

    def check(x):
        calls.append(x)
        return x > 2

    def first_big(xs):
        return any([check(x) for x in xs])

    def all_small(xs):
        return all([x < 10 for x in xs])
    """
    after = fixed(src, SKILL)
    assert "any(check(x) for x in xs)" in after and "all(x < 10 for x in xs)" in after
    assert run(src, "first_big([1, 3, 5]), calls") == (True, [1, 3, 5])
    assert run(after, "first_big([1, 3, 5]), calls") == (True, [1, 3])  # stopped early
    assert run(src, "all_small([1, 20])") == run(after, "all_small([1, 20])") is False


def test_fix_with_calls_is_unsafe_and_says_why() -> None:
    src = "def f(xs):\n    return any([g(x) for x in xs])\n"
    (finding,) = findings(src, SKILL)
    assert finding.fix is not None and not finding.fix.safe
    assert "no longer called" in finding.fix.note
    (pure,) = findings("def f(xs):\n    return any([x > 1 for x in xs])\n", SKILL)
    assert pure.fix is not None and pure.fix.safe
    assert pure.fix.title == "Pass a generator to any() so it can stop early"
    assert fixed(src, SKILL, only_safe=True) == src


def test_suppression_and_half_typed_file() -> None:
    src = """
    def f(xs):
        return any([x for x in xs])  # megawatt: ignore[any-all-materialized]

    def g(xs):  # megawatt: ignore
        return all([x for x in xs])

    def h(xs):
        return all([x for x in xs])

    def broken(:
        return any([x for x in
    """
    assert lines(src, SKILL) == [9]


def test_imports_go_after_comments_docstring_and_future() -> None:
    from megawatt.analyzers.context import FileContext
    from megawatt.fixes.edits import apply_edits, ensure_import

    src = b'# -*- coding: utf-8 -*-\n"""Doc."""\nfrom __future__ import annotations\n\nx = 1\n'
    ctx = FileContext("m.py", src)
    edit = ensure_import(ctx, "functools")
    assert edit is not None
    after = apply_edits(src, [edit]).decode()
    assert after.splitlines()[:5] == [
        "# -*- coding: utf-8 -*-",
        '"""Doc."""',
        "from __future__ import annotations",
        "",
        "import functools",
    ]
    compile(after, "m.py", "exec")


def test_async_comprehensions_are_left_alone() -> None:
    # without the brackets these become async generators, which any()/all() cannot iterate
    src = """
    async def g(xs, f, aiter):
        a = any([await f(x) for x in xs])
        b = all([x async for x in aiter])
        c = any([x for x in await f(xs)])
    """
    assert lines(src, SKILL) == [5]  # an await in the first iterable runs eagerly anyway
