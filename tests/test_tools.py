"""The tool layer on a real project: files in a temporary folder, a profile recorded by cProfile."""

from __future__ import annotations

import json
import pstats
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from megawatt.skills import load_skills
from megawatt.tools import (
    TOOLS,
    CallersCalleesInput,
    FindTestsInput,
    FunctionSourceInput,
    OpportunityInput,
    SearchInput,
    SkillInput,
    ToolContext,
    ToolError,
    call_tool,
    find_tests,
    get_callers_callees,
    get_function_source,
    get_opportunity,
    get_skill,
    search_code,
    tool_specs,
)

SHOP = '''\
"""A tiny shop: a cart with methods, a hot helper, a main."""

from __future__ import annotations

import functools
import re
import sys


class Cart:
    """Items and their prices."""

    TAX = 0.2
    currency: str = "EUR"

    def __init__(self, items: list[str]) -> None:
        self.items = list(items)

    def total(self) -> float:
        total = 0.0
        for item in self.items:
            total += price(item)
        return total * (1 + self.TAX)

    def unique(self) -> int:
        seen = set()
        for item in self.items:
            seen.add(item)
        return len(seen)


def price(item: str) -> float:
    code = re.compile(r"(\\d+)")
    match = code.search(item)
    return float(match.group(1)) if match else 0.0


@functools.cache
def rate(name: str) -> float:
    return 0.2 if name else 0.0


def cold() -> int:
    return 1


def main(n: int) -> float:
    cart = Cart([f"item{i % 50}" for i in range(n)])
    cart.unique()
    return cart.total() * rate("vat")


if __name__ == "__main__":
    print(main(int(sys.argv[1])))
'''

TESTS = """\
from shop import Cart, price


def test_price():
    assert price("item3") == 3.0


class TestCart:
    def test_total(self):
        cart = Cart(["item1"])
        assert cart.total() > 0

    def test_unique(self):
        assert Cart(["a", "a"]).unique() == 1

    def helper(self):
        return Cart([]).total()
"""

OTHER_TESTS = """\
from billing import price


def test_billing_price():
    assert price(2) == 2
"""

BROKEN = """\
def fine(x):
    return x + 1


def broken(x:
    return x +
"""

N = 20000


def line_of(text: str, needle: str) -> int:
    """The 1-based line of the first line of `text` containing `needle`."""
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("tools")
    root = base / "project"
    (root / "tests").mkdir(parents=True)
    (root / "pyproject.toml").write_text("[tool.megawatt]\n")
    (root / "shop.py").write_text(SHOP)
    (root / "broken.py").write_text(BROKEN)
    (root / "tests" / "test_shop.py").write_text(TESTS)
    (root / "tests" / "test_billing.py").write_text(OTHER_TESTS)
    venv = root / "env"  # a virtualenv inside the project: never searched
    (venv / "lib").mkdir(parents=True)
    (venv / "pyvenv.cfg").write_text("home = /usr/bin\n")
    (venv / "lib" / "vendored.py").write_text("code = re.compile('x')\n")
    (base / "outside.py").write_text("SECRET = 1\n")
    (root / "escape.py").symlink_to(base / "outside.py")
    profiles = root / ".megawatt" / "profiles"
    profiles.mkdir(parents=True)
    subprocess.run(
        [sys.executable, "-m", "cProfile", "-o", str(profiles / "run.pstats"), "shop.py", str(N)],
        cwd=root,
        check=True,
        capture_output=True,
    )
    return root


@pytest.fixture(scope="module")
def ctx(project: Path) -> ToolContext:
    return ToolContext.for_root(project)


@pytest.fixture(scope="module")
def bare(project: Path) -> ToolContext:
    return ToolContext.for_root(project, use_profile=False)


# -- the context ---------------------------------------------------------------------------------


def test_context_loads_settings_profile_and_skills(ctx: ToolContext, project: Path) -> None:
    assert ctx.root == project.resolve()
    assert ctx.problems == []
    assert ctx.profile is not None and ctx.profile.format == "pstats"
    assert ctx.index is not None
    assert ctx.skills.get("regex-in-function") is not None
    assert ctx.settings.profiles == [".megawatt/profiles"]


