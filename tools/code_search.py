"""search_code: lines of the workspace's Python files matching a string or regular expression."""

from __future__ import annotations

import fnmatch
import re

from pydantic import BaseModel, ConfigDict, Field

from megawatt.tools.bounds import MAX_LINE_CHARS, clip_line
from megawatt.tools.context import ToolContext
from megawatt.tools.errors import ToolError
from megawatt.tools.workspace import python_files

__all__ = ["DESCRIPTION", "CodeMatch", "SearchInput", "SearchOutput", "search_code"]

DESCRIPTION = (
    "Search the workspace's Python files (the files a Megawatt scan reads: git-ignored files, "
    "virtualenvs and caches are skipped) for a plain string, or a Python regular expression with "
    "`regex` true, line by line. Returns each matching line's file (relative to the workspace "
    "root), 1-based line number and text (trimmed), in file order, at most `max_results`; "
    "`truncated` says there were more. `glob` limits the files, matched against the relative path "
    "or the file name (`src/*.py`, `tests/*`, `test_*.py`). Use it to find other call sites of a "
    "function, where a name is defined or assigned, or similar code elsewhere."
)


class SearchInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pattern: str = Field(min_length=1, max_length=500, description="Text (or regex) to find.")
    regex: bool = Field(default=False, description="Treat `pattern` as a Python regex.")
    max_results: int = Field(default=20, ge=1, le=200)
    glob: str | None = Field(default=None, description="Only files matching this pattern.")


class CodeMatch(BaseModel):
    path: str
    line: int
    text: str


class SearchOutput(BaseModel):
    matches: list[CodeMatch]
    truncated: bool = Field(description="More lines matched than `max_results`.")
    files_searched: int
    note: str | None = None


def _excerpt(line: str, start: int) -> str:
    """The line trimmed; a long one cut around the match so the match stays visible."""
    if len(line.strip()) <= MAX_LINE_CHARS:
        return line.strip()
    begin = max(0, min(start - MAX_LINE_CHARS // 4, len(line) - MAX_LINE_CHARS))
    body = clip_line(line[begin:])
    return ("…" + body) if begin > 0 else body


def search_code(ctx: ToolContext, args: SearchInput) -> SearchOutput:
    try:
        compiled = re.compile(args.pattern if args.regex else re.escape(args.pattern))
    except re.error as err:
        raise ToolError(f"invalid regular expression {args.pattern!r}: {err}") from None
    matches: list[CodeMatch] = []
    searched = 0
    for path in python_files(ctx):
        rel = ctx.relative(path)
        if args.glob and not (
            fnmatch.fnmatch(rel, args.glob) or fnmatch.fnmatch(path.name, args.glob)
        ):
            continue
        try:
            text = ctx.read(path).decode("utf-8", "replace")
        except ToolError:
            continue  # vanished or unreadable since it was listed
        searched += 1
        if not args.regex and args.pattern not in text:
            continue
        for number, line in enumerate(text.split("\n"), start=1):
            found = compiled.search(line)
            if found is None:
                continue
            if len(matches) == args.max_results:
                return SearchOutput(
                    matches=matches,
                    truncated=True,
                    files_searched=searched,
                    note=f"stopped at {args.max_results} matches; narrow the pattern or glob",
                )
            matches.append(CodeMatch(path=rel, line=number, text=_excerpt(line, found.start())))
    note = None if matches else f"no match in {searched} file(s)"
    return SearchOutput(matches=matches, truncated=False, files_searched=searched, note=note)
