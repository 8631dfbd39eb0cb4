"""Where a new top-level import goes: in the module's leading import block, in the section and
at the place the project's isort settings (ruff's `lint.isort`, or `[tool.isort]`) put it, so a
fix does not leave a block that ruff's I001 reports as unsorted.

Only the basics are modelled: sections (future, standard library, third party, first party,
local folder) separated by one blank line, `import x` before `from x import y` within a section
unless `force-sort-within-sections`, modules compared case-insensitively, `known-*-party`, `src`
and `lines-after-imports`. That is enough to insert one statement into a block that was sorted;
a block that was not sorted stays as unsorted as it was.
"""

from __future__ import annotations

import functools
import re
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

from tree_sitter import Node

from megawatt.analyzers.context import FileContext
from megawatt.model import Edit

__all__ = ["IsortStyle", "import_edit", "isort_style", "section_of"]

FUTURE, STDLIB, THIRD_PARTY, FIRST_PARTY, LOCAL_FOLDER = range(5)
_SECTION_NAMES = {
    "future": FUTURE,
    "standard-library": STDLIB,
    "third-party": THIRD_PARTY,
    "first-party": FIRST_PARTY,
    "local-folder": LOCAL_FOLDER,
}
_IMPORTS = ("import_statement", "import_from_statement", "future_import_statement")
_DEFINITIONS = ("function_definition", "class_definition", "decorated_definition")
_STATEMENT = re.compile(r"\s*(?:from\s+(?P<from>[.\w]+)\s+import\b|import\s+(?P<import>[.\w]+))")


@dataclass(frozen=True)
class IsortStyle:
    force_sort_within_sections: bool = False
    lines_after_imports: int = -1  # isort's "auto": two before a definition, else one
    known: tuple[tuple[str, int], ...] = ()  # (module prefix, section) from known-* settings
    src: tuple[Path, ...] = ()  # where first-party modules live


def _table(doc: dict[str, object], *keys: str) -> dict[str, object]:
    here: object = doc
    for key in keys:
        here = here.get(key) if isinstance(here, dict) else None
    return here if isinstance(here, dict) else {}


def _style_from(isort: dict[str, object], src: object, base: Path, underscores: bool) -> IsortStyle:
    def get(name: str) -> object:
        return isort.get(name.replace("-", "_") if underscores else name)

    known: list[tuple[str, int]] = []
    for name, section in (
        ("known-first-party", FIRST_PARTY),
        ("known-third-party", THIRD_PARTY),
        ("known-local-folder", LOCAL_FOLDER),
        ("extra-standard-library", STDLIB),
    ):
        value = get(name)
        if isinstance(value, list):
            known += [(str(v), section) for v in value]
    roots = [base / str(s) for s in src] if isinstance(src, list) else [base, base / "src"]
    after = get("lines-after-imports")
    return IsortStyle(
        force_sort_within_sections=bool(get("force-sort-within-sections")),
        lines_after_imports=after if isinstance(after, int) else -1,
        known=tuple(known),
        src=tuple(roots),
    )


def _read(path: Path) -> dict[str, object]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return {}


@functools.lru_cache(maxsize=256)
def _style_for_folder(folder: Path, stamp: tuple[float, ...]) -> IsortStyle:
    # as ruff finds its configuration: the nearest ruff.toml, .ruff.toml, or pyproject.toml
    # with a [tool.ruff] (or, for isort itself, [tool.isort]) table
    for here in (folder, *folder.parents):
        for name in ("ruff.toml", ".ruff.toml"):
            if (here / name).is_file():
                doc = _read(here / name)
                isort = _table(doc, "lint", "isort") or _table(doc, "isort")
                return _style_from(isort, doc.get("src"), here, underscores=False)
        project = here / "pyproject.toml"
        if project.is_file():
            tool = _table(_read(project), "tool")
            ruff = _table(tool, "ruff")
            if ruff:
                isort = _table(ruff, "lint", "isort") or _table(ruff, "isort")
                return _style_from(isort, ruff.get("src"), here, underscores=False)
            if _table(tool, "isort"):
                isort = _table(tool, "isort")
                return _style_from(isort, isort.get("src_paths"), here, underscores=True)
        if (here / ".git").exists():
            return IsortStyle(src=(here, here / "src"))
    return IsortStyle(src=(folder, folder / "src"))


def _stamp(folder: Path) -> tuple[float, ...]:
    """The modification times of the configuration files that could apply, so an edited
    pyproject.toml is read again."""
    times: list[float] = []
    for here in (folder, *folder.parents):
        for name in ("ruff.toml", ".ruff.toml", "pyproject.toml"):
            try:
                times.append((here / name).stat().st_mtime)
            except OSError:
                continue
    return tuple(times)


def isort_style(path: str) -> IsortStyle:
    folder = Path(path).resolve().parent
    return _style_for_folder(folder, _stamp(folder))


def _own_package(path: str) -> str | None:
    """The top-level package holding the file (ruff's detect-same-package)."""
    folder = Path(path).resolve().parent
    top = None
    while (folder / "__init__.py").is_file():
        top = folder.name
        folder = folder.parent
    return top


def section_of(module: str, style: IsortStyle, path: str) -> int:
    if module.startswith("."):
        return LOCAL_FOLDER
    top = module.split(".", 1)[0]
    if top == "__future__":
        return FUTURE
    for prefix, section in style.known:
        if module == prefix or module.startswith(prefix + "."):
            return section
    if top in sys.stdlib_module_names:
        return STDLIB
    if top == _own_package(path):
        return FIRST_PARTY
    for root in style.src:
        if (root / top).is_dir() or (root / f"{top}.py").is_file():
            return FIRST_PARTY
    return THIRD_PARTY