def test_paths_must_stay_inside_the_root(ctx: ToolContext, project: Path) -> None:
    outside = project.parent / "outside.py"
    for given in ("../outside.py", str(outside), "escape.py", "tests/../../outside.py"):
        with pytest.raises(ToolError, match="outside the workspace"):
            get_function_source(ctx, FunctionSourceInput(path=given, line=1))
    with pytest.raises(ToolError, match="no such file"):
        get_function_source(ctx, FunctionSourceInput(path="nope.py", line=1))
    with pytest.raises(ToolError, match="a folder, not a file"):
        get_callers_callees(ctx, CallersCalleesInput(path="tests", line=1))
    # an absolute path inside the root is as good as a relative one
    absolute = FunctionSourceInput(path=str(project / "shop.py"), line=line_of(SHOP, "total = 0.0"))
    out = get_function_source(ctx, absolute)
    assert out.path == "shop.py" and out.function == "Cart.total"
    # the refusal reaches a model through call_tool as the same error
    with pytest.raises(ToolError, match="outside the workspace"):
        call_tool(ctx, "find_tests", {"path": "../outside.py", "function": "x"})
    # nor does a search follow the symlink out
    assert search_code(ctx, SearchInput(pattern="SECRET")).matches == []


# -- get_function_source -----------------------------------------------------------------------


def test_function_source_of_a_method(ctx: ToolContext) -> None:
    line = line_of(SHOP, "total += price(item)")
    out = get_function_source(ctx, FunctionSourceInput(path="shop.py", line=line))
    assert out.function == "Cart.total"
    assert out.def_line == out.start_line == line_of(SHOP, "def total")
    assert out.end_line == line_of(SHOP, "return total * (1 + self.TAX)")
    assert out.source.startswith("    def total(self) -> float:\n")
    assert out.source.endswith("        return total * (1 + self.TAX)\n")
    assert not out.truncated and not out.parse_errors and out.notes == []
    klass = out.enclosing_class
    assert klass is not None and klass.name == "Cart"
    assert (klass.line, klass.end_line) == (line_of(SHOP, "class Cart"), line_of(SHOP, "len(seen)"))
    assert klass.outline.splitlines() == [
        "class Cart:",
        '    """Items and their prices."""',
        "    TAX = 0.2",
        '    currency: str = "EUR"',
        "    def __init__(self, items: list[str]) -> None:",
        "        self.items = list(items)",
        "    def total(self) -> float: ...",
        "    def unique(self) -> int: ...",
    ]
    assert out.imports.splitlines() == [
        "from __future__ import annotations",
        "import functools",
        "import re",
        "import sys",
    ]


def test_function_source_of_a_decorated_function(ctx: ToolContext) -> None:
    out = get_function_source(
        ctx, FunctionSourceInput(path="shop.py", line=line_of(SHOP, "return 0.2 if"))
    )
    assert out.function == "rate" and out.enclosing_class is None
    assert out.start_line == line_of(SHOP, "@functools.cache")
    assert out.def_line == out.start_line + 1
    assert (
        out.source
        == "@functools.cache\ndef rate(name: str) -> float:\n    return 0.2 if name else 0.0\n"
    )


def test_module_level_lines(ctx: ToolContext) -> None:
    line = line_of(SHOP, "TAX = 0.2")
    out = get_function_source(ctx, FunctionSourceInput(path="shop.py", line=line))
    assert out.function is None and out.def_line is None
    assert out.source == "    TAX = 0.2\n"
    assert out.enclosing_class is not None and out.enclosing_class.name == "Cart"
    assert "outside any function" in out.notes[0]
    guard = get_function_source(
        ctx, FunctionSourceInput(path="shop.py", line=line_of(SHOP, "print(main("))
    )
    assert guard.source == 'if __name__ == "__main__":\n    print(main(int(sys.argv[1])))\n'
    blank = get_function_source(ctx, FunctionSourceInput(path="shop.py", line=2))
    assert blank.source == "" and "blank or a comment" in blank.notes[0]
    with pytest.raises(ToolError, match=r"line 500 is past the end of shop.py \(\d+ lines\)"):
        get_function_source(ctx, FunctionSourceInput(path="shop.py", line=500))


