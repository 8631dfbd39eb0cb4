"""Merging and diffing profiles; the builder's accounting of recursion."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from megawatt.errors import MegawattError
from megawatt.profiles import load
from megawatt.profiles.builder import ProfileBuilder
from megawatt.profiles.ops import diff, merge
from megawatt.profiles.profile import Profile
from tests.conftest import run


def _recursive_profile() -> Profile:
    """main → fib → fib → fib (3 samples), main → fib → helper (1), main (1 self)."""
    b = ProfileBuilder("mem", "test", "samples")
    main = b.function("app.py", "main", 1)
    fib = b.function("app.py", "fib", 10)
    helper = b.function("app.py", "helper", 20)
    m, f1, f2, h = b.frame(main, 3), b.frame(fib, 11), b.frame(fib, 12), b.frame(helper, 21)
    b.add_stack([m, f1, f2, f1], 3)
    b.add_stack([m, f1, h], 1)
    b.add_stack([m], 1)
    return b.build()


def test_recursion_counts_once_per_sample() -> None:
    p = _recursive_profile()
    fib = p.find("app.py", "fib", 10)
    assert fib is not None
    assert p.total_weight == 5
    assert p.total_weight_of[fib] == 4  # not 3 * 3 + 1
    assert p.self_weight[fib] == 3
    lines = {lf.line: (lf.self_weight, lf.total_weight) for lf in p.lines(fib)}
    assert lines == {11: (3.0, 4.0), 12: (0.0, 3.0)}
    assert [(p.names[e.function], e.weight) for e in p.callers(fib)] == [("main", 4.0)]
    assert [(p.names[e.function], e.weight) for e in p.callees(fib)] == [("helper", 1.0)]


def test_merge_adds_figures(shop_pstats: Path) -> None:
    one = load(shop_pstats)
    both = merge([one, one])
    fid = one.find(one.paths[0], one.names[0], int(one.first_lines[0]))
    assert fid is not None
    fid2 = both.find(one.paths[0], one.names[0], int(one.first_lines[0]))
    assert fid2 is not None
    assert both.total_weight == pytest.approx(2 * one.total_weight)
    assert both.self_weight[fid2] == pytest.approx(2 * one.self_weight[fid])
    assert both.calls[fid2] == 2 * one.calls[fid]
    assert both.top(5)[0].self_share == pytest.approx(one.top(5)[0].self_share)
    assert len(both.edge_caller) == len(one.edge_caller)


def test_merge_refuses_mixed_units(shop_pstats: Path) -> None:
    with pytest.raises(MegawattError, match="different units"):
        merge([load(shop_pstats), _recursive_profile()])


def test_diff_before_after(tmp_path: Path) -> None:
    """A real before/after: the slow function is fixed, its share falls, the others' rise."""
    script = tmp_path / "job.py"
    script.write_text(
        "def fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\n\n"
        "def other():\n    return sum(i * i for i in range(200_000))\n\n"
        "fib(24)\nother()\n"
    )
    before, after = tmp_path / "before.prof", tmp_path / "after.prof"
    run([sys.executable, "-m", "cProfile", "-o", str(before), str(script)])
    # the fix moves fib down three lines: diff must still pair it with itself
    script.write_text(
        "import functools\n\n\n@functools.cache\ndef fib(n):\n"
        "    return n if n < 2 else fib(n - 1) + fib(n - 2)\n\n"
        "def other():\n    return sum(i * i for i in range(200_000))\n\n"
        "fib(24)\nother()\n"
    )
    run([sys.executable, "-m", "cProfile", "-o", str(after), str(script)])
    result = diff(load(before), load(after))
    deltas = {d.function: d for d in result.functions if d.path.endswith(".py")}
    assert deltas["fib"].before_total_share > 0.25
    assert deltas["fib"].total_change < -0.2
    assert deltas["other"].total_change > 0.2
    # only one row per function although fib's first line moved
    assert sum(1 for d in result.functions if d.function == "fib") == 1
    assert deltas["fib"].in_before and deltas["fib"].in_after
    # one unit: times compare, and fib's fall is the largest change
    assert result.comparable and result.functions[0].time_change < 0
    assert deltas["fib"].before_total > 100 * deltas["fib"].after_total
