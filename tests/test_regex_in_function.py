"""regex-in-function: positives, name resolution, traps, and the hoisting fix's behaviour."""

from __future__ import annotations

import sys
import types
from pathlib import Path
from typing import Any

from tests.detectors import findings, fixed, lines, run

SKILL = "regex-in-function"
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


def test_shop_parse_sku_is_found_and_fixed() -> None:
    src = SHOP.read_text()
    (finding,) = findings(src, SKILL)
    assert finding.function == "parse_sku"
    assert "re.compile" in finding.message and "parse_sku()" in finding.message
    assert ("in_loop", "false") in finding.evidence
    assert finding.fix is not None and finding.fix.safe
    assert finding.fix.title.endswith("as module-level _PARSE_SKU_RE")
    after = fixed(src, SKILL)
    assert '_PARSE_SKU_RE = re.compile(r"^([A-Z]{3})-(\\d{4})$")\n' in after
    assert "    pattern = _PARSE_SKU_RE\n" in after
    # the constant follows the imports, separated by a blank line
    assert "from dataclasses import dataclass, field\n\n_PARSE_SKU_RE = " in after
    probe = "[parse_sku(s) for s in ('CAF-1234', 'caf-1234', 'TEA-12345', 'OLD-0001', '')]"
    expected = [("CAF", 1234), None, None, ("OLD", 1), None]
    assert run_module(src, probe) == run_module(after, probe) == expected
    assert run_module(src, "run(500)") == run_module(after, "run(500)")
    assert findings(after, SKILL) == []


def test_resolves_aliases_and_from_imports() -> None:
    src = """
    import re as r
    from re import search
    from re import compile as c
    import regex

    def a(s):
        return r.match(r"\\d+", s)

    def b(s):
        return search("x+", s)

    def d(s):
        return c("[a-z]").findall(s)

    def e(s):
        return regex.sub(r"\\p{L}", "", s)
    """
    found = findings(src, SKILL)
    assert [f.span.line for f in found] == [8, 11, 14, 17]
    assert [f.function for f in found] == ["a", "b", "d", "e"]
    by_line = {f.span.line: f for f in found}
    assert by_line[17].fix is not None and not by_line[17].fix.safe  # regex: pattern unchecked
    assert "regex" in by_line[17].fix.note


def test_loops_raise_confidence_and_module_level_loops_count() -> None:
    src = """
    import re

    def once(s):
        return re.search("a+", s)

    def each(lines):
        return [re.sub(r"\\s+", " ", line) for line in lines]

    WORDS = []
    for line in ["a b", "c d"]:
        WORDS.extend(re.split(" ", line))

    HEADER = re.compile("^#")
    """
    found = findings(src, SKILL)
    assert [f.span.line for f in found] == [5, 8, 12]
    once, each, module_loop = found
    assert each.confidence > once.confidence
    assert ("in_loop", "true") in each.evidence
    assert module_loop.function is None
    assert "every iteration" in module_loop.message


def test_traps_are_not_reported() -> None:
    src = """
    import functools
    import re
    from functools import lru_cache

    def variable(pattern, s):
        return re.compile(pattern).match(s)              # pattern from the caller

    def fstring(prefix, s):
        return re.match(f"^{prefix}-\\d+$", s)            # built at run time

    def runtime_flags(s, flags):
        return re.search("abc", s, flags)                 # flags unknown until called

    def splat(*args):
        return re.sub("a", *args)                         # flags may hide in args

    @functools.lru_cache(maxsize=None)
    def cached(s):
        return re.compile("x" + s)

    @lru_cache
    def cached_literal():
        return re.compile("abc")                         # compiled once per process

    _LAZY = None

    def lazy():
        global _LAZY
        if _LAZY is None:
            _LAZY = re.compile("[0-9]+")                 # deliberate lazy compile
        return _LAZY

    def local_import(s):
        import re
        return re.match("a", s)                          # a deliberate lazy import

    def escape(s):
        return re.escape("a.b") + s                      # not a pattern use

    class Parser:
        NUMBER = re.compile(r"\\d+")                      # class body: runs once

    HEADER = re.compile("^#")                            # module level: runs once
    """
    assert lines(src, SKILL) == []


def test_shadowed_re_is_not_the_module() -> None:
    src = """
    import re
    re = FakeRegexEngine()

    def f(s):
        return re.match("a", s)
    """
    assert lines(src, SKILL) == []
    src2 = """
    import re

    def f(s, re):
        return re.match("a", s)
    """
    assert lines(src2, SKILL) == []


