"""loop-invariant on the shapes real code showed it getting wrong (networkx 3.6.1).

Each shape is networkx's own code, reduced to what the detector sees but still runnable: the
DSATUR colouring generator, the degree-sequence generator's phase 2, the docstring walk in
`utils/backends.py`; beside them the tokenizer and splitter loops the hoist is meant for.
"""

from __future__ import annotations

import textwrap

from tests.detectors import findings, fixed, lines, run

SKILL = "loop-invariant"

# networkx/algorithms/coloring/greedy_coloring.py: the strategy is a generator, and greedy_color
# colours each node it yields before asking for the next, so `colors` grows between the tests
DSATUR = """
import itertools


def strategy_saturation_largest_first(G, colors):
    distinct_colors = {v: set() for v in G}
    for node, color in colors.items():
        for neighbor in G[node]:
            distinct_colors[neighbor].add(color)
    if not colors:
        node = max(G, key=G.degree)
        yield node
        for v in G[node]:
            distinct_colors[v].add(0)
    while len(G) != len(colors):
        for node, color in colors.items():
            for neighbor in G[node]:
                distinct_colors[neighbor].add(color)
        saturation = {v: len(c) for v, c in distinct_colors.items() if v not in colors}
        node = max(saturation, key=lambda v: (saturation[v], G.degree(v)))
        yield node


def greedy_color(G, strategy=strategy_saturation_largest_first):
    if len(G) == 0:
        return {}
    colors = {}
    for u in strategy(G, colors):
        neighbour_colors = {colors[v] for v in G[u] if v in colors}
        for color in itertools.count():
            if color not in neighbour_colors:
                break
        colors[u] = color
    return colors


class Graph:
    def __init__(self, adj):
        self._adj = {u: set(vs) for u, vs in adj.items()}

    def __len__(self):
        return len(self._adj)

    def __iter__(self):
        return iter(self._adj)

    def __getitem__(self, n):
        return self._adj[n]

    def degree(self, n):
        return len(self._adj[n])


def cycle(n):
    return Graph({i: {(i - 1) % n, (i + 1) % n} for i in range(n)})
"""

# networkx/generators/degree_seq.py: `remaining_deg` is `self.remaining_degree`, which
# `self.update_remaining` shrinks; the loop never names it when it changes
DEGREE_SEQ = """
import random


class DegreeSequenceRandomGraph:
    def __init__(self, degree, rng):
        self.degree = list(degree)
        self.m = sum(self.degree) / 2.0
        self.dmax = max(self.degree)
        self.rng = rng
        self.edges = set()

    def generate(self):
        self.remaining_degree = {n: d for n, d in enumerate(self.degree) if d}
        self.phase2()
        return sorted(self.edges), sorted(self.remaining_degree.items())

    def update_remaining(self, u, v):
        for w in (u, v):
            if self.remaining_degree[w] == 1:
                del self.remaining_degree[w]
            else:
                self.remaining_degree[w] -= 1

    def p(self, u, v):
        return 1 - self.degree[u] * self.degree[v] / (4.0 * self.m)

    def q(self, u, v):
        norm = max(self.remaining_degree.values()) ** 2
        return self.remaining_degree[u] * self.remaining_degree[v] / norm

    def phase2(self):
        remaining_deg = self.remaining_degree
        rng = self.rng
        while len(remaining_deg) >= 2 * self.dmax:
            while True:
                u, v = sorted(rng.sample(list(remaining_deg.keys()), 2))
                if (u, v) in self.edges:
                    continue
                if rng.random() < self.q(u, v):
                    break
            if rng.random() < self.p(u, v):
                self.edges.add((u, v))
                self.update_remaining(u, v)


def random_degree_sequence_graph(sequence, seed):
    return DegreeSequenceRandomGraph(sequence, random.Random(seed)).generate()
"""

# the same aliasing in a plain function: `queue` is `order`
ALIAS = """
def bfs_order(graph, start):
    order = [start]
    queue = order
    seen = {start}
    i = 0
    while i < len(order):
        for nbr in graph[queue[i]]:
            if nbr not in seen:
                seen.add(nbr)
                queue.append(nbr)
        i += 1
    return order
"""


def test_no_hoist_out_of_a_generator_loop_whose_operands_change_between_yields() -> None:
    # greedy_coloring.py:235: hoisting len(colors) made DSATUR loop past the last node and
    # call max() on an empty dict (ValueError)
    assert [dict(f.evidence)["expression"] for f in findings(DSATUR, SKILL)] == []
    assert fixed(DSATUR, SKILL) == textwrap.dedent(DSATUR)
    assert run(DSATUR, "greedy_color(cycle(5))") == {0: 0, 1: 1, 2: 0, 3: 1, 4: 2}


