"""loop-invariant's rewrite applied to realistic code, checked by running it: the original and the
rewritten module get the same inputs and must give the same results (or raise the same errors).

The module is modelled on the loops the rewrite met in networkx 3.6.1 - the GML tokenizer
(`readwrite/gml.py`), the dispatcher's docstring walk (`utils/backends.py`), the overlap
projection (`algorithms/bipartite/projection.py`), communicability's triple loop, DSATUR
colouring and the degree-sequence generator - beside the tokenizer and splitter loops of
parsers. Every fix is applied, unsafe ones included.
"""

from __future__ import annotations

from typing import Any

from tests.detectors import findings, fixed, run

SKILL = "loop-invariant"

MODULE = r"""
import itertools
import random
import re


def tokenize_gml(lines):
    patterns = [
        r"[A-Za-z][0-9A-Za-z_]*\b",
        r"[+-]?(?:[0-9]*\.[0-9]+|[0-9]+\.[0-9]*|INF)(?:[Ee][+-]?[0-9]+)?",
        r"[+-]?[0-9]+",
        r'".*?"',
        r"\[",
        r"\]",
        r"#.*$|\s+",
    ]
    tokens = re.compile("|".join(f"({pattern})" for pattern in patterns))
    out = []
    for lineno, line in enumerate(lines):
        pos = 0
        length = len(line)
        while pos < length:
            match = tokens.match(line, pos)
            if match is None:
                raise ValueError(f"cannot tokenize {line[pos:]} at ({lineno + 1}, {pos + 1})")
            for i in range(len(patterns)):
                group = match.group(i + 1)
                if group is not None and i < 6:
                    out.append((i, group))
            pos = match.end()
    return out


def attention_index(doc):
    lines = doc.split("\n")
    index = 0
    while not lines[index].strip():
        index += 1
    while index < len(lines) and lines[index].strip():
        index += 1
    return index


def overlap_weights(B, nodes):
    weights = {}
    for u in nodes:
        unbrs = set(B[u])
        nbrs2 = {n for nbr in unbrs for n in B[nbr]} - {u}
        for v in sorted(nbrs2):
            vnbrs = set(B[v])
            weights[u, v] = len(unbrs & vnbrs) / min(len(unbrs), len(vnbrs))
    return weights


def walk_sums(G, vec):
    nodelist = list(G)
    mapping = dict(zip(nodelist, range(len(nodelist))))
    c = {}
    for u in G:
        c[u] = {}
        for v in G:
            s = 0
            for j in range(len(nodelist)):
                s += vec[mapping[u]][j] * vec[mapping[v]][j]
            c[u][v] = s
    return c


def tokenize(text: str) -> list[str]:
    out = []
    pos = 0
    while pos < len(text):
        if text[pos].isspace():
            pos += 1
            continue
        start = pos
        while pos < len(text) and not text[pos].isspace():
            pos += 1
        out.append(text[start:pos])
    return out


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


def lines_of(text: str):
    i = 0
    while i < len(text):
        j = text.find("\n", i)
        if j < 0:
            j = len(text)
        yield text[i:j]
        i = j + 1


class Scanner:
    def __init__(self, text):
        self.text = text
        self.pos = 0

    def skip_blanks(self):
        while self.pos < len(self.text) and self.text[self.pos] == " ":
            self.pos += 1
        return self.pos


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


def strategy_saturation_largest_first(G, colors):
    distinct_colors = {v: set() for v in G}
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


def greedy_color(G):
    colors = {}
    if len(G) == 0:
        return colors
    for u in strategy_saturation_largest_first(G, colors):
        neighbour_colors = {colors[v] for v in G[u] if v in colors}
        for color in itertools.count():
            if color not in neighbour_colors:
                break
        colors[u] = color
    return colors


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
        return sorted(self.edges), sorted(self.remaining_degree)

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


def cycle(n):
    return Graph({i: {(i - 1) % n, (i + 1) % n} for i in range(n)})
"""

PROBES = [
    "tokenize_gml(['graph [', '  node [ id 1 label \"a b\" ]', '  weight -1.5e3 # x', ']'])",
    "tokenize_gml([''])",
    "tokenize_gml(['node ?'])",
    "attention_index('\\n\\n  Summary line.\\n  More.\\n\\n  Body.')",
    "attention_index('one')",
    "attention_index('\\n  ')",
    "overlap_weights({1: [2, 3], 2: [1, 3], 3: [1, 2, 4], 4: [3]}, [1, 2, 3, 4])",
    "overlap_weights({1: []}, [1])",
    "walk_sums([0, 1, 2], [[1, 2, 3], [4, 5, 6], [7, 8, 9]])",
    "walk_sums([], [])",
    "tokenize('  let x = 10;  ')",
    "tokenize('')",
    "split_fields('a, b,,c')",
    "split_fields(',')",
    "split_fields('')",
    "list(lines_of('one\\ntwo\\n\\nthree'))",
    "list(lines_of(''))",
    "Scanner('   x').skip_blanks(), Scanner('').skip_blanks(), Scanner('    ').skip_blanks()",
    "bfs_order({1: [2, 3], 2: [4], 3: [], 4: [1]}, 1)",
    "greedy_color(cycle(5))",
    "greedy_color(cycle(8))",
    "greedy_color(Graph({}))",
    "greedy_color(Graph({1: {2}, 2: {1, 3}, 3: {2}, 4: set()}))",
    "random_degree_sequence_graph([1] * 10, 7)",
    "random_degree_sequence_graph([1] * 12, 11)",
    "[] if None else tokenize(None)",
]


def outcome(source: str, probe: str) -> tuple[str, Any]:
    try:
        return "returned", run(source, probe)
    except Exception as err:  # the rewritten code must fail the same way
        return "raised", f"{type(err).__name__}: {err}"


def test_every_fix_applied_keeps_the_behaviour() -> None:
    after = fixed(MODULE, SKILL)
    for probe in PROBES:
        assert outcome(MODULE, probe) == outcome(after, probe), probe
    hoisted = [line.strip() for line in after.splitlines() if line.strip() not in MODULE]
    # the rewrite did its work: each of these is computed once now
    assert sorted(hoisted) == sorted(
        [
            "patterns_len = len(patterns)",
            "for i in range(patterns_len):",
            "lines_len = len(lines)",
            "while index < lines_len and lines[index].strip():",
            "unbrs_len = len(unbrs)",
            "weights[u, v] = len(unbrs & vnbrs) / min(unbrs_len, len(vnbrs))",
            "nodelist_len = len(nodelist)",
            "for j in range(nodelist_len):",
            "text_len = len(text)",
            "text_len = len(text)",
            "text_len = len(self.text)",
            "while pos < text_len:",
            "while pos < text_len and not text[pos].isspace():",
            "line_len = len(line)",
            "while i < line_len:",
            'while j < line_len and line[j] != ",":',
            "while i < text_len:",
            "j = text_len",
            'while self.pos < text_len and self.text[self.pos] == " ":',
        ]
    )


def test_the_fixes_that_change_behaviour_are_not_offered() -> None:
    expressions = {dict(f.evidence)["expression"] for f in findings(MODULE, SKILL) if f.fix}
    assert "len(colors)" not in expressions  # DSATUR: colours are added between yields
    assert "len(remaining_deg)" not in expressions  # shrunk through self.update_remaining
    assert "len(order)" not in expressions  # grown through the alias `queue`