def test_long_source_is_truncated(ctx: ToolContext) -> None:
    out = get_function_source(
        ctx, FunctionSourceInput(path="shop.py", line=line_of(SHOP, "def total"), max_lines=2)
    )
    assert out.truncated
    assert out.source == "    def total(self) -> float:\n        total = 0.0\n"
    assert out.end_line == line_of(SHOP, "return total * (1")  # the real end, not the cut
    assert "first 2 of 5 lines" in out.notes[-1] and "max_lines" in out.notes[-1]


def test_a_file_that_does_not_parse_still_answers(ctx: ToolContext) -> None:
    out = get_function_source(ctx, FunctionSourceInput(path="broken.py", line=2))
    assert out.function == "fine" and out.source == "def fine(x):\n    return x + 1\n"
    assert out.parse_errors and "syntax errors" in out.notes[0]
    assert get_opportunity(ctx, OpportunityInput(path="broken.py", line=2)).opportunities == []


def test_unsaved_buffers_are_read_instead_of_the_disk(project: Path) -> None:
    edited = SHOP.replace("def cold() -> int:\n    return 1", "def cold() -> int:\n    return 42")
    unsaved = project / "scratch.py"
    ctx = ToolContext.for_root(
        project,
        use_profile=False,
        overrides={str(project / "shop.py"): edited.encode(), str(unsaved): b"x = cold()\n"},
    )
    out = get_function_source(
        ctx, FunctionSourceInput(path="shop.py", line=line_of(SHOP, "def cold"))
    )
    assert out.source == "def cold() -> int:\n    return 42\n"
    found = search_code(ctx, SearchInput(pattern="cold()"))
    assert [(m.path, m.text) for m in found.matches] == [
        ("scratch.py", "x = cold()"),
        ("shop.py", "def cold() -> int:"),
    ]


# -- get_callers_callees -----------------------------------------------------------------------


def _pstats_row(project: Path, name: str) -> tuple[int, list[str]]:
    """(calls, caller names) of a function of shop.py, per the standard library's pstats."""
    stats = pstats.Stats(str(project / ".megawatt" / "profiles" / "run.pstats"))
    for (path, _line, fn), (_cc, nc, _tt, _ct, callers) in stats.stats.items():  # type: ignore[attr-defined]
        if path.endswith("shop.py") and fn == name:
            return nc, [c[2] for c in callers]
    raise AssertionError(name)


def test_callers_and_callees_from_the_profile(ctx: ToolContext, project: Path) -> None:
    out = get_callers_callees(
        ctx, CallersCalleesInput(path="shop.py", line=line_of(SHOP, "code = re.compile"))
    )
    calls, callers = _pstats_row(project, "price")
    assert out.function == "price" and out.def_line == line_of(SHOP, "def price")
    assert out.note is None and out.profile is not None and out.profile.format == "pstats"
    assert out.figures is not None
    assert out.figures.calls == calls == N
    assert (
        0.2 < out.figures.total_share <= 1 and 0 < out.figures.self_share < out.figures.total_share
    )
    assert callers == ["total"]
    (caller,) = out.callers
    assert (caller.function, caller.path, caller.line, caller.kind) == (
        "Cart.total", "shop.py", line_of(SHOP, "def total"), "user"
    )  # fmt: skip
    assert caller.calls == N and caller.share == out.figures.total_share
    names = [e.function for e in out.callees]
    assert names[0] == "compile" and out.callees[0].kind == "library"
    assert any("search" in n for n in names) and len(out.callees) == out.callees_total >= 3
    assert [e.share for e in out.callees] == sorted((e.share for e in out.callees), reverse=True)
    assert all(e.calls == N for e in out.callees)

    cut = get_callers_callees(
        ctx, CallersCalleesInput(path="shop.py", line=line_of(SHOP, "def price"), limit=1)
    )
    assert cut.truncated and len(cut.callees) == 1 and cut.callees_total == out.callees_total
    assert cut.callees[0] == out.callees[0]


