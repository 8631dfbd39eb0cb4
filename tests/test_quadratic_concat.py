"""quadratic-concat: positives, negatives with their traps, and the fixes' behaviour."""

from __future__ import annotations

import sys
import types
from pathlib import Path
from typing import Any

from tests.detectors import findings, fixed, lines, run

SKILL = "quadratic-concat"
SHOP = Path(__file__).resolve().parent.parent / "examples" / "shop.py"


def run_module(source: str, expression: str) -> Any:
    """Like `run`, with the module registered in sys.modules (dataclasses look it up)."""
    module = types.ModuleType("quadratic_concat_example")
    sys.modules[module.__name__] = module
    try:
        exec(compile(source, "shop.py", "exec"), module.__dict__)
        return eval(expression, module.__dict__)
    finally:
        del sys.modules[module.__name__]


def test_finds_strings_bytes_tuples_and_attributes_grown_in_loops() -> None:
    src = """
    class Log:
        def __init__(self):
            self.text = ""

        def feed(self, events):
            for e in events:
                self.text += f"{e}\\n"

    def read_all(sock):
        data = b""
        while True:
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
        return data

    def render(rows):
        html = "<table>"
        for row in rows:
            html += "<tr>" + str(row) + "</tr>"
        return html + "</table>"

    def keys(items):
        out = ()
        for k in items:
            out += (k,)
        return out

    def label(parts):
        name = get_name()
        for p in parts:
            name += "-" + p
        return name
    """
    found = findings(src, SKILL)
    assert [f.span.line for f in found] == [8, 16, 22, 28, 34]
    by_line = {f.span.line: f for f in found}
    assert dict(by_line[8].evidence)["scope"] == "attribute"
    assert "bytes" in by_line[16].message
    assert "tuple" in by_line[28].message
    # reliably quadratic (attribute, bytes) ranks above a local str CPython may extend in place
    assert by_line[8].confidence > by_line[22].confidence
    assert by_line[16].confidence > by_line[22].confidence
    # a local whose type only the right side shows is the least certain
    assert by_line[34].confidence < by_line[22].confidence


def test_sum_with_empty_list_or_tuple_start() -> None:
    src = """
    def flatten(batches):
        return sum(batches, [])

    def flatten_t(groups):
        return sum((tuple(g) for g in groups), start=())

    def total(xs):
        return sum(xs, 0)

    def small(a, b):
        return sum([a, b], [])
    """
    assert lines(src, SKILL) == [3, 6]


def test_traps() -> None:
    src = """
    from mylib import sum

    def counters(xs):
        total = 0
        for x in xs:
            total += x                 # numbers
        count = 0.0
        for x in xs:
            count += x.weight
        return total, count

    def lists(xs):
        out = []
        for x in xs:
            out += [x]                 # list += is an in-place extend
            out += "ab"
        return out

    def buffer(chunks):
        buf = bytearray()
        for c in chunks:
            buf += c                   # bytearray: in place
        return buf

    def not_in_loop(name):
        s = "x"
        s += name
        return s

    def reset_each_time(words, width):
        line = ""
        lines = []
        for w in words:
            if len(line) + len(w) > width:
                lines.append(line)
                line = ""              # bounded: reset inside the loop
            line += w + " "
        return lines

    def per_item(items):
        for it in items:
            it.label += "!"            # another object each iteration
        for item in items:
            s = str(item)
            s += "\\n"                 # fresh string each iteration
            print(s)

    def few():
        s = ""
        for i in range(3):
            s += str(i)                # three iterations
        for k in ("a", "b"):
            s += k
        return s

    def unknown(acc, xs):
        for x in xs:
            acc += x                   # nothing says acc is a str
        return acc

    def flat(xs):
        return sum(xs, [])             # mylib.sum, not the builtin
    """
    assert lines(src, SKILL) == []


def test_one_finding_per_target_and_loop() -> None:
    src = """
    def row(cells):
        s = ""
        for c in cells:
            s += "|"
            s += str(c)
        return s
    """
    assert lines(src, SKILL) == [5]


def test_shop_report_fix_behaves_the_same() -> None:
    src = SHOP.read_text(encoding="utf-8")
    (finding,) = findings(src, SKILL, path=str(SHOP))
    assert finding.function == "report"
    assert finding.fix is not None and finding.fix.safe
    assert finding.fix.title == "Collect text's parts in a list and join them once after the loop"
    after = fixed(src, SKILL)
    assert (
        '    text_parts = ["order,amount\\n"]\n'
        "    for order_id, amount in settled:\n"
        '        text_parts.append(f"{order_id},{amount:.2f}\\n")\n'
        '    text = "".join(text_parts)\n'
        "    return text\n"
    ) in after
    for settled in ("[]", "[(1, 2.5)]", "[(1, 2.5), (7, 10.125), (3, 0.0)]"):
        assert run_module(src, f"report({settled})") == run_module(after, f"report({settled})")
    assert run_module(src, "run(300)") == run_module(after, "run(300)")
    assert lines(after, SKILL) == []