@dataclass(frozen=True)
class _Entry:
    module: str
    is_from: bool
    section: int
    start: int  # start of its first line, comments directly above included (except the first)
    end: int  # after its last line's newline


def _module_of(node: Node) -> tuple[str, bool] | None:
    if node.type == "future_import_statement":
        return "__future__", True
    if node.type == "import_from_statement":
        mod = node.child_by_field_name("module_name")
        return (mod.text.decode("utf-8"), True) if mod is not None and mod.text else None
    name = node.child_by_field_name("name")
    if name is not None and name.type == "aliased_import":
        name = name.child_by_field_name("name")
    return (name.text.decode("utf-8"), False) if name is not None and name.text else None


def _line_start(source: bytes, offset: int) -> int:
    return source.rfind(b"\n", 0, offset) + 1


def _line_end(source: bytes, offset: int) -> int:
    nl = source.find(b"\n", offset)
    return len(source) if nl < 0 else nl + 1


def _header_end(ctx: FileContext) -> tuple[int, Node | None]:
    """Where a new block would go (below the docstring, else below the leading comments: a
    shebang, a coding line, a licence), and the first statement that is neither."""
    at = 0
    docstring = False
    for child in ctx.tree.root_node.named_children:
        if child.type == "comment":
            if not docstring:
                at = _line_end(ctx.source, child.end_byte)
            continue
        if (
            not docstring
            and child.type == "expression_statement"
            and child.named_children
            and child.named_children[0].type == "string"
        ):
            docstring = True
            at = _line_end(ctx.source, child.end_byte)
            continue
        return at, child
    return at, None


def _block(ctx: FileContext, style: IsortStyle) -> tuple[list[_Entry], int, Node | None]:
    """The leading import block's statements, where it would start, and what follows it."""
    at, first = _header_end(ctx)
    entries: list[_Entry] = []
    node = first
    while node is not None and node.type in (*_IMPORTS, "comment"):
        if node.type != "comment":
            found = _module_of(node)
            if found is None:
                break
            start = _line_start(ctx.source, node.start_byte)
            if entries:
                prev = node.prev_sibling
                while (
                    prev is not None
                    and prev.type == "comment"
                    and ctx.source[prev.end_byte : start].strip() == b""
                    and ctx.source[prev.end_byte : start].count(b"\n") == 1
                ):
                    start = _line_start(ctx.source, prev.start_byte)
                    prev = prev.prev_sibling
            entries.append(
                _Entry(
                    found[0],
                    found[1],
                    section_of(found[0], style, ctx.path),
                    start,
                    _line_end(ctx.source, node.end_byte),
                )
            )
        node = node.next_named_sibling
    return entries, at, node


def _key(module: str, is_from: bool, style: IsortStyle) -> tuple[object, ...]:
    if style.force_sort_within_sections:
        return (module.lower(), module, is_from)
    return (is_from, module.lower(), module)


def _blank_lines_after(source: bytes, at: int) -> int:
    count = 0
    while at < len(source):
        end = _line_end(source, at)
        if source[at:end].strip():
            break
        count += 1
        at = end
    return count


def import_edit(ctx: FileContext, statement: str) -> Edit:
    """An edit adding the top-level import `statement` (one statement, maybe with a trailing
    comment or several lines) where isort puts it."""
    text = statement.rstrip("\n") + "\n"
    style = isort_style(ctx.path)
    m = _STATEMENT.match(statement)
    module = (m.group("from") or m.group("import")) if m else statement.strip()
    is_from = bool(m and m.group("from"))
    section = section_of(module, style, ctx.path)
    entries, header, after = _block(ctx, style)
    source = ctx.source
    if not entries:
        return _new_block(source, header, after, text, style)
    key = _key(module, is_from, style)
    same = [e for e in entries if e.section == section]
    if same:
        later = [e for e in same if _key(e.module, e.is_from, style) > key]
        if later:
            return Edit(later[0].start, later[0].start, text)
        end = same[-1].end
        return Edit(end, end, _terminated(source, end, text))
    below = [e for e in entries if e.section < section]
    if below:  # a section of its own, after the sections that come before it
        end = below[-1].end
        return Edit(end, end, _terminated(source, end, "\n" + text))
    start = entries[0].start  # the first section: before the block, above its blank line
    return Edit(start, start, text + "\n")


def _terminated(source: bytes, at: int, text: str) -> str:
    # inserting at the end of a file whose last line has no newline
    return "\n" + text if at == len(source) and source and not source.endswith(b"\n") else text


def _new_block(
    source: bytes, header: int, after: Node | None, text: str, style: IsortStyle
) -> Edit:
    """A block of its own below the header, with the blank lines isort wants after it."""
    if after is None:
        at = len(source)
        lead = "\n" if header > 0 and at > 0 else ""
        return Edit(at, at, _terminated(source, at, lead + text))
    if header > 0 and _blank_lines_after(source, header) > 0:
        header = _line_end(source, header)  # keep the blank line under the docstring
    want = style.lines_after_imports
    if want < 0:
        want = 2 if after.type in _DEFINITIONS else 1
    have = _blank_lines_after(source, header)
    return Edit(header, header, text + "\n" * max(0, want - have))