def test_callers_callees_without_a_profile_or_a_record(ctx: ToolContext, bare: ToolContext) -> None:
    line = line_of(SHOP, "code = re.compile")
    none = get_callers_callees(bare, CallersCalleesInput(path="shop.py", line=line))
    assert none.function == "price" and none.profile is None and none.figures is None
    assert none.callers == none.callees == [] and none.note is not None
    assert "no profile is loaded" in none.note
    never = get_callers_callees(
        ctx, CallersCalleesInput(path="shop.py", line=line_of(SHOP, "def cold"))
    )
    assert never.figures is None and never.callers == [] and never.profile is not None
    assert never.note is not None and "no record of cold()" in never.note


# -- get_opportunity -----------------------------------------------------------------------------


def test_opportunity_ranked_by_the_profile(ctx: ToolContext) -> None:
    out = get_opportunity(ctx, OpportunityInput(path="shop.py", line=line_of(SHOP, "def price")))
    assert out.function == "price" and out.profile_loaded and out.note is None
    # price() is pure and called N times: the profile's call counts make a memoize finding too
    # (megawatt/profiled_memoize.py)
    assert sorted(o.skill for o in out.opportunities) == ["memoize", "regex-in-function"]
    (opp,) = [o for o in out.opportunities if o.skill == "regex-in-function"]
    skill = load_skills().get("regex-in-function")
    assert skill is not None
    assert opp.skill == "regex-in-function" and opp.function == "price"
    assert opp.line == opp.end_line == line_of(SHOP, "code = re.compile")
    assert opp.code == '    code = re.compile(r"(\\d+)")\n'
    assert opp.evidence["call"] == 're.compile(r"(\\d+)")'
    assert "compiled again on every call of price()" in opp.message
    assert 0 < opp.confidence <= 1 and opp.expected_gain == skill.expected_gain
    figures = get_callers_callees(ctx, CallersCalleesInput(path="shop.py", line=opp.line)).figures
    assert figures is not None and opp.function_share == figures.total_share
    # from the profile's call figures: re.compile's time from price() spent in re._compile
    assert opp.savings_evidence is not None and "re.compile called " in opp.savings_evidence
    assert "in re._compile" in opp.savings_evidence
    assert 0 < opp.estimated_savings < figures.total_share
    # the line of the finding itself answers the same
    same = get_opportunity(ctx, OpportunityInput(path="shop.py", line=opp.line))
    assert same.opportunities == out.opportunities


def test_opportunity_filters_and_errors(ctx: ToolContext, bare: ToolContext) -> None:
    line = line_of(SHOP, "def price")
    other = get_opportunity(ctx, OpportunityInput(path="shop.py", line=line, skill="pop-front"))
    assert (
        other.opportunities == []
        and other.note == "no opportunity found in price() for skill 'pop-front'"
    )
    memo = get_opportunity(ctx, OpportunityInput(path="shop.py", line=line, skill="memoize"))
    assert [o.evidence["profile_calls"] for o in memo.opportunities] == [f"{N:,}"]
    static = get_opportunity(bare, OpportunityInput(path="shop.py", line=line))
    assert not static.profile_loaded
    assert static.opportunities[0].function_share is None
    assert static.opportunities[0].estimated_savings is None
    with pytest.raises(ToolError, match=r"unknown skill 'no-such'; the skills are: .*memoize"):
        get_opportunity(ctx, OpportunityInput(path="shop.py", line=line, skill="no-such"))
    clean = get_opportunity(ctx, OpportunityInput(path="shop.py", line=line_of(SHOP, "def cold")))
    assert clean.opportunities == [] and clean.note == "no opportunity found in cold()"


# -- get_skill -----------------------------------------------------------------------------------