def test_fix_shapes() -> None:
    src = """
    def csv(rows):
        out = ""
        for r in rows:
            if not r:
                continue
            out += ",".join(r)
            if r[0] == "END":
                break
            out += "\\n"
        return out

    def hexdump(chunks):
        blob = b"\\x00"
        n = 0
        for c in chunks:
            blob += c
        return blob, n

    def nested(grid):
        lines = []
        for row in grid:
            line: str = ""
            for cell in row:
                line += f"{cell:>3}"  # pad
            lines.append(line)
        return lines
    """
    after = fixed(src, SKILL)
    assert (
        "    out_parts = []\n"
        "    for r in rows:\n"
        "        if not r:\n"
        "            continue\n"
        '        out_parts.append(",".join(r))\n'
        '        if r[0] == "END":\n'
        "            break\n"
        '        out_parts.append("\\n")\n'
        '    out = "".join(out_parts)\n'
        "    return out\n"
    ) in after
    assert '    blob_parts = [b"\\x00"]\n' in after
    assert '    blob = b"".join(blob_parts)\n    return blob, n\n' in after
    assert (
        '            line_parts.append(f"{cell:>3}")  # pad\n'
        '        line: str = "".join(line_parts)\n'
        "        lines.append(line)\n"
    ) in after
    rows = "[['a', 'b'], [], ['c'], ['END', 'x'], ['z']]"
    assert run(src, f"csv({rows})") == run(after, f"csv({rows})") == "a,b\nc\nEND,x"
    assert run(src, "csv([])") == run(after, "csv([])") == ""
    assert run(src, "hexdump([b'ab', b'c'])") == run(after, "hexdump([b'ab', b'c'])")
    assert run(src, "nested([[1, 22], [333]])") == run(after, "nested([[1, 22], [333]])")


def test_fix_when_the_loop_ends_the_file() -> None:
    src = "def tail(xs):\n    s = ''\n    for x in xs:\n        s += x"
    after = fixed(src, SKILL)
    assert after == (
        "def tail(xs):\n    s_parts = []\n    for x in xs:\n        s_parts.append(x)\n"
        '    s = "".join(s_parts)\n'
    )


def test_fix_refuses_shapes_it_cannot_prove() -> None:
    src = """
    def read_in_loop(xs):
        s = ""
        for x in xs:
            s += x
            if len(s) > 10:            # s is read in the loop
                break
        return s

    def loop_else(xs):
        s = ""
        for x in xs:
            s += x
        else:
            s += "."
        return s

    def used_between(xs):
        s = ""
        print(s)
        for x in xs:
            s += x
        return s

    def closure(xs):
        s = ""
        def peek():
            return s
        for x in xs:
            s += x
            peek()
        return s

    def computed_start(xs, head):
        s = head.upper()
        for x in xs:
            s += str(x)
        return s
    """
    found = findings(src, SKILL)
    assert len(found) == 5
    assert [f.fix for f in found] == [None] * 5


def test_fix_in_try_is_unsafe() -> None:
    src = """
    def parse(xs):
        s = ""
        try:
            for x in xs:
                s += str(1 // x)
        except ZeroDivisionError:
            return s
        return s
    """
    (finding,) = findings(src, SKILL)
    assert finding.fix is not None and not finding.fix.safe
    assert "try statement" in finding.fix.note
    assert fixed(src, SKILL, only_safe=True) == fixed(src, SKILL, rounds=0)


def test_fix_picks_a_free_name_and_keeps_with_open_safe(tmp_path: Path) -> None:
    src = """
    def load(path):
        text_parts = None
        text = ""
        with open(path) as f:
            for line in f:
                text += line.strip()
        return text, text_parts
    """
    (finding,) = findings(src, SKILL)
    assert finding.fix is not None and finding.fix.safe
    after = fixed(src, SKILL)
    assert "text_parts2 = []" in after and "text_parts2.append(line.strip())" in after
    assert '        text = "".join(text_parts2)\n    return' in after
    data = tmp_path / "lines.txt"
    data.write_text(" a \nb\n\n c", encoding="utf-8")
    assert run(src, f"load({str(data)!r})") == run(after, f"load({str(data)!r})") == ("abc", None)


def test_sum_fix_behaves_the_same() -> None:
    src = """
    def flatten(batches):
        return sum(batches, [])

    def flatten_gen(groups):
        return sum((list(g) for g in groups), start=[])

    def pairs(groups):
        return sum(groups, ())
    """
    after = fixed(src, SKILL)
    assert after.startswith("import itertools\n")
    assert "return list(itertools.chain.from_iterable(batches))" in after
    assert "return list(itertools.chain.from_iterable((list(g) for g in groups)))" in after
    assert "return tuple(itertools.chain.from_iterable(groups))" in after
    for call in ("flatten([[1], [], [2, 3]])", "flatten([])", "flatten_gen(['ab', 'c'])"):
        assert run(src, call) == run(after, call)
    assert run(src, "pairs([(1, 2), (3,)])") == run(after, "pairs([(1, 2), (3,)])") == (1, 2, 3)


