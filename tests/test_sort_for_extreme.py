"""sort-for-extreme: positives, the traps, and fixes that keep behaviour (ties included)."""

from __future__ import annotations

import pytest

from tests.detectors import findings, fixed, lines, run

SKILL = "sort-for-extreme"


def test_finds_sorts_and_copies_read_for_one_element() -> None:
    src = """
    def cheapest(settled):
        return sorted(amount for _, amount in settled)[0]

    def newest(files):
        return sorted(files, key=lambda f: f.mtime, reverse=True)[0]

    def largest(xs):
        return sorted(xs)[-1]

    def any_key(mapping):
        return list(mapping.keys())[0]

    def per_group(groups):
        out = []
        for g in groups:
            out.append(sorted(g, key=len)[0])
        return out
    """
    found = findings(src, SKILL)
    assert [f.span.line for f in found] == [3, 6, 9, 12, 17]
    assert [dict(f.evidence)["reads"] for f in found] == ["min", "max", "max", "first", "min"]
    assert found[0].function == "cheapest"
    assert "min(amount for _, amount in settled)" in found[0].message
    assert found[4].confidence > found[0].confidence  # inside a loop
    assert "next(iter(mapping.keys()))" in found[3].message


def test_shop_example_cheapest() -> None:
    from pathlib import Path

    shop = Path(__file__).parent.parent / "examples" / "shop.py"
    found = findings(shop.read_text(), SKILL, path="examples/shop.py")
    assert [f.function for f in found] == ["cheapest"]
    assert found[0].fix is not None and found[0].fix.safe


def test_traps() -> None:
    src = """
    from mylib import sorted

    def a(xs):
        return sorted(xs)[0]                 # not the builtin: imported over it

    def b(xs, list):
        return list(xs)[0]                   # a parameter named list

    def c(xs):
        return __builtins__.sorted(xs)[0]    # not a plain name
    """
    assert lines(src, SKILL) == []
    src = """
    def second(xs):
        return sorted(xs)[1]                 # the second element: a real use of the order

    def top3(xs):
        return sorted(xs)[:3]                # a slice: heapq.nsmallest, not this finding

    def either(xs, flag):
        return sorted(xs, reverse=flag)[0]   # which end depends on the run

    def spread(args):
        return sorted(*args)[0]              # arguments unknown

    def last(xs):
        return list(xs)[-1]                  # needs every element anyway

    def kept(xs):
        s = sorted(xs)
        return s[0], s[-1]                   # one sort, two reads: fine

    def store(xs):
        sorted(xs)[0] = 1                    # a store, not a read

    def other_kw(xs):
        return sorted(xs, cmp=None)[0]       # not sorted's signature
    """
    assert lines(src, SKILL) == []


def test_zero_index_fixes_are_safe_and_keep_ties() -> None:
    src = """
    def cheapest(pairs):
        return sorted(pairs, key=lambda p: p[0])[0]

    def dearest(pairs):
        return sorted(pairs, key=lambda p: p[0], reverse=True)[0]

    def smallest(xs):
        return sorted(x for x in xs)[0]

    def biggest(xs):
        return sorted(xs, reverse=True)[0]
    """
    after = fixed(src, SKILL, only_safe=True)
    assert "return min(pairs, key=lambda p: p[0])" in after
    assert "return max(pairs, key=lambda p: p[0])" in after
    assert "return min(x for x in xs)" in after
    assert "return max(xs)" in after
    assert "sorted" not in after
    # ties: equal keys, distinct elements; sort stability picks the first in both directions
    pairs = "[(2, 'a'), (1, 'b'), (3, 'c'), (1, 'd'), (3, 'e')]"
    for call in (f"cheapest({pairs})", f"dearest({pairs})"):
        assert run(src, call) == run(after, call)
    assert run(after, f"cheapest({pairs}), dearest({pairs})") == ((1, "b"), (3, "c"))
    mixed = "[1, 1.0, True, 0.5, 2, 2.0]"  # equal but distinguishable values
    for call in (f"smallest({mixed})", f"biggest({mixed})"):
        before, later = run(src, call), run(after, call)
        assert (before, type(before)) == (later, type(later))


def test_last_index_is_unsafe_because_ties_pick_the_other_end() -> None:
    src = """
    def dearest(pairs):
        return sorted(pairs, key=lambda p: p[0])[-1]

    def smallest_last(xs):
        return sorted(xs, reverse=True)[-1]
    """
    found = findings(src, SKILL)
    assert [f.fix.safe for f in found if f.fix] == [False, False]
    assert "last of them and max() the first" in found[0].fix.note  # type: ignore[union-attr]
    assert fixed(src, SKILL, only_safe=True).count("sorted(") == 2  # fix-all leaves them
    after = fixed(src, SKILL)
    assert "return max(pairs, key=lambda p: p[0])" in after
    assert "return min(xs)" in after
    # no ties: same result; ties: the original picks the last, max() the first
    assert run(src, "dearest([(1, 'a'), (3, 'b')])") == run(after, "dearest([(1, 'a'), (3, 'b')])")
    tied = "dearest([(3, 'a'), (1, 'b'), (3, 'c')])"
    assert run(src, tied) == (3, "c") and run(after, tied) == (3, "a")


