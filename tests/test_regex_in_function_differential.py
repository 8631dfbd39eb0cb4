"""regex-in-function, checked by running the code: every hoist applied to a module of real
regex uses (shapes from aiohttp, scrapy and networkx), then the original and the rewritten
module called with the same inputs, comparing results (match objects by span and groups) and
exceptions."""

from __future__ import annotations

import re
import textwrap
import types
from typing import Any

from tests.detectors import findings, fixed

SKILL = "regex-in-function"

MODULE = textwrap.dedent(
    """
    import re
    from re import IGNORECASE


    def normalize(text):
        text = re.sub(r"\\s+", " ", text)
        text = re.sub(r"^\\s+", "", text)
        return text


    def to_number(token):
        if re.fullmatch(r"[-+]?\\d*\\.\\d+", token):
            return float(token)
        if re.fullmatch(r"[-+]?\\d+", token):
            return int(token)
        return token


    def charset(header):
        m = re.search(r"charset=([\\w-]+)", header, IGNORECASE)
        return m.group(1) if m else None


    def links(header):
        out = {}
        for val in re.split(r",(?=\\s*<)", header):
            match = re.match(r"\\s*<(.*)>(.*)", val)
            if match is not None:
                url, params = match.groups()
                out[params.strip("; ")] = url
        return out


    def is_valid_name(name):
        return re.search(r"^[_a-zA-Z]\\w*$", name) is not None


    def escape(text):
        def fixup(m):
            ch = m.group(0)
            return "&#" + str(ord(ch)) + ";"

        return re.sub('[^ -~]|[&"]', fixup, text)


    def merge_slashes(path):
        path, n = re.subn("//+", "/", path, count=2)
        return path, n


    def fields(line):
        return re.split(r"[,;]\\s*", line, maxsplit=2)


    def pairs(query):
        return re.findall(r"(?P<key>\\w+)=(?P<value>[^&]*)", query)


    def header_lines(raw):
        return [m.span() for m in re.finditer(rb"\\r?\\n", raw)]


    def first_word(text):
        return re.match(r"\\w+", text, re.I | re.M)
    """
)

INPUTS: dict[str, list[Any]] = {
    "normalize": ["  a \\t b\\n\\nc ", "", None],
    "to_number": ["1.5", "-.25", "42", "+7", "x1", "", 3],
    "charset": ["text/html; Charset=UTF-8", "text/plain", ""],
    "links": ['<http://a/>; rel="next", <http://b/>; rel="last"', "", "garbage"],
    "is_valid_name": ["scrapy_project", "1abc", "_", ""],
    "escape": ['a"b&c\\u00e9', "plain", None],
    "merge_slashes": ["a//b///c////d", "/x", ""],
    "fields": ["a, b;c ,d;  e", "single", ""],
    "pairs": ["a=1&b=&c=x y", "", "novalue"],
    "header_lines": [b"GET / HTTP/1.1\\r\\nHost: x\\n\\r\\n", b"", "text"],
    "first_word": ["Hello world", "  lead", ""],
}


def _load(source: str) -> types.ModuleType:
    module = types.ModuleType("megawatt_regex_example")
    exec(compile(source, "example.py", "exec"), module.__dict__)
    return module


def _plain(value: Any) -> Any:
    """A value comparable across the two modules: a match by its span and groups."""
    if isinstance(value, re.Match):
        return ("match", value.span(), value.groups(), value.groupdict())
    if isinstance(value, list | tuple):
        return type(value).__name__, [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _outcome(module: types.ModuleType, fn: str, arg: Any) -> tuple[str, Any]:
    try:
        return "ok", _plain(getattr(module, fn)(arg))
    except Exception as exc:  # the exception is the outcome compared
        return "raised", type(exc).__name__


def test_every_hoist_keeps_results_and_exceptions() -> None:
    before = findings(MODULE, SKILL)
    assert len(before) == 14 and all(f.fix is not None and f.fix.safe for f in before)
    after = fixed(MODULE, SKILL, rounds=20)
    assert findings(after, SKILL) == []
    assert "_RE_2" not in after and "re.sub(" not in after
    # one block after the imports, in the order they were hoisted, no blank lines inside
    lines = after.splitlines()
    block = [i for i, line in enumerate(lines) if " = re.compile(" in line]
    assert block == list(range(block[0], block[0] + 14)) and lines[block[0] - 1] == ""
    original, rewritten = _load(MODULE), _load(after)
    compared = 0
    for fn, args in INPUTS.items():
        for arg in args:
            assert _outcome(original, fn, arg) == _outcome(rewritten, fn, arg), (fn, arg)
            compared += 1
    assert compared == sum(len(a) for a in INPUTS.values())
    # the inputs reach both sides of each function: matches, misses and errors
    outcomes = {_outcome(original, fn, arg)[0] for fn, args in INPUTS.items() for arg in args}
    assert outcomes == {"ok", "raised"}
