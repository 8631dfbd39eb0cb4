"""pop-front: positives, negatives with their traps, and the deque rewrite's behaviour."""

from __future__ import annotations

import sys
import types
from pathlib import Path
from typing import Any

from tests.detectors import findings, fixed, lines, run

SKILL = "pop-front"
SHOP = Path(__file__).resolve().parent.parent / "examples" / "shop.py"


def run_module(source: str, expression: str) -> Any:
    """Like `run`, with the module registered in sys.modules (dataclasses look it up)."""
    module = types.ModuleType("pop_front_example")
    sys.modules[module.__name__] = module
    try:
        exec(compile(source, "shop.py", "exec"), module.__dict__)
        return eval(expression, module.__dict__)
    finally:
        del sys.modules[module.__name__]


def test_finds_front_operations_on_lists_in_loops() -> None:
    src = """
    from typing import List

    def bfs(graph, start):
        seen = {start}
        queue = [start]
        order = []
        while queue:
            node = queue.pop(0)
            order.append(node)
            for nxt in graph[node]:
                if nxt not in seen:
                    seen.add(nxt)
                    queue.append(nxt)
        return order

    def ancestors(node):
        path = []
        while node is not None:
            path.insert(0, node.name)
            node = node.parent
        return path

    def consume(tokens: List[str]):
        out = []
        for _ in iter(int, 1):
            if not tokens:
                break
            out.append(tokens.pop(0))
        return out

    class Worker:
        def __init__(self):
            self.pending = []

        def drain(self):
            while self.pending:
                self.run(self.pending.pop(0))

    def args(argv):
        while argv:
            arg = argv.pop(0)
            print(arg)
    """
    found = findings(src, SKILL)
    assert [f.span.line for f in found] == [9, 20, 29, 38, 42]
    by_line = {f.span.line: f for f in found}
    assert by_line[9].confidence == 0.85  # a known list drained by `while queue:`
    assert dict(by_line[9].evidence)["receiver"] == "list (queue = [start])"
    assert "appendleft" in by_line[20].message
    assert dict(by_line[29].evidence)["receiver"] == "list (parameter annotated List[str])"
    assert "self.pending is set to a list" in dict(by_line[38].evidence)["receiver"]
    assert by_line[42].confidence < 0.6  # nothing shows argv is a list


def test_traps() -> None:
    from collections import deque  # noqa: F401  (the trap below is about code, not imports)

    src = """
    import collections
    from collections import deque

    def dicts(keys):
        cache = {0: "zero"}
        for k in keys:
            cache.pop(0)               # a dict: a key lookup

    def deques(items):
        q = collections.deque(items)
        while q:
            q.popleft()
        d = deque(items)
        while d:
            d.pop(0) if False else d.popleft()

    def not_in_loop(xs):
        xs = list(xs)
        return xs.pop(0)

    def fresh_each_time(lines):
        for line in lines:
            fields = line.split()
            name = fields.pop(0)       # a new short list per line
            print(name, fields)

    def widgets(entry, names):
        for n in names:
            entry.insert(0, n)         # a Tk Entry, not a list

    def other_index(xs):
        xs = list(xs)
        while xs:
            xs.pop(1)
            xs.pop()
            xs.insert(1, 0)

    def few(xs):
        xs = list(xs)
        for _ in range(2):
            xs.pop(0)
    """
    assert lines(src, SKILL) == []


def test_one_finding_per_list_and_loop() -> None:
    src = """
    def pairs(items):
        items = list(items)
        out = []
        while items:
            a = items.pop(0)
            b = items.pop(0) if items else None
            out.append((a, b))
        return out
    """
    (finding,) = findings(src, SKILL)
    assert finding.span.line == 6
    after = fixed(src, SKILL)
    assert "a = items.popleft()" in after and "b = items.popleft() if items else None" in after
    for data in ("[]", "[1]", "[1, 2, 3]"):
        assert run(src, f"pairs({data})") == run(after, f"pairs({data})")


def test_shop_settle_fix_behaves_the_same() -> None:
    src = SHOP.read_text(encoding="utf-8")
    (finding,) = findings(src, SKILL, path=str(SHOP))
    assert finding.function == "settle"
    assert finding.fix is not None and finding.fix.safe
    assert finding.fix.title == (
        "Make queue a collections.deque and take items from its front in O(1)"
    )
    after = fixed(src, SKILL)
    assert "\nimport collections\nimport copy\n" in after  # isort order
    assert "    queue = collections.deque(orders)\n" in after
    assert "        order = queue.popleft()\n" in after
    assert lines(after, SKILL) == []
    for expr in ("settle(make_orders(50))", "settle([])", "run(300)"):
        assert run_module(src, expr) == run_module(after, expr)