def test_get_skill(ctx: ToolContext) -> None:
    out = get_skill(ctx, SkillInput(skill="memoize"))
    meta = load_skills().get("memoize")
    assert meta is not None
    assert out.name == "memoize" and out.origin == "builtin" and out.trigger == "memoize"
    assert out.description == meta.meta.description and out.version == meta.meta.version
    assert out.expected_gain == meta.expected_gain
    assert (
        out.fix.llm_guidance == meta.meta.fix.llm_guidance
        and "functools.cache" in out.fix.llm_guidance
    )
    assert out.validation == meta.meta.validation and out.validation
    assert out.body == meta.body and not out.truncated and out.body.startswith("#")
    with pytest.raises(
        ToolError, match=r"unknown skill 'nope'; the skills are: .*regex-in-function"
    ):
        get_skill(ctx, SkillInput(skill="nope"))


# -- find_tests ----------------------------------------------------------------------------------


def test_find_tests_of_a_method(ctx: ToolContext) -> None:
    out = find_tests(ctx, FindTestsInput(path="shop.py", function="Cart.total"))
    assert out.function == "Cart.total" and out.searched_name == "total" and out.method
    assert [t.test_id for t in out.tests] == ["tests/test_shop.py::TestCart::test_total"]
    (match,) = out.tests
    assert match.path == "tests/test_shop.py" and match.imports_module
    assert match.line == line_of(TESTS, "def test_total")
    assert match.reference_line == line_of(TESTS, "cart.total()")
    assert out.test_files == 2 and out.total_found == 1 and not out.truncated
    # a bare name finds the method too, when it is the only one of that name
    assert find_tests(ctx, FindTestsInput(path="shop.py", function="total")).tests == out.tests


def test_find_tests_of_a_function_and_a_constructor(ctx: ToolContext) -> None:
    out = find_tests(ctx, FindTestsInput(path="shop.py", function="price"))
    assert not out.method
    assert [(t.test_id, t.imports_module) for t in out.tests] == [
        ("tests/test_shop.py::test_price", True),
        ("tests/test_billing.py::test_billing_price", False),  # another module's price
    ]
    init = find_tests(ctx, FindTestsInput(path="shop.py", function="Cart.__init__"))
    assert init.searched_name == "Cart"
    assert [t.test_id for t in init.tests] == [
        "tests/test_shop.py::TestCart::test_total",
        "tests/test_shop.py::TestCart::test_unique",
    ]  # `helper` is not a test
    cut = find_tests(ctx, FindTestsInput(path="shop.py", function="price", max_results=1))
    assert cut.truncated and cut.total_found == 2 and len(cut.tests) == 1
    none = find_tests(ctx, FindTestsInput(path="shop.py", function="cold"))
    assert none.tests == [] and none.note == "no test in the 2 test file(s) names 'cold'"
    with pytest.raises(
        ToolError, match=r"no function 'missing' in shop.py; its functions are: Cart"
    ):
        find_tests(ctx, FindTestsInput(path="shop.py", function="missing"))


# -- search_code ---------------------------------------------------------------------------------


def test_search_code(ctx: ToolContext) -> None:
    out = search_code(ctx, SearchInput(pattern="re.compile"))
    # the virtualenv's vendored.py is never searched
    assert [(m.path, m.line, m.text) for m in out.matches] == [
        ("shop.py", line_of(SHOP, "re.compile"), 'code = re.compile(r"(\\d+)")')
    ]
    assert not out.truncated and out.files_searched == 4  # not escape.py, a link out of the root
    regex = search_code(ctx, SearchInput(pattern=r"def test_\w+", regex=True))
    assert [m.text for m in regex.matches] == [
        "def test_billing_price():",
        "def test_price():",
        "def test_total(self):",
        "def test_unique(self):",
    ]
    only = search_code(ctx, SearchInput(pattern="price", glob="tests/*"))
    assert {m.path for m in only.matches} == {"tests/test_shop.py", "tests/test_billing.py"}
    cut = search_code(ctx, SearchInput(pattern="price", max_results=2))
    assert cut.truncated and len(cut.matches) == 2 and cut.note is not None
    nothing = search_code(ctx, SearchInput(pattern="no such text anywhere"))
    assert nothing.matches == [] and nothing.note is not None
    with pytest.raises(ToolError, match=r"invalid regular expression '\(unclosed': missing \)"):
        search_code(ctx, SearchInput(pattern="(unclosed", regex=True))


