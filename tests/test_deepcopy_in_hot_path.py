"""deepcopy-in-hot-path: positives, name resolution, what the evidence says about the copy."""

from __future__ import annotations

from pathlib import Path

from tests.detectors import findings, lines

SKILL = "deepcopy-in-hot-path"
SHOP = Path(__file__).resolve().parent.parent / "examples" / "shop.py"


def _use(finding) -> str:  # type: ignore[no-untyped-def]
    return dict(finding.evidence)["copy_use"]


def test_shop_price_copy_is_only_read() -> None:
    (finding,) = findings(SHOP.read_text(), SKILL)
    assert finding.function == "price"
    assert _use(finding) == "the copy is only read"
    assert "copy.deepcopy(order)" in finding.message and "use order directly" in finding.message
    assert finding.confidence == 0.7
    assert finding.fix is None  # the right copy depends on the code: guidance only


def test_resolves_every_import_form() -> None:
    src = """
    import copy
    import copy as cp
    from copy import deepcopy
    from copy import deepcopy as dc

    def a(x):
        return copy.deepcopy(x)

    def b(x):
        return cp.deepcopy(x)

    def c(x):
        return deepcopy(x)

    def d(x):
        return dc(x)
    """
    assert lines(src, SKILL) == [8, 11, 14, 17]


def test_evidence_says_how_the_copy_is_used() -> None:
    src = """
    import copy

    def tagged(order, tag):
        new = copy.deepcopy(order)
        new.tags.append(tag)
        return new

    def discounted(cart):
        snap = copy.deepcopy(cart)
        for item in snap.items:
            item.price *= 0.9
        return snap.total()

    def aliased(cart):
        snap = copy.deepcopy(cart)
        items = snap.items
        items.clear()

    def reassigned(order):
        new = copy.deepcopy(order)
        new.quantity = 0
        return new.quantity

    def total(order):
        snap = copy.deepcopy(order)
        if snap.quantity > 3:
            return len(snap.tags) * snap.unit_price
        return snap.items.get("x")

    def handed_on(self, state):
        self.saved = copy.deepcopy(state)
        send(copy.deepcopy(state))
        return copy.deepcopy(self.config)
    """
    found = findings(src, SKILL)
    uses = [(f.function, _use(f)) for f in found]
    assert uses == [
        ("tagged", "mutated: new.tags.append(tag)"),
        ("discounted", "mutated: item.price *= 0.9"),
        ("aliased", "mutated: items.clear()"),
        ("reassigned", "mutated: new.quantity = 0"),
        ("total", "the copy is only read"),
        ("handed_on", "stored in self.saved"),
        ("handed_on", "passed to send()"),
        ("handed_on", "returned to the caller"),
    ]
    by_fn = {f.function: f for f in found}
    assert by_fn["total"].confidence > by_fn["tagged"].confidence > found[-1].confidence
    assert "line 6" in dict(by_fn["tagged"].evidence)["where"]
    assert "copy only what changes" in by_fn["tagged"].message


def test_loops_raise_confidence() -> None:
    src = """
    import copy

    def snapshots(orders):
        return [copy.deepcopy(o).total for o in orders]

    def one(order):
        return copy.deepcopy(order).total
    """
    looped, single = findings(src, SKILL)
    assert ("in_loop", "true") in looped.evidence
    assert looped.confidence > single.confidence
    assert "on every iteration" in looped.message


def test_traps_are_not_reported() -> None:
    src = """
    import copy

    DEFAULTS = copy.deepcopy(BASE)                   # module level: runs once

    class Node:
        def __deepcopy__(self, memo):
            return Node(copy.deepcopy(self.children, memo))   # implementing deepcopy

        def __copy__(self):
            return Node(copy.deepcopy(self.children))

    def with_memo(x, memo):
        return copy.deepcopy(x, memo)                # passes a memo: part of a deepcopy

    def deepcopy(x):
        return x

    def local(x):
        return deepcopy(x)                           # the module's own deepcopy

    def method(self, x):
        return self.deepcopy(x)                      # not copy.deepcopy
    """
    assert lines(src, SKILL) == []


def test_tests_copying_apis_and_unused_copies() -> None:
    src = """
    import copy

    def test_copies(x):
        y = copy.deepcopy(x)                 # a test runs once: not a hot path
        assert y == x

    class Turtle:
        def clone(self):
            q = copy.deepcopy(self)          # the deep copy is what clone() promises
            q.screen = None
            return q

        def area(self):
            q = copy.deepcopy(self)
            q.screen = None
            return q.size

    def warm(x):
        copy.deepcopy(x)
    """
    area, discarded = findings(src, SKILL)
    assert area.function == "Turtle.area" and _use(area) == "mutated: q.screen = None"
    assert _use(discarded).startswith("discarded") and "never used" in discarded.message


def test_suppression_and_half_typed_file() -> None:
    src = """
    import copy

    def f(x):
        return copy.deepcopy(x).a  # megawatt: ignore[deepcopy-in-hot-path]

    def g(x):  # megawatt: ignore
        return copy.deepcopy(x).a

    def h(x):
        return copy.deepcopy(x).a

    def broken(:
        return copy.deepcopy(
    """
    assert lines(src, SKILL) == [11]
