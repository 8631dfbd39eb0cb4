"""find_tests: the project's pytest tests whose code names a given function."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath

from pydantic import BaseModel, ConfigDict, Field
from tree_sitter import Node, Query, QueryCursor

from megawatt.analyzers.imports import ImportTable
from megawatt.analyzers.parsing import PYTHON, parse
from megawatt.tools.context import ToolContext
from megawatt.tools.errors import ToolError
from megawatt.tools.parsed import ParsedFile, parse_file
from megawatt.tools.workspace import python_files

__all__ = ["DESCRIPTION", "FindTestsInput", "FindTestsOutput", "TestMatch", "find_tests"]

DESCRIPTION = (
    "Find the project's pytest tests that exercise a function: test functions (`def test_*`, "
    "and `test_*` methods of `Test*` classes) in test files (`test_*.py`, `*_test.py`, files "
    "under `tests/` or `test/`) whose code refers to the function by name, as a call or a "
    "reference for a plain function and as an attribute (`obj.method(...)`) for a method; for "
    "`__init__`, calls of the class. Each match has its file, its pytest id "
    "(`tests/test_x.py::TestA::test_b`, to run with `pytest <id>`), its line, the first line "
    "naming the function, and whether the test file imports the function's module (those come "
    "first; a match without the import may be another function of the same name). Use it to "
    "choose the tests that validate a fix."
)

_IDENTIFIERS = Query(PYTHON, "(identifier) @id")
TEST_DIRS = frozenset({"tests", "test"})


class FindTestsInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: str = Field(description="The file defining the function, relative to the root.")
    function: str = Field(
        min_length=1, description="Its name or qualified name, e.g. `price` or `Cart.total`."
    )
    max_results: int = Field(default=20, ge=1, le=100)


class TestMatch(BaseModel):
    __test__ = False  # not a pytest test class, whatever its name

    path: str
    test_id: str = Field(description="The pytest node id.")
    line: int = Field(description="The test's `def` line.")
    reference_line: int = Field(description="The first line in the test naming the function.")
    imports_module: bool = Field(description="The test file imports the function's module.")


class FindTestsOutput(BaseModel):
    function: str = Field(description="The function's qualified name.")
    searched_name: str = Field(description="The name looked for in the tests.")
    method: bool = Field(description="Looked for as an attribute (`obj.name`) only.")
    tests: list[TestMatch]
    total_found: int
    truncated: bool = False
    test_files: int = Field(description="Test files scanned.")
    note: str | None = None


@dataclass(frozen=True)
class _Target:
    name: str
    method: bool  # only `obj.name` counts
    module: str  # the defining module's last dotted part


def is_test_file(rel: str) -> bool:
    p = PurePosixPath(rel)
    return (
        p.name.startswith("test_")
        or p.name.endswith("_test.py")
        or any(part in TEST_DIRS for part in p.parts[:-1])
    ) and p.suffix == ".py"


def _name(node: Node | None) -> str:
    return "" if node is None or node.text is None else node.text.decode("utf-8", "replace")


def _tests(block: Node, prefix: str) -> Iterator[tuple[str, Node]]:
    """(pytest id suffix, function node) of the tests in a module or `Test*` class body."""
    for child in block.named_children:
        inner = child.child_by_field_name("definition") or child
        name = _name(inner.child_by_field_name("name"))
        if inner.type == "function_definition" and name.startswith("test"):
            yield f"{prefix}::{name}", inner
        elif inner.type == "class_definition" and name.startswith("Test"):
            body = inner.child_by_field_name("body")
            if body is not None:
                yield from _tests(body, f"{prefix}::{name}")


def _reference(fn: Node, target: _Target) -> int | None:
    """The first 1-based line in `fn`'s body naming `target`, if any."""
    body = fn.child_by_field_name("body")
    if body is None:
        return None
    lines = []
    for node in QueryCursor(_IDENTIFIERS).captures(body).get("id", []):
        if node.text != target.name.encode():
            continue
        parent = node.parent
        if parent is not None and parent.type == "attribute":
            if parent.child_by_field_name("attribute") != node and target.method:
                continue
        elif target.method or (
            parent is not None
            and parent.type == "keyword_argument"
            and parent.child_by_field_name("name") == node
        ):
            continue
        lines.append(node.start_point.row + 1)
    return min(lines) if lines else None


def _target(pf: ParsedFile, function: str) -> tuple[str, _Target]:
    d = pf.find(function)
    if d is None:
        names = ", ".join(x.qualname for x in pf.defs[:40]) or "none"
        raise ToolError(f"no function {function!r} in {pf.rel}; its functions are: {names}")
    node = pf.node_of(d)
    holder = node.parent if node is not None else None
    if holder is not None and holder.type == "decorated_definition":
        holder = holder.parent
    cls = holder.parent if holder is not None and holder.type == "block" else None
    in_class = cls is not None and cls.type == "class_definition"
    stem = PurePosixPath(pf.rel).stem
    module = PurePosixPath(pf.rel).parent.name if stem == "__init__" else stem
    if in_class and d.name == "__init__" and cls is not None:
        return d.qualname, _Target(_name(cls.child_by_field_name("name")), False, module)
    return d.qualname, _Target(d.name, in_class, module)


def _matches(rel: str, source: bytes, target: _Target) -> list[TestMatch]:
    """The tests of one test file that name `target`."""
    needle = target.name.encode()
    if needle not in source:
        return []
    tree = parse(source)
    bindings = ImportTable(tree).bindings.values()
    imports_module = any(target.module in value.split(".") for value in bindings)
    found = []
    for test_id, fn in _tests(tree.root_node, rel):
        if needle not in source[fn.start_byte : fn.end_byte]:
            continue
        ref = _reference(fn, target)
        if ref is not None:
            line = fn.start_point.row + 1
            found.append(TestMatch(path=rel, test_id=test_id, line=line, reference_line=ref,
                                   imports_module=imports_module))  # fmt: skip
    return found


def find_tests(ctx: ToolContext, args: FindTestsInput) -> FindTestsOutput:
    pf = parse_file(ctx, args.path)
    qualname, target = _target(pf, args.function)
    matches: list[TestMatch] = []
    scanned = 0
    for path in python_files(ctx):
        rel = ctx.relative(path)
        if not is_test_file(rel):
            continue
        try:
            source = ctx.read(path)
        except ToolError:
            continue  # vanished or unreadable since it was listed
        scanned += 1
        matches += _matches(rel, source, target)
    matches.sort(key=lambda m: (not m.imports_module, m.path, m.line))
    out = FindTestsOutput(
        function=qualname,
        searched_name=target.name,
        method=target.method,
        tests=matches[: args.max_results],
        total_found=len(matches),
        truncated=len(matches) > args.max_results,
        test_files=scanned,
    )
    if not matches:
        out.note = f"no test in the {scanned} test file(s) names {target.name!r}"
    elif out.truncated:
        out.note = f"showing {args.max_results} of {len(matches)} tests"
    return out