def test_fix_maps_arguments_exactly() -> None:
    src = """
    import re

    def first(s):
        return re.match(r"[a-z]+", s, re.I)

    def squash(s):
        return re.sub(r"\\s+", " ", s, 1)

    def squash_kw(s):
        return re.subn(r"\\s+", repl="_", string=s, count=2, flags=re.M)

    def parts(s):
        return re.split(r"[,;]", s, 1, flags=re.ASCII)

    def words(s):
        return re.findall(r"^\\w+", s, re.I | re.M)

    def whole(s):
        return re.fullmatch(b"[0-9]+", s) is not None

    def each(s):
        return [m.group() for m in re.finditer("o", s)]
    """
    after = fixed(src, SKILL, rounds=10)  # one constant per round: all go after the imports
    assert '_LETTERS_RE = re.compile(r"[a-z]+", re.I)' in after
    assert "return _LETTERS_RE.match(s)\n" in after  # flags moved, never passed as pos
    # `\s+` twice with different flags: neither takes _WHITESPACE_RE, so fixes applied in
    # one pass cannot define it twice; each is named after its function, without a number
    assert 'return _SQUASH_RE.sub(" ", s, 1)\n' in after
    assert 'return _SQUASH_KW_RE.subn(repl="_", string=s, count=2)\n' in after
    assert '_SQUASH_KW_RE = re.compile(r"\\s+", re.M)' in after
    assert "return _PARTS_RE.split(s, 1)\n" in after
    assert '_PARTS_RE = re.compile(r"[,;]", re.ASCII)' in after
    assert '_WORD_RE = re.compile(r"^\\w+", re.I | re.M)' in after
    assert "return _WORD_RE.findall(s)\n" in after
    assert "_DIGITS_RE.fullmatch(s)" in after
    assert findings(after, SKILL) == []
    probes = [
        "first('ABC def')",
        "squash('a  b   c')",
        "squash_kw('a  b\\n  c   d')",
        "parts('a,b;c')",
        "words('Hello world\\nsecond line')",
        "whole(b'123'), whole(b'12a')",
        "each('foo boo')",
    ]
    for probe in probes:
        before_value, after_value = run(src, probe), run(after, probe)
        if hasattr(before_value, "group"):
            before_value, after_value = before_value.group(), after_value.group()
        assert before_value == after_value, probe


def test_fix_reuses_constants_and_avoids_name_clashes() -> None:
    src = """
    import re

    _DIGITS = re.compile(r"\\d+")
    _PARSE_RE = "taken"

    def count(s):
        return len(re.findall(r"\\d+", s))

    def parse(s):
        m = re.match("(a)(b)", s)
        n = re.match("(c)", s)
        return m, n
    """
    after = fixed(src, SKILL)
    assert "return len(_DIGITS.findall(s))" in after
    assert after.count('re.compile(r"\\d+")') == 1  # reused, not duplicated
    # two patterns with nothing to name them by, in one function, with `_PARSE_RE` taken:
    # the method tells one apart, and only the last needs a number
    assert {'_PARSE_MATCH_RE = re.compile("(a)(b)")', '_PARSE_2_RE = re.compile("(c)")'} <= set(
        after.splitlines()
    ) or {'_PARSE_MATCH_RE = re.compile("(c)")', '_PARSE_2_RE = re.compile("(a)(b)")'} <= set(
        after.splitlines()
    )
    assert '_PARSE_RE = "taken"' in after
    assert run(src, "count('a1b22c333')") == run(after, "count('a1b22c333')") == 3
    probe = "[x and x.group() for x in parse('ab')]"
    assert run(src, probe) == run(after, probe) == ["ab", None]


def test_fix_imports_re_for_from_imports_and_orders_after_late_imports() -> None:
    src = """
    from re import search

    def has_digit(s):
        return search("[0-9]", s) is not None
    """
    after = fixed(src, SKILL)
    # where isort puts it: `import re` before `from re import …` in the stdlib section
    assert after.startswith("\nimport re\nfrom re import search\n\n_DIGIT_RE = re.compile(")
    assert "return _DIGIT_RE.search(s) is not None" in after
    assert run(after, "has_digit('a1'), has_digit('ab')") == (True, False)

    late = """
    import os

    try:
        import re
    except ImportError:
        re = None

    def f(s):
        return re.match("x", s)
    """
    after_late = fixed(late, SKILL)
    # defined after the try that binds re, not after `import os`
    assert after_late.index("_F_RE = re.compile") > after_late.index("re = None")
    assert run(after_late, "f('x').group()") == "x"


def test_no_fix_for_bad_patterns_or_debug_flag() -> None:
    src = """
    import re

    def bad(s):
        return re.match("(unclosed", s)

    def debug(s):
        return re.compile("a", re.DEBUG)
    """
    found = findings(src, SKILL)
    assert [f.span.line for f in found] == [5, 8]
    assert all(f.fix is None for f in found)


