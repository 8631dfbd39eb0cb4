"""deepcopy-in-hot-path: only a copy proven only read (or never used) is reported; a copy that
is stored, returned, handed on or changed, or that its function documents, is left alone."""

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
        return len(copy.deepcopy(x))

    def b(x):
        return len(cp.deepcopy(x))

    def c(x):
        return len(deepcopy(x))

    def d(x):
        return len(dc(x))
    """
    assert lines(src, SKILL) == [8, 11, 14, 17]


def test_scrapy_json_request_copy_is_changed_and_stored() -> None:
    # scrapy/http/request/json_request.py: the copy gets a default key and is kept on self,
    # so the "only read" the old message claimed was false
    src = """
    import copy
    from typing import Any

    class JsonRequest(Request):
        def __init__(
            self, *args: Any, dumps_kwargs: dict[str, Any] | None = None, **kwargs: Any
        ) -> None:
            dumps_kwargs = copy.deepcopy(dumps_kwargs) if dumps_kwargs is not None else {}
            dumps_kwargs.setdefault("sort_keys", True)
            self._dumps_kwargs: dict[str, Any] = dumps_kwargs
            super().__init__(*args, **kwargs)
    """
    assert lines(src, SKILL) == []


def test_networkx_to_directed_documents_its_deep_copy() -> None:
    # networkx/classes/graph.py: the deep copy is what to_directed promises
    src = '''
    from copy import deepcopy

    class Graph:
        def to_directed(self, as_view=False):
            """Returns a directed representation of the graph.

            This returns a "deepcopy" of the edge, node, and
            graph attributes which attempts to completely copy
            all of the data and references.
            """
            graph_class = self.to_directed_class()
            G = graph_class()
            G.graph.update(deepcopy(self.graph))
            G.add_nodes_from((n, deepcopy(d)) for n, d in self._node.items())
            G.add_edges_from(
                (u, v, deepcopy(data))
                for u, nbrs in self._adj.items()
                for v, data in nbrs.items()
            )
            return G

        def reverse(self, copy=True):
            if copy:
                H = self.__class__()
                H.graph.update(deepcopy(self.graph))
                H.add_nodes_from((n, deepcopy(d)) for n, d in self.nodes.items())
                H.add_edges_from((v, u, deepcopy(d)) for u, v, d in self.edges(data=True))
                return H
            return None

        def edge_dump(self):
            """Print every edge with an independent copy of its data."""
            for u, v, d in self.edges(data=True):
                print(u, v, deepcopy(d))
    '''
    assert lines(src, SKILL) == []
    undocumented = src.replace('"""Print every edge with an independent copy of its data."""', "")
    dump = next(i for i, line in enumerate(src.splitlines(), 1) if "print(u, v" in line)
    assert lines(undocumented, SKILL) == [dump]  # the docstring alone kept it quiet


def test_stored_returned_passed_and_mutated_copies_are_not_reported() -> None:
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
        return sum(i.price for i in snap.items)

    def aliased(cart):
        snap = copy.deepcopy(cart)
        items = snap.items
        items.clear()

    def through_get(config):
        snap = copy.deepcopy(config)
        hooks = snap.get("hooks")
        hooks.append("audit")
        return len(snap)

    def reassigned(order):
        new = copy.deepcopy(order)
        new.quantity = 0
        return new.quantity

    def handed_on(self, state):
        self.saved = copy.deepcopy(state)
        send(copy.deepcopy(state))
        history.append(copy.deepcopy(state))
        return copy.deepcopy(self.config)

    def part_returned(order):
        return copy.deepcopy(order).items

    def unpacked(split):
        left, right = copy.deepcopy(split)
        left.add(1)
        return right

    def closure(state):
        snap = copy.deepcopy(state)
        return lambda: snap

    def kept_in_loop(orders):
        out = []
        for o in orders:
            c = copy.deepcopy(o)
            out.append(c)
        return out
    """
    assert lines(src, SKILL) == []


