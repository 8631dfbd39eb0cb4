"""Where a profiled function is in today's source: its file in the workspace and its current line."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from megawatt.analyzers.symbols import FunctionDef, functions_in_source
from megawatt.profiles.profile import Profile


class SourceIndex:
    """Functions per workspace file, parsed once per file and reused."""

    def __init__(self) -> None:
        self._defs: dict[str, list[FunctionDef]] = {}

    def functions(self, path: str) -> list[FunctionDef]:
        defs = self._defs.get(path)
        if defs is None:
            try:
                defs = functions_in_source(Path(path).read_bytes())
            except OSError:
                defs = []
            self._defs[path] = defs
        return defs


def locate(profile: Profile, fid: int, index: SourceIndex) -> FunctionDef | None:
    """The source function `fid` refers to, by qualified name first and line second."""
    from megawatt.profiles.mapping import match_function

    if not profile.workspace_paths or profile.workspace_paths[fid] is None:
        return None
    path = profile.workspace_paths[fid]
    assert path is not None
    hot_lines: Iterable[int] = ()
    if int(profile.first_lines[fid]) <= 0:
        hot_lines = [lf.line for lf in profile.lines(fid)]
    return match_function(
        index.functions(path), profile.names[fid], int(profile.first_lines[fid]), list(hot_lines)
    )
