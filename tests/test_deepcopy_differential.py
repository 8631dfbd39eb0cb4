"""deepcopy-in-hot-path, checked by running the code: applying the finding's advice (use the
original instead of the copy) to every reported call keeps results, exceptions and the inputs'
state; the same edit on the calls left unreported (copies stored, changed, or snapshots taken
before a change) would change behaviour, which is why they are not reported."""

from __future__ import annotations

import textwrap
from typing import Any

from megawatt.analyzers.context import FileContext, text
from megawatt.fixes.edits import apply_edits
from megawatt.model import Edit
from tests.detectors import findings, run

SKILL = "deepcopy-in-hot-path"

# shapes from the shop example, scrapy's JsonRequest and networkx's graph methods
MODULE = textwrap.dedent(
    """
    import copy
    from dataclasses import dataclass, field

    TAX_RATE = 0.2

    @dataclass
    class Order:
        sku: str
        quantity: int
        unit_price: float
        tags: list = field(default_factory=list)

    def price(order):
        snapshot = copy.deepcopy(order)
        subtotal = snapshot.quantity * snapshot.unit_price
        return round(subtotal * (1 + TAX_RATE), 2)

    def label(order):
        o = copy.deepcopy(order) if order is not None else None
        return f"{o.sku} x{o.quantity} [{', '.join(o.tags)}]" if o else ""

    def heavy(orders):
        return sum(copy.deepcopy(o).quantity > 3 for o in orders)

    def tag_count(config):
        snap = copy.deepcopy(config)
        return len(snap.get("tags", ())) + len(snap["hooks"])

    class JsonRequest:
        def __init__(self, dumps_kwargs=None):
            dumps_kwargs = copy.deepcopy(dumps_kwargs) if dumps_kwargs is not None else {}
            dumps_kwargs.setdefault("sort_keys", True)
            self.dumps_kwargs = dumps_kwargs

    def json_request(kwargs):
        JsonRequest(kwargs)
        return kwargs

    def reverse(graph):
        h = {"graph": {}, "edges": []}
        h["graph"].update(copy.deepcopy(graph["graph"]))
        h["edges"].extend((v, u, copy.deepcopy(d)) for u, v, d in graph["edges"])
        h["graph"]["reversed"] = True
        for _, _, d in h["edges"]:
            d["seen"] = True
        return graph

    def bump(counts):
        old = copy.deepcopy(counts)
        counts["n"] += 1
        return old == counts
    """
)

REPORTED = ("price", "label", "heavy", "tag_count")
LEFT_ALONE = ("JsonRequest.__init__", "reverse", "bump")


def _inputs() -> list[tuple[str, str]]:
    """(function, argument expression): built afresh for each run, so runs share nothing."""
    return [
        ("price", "Order('A-1', 3, 2.5, ['x'])"),
        ("label", "Order('B-2', 1, 9.0, ['gift', 'fragile'])"),
        ("label", "None"),
        ("heavy", "[Order('a', 5, 1.0), Order('b', 1, 1.0), Order('c', 4, 1.0)]"),
        ("tag_count", "{'tags': ['a', 'b'], 'hooks': [1]}"),
        ("tag_count", "{'tags': ['a']}"),  # KeyError in both
        ("json_request", "{'indent': 2}"),
        ("reverse", "{'graph': {'name': 'g'}, 'edges': [(1, 2, {'w': 1})]}"),
        ("bump", "{'n': 1}"),
    ]


def _outcome(source: str, fn: str, arg: str) -> tuple[str, Any]:
    """What calling `fn(arg)` gives: the result and the argument's state after, or the error."""
    probe = f"(lambda a: (lambda r: (repr(r), repr(a)))({fn}(a)))({arg})"
    try:
        return "ok", run(source, probe)
    except Exception as exc:  # the exception is the outcome compared
        return "raised", type(exc).__name__


def _use_original(source: str, calls: list[tuple[int, int]]) -> str:
    """Every deepcopy call at (start, end) replaced by its argument: the finding's advice."""
    ctx = FileContext("m.py", source.encode())
    edits = []
    for start, end in calls:
        node = ctx.tree.root_node.descendant_for_byte_range(start, end)
        while node is not None and node.type != "call":
            node = node.parent
        assert node is not None
        args = node.child_by_field_name("arguments")
        assert args is not None
        edits.append(Edit(node.start_byte, node.end_byte, text(args.named_children[0])))
    return apply_edits(source.encode(), edits).decode()


def _deepcopy_calls(source: str, function: str) -> list[tuple[int, int]]:
    ctx = FileContext("m.py", source.encode())
    spans = []
    for ident in _identifiers(ctx.tree.root_node):
        call = ident.parent.parent if ident.parent is not None else None
        if text(ident) != "deepcopy" or call is None or call.type != "call":
            continue
        fn = ctx.function_of(call)
        if fn is not None and ctx.qualname(fn) == function:
            spans.append((call.start_byte, call.end_byte))
    return spans


def _identifiers(node: Any) -> list[Any]:
    found = [node] if node.type == "identifier" else []
    for child in node.named_children:
        found.extend(_identifiers(child))
    return found


def test_the_advice_keeps_behaviour_wherever_a_copy_is_reported() -> None:
    found = findings(MODULE, SKILL)
    assert sorted({f.function for f in found}) == sorted(REPORTED)
    rewritten = _use_original(MODULE, [(f.span.start_byte, f.span.end_byte) for f in found])
    assert "deepcopy(order)" not in rewritten and "copy.deepcopy(counts)" in rewritten
    for fn, arg in _inputs():
        assert _outcome(MODULE, fn, arg) == _outcome(rewritten, fn, arg), (fn, arg)
    assert findings(rewritten, SKILL) == []


def test_the_same_edit_on_the_calls_left_alone_would_change_behaviour() -> None:
    changed = []
    for function in LEFT_ALONE:
        rewritten = _use_original(MODULE, _deepcopy_calls(MODULE, function))
        assert rewritten != MODULE, function
        if any(_outcome(MODULE, fn, arg) != _outcome(rewritten, fn, arg) for fn, arg in _inputs()):
            changed.append(function)
    assert changed == list(LEFT_ALONE)