def test_first_element_fix_is_unsafe_and_stops_early() -> None:
    src = """
    seen = []

    def gen(n):
        for i in range(n):
            seen.append(i)
            yield i

    def first_key(d):
        return list(d)[0]

    def first_of_gen(n):
        return list(x * 2 for x in gen(n))[0]

    def first_mapped(xs):
        return list(map(str, xs))[0]
    """
    found = findings(src, SKILL)
    assert all(f.fix is not None and not f.fix.safe for f in found)
    assert "StopIteration" in found[0].fix.note  # type: ignore[union-attr]
    after = fixed(src, SKILL)
    assert "return next(iter(d))" in after
    assert "return next(x * 2 for x in gen(n))" in after
    assert "return next(map(str, xs))" in after
    assert run(src, "first_key({'a': 1, 'b': 2})") == run(after, "first_key({'a': 1, 'b': 2})")
    assert run(src, "first_mapped([3, 4])") == run(after, "first_mapped([3, 4])") == "3"
    assert run(src, "first_of_gen(1000), len(seen)") == (0, 1000)
    assert run(after, "first_of_gen(1000), len(seen)") == (0, 1)  # stopped after one
    with pytest.raises(IndexError):
        run(src, "first_key({})")
    with pytest.raises(StopIteration):
        run(after, "first_key({})")


def test_no_fix_when_min_is_shadowed_or_a_comment_would_be_lost() -> None:
    src = """
    def min(*args):
        return 42

    def lowest(xs):
        return sorted(xs)[0]
    """
    (finding,) = findings(src, SKILL)
    assert finding.fix is None
    src = """
    def lowest(xs):
        return sorted(
            xs,  # the prices
        )[0]
    """
    (finding,) = findings(src, SKILL)
    assert finding.fix is None


def test_index_error_handler_makes_the_fix_unsafe() -> None:
    src = """
    def lowest(xs):
        try:
            return sorted(xs)[0]
        except IndexError:
            return None

    def lowest_any(xs):
        try:
            return sorted(xs)[0]
        except (IndexError, ValueError):
            return None
    """
    first, second = findings(src, SKILL)
    assert first.fix is not None and not first.fix.safe
    assert "ValueError" in first.fix.note
    assert second.fix is not None and second.fix.safe
    after = fixed(src, SKILL)
    assert run(src, "lowest_any([])") is None and run(after, "lowest_any([])") is None
    assert run(src, "lowest([])") is None
    with pytest.raises(ValueError):
        run(after, "lowest([])")  # why it is unsafe


def test_fix_titles_and_exact_edit() -> None:
    src = "def f(xs):\n    return sorted(xs, key=abs)[0] + 1\n"
    (finding,) = findings(src, SKILL)
    assert finding.fix is not None
    assert finding.fix.title == "Use min() instead of sorting to read one element"
    assert fixed(src, SKILL) == "def f(xs):\n    return min(xs, key=abs) + 1\n"


def test_suppression_test_code_and_half_typed_file() -> None:
    src = """
    def f(xs):
        return sorted(xs)[0]  # megawatt: ignore[sort-for-extreme]

    def g(xs):  # megawatt: ignore
        return sorted(xs)[0]

    def h(xs):
        return sorted(xs)[0]

    def broken(:
        return sorted(xs)[0
    """
    assert lines(src, SKILL) == [9]
    (in_test,) = findings("def t(xs):\n    return sorted(xs)[0]\n", SKILL, path="tests/test_x.py")
    assert in_test.confidence <= 0.3


def test_known_singletons_and_error_paths() -> None:
    src = """
    def sole_key(d):
        if len(d) == 1:
            return list(d.keys())[0]         # one element: nothing to copy
        return None

    def sole_item(xs):
        assert len(xs) == 1
        return sorted(xs)[0]

    def complain(kws):
        if kws:
            name = sorted(kws)[0]            # an error message: runs once
            raise TypeError(f"unexpected keyword {name}")

    def hot(rows):
        return [sorted(r)[0] for r in rows]
    """
    found = findings(src, SKILL)
    assert [f.function for f in found] == ["complain", "hot"]
    assert found[0].confidence <= 0.3 < found[1].confidence