def test_suppression_and_half_typed_file() -> None:
    src = """
    import re

    def f(s):
        return re.match("a", s)  # megawatt: ignore[regex-in-function]

    def g(s):  # megawatt: ignore
        return re.match("b", s)

    def h(s):
        return re.match("c", s)

    def broken(:
        return re.match("d",
    """
    assert lines(src, SKILL) == [11]


def test_lazy_initialisation_is_told_by_binding_not_by_substring() -> None:
    src = """
    import re

    _TOKEN_RE = None
    _CACHE = {}

    def render(text, verbose=False):
        s = text
        if verbose:
            s = re.sub(r"\\s+", " ", s)              # "s" is in "verbose", but not tested
        return s

    def strip_comment(line, pattern=None):
        if pattern is None:
            pattern = re.compile(r"#.*$")            # a local: compiled on every call
        return pattern.sub("", line)

    class Lexer:
        def __init__(self):
            self._token_re = None
            self._token_re_ready = False

        def tokens(self, src):
            if self._token_re is None:
                self._token_re = re.compile(r"\\w+|[^\\w\\s]")   # kept on the instance
            return self._token_re.findall(src)

        def words(self, src):
            if not self._token_re_ready:
                self._token_re = re.compile(r"\\w+")   # tests another attribute
            return self._token_re.findall(src)

    def token_re():
        global _TOKEN_RE
        if _TOKEN_RE is None:
            _TOKEN_RE = re.compile(r"[A-Za-z_]\\w*")   # kept in the module
        return _TOKEN_RE

    def word_re(key):
        if key not in _CACHE:
            _CACHE[key] = re.compile(r"\\b\\w+\\b")     # kept in a module-level dict
        return _CACHE[key]
    """
    assert lines(src, SKILL) == [10, 15, 30]


def test_constants_are_named_after_what_the_pattern_matches() -> None:
    # the shapes behind `_TEXT_RE_2`: two re.sub calls assigned to `text`, two patterns in
    # one method (aiohttp's ClientResponse.links), numbers parsed by shape
    src = """
    import re

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

    def parse_version(text):
        m = re.match(r"(\\d+)\\.(\\d+)", text)
        return (int(m.group(1)), int(m.group(2))) if m else None

    def charset(header):
        m = re.search(r"charset=([\\w-]+)", header)
        return m.group(1) if m else None

    def is_valid_name(name):
        return re.search(r"^[_a-zA-Z]\\w*$", name) is not None

    class ClientResponse:
        def links(self, header):
            out = {}
            for val in re.split(r",(?=\\s*<)", header):
                match = re.match(r"\\s*<(.*)>(.*)", val)
                if match is not None:
                    url, params = match.groups()
                    out[params.strip("; ")] = url
            return out
    """
    after = fixed(src, SKILL, rounds=12)
    constants = sorted(
        line.split(" = ")[0] for line in after.splitlines() if "= re.compile(" in line
    )
    assert constants == [
        "_CHARSET_RE",
        "_FLOAT_RE",
        "_IDENTIFIER_RE",
        "_INTEGER_RE",
        "_LEADING_WHITESPACE_RE",
        "_LINKS_MATCH_RE",
        "_LINKS_SPLIT_RE",
        "_PARSE_VERSION_RE",
        "_WHITESPACE_RE",
    ]
    assert findings(after, SKILL) == []


def test_names_never_collide_even_when_all_fixes_apply_at_once() -> None:
    src = """
    import re

    class Request:
        def parse(self, line):
            return re.match(r"(\\w+) (\\S+)", line)

    class Response:
        def parse(self, line):
            return re.match(r"HTTP/(\\d)\\.(\\d) (\\d+)", line)

    def squash(s):
        return re.sub(r"\\s+", " ", s)

    def squash_lines(s):
        return re.sub(r"\\s+", " ", s, flags=re.M)

    def tidy(s):
        return re.sub(r"\\s+", " ", s)
    """
    found = findings(src, SKILL)
    definitions: dict[str, str] = {}
    for f in found:
        assert f.fix is not None
        *inserted, _use = f.fix.edits
        for edit in inserted:
            name, _, value = edit.text.strip().partition(" = ")
            assert definitions.setdefault(name, value) == value, name  # one name, one pattern
    assert len(definitions) == 4  # squash and tidy share one constant
    assert not any(name.endswith(tuple(f"_{n}" for n in range(10))) for name in definitions)


def test_caching_decorators_are_resolved_through_imports() -> None:
    src = """
    import re
    from functools import lru_cache as memo

    @memo(maxsize=None)
    def tokens_re():
        return re.compile(r"\\w+|[^\\w\\s]")       # compiled once: the decorator caches

    def plain(s):
        return re.findall(r"\\w+", s)
    """
    assert lines(src, SKILL) == [10]