def test_search_trims_long_lines_around_the_match(project: Path) -> None:
    long_line = "x = [" + ", ".join(str(i) for i in range(200)) + "]  # needle here\n"
    ctx = ToolContext.for_root(
        project, use_profile=False, overrides={str(project / "long.py"): long_line.encode()}
    )
    (m,) = search_code(ctx, SearchInput(pattern="needle")).matches
    assert "needle" in m.text and len(m.text) <= 201 and m.text.startswith("…")


# -- the registry --------------------------------------------------------------------------------


def test_call_tool_runs_every_tool(ctx: ToolContext) -> None:
    line = line_of(SHOP, "def price")
    calls: dict[str, dict[str, Any]] = {
        "get_function_source": {"path": "shop.py", "line": line},
        "get_callers_callees": {"path": "shop.py", "line": line},
        "get_opportunity": {"path": "shop.py", "line": line},
        "get_skill": {"skill": "regex-in-function"},
        "find_tests": {"path": "shop.py", "function": "price"},
        "search_code": {"pattern": "price", "max_results": 3},
    }
    assert set(calls) == set(TOOLS)
    for name, arguments in calls.items():
        result = call_tool(ctx, name, arguments)
        assert json.loads(json.dumps(result)) == result
        TOOLS[name].output_model.model_validate(result)
    assert (
        call_tool(ctx, "get_function_source", calls["get_function_source"])["function"] == "price"
    )


def test_call_tool_errors_are_readable(ctx: ToolContext) -> None:
    with pytest.raises(
        ToolError, match=r"unknown tool 'read_file'; the tools are: get_function_source"
    ):
        call_tool(ctx, "read_file", {})
    with pytest.raises(ToolError) as missing:
        call_tool(ctx, "get_function_source", {"path": "shop.py"})
    assert str(missing.value) == (
        "invalid arguments for get_function_source: missing required argument 'line'; "
        "it takes path, line, max_lines? (? = optional)"
    )
    with pytest.raises(ToolError) as bad:
        call_tool(ctx, "get_function_source", {"path": "shop.py", "line": 0, "lines": 3})
    assert "argument 'line': Input should be greater than or equal to 1 (got 0)" in str(bad.value)
    assert "unknown argument 'lines'" in str(bad.value)
    with pytest.raises(ToolError, match="must be a JSON object"):
        call_tool(ctx, "get_skill", ["memoize"])  # type: ignore[arg-type]


def _titles(schema: Any, in_properties: bool = False) -> list[str]:
    if isinstance(schema, dict):
        found = [] if in_properties or "title" not in schema else [str(schema["title"])]
        for key, value in schema.items():
            found += _titles(value, key == "properties" and not in_properties)
        return found
    if isinstance(schema, list):
        return [t for v in schema for t in _titles(v)]
    return []


def test_tool_specs_are_json_schema_objects() -> None:
    specs = tool_specs()
    assert [s["name"] for s in specs] == list(TOOLS)
    for spec in specs:
        assert set(spec) == {"name", "description", "input_schema"}
        assert 200 < len(spec["description"]) < 1500
        schema = spec["input_schema"]
        assert json.loads(json.dumps(schema)) == schema
        assert schema["type"] == "object" and _titles(schema) == []
        props = schema["properties"]
        assert props and set(schema.get("required", [])) <= set(props)
        for prop in props.values():
            assert "type" in prop or "anyOf" in prop
    (source,) = tool_specs(["get_function_source"])
    schema = source["input_schema"]
    assert schema["required"] == ["path", "line"]
    assert schema["properties"]["line"] == {
        "description": "Any 1-based line inside the function.", "minimum": 1, "type": "integer"
    }  # fmt: skip
    with pytest.raises(ToolError, match="unknown tool 'nope'"):
        tool_specs(["nope"])