def test_a_snapshot_taken_before_the_original_changes_is_not_reported() -> None:
    src = """
    import copy

    def apply_callbacks(graph, callbacks):
        before = copy.deepcopy(graph.graph)
        for cb in callbacks:
            cb(graph)
        if before != graph.graph:
            raise RuntimeError("a callback changed the graph attributes")

    def bump(counts):
        old = copy.deepcopy(counts)
        counts["n"] += 1
        return old == counts
    """
    assert lines(src, SKILL) == []


def test_only_read_copies_are_reported_with_their_evidence() -> None:
    src = """
    import copy

    def total(order):
        snap = copy.deepcopy(order)
        if snap.quantity > 3:
            return round(len(snap.tags) * snap.unit_price, 2)
        return len(snap.items.get("x", ()))

    def label(order):
        o = copy.deepcopy(order) if order is not None else None
        return f"{o.sku} x{o.quantity}" if o else ""
    """
    found = findings(src, SKILL)
    assert [(f.function, _use(f)) for f in found] == [
        ("total", "the copy is only read"),
        ("label", "the copy is only read"),
    ]
    assert "use order directly" in found[0].message
    assert "only read and order does not change while it is in use" in found[0].message


def test_loops_raise_confidence() -> None:
    src = """
    import copy

    def totals(orders):
        return sum(copy.deepcopy(o).total for o in orders)

    def big(order):
        return copy.deepcopy(order).quantity > 3
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
        return len(deepcopy(x))                      # the module's own deepcopy

    def method(self, x):
        return len(self.deepcopy(x))                 # not copy.deepcopy
    """
    assert lines(src, SKILL) == []


def test_tests_copying_apis_and_unused_copies() -> None:
    src = """
    import copy

    def test_copies(x):
        y = copy.deepcopy(x)                 # a test runs once: not a hot path
        assert len(y) == len(x)

    class Turtle:
        def clone(self):
            q = copy.deepcopy(self)          # the deep copy is what clone() promises
            return len(q.path)

    def warm(x):
        copy.deepcopy(x)
    """
    (discarded,) = findings(src, SKILL)
    assert discarded.function == "warm"
    assert _use(discarded).startswith("discarded") and "never used" in discarded.message


def test_suppression_and_half_typed_file() -> None:
    src = """
    import copy

    def f(x):
        return len(copy.deepcopy(x).a)  # megawatt: ignore[deepcopy-in-hot-path]

    def g(x):  # megawatt: ignore
        return len(copy.deepcopy(x).a)

    def h(x):
        return len(copy.deepcopy(x).a)

    def broken(:
        return copy.deepcopy(
    """
    assert lines(src, SKILL) == [11]


def test_members_iterated_in_a_comprehension_are_followed() -> None:
    src = """
    import copy

    def repriced(cart):
        snap = copy.deepcopy(cart)
        return [item.reprice(0.9) for item in snap.items]

    def names(cart):
        snap = copy.deepcopy(cart)
        return len([item.name for item in snap.items if item.name])
    """
    (found,) = findings(src, SKILL)
    assert found.function == "names"


def test_copying_apis_are_told_by_whole_words() -> None:
    src = """
    import copy
    import json

    def copy_graph(g):
        return len(copy.deepcopy(g))              # a copying API: its deep copy is the point

    def copyright_notice(meta):
        return json.dumps(copy.deepcopy(meta))    # "copy" is only part of a word; dumps reads
    """
    (found,) = findings(src, SKILL)
    assert found.function == "copyright_notice" and _use(found) == "the copy is only read"


def test_members_spread_joined_or_changed_in_place_are_not_reads() -> None:
    src = """
    import copy

    def spread(rows):
        out = [*copy.deepcopy(rows)]
        out[0].append(1)
        print(out)

    def joined(groups):
        flat = sum(copy.deepcopy(groups), [])
        flat[0].clear()
        return len(flat)

    def cleaned(frame):
        snap = copy.deepcopy(frame)
        snap.replace(-1, 0, inplace=True)
        print(snap)

    class Base(copy.deepcopy(Mixin)):
        pass
    """
    assert lines(src, SKILL) == []