def test_no_hoist_when_an_alias_of_the_operand_changes() -> None:
    # degree_seq.py:840 (phase2): applied, random_degree_sequence_graph raised ValueError
    # (rng.sample of fewer than 2 nodes)
    assert findings(DEGREE_SEQ, SKILL) == []
    assert fixed(DEGREE_SEQ, SKILL) == textwrap.dedent(DEGREE_SEQ)
    assert findings(ALIAS, SKILL) == []  # was offered as a *safe* fix
    assert run(ALIAS, "bfs_order({1: [2, 3], 2: [4], 3: [], 4: [1]}, 1)") == [1, 2, 3, 4]


def test_no_hoist_when_a_call_in_the_loop_may_change_the_operand() -> None:
    # `items` is the caller's list; `self.flush()` may well empty it through another reference:
    # the loop cannot be shown to leave it alone, so no rewrite is offered
    src = """
    class Batcher:
        def drain(self, items):
            sent = 0
            while sent < len(items):
                self.send(items[sent])
                sent += 1
                self.flush()
            return sent
    """
    (finding,) = findings(src, SKILL)
    assert finding.fix is None
    # a method handed to a builtin runs inside it, just as a call written out would
    keyed = """
    class Planner:
        def plan(self, steps):
            total = i = 0
            while i < len(steps):
                total += max(steps[i], key=self.weigh)
                i += 1
            return total
    """
    (finding,) = findings(keyed, SKILL)
    assert finding.fix is None


def test_immutable_operands_are_known_immutable() -> None:
    # the old note called a `str` "shared with other code that changes its contents"
    src = """
    def tokenize(text: str) -> list[str]:
        out = []
        pos = 0
        while pos < len(text):
            out.append(text[pos])
            pos += 1
        return out


    def scan_bytes(data: bytes | None, stop: int) -> int:
        i = 0
        while i < len(data) and data[i] != stop:
            i += 1
        return i


    def parse_version(parts: tuple[int, ...]) -> int:
        value = i = 0
        while i < len(parts):
            value = value * 100 + parts[i]
            i += 1
        return value


    def is_indent_code_line(line: str) -> bool:
        # mistune block_parser.py: a slice of a str is a str
        if line.endswith("\\n"):
            line = line[:-1]
        index = 0
        while index < len(line) and line[index] == " ":
            index += 1
        return index + 1 < len(line) and line[index] == "\\t"


    def pad(word):
        fill = "-" * 4
        while len(word) < len(fill):
            word = word + "."
        return word
    """
    found = findings(src, SKILL)
    assert [(f.span.line, f.fix is not None and f.fix.safe) for f in found] == [
        (5, True),
        (13, True),
        (20, True),
        (31, True),
        (38, True),
    ]
    after = fixed(src, SKILL, only_safe=True)
    for probe in (
        "tokenize('abc')",
        "scan_bytes(b'ab;c', 59)",
        "parse_version((3, 6, 1))",
        "[is_indent_code_line(s) for s in ('  \\tx\\n', '    x', '', '   ')]",
    ):
        assert run(src, probe) == run(after, probe)
    assert run(src, "pad('ab')") == run(after, "pad('ab')") == "ab.."
    # `.strip()` of a bytearray is a bytearray: changed in place, it is not taken for a str
    squeeze = """
    def squeeze(raw):
        buf = raw.strip()
        i = 0
        while i < len(buf):
            if buf[i] == 32:
                del buf[i]
            else:
                i += 1
        return buf
    """
    assert findings(squeeze, SKILL) == []


CSV = """
def split_fields(line: str) -> list[str]:
    fields = []
    i = 0
    while i < len(line):
        j = i
        while j < len(line) and line[j] != ",":
            j += 1
        fields.append(line[i:j].strip())
        i = j + 1
    return fields


def read_name(src: str, i: int) -> tuple[str, int]:
    start = i
    while i < len(src):
        if src[i] == "\\\\" and i + 1 < len(src):
            i += 2
            continue
        if not (src[i].isalnum() or src[i] == "_"):
            break
        i += 1
    return src[start:i], i
"""


def test_one_hoist_per_expression_placed_before_the_outermost_invariant_loop() -> None:
    after = fixed(CSV, SKILL, only_safe=True)
    split_fields, read_name = after.split("\n\n\ndef read_name")
    # one assignment, before the outer loop: not a second `line_len_2 = len(line)` inside it
    assert split_fields.count("len(line)") == 1
    assert "    line_len = len(line)\n    while i < line_len:\n" in split_fields
    assert "        while j < line_len and line[j] != " in split_fields
    # the body's `len(src)` is the same value: covered by the same hoist
    assert read_name.count("len(src)") == 1
    assert "i + 1 < src_len" in read_name
    for probe in ("split_fields('a, b,,c')", "split_fields('')", "read_name('ab\\\\cd e', 0)"):
        assert run(CSV, probe) == run(after, probe)
    assert findings(after, SKILL) == []


