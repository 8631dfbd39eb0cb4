"""list-membership-in-loop: positives, the traps, and the set-building fixes' behaviour."""

from __future__ import annotations

import sys
import types
from pathlib import Path
from typing import Any

from tests.detectors import findings, fixed, lines, run

SKILL = "list-membership-in-loop"
SHOP = Path(__file__).resolve().parent.parent / "examples" / "shop.py"


def run_module(source: str, expression: str) -> Any:
    """Like `run`, but as a registered module (dataclasses look their module up)."""
    module = types.ModuleType("shop_under_test")
    sys.modules[module.__name__] = module
    try:
        exec(compile(source, "shop_under_test.py", "exec"), module.__dict__)
        return eval(expression, module.__dict__)
    finally:
        del sys.modules[module.__name__]


def test_shop_discontinued_list_is_found_and_fixed() -> None:
    src = SHOP.read_text()
    (finding,) = findings(src, SKILL)
    assert finding.function == "valid_orders"
    assert finding.confidence >= 0.8
    evidence = dict(finding.evidence)
    assert evidence["sequence"] == "DISCONTINUED: a list, 3000 elements"
    assert evidence["origin"] == "module" and evidence["elements_hashable"] == "true"
    assert "DISCONTINUED = [f" in evidence["defined"]
    fix = finding.fix
    assert fix is not None
    assert fix.title == (
        "Test against a module-level frozenset _DISCONTINUED_SET instead of scanning DISCONTINUED"
    )
    assert not fix.safe and "order.sku must be hashable" in fix.note  # its type is not visible
    after = fixed(src, SKILL)
    assert (
        'DISCONTINUED = [f"OLD-{n:04d}" for n in range(3000)]\n'
        "_DISCONTINUED_SET = frozenset(DISCONTINUED)\n"
    ) in after
    assert "if order.sku in _DISCONTINUED_SET:" in after
    assert fixed(src, SKILL, only_safe=True) == src
    probe = "[o.id for o in valid_orders(make_orders(3000))]"
    assert run_module(src, probe) == run_module(after, probe)
    assert run_module(src, "run(2000)") == run_module(after, "run(2000)")
    assert findings(after, SKILL) == []


def test_safe_when_value_and_elements_are_plain_strings() -> None:
    src = """
    BLOCKED = [f"user{n}" for n in range(100)]

    def allowed(ids):
        return [i for i in ids if f"user{i}" not in BLOCKED]
    """
    (finding,) = findings(src, SKILL)
    assert finding.fix is not None and finding.fix.safe
    after = fixed(src, SKILL, only_safe=True)
    assert "_BLOCKED_SET = frozenset(BLOCKED)" in after
    assert 'if f"user{i}" not in _BLOCKED_SET]' in after
    assert run(src, "allowed(range(95, 105))") == run(after, "allowed(range(95, 105))")
    assert run(after, "allowed(range(95, 105))") == [100, 101, 102, 103, 104]


def test_local_lists_get_a_set_before_the_loop() -> None:
    src = """
    def reserved_rows(rows, reserved_names):
        reserved = [n.lower() for n in reserved_names]
        out = []
        for row in rows:
            for word in row.split():
                if word.lower() in reserved:
                    out.append(word)
        return out
    """
    (finding,) = findings(src, SKILL)
    assert dict(finding.evidence)["origin"] == "local"
    assert finding.fix is not None and not finding.fix.safe
    assert "not known to be hashable" in finding.fix.note
    after = fixed(src, SKILL)
    # built once, before the outermost loop that leaves the list alone
    assert "    reserved_set = set(reserved)\n    for row in rows:\n" in after
    assert "if word.lower() in reserved_set:" in after
    probe = "reserved_rows(['Select a From b', 'nothing here', 'where'], ['SELECT', 'where'])"
    assert run(src, probe) == run(after, probe) == ["Select", "where"]


def test_set_goes_inside_an_outer_loop_that_changes_the_list() -> None:
    src = """
    def merge(groups):
        files = []
        for group in groups:
            files.extend([f for f in group if f not in files])
        return files
    """
    (finding,) = findings(src, SKILL)
    assert dict(finding.evidence)["loop"].startswith("[f for f in group")
    after = fixed(src, SKILL)
    assert (
        "    for group in groups:\n        files_set = set(files)\n"
        "        files.extend([f for f in group if f not in files_set])\n"
    ) in after
    probe = "merge([['a', 'b'], ['b', 'c'], ['a', 'd']])"
    assert run(src, probe) == run(after, probe) == ["a", "b", "c", "d"]