def test_fix_shapes_and_existing_import() -> None:
    src = """
    from collections import deque

    def bfs(graph, start):
        queue = [start]
        seen = [start]
        while queue:
            node = queue.pop(0)
            for nxt in graph.get(node, ()):
                if nxt not in seen and nxt not in queue:
                    seen.append(nxt)
                    queue.append(nxt)
            if len(queue) > 1 and queue[-1] == queue[0]:
                queue.pop()
        return seen

    def rev(xs):
        out = []
        for x in xs:
            out.insert(0, x * 2)
        return sorted(out) + list(out)

    def words(text):
        todo = text.split()
        got = []
        while todo and len(got) < 3:
            got.append(todo.pop(0))
        return got, len(todo)
    """
    after = fixed(src, SKILL)
    assert "queue = deque([start])" in after and "node = queue.popleft()" in after
    assert "out = deque()" in after and "out.appendleft(x * 2)" in after
    assert "todo = deque(text.split())" in after
    assert after.count("import") == 1
    graph = "{1: [2, 3], 2: [4], 3: [4, 1], 4: []}"
    assert run(src, f"bfs({graph}, 1)") == run(after, f"bfs({graph}, 1)") == [1, 2, 3, 4]
    assert run(src, "rev([3, 1, 2])") == run(after, "rev([3, 1, 2])")
    assert (
        run(src, "words('a b c d e')") == run(after, "words('a b c d e')") == (["a", "b", "c"], 2)
    )


def test_fix_refuses_uses_a_deque_would_change() -> None:
    src = """
    def returned(xs):
        q = list(xs)
        while len(q) > 1:
            q.pop(0)
        return q                      # the caller may expect a list

    def sliced(xs):
        q = list(xs)
        while q:
            q.pop(0)
            print(q[1:])

    def compared(xs):
        q = list(xs)
        while q != []:
            q.pop(0)

    def sorted_in_place(xs):
        q = list(xs)
        while q:
            q.sort()
            q.pop(0)

    def passed_on(xs, sink):
        q = list(xs)
        while q:
            sink(q)
            q.pop(0)

    def mutated_while_iterating(xs):
        q = list(xs)
        for x in q:
            if x > 0:
                q.append(x - 1)
        while q:
            q.pop(0)

    def parameter(q: list):
        while q:
            q.pop(0)

    def assigned_twice(xs, ys):
        q = list(xs)
        while q:
            q.pop(0)
        q = list(ys)

    def middle_index(xs):
        q = list(xs)
        while q:
            print(q[1] if len(q) > 1 else None)
            q.pop(0)
    """
    found = findings(src, SKILL)
    assert len(found) == 9
    assert [f.fix for f in found] == [None] * 9


def test_suppression_and_half_typed_file() -> None:
    src = """
    def a(xs):
        q = list(xs)
        while q:
            q.pop(0)  # megawatt: ignore[pop-front]

    def b(xs):
        q = list(xs)
        while q:
            q.pop(0)

    def broken(:
        q = list(
        while q:
            q.pop(0)
    """
    assert lines(src, SKILL) == [10]


def test_import_goes_below_the_module_header() -> None:
    src = (
        "#!/usr/bin/env python\n"
        "# -*- coding: utf-8 -*-\n"
        '"""Drain jobs."""\n'
        "from __future__ import annotations\n"
        "\n"
        "def drain(jobs):\n"
        "    todo = list(jobs)\n"
        "    while todo:\n"
        "        todo.pop(0)\n"
    )
    after = fixed(src, SKILL)
    assert after.startswith(
        "#!/usr/bin/env python\n# -*- coding: utf-8 -*-\n"
        '"""Drain jobs."""\nfrom __future__ import annotations\n\nimport collections\n'
    )
    assert "    todo = collections.deque(jobs)\n" in after


def test_lists_tiny_by_construction_are_left_alone() -> None:
    src = '''
    import sys


    def owner_of(func):
        """The class a method is defined in, from its qualified name."""
        parts = func.__qualname__.split(".")
        owner = sys.modules[func.__module__]
        while len(parts) > 1:
            owner = getattr(owner, parts.pop(0))
        return owner


    def package_chain(cls):
        names = cls.__module__.split(".")
        found = []
        while names:
            found.append(names.pop(0))
        return found


    def parse_request_line(line: str):
        fields = line.split(" ", 2)
        method = fields.pop(0)
        while fields:
            print(method, fields.pop(0))
    '''
    assert lines(src, SKILL) == []
    assert run(src, "package_chain(int)") == ["builtins"]


def test_lists_that_may_grow_are_still_reported() -> None:
    src = """
    def walk(root):
        queue = [root]
        seen = []
        while queue:
            node = queue.pop(0)
            seen.append(node)
            queue.extend(node.children)
        return seen


    def resolve(path: str):
        parts = path.split("/")
        while parts:
            print(parts.pop(0))


    def modules(cls):
        names = cls.__module__.split(".")
        names += ["extra"]
        while names:
            print(names.pop(0))
    """
    assert lines(src, SKILL) == [6, 15, 22]