def test_a_later_loop_reuses_the_hoist_of_an_unchangeable_value() -> None:
    # mistune helpers.py `_skip_link_start_whitespace`: the second loop got its own
    # `src_len = len(src)` inside the `if`, a repeat of the one before the first loop
    src = """
    def skip_link_start_whitespace(src: str, pos: int) -> int:
        while pos < len(src) and src[pos] in " \\t":
            pos += 1
        if pos < len(src) and src[pos] in "\\n\\r":
            if src[pos] == "\\r" and pos + 1 < len(src) and src[pos + 1] == "\\n":
                pos += 2
            else:
                pos += 1
            while pos < len(src) and src[pos] in " \\t":
                pos += 1
        return pos
    """
    after = fixed(src, SKILL, only_safe=True)
    assert after.count("len(src)") == 1
    assert "    src_len = len(src)\n    while pos < src_len and" in after
    probes = ["  x", " \r\n  y", "\n\tz", "", "   ", "\r"]
    for text in probes:
        probe = f"skip_link_start_whitespace({text!r}, 0)"
        assert run(src, probe) == run(after, probe)


def test_hoists_in_one_function_get_names_of_their_own() -> None:
    # fixes made in one round cannot see each other's names: both were `rows_len`, and the
    # inner loop's assignment overwrote the outer loop's bound
    src = """
    class Table:
        def __init__(self, rows):
            self.rows = rows

        def join(self, other):
            pairs = []
            i = 0
            while i < len(self.rows):
                j = 0
                while j < len(other.rows):
                    if self.rows[i][0] == other.rows[j][0]:
                        pairs.append((self.rows[i][1], other.rows[j][1]))
                    j += 1
                i += 1
            return pairs
    """
    after = fixed(src, SKILL)
    assert "self_rows_len = len(self.rows)" in after
    assert "other_rows_len = len(other.rows)" in after
    probe = "Table([(1, 'a'), (2, 'b'), (1, 'c')]).join(Table([(1, 'x')]))"
    assert run(src, probe) == run(after, probe) == [("a", "x"), ("c", "x")]


def test_a_name_used_only_in_other_functions_is_free() -> None:
    # test/_test_eintr.py got `data_len_2` because another test had a local `data_len`
    src = """
    def send_all(sock, data: bytes) -> int:
        written = 0
        while written < len(data):
            written += sock.send(data[written:])
        return written


    def header(data):
        data_len = len(data)
        return data_len.to_bytes(4, "big") + data
    """
    after = fixed(src, SKILL, only_safe=True)
    assert "    data_len = len(data)\n    while written < data_len:\n" in after
    assert "data_len_2" not in after


def test_one_finding_per_expression_per_loop() -> None:
    src = """
    def twice(points: tuple[float, ...], scale: float) -> list[float]:
        out = []
        for p in points:
            out.append(p * scale / len(points) + len(points))
        return out
    """
    (finding,) = findings(src, SKILL)
    assert dict(finding.evidence)["expression"] == "len(points)"
    assert dict(finding.evidence)["occurrences"] == "2"


def test_bounded_loops_are_left_alone() -> None:
    src = """
    import os


    def test_multigraph_keys(directed, write):
        for multigraph in [None, False, True]:
            write("directed " + str(int(directed)) + " multigraph " + str(multigraph))


    def module_parts(obj, root):
        found = []
        for part in obj.__module__.split("."):
            found.append(os.path.join(root, "pkg") + part)
        parts = obj.__qualname__.split(".")
        for part in parts:
            found.append(os.path.join(root, "cls") + part)
        return found


    def retry(connect, root, host):
        attempts = 0
        while attempts < 3:
            sock = connect(os.path.join(root, host), attempts)
            if sock is not None:
                return sock
            attempts += 1
        return None


    def header(rows, widths: list[int]):
        for i in range(4):
            print(sum(widths), rows[i])
    """
    assert lines(src, SKILL) == []
    unbounded = """
    import os


    def module_paths(names, root):
        return [os.path.join(root, "pkg") + n for n in names]


    def clockwise_neighbours(embedding, pos):
        # networkx tests/test_planar_drawing.py: the list starts empty, then grows
        found = {}
        for v in embedding:
            nbr_vectors = []
            for nbr in embedding[v]:
                nbr_vectors.append((pos[nbr][0] - pos[v][0], pos[nbr][1] - pos[v][1], nbr))
            nbr_vectors.sort()
            for idx, vector in enumerate(nbr_vectors):
                found[vector[2]] = nbr_vectors[(idx + 1) % len(nbr_vectors)][2]
        return found
    """
    assert lines(unbounded, SKILL) == [6, 18]