def test_inline_built_lists_and_long_displays() -> None:
    src = """
    def known(keys, cache):
        return [k for k in keys if k in list(cache.keys())]

    def vowels(text):
        return [c for c in text if str(c) in ["a", "e", "i", "o", "u", "y", "A", "E", "I",
                                              "O", "U", "Y", "à", "é", "è", "ù"]]
    """
    built, display = findings(src, SKILL)
    assert dict(built.evidence)["origin"] == "built" and built.fix is None
    assert "builds a new list" in built.message
    assert dict(display.evidence)["origin"] == "display"
    assert display.fix is not None and display.fix.safe  # str(c): plain strings
    after = fixed(src, SKILL)
    assert 'str(c) in {"a", "e", "i"' in after and '"ù"}]' in after
    assert run(src, "vowels('Beautiful élan')") == run(after, "vowels('Beautiful élan')")


def test_traps_are_not_reported() -> None:
    src = """
    SMALL = ["GET", "HEAD"]
    LOOKUP = {"a", "b", "c"}
    TABLE = {n: n for n in range(1000)}
    PAIRS = [[n, n + 1] for n in range(1000)]

    def dedupe(items):
        seen = []
        for x in items:
            if x not in seen:            # the loop appends: a set made before goes stale
                seen.append(x)
        return seen

    def small(reqs):
        return [r for r in reqs if r.method in SMALL]          # 2 elements

    def literal(reqs):
        return [r for r in reqs if r in ("a", "b", "c")]       # short literal

    def sets(xs):
        return [x for x in xs if x in LOOKUP or x in TABLE]    # already hashed

    def unhashable(xs):
        return [x for x in xs if x in PAIRS]                   # a set cannot hold lists

    def text(chars):
        return [c for c in chars if c in "aeiou"]              # a string

    def param(xs, allowed):
        return [x for x in xs if x in allowed]                 # type unknown

    def not_in_loop(x):
        return x in [n for n in range(100)]

    def rebuilt(rows):
        for row in rows:
            cols = [c for c in row]
            for c in row:
                if c in cols:              # reported: the inner loop leaves cols alone
                    pass

    def sometimes_none(rows, flag):
        cols = [c for c in rows]
        if flag:
            cols = None                    # not always a list
        return [r for r in rows if r in cols]
    """
    assert lines(src, SKILL) == [39]  # `c in cols` in rebuilt()
    after = fixed(src, SKILL)
    assert "        cols_set = set(cols)\n        for c in row:\n" in after

    changing = """
    def grow(xs):
        names = [str(n) for n in range(100)]
        for x in xs:
            if x in names:
                names.remove(x)
    """
    assert lines(changing, SKILL) == []


def test_annotated_parameters_and_lists_changed_elsewhere() -> None:
    src = """
    REGISTRY = [f"plugin{n}" for n in range(50)]

    def register(name):
        REGISTRY.append(name)

    def enabled(names):
        return [n for n in names if n in REGISTRY]

    def pick(xs, allowed: list[str]):
        return [x for x in xs if x in allowed]
    """
    registry, annotated = findings(src, SKILL)
    evidence = dict(registry.evidence)
    assert "REGISTRY.append(name)" in evidence["changed_elsewhere"]
    assert registry.confidence < 0.5
    assert registry.fix is not None and not registry.fix.safe  # no module-level frozenset
    assert "changed elsewhere in the module" in registry.fix.note
    assert dict(annotated.evidence)["origin"] == "param"
    after = fixed(src, SKILL)
    assert "REGISTRY_set = set(REGISTRY)" in after and "_REGISTRY_SET" not in after
    probe = "register('x'), enabled(['x', 'plugin3', 'y'])"
    assert run(src, probe) == run(after, probe)


def test_lists_of_dict_keys_point_at_the_dict() -> None:
    src = """
    def missing(checked, simple):
        simple_keys = list(simple.keys())
        return [k for k in checked if k not in simple_keys]
    """
    (finding,) = findings(src, SKILL)
    assert "test the mapping it copies directly (`… in simple`)" in finding.message


def test_tuples_passed_to_functions_stay_unchanged() -> None:
    src = """
    QUOTES = tuple(f"q{n}" for n in range(40))

    def show(q):
        return q

    def check(xs):
        show(QUOTES)
        return [x for x in xs if x in QUOTES]
    """
    (finding,) = findings(src, SKILL)
    assert dict(finding.evidence)["sequence"] == "QUOTES: a tuple, 40 elements"


def test_suppression_and_half_typed_file() -> None:
    src = """
    NAMES = [str(n) for n in range(100)]

    def f(xs):
        return [x for x in xs if x in NAMES]  # megawatt: ignore[list-membership-in-loop]

    def g(xs):  # megawatt: ignore
        return [x for x in xs if x in NAMES]

    def h(xs):
        return [x for x in xs if x in NAMES]

    def broken(:
        return [x for x in
    """
    assert lines(src, SKILL) == [11]