def test_sum_fix_uses_an_existing_chain_import() -> None:
    src = """
    from itertools import chain

    def flatten(batches):
        return sum(batches, [])
    """
    after = fixed(src, SKILL)
    assert "return list(chain.from_iterable(batches))" in after
    assert after.count("import") == 1


def test_suppression_and_half_typed_file() -> None:
    src = """
    def a(xs):
        s = ""
        for x in xs:
            s += str(x)  # megawatt: ignore[quadratic-concat]
        return s

    def b(xs):
        s = b""
        for x in xs:
            s += x
        return s

    def broken(:
        s = ""
        for x in
            s += str(x)
    """
    assert lines(src, SKILL) == [11]


BOUNDED = """
import base64

_SESSION_COOKIES = ("sessionid", "csrftoken")
_CLOSERS = {"(": ")", "[": "]", "{": "}"}


def b64url_decode(segment: str) -> bytes:
    # JWT segments drop their "=" padding; urlsafe_b64decode wants it back
    while len(segment) % 4:
        segment += "="
    return base64.urlsafe_b64decode(segment)


def pad_chunk(raw: bytes) -> bytes:
    while len(raw) % 4 != 0:
        raw += b"="
    return raw


def cookie_header(jar: dict[str, str]) -> str:
    header = ""
    for name in _SESSION_COOKIES:
        if name in jar:
            header += f"{name}={jar[name]}; "
    return header.rstrip("; ")


def close_brackets(expr: str) -> str:
    suffix = ""
    for opener, closer in _CLOSERS.items():
        suffix += closer * (expr.count(opener) - expr.count(closer))
    return expr + suffix


def close_brackets_in_order(expr: str) -> str:
    tail = ""
    for opener, closer in zip("([{", ")]}"):
        tail += closer * (expr.count(opener) - expr.count(closer))
    return expr + tail
"""


def test_loops_bounded_by_small_constants_are_left_alone() -> None:
    # padding to a multiple of 4 adds at most 3 characters; two cookie names; three bracket kinds
    assert lines(BOUNDED, SKILL) == []
    assert run(BOUNDED, "b64url_decode('aGk')") == b"hi"
    assert run(BOUNDED, "close_brackets('f(a[1')") == "f(a[1)]"


def test_loops_that_only_look_bounded_are_still_reported() -> None:
    src = """
    _WATCHED = ["sessionid"]


    def register(name):
        _WATCHED.append(name)  # the module list grows: no bound


    def pad(text: str, width: int) -> str:
        while len(text) < width:  # width is not a constant
            text += " "
        return text


    def header(jar: dict[str, str]) -> bytes:
        out = b""
        for name in _WATCHED:
            out += name.encode() + b"=" + jar[name].encode() + b"; "
        return out


    def every_cookie(jar: dict[str, str]) -> bytes:
        out = b""
        for name in jar:
            out += name.encode() + b"; "
        return out


    def shout(words):
        loud = ""
        for w in ("a", "b", "c") + tuple(words):
            loud += w.upper()
        return loud
    """
    assert lines(src, SKILL) == [11, 18, 25, 32]


def test_local_str_is_a_constant_factor_bytes_and_sum_are_quadratic() -> None:
    from megawatt.ranking import rank
    from megawatt.skills import load_skills

    src = """
    def render(rows: list[str]) -> str:
        html = "<table>"
        for row in rows:
            html += "<tr><td>" + row + "</td></tr>"
        return html + "</table>"


    def read_body(stream) -> bytes:
        body = b""
        while chunk := stream.read(8192):
            body += chunk
        return body


    def flatten(batches: list[list[int]]) -> list[int]:
        return sum(batches, [])
    """
    found = {f.span.line: f for f in findings(src, SKILL)}
    local, raw, flat = found[5], found[12], found[17]
    assert "constant factor" in local.message and "in place" in local.message
    assert "O(n²)" not in local.message
    assert dict(local.evidence)["growth"] == "linear on CPython: a constant factor"
    assert "O(n²)" in raw.message and dict(raw.evidence)["growth"] == "quadratic"
    assert "O(n²)" in flat.message
    ranked = [o.finding.span.line for o in rank(found.values(), load_skills())]
    assert ranked[-1] == 5  # the str CPython extends in place ranks last
    assert local.confidence < 0.5 < min(raw.confidence, flat.confidence)
    skill_text = (
        Path(__file__).resolve().parent.parent / "skills" / SKILL / "SKILL.md"
    ).read_text()
    assert "constant factor" in skill_text
