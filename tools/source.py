"""get_function_source: the function around a line, its class in outline, the module's imports."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field
from tree_sitter import Node

from megawatt.tools.bounds import MAX_LINES, clip_lines
from megawatt.tools.context import ToolContext
from megawatt.tools.outline import class_of, class_outline, import_block, statement_at
from megawatt.tools.parsed import ParsedFile, parse_file

__all__ = [
    "DESCRIPTION",
    "ClassOutline",
    "FunctionSourceInput",
    "FunctionSourceOutput",
    "get_function_source",
]

DESCRIPTION = (
    "Read the source of the function or method that contains a given line of a Python file in "
    "the workspace. Returns its qualified name (e.g. `Cart.total`), its first line (decorators "
    "included), `def` line and last line, and its source text, which starts at `start_line`. "
    "For a method it also returns the enclosing class in outline (class header, class-level "
    "statements, `__init__` in full, other methods as signatures only), and always the module's "
    "import block, so you can see which names are available. Use it before proposing a change to "
    "a function, and to read a caller or callee named by another tool. A line at module level "
    "returns the statement holding it and `function` null. Long functions are cut to `max_lines` "
    "lines with `truncated` set; a file with syntax errors still returns what parses."
)

IMPORT_LINES = 80


class FunctionSourceInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: str = Field(description="Python file, relative to the workspace root (or absolute).")
    line: int = Field(ge=1, description="Any 1-based line inside the function.")
    max_lines: int = Field(
        default=MAX_LINES, ge=1, le=2000, description="Most source lines to return."
    )


class ClassOutline(BaseModel):
    name: str
    line: int = Field(description="1-based line of the `class` keyword.")
    end_line: int
    outline: str = Field(description="The class without the bodies of its methods (but __init__).")
    truncated: bool = False


class FunctionSourceOutput(BaseModel):
    path: str = Field(description="Relative to the workspace root.")
    function: str | None = Field(description="Qualified name; null at module level.")
    start_line: int = Field(description="First line of `source` (the first decorator, if any).")
    def_line: int | None = Field(description="Line of the `def` keyword.")
    end_line: int
    source: str
    truncated: bool = Field(description="Whether `source` was cut at `max_lines`.")
    enclosing_class: ClassOutline | None = None
    imports: str = Field(description="The module-level import statements.")
    parse_errors: bool = Field(description="The file has syntax errors; the answer is partial.")
    notes: list[str] = Field(default_factory=list)


def _outline(pf: ParsedFile, cls: Node | None) -> ClassOutline | None:
    if cls is None:
        return None
    text, clipped = clip_lines(class_outline(cls, pf.source))
    name = cls.child_by_field_name("name")
    return ClassOutline(
        name=(name.text or b"").decode("utf-8", "replace") if name is not None else "",
        line=cls.start_point.row + 1,
        end_line=cls.end_point.row + 1,
        outline=text,
        truncated=clipped,
    )


@dataclass
class _Located:
    first: int
    last: int
    name: str | None = None
    def_line: int | None = None
    klass: ClassOutline | None = None
    note: str | None = None
    has_code: bool = True


def _locate(pf: ParsedFile, line: int) -> _Located:
    """The function holding `line`, else its statement at module level or in a class body."""
    fn = pf.function_at(line)
    if fn is not None:
        node = pf.node_of(fn)
        klass = _outline(pf, class_of(node) if node is not None else None)
        return _Located(fn.first_line, fn.end_line, fn.qualname, fn.line, klass)
    stmt = statement_at(pf.tree.root_node, line - 1)
    if stmt is None:
        note = f"line {line} is blank or a comment outside any function"
        return _Located(line, line, note=note, has_code=False)
    inner = stmt.child_by_field_name("definition") or stmt
    klass = _outline(pf, inner if inner.type == "class_definition" else class_of(stmt))
    note = f"line {line} is outside any function; this is its statement"
    return _Located(stmt.start_point.row + 1, stmt.end_point.row + 1, klass=klass, note=note)


def get_function_source(ctx: ToolContext, args: FunctionSourceInput) -> FunctionSourceOutput:
    pf = parse_file(ctx, args.path)
    pf.check_line(args.line)
    imports, imports_clipped = clip_lines(import_block(pf.tree.root_node, pf.source), IMPORT_LINES)
    notes = ["the import block was cut"] if imports_clipped else []
    if pf.has_errors:
        notes.append(f"{pf.rel} has syntax errors; names and ranges near them are a best guess")
    at = _locate(pf, args.line)
    first, last = at.first, at.last
    notes += [at.note] if at.note else []
    text = pf.text(first, last) if at.has_code else ""
    source, clipped = clip_lines(text, args.max_lines)
    if clipped:
        shown = source.count("\n")
        notes.append(
            f"source cut to its first {shown} of {last - first + 1} lines; "
            f"ask again with a larger max_lines to read the rest"
        )
    return FunctionSourceOutput(
        path=pf.rel,
        function=at.name,
        start_line=first,
        def_line=at.def_line,
        end_line=last,
        source=source,
        truncated=clipped,
        enclosing_class=at.klass,
        imports=imports,
        parse_errors=pf.has_errors,
        notes=notes,
    )
