"""Map what a profile recorded onto today's workspace.

Paths: a profile taken in a container, on CI or from an installed copy in site-packages names
files by paths that do not exist here. Explicit prefix maps (`/app=src`) are tried first, then the
path as it is, then the workspace file sharing the longest run of trailing path components.

Functions: matched to source by qualified name first and line second, so a profile recorded
before today's edits still lands on the function that moved.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import TYPE_CHECKING

from megawatt.analyzers.files import walk_python_files
from megawatt.analyzers.symbols import FunctionDef
from megawatt.model import FunctionKind
from megawatt.profiles.kinds import _STDLIB_ROOTS

if TYPE_CHECKING:
    from megawatt.profiles.profile import Profile


def _parts(path: str) -> tuple[str, ...]:
    if "\\" in path and "/" not in path:
        return PureWindowsPath(path).parts
    return PurePosixPath(path).parts


@dataclass(frozen=True, slots=True)
class PrefixMap:
    source: str
    target: str

    @classmethod
    def parse(cls, text: str) -> PrefixMap:
        """`FROM=TO`, as given on the command line or in configuration."""
        source, sep, target = text.partition("=")
        if not sep or not source:
            raise ValueError(f"a path map is FROM=TO, got {text!r}")
        return cls(source.rstrip("/\\"), target)


class WorkspaceIndex:
    """Python files under a root, indexed by file name for suffix matching."""

    def __init__(self, root: Path, files: Iterable[Path] | None = None) -> None:
        self.root = root.resolve()
        self._by_name: defaultdict[str, list[tuple[str, ...]]] = defaultdict(list)
        for f in files if files is not None else self._walk():
            rel = f.resolve().relative_to(self.root) if f.is_absolute() else f
            self._by_name[rel.name].append(rel.parts)

    def _walk(self) -> Iterable[Path]:
        # the same files a scan reads: virtualenvs, caches and VCS folders are never the user's
        for path in walk_python_files(self.root):
            yield path.relative_to(self.root)

    def longest_suffix(self, recorded: str) -> str | None:
        """The workspace file sharing the most trailing components; None when tied or absent."""
        parts = _parts(recorded)
        if not parts:
            return None
        best: list[tuple[str, ...]] = []
        best_len = 0
        for cand in self._by_name.get(parts[-1], ()):
            n = 0
            while n < len(cand) and n < len(parts) and cand[-1 - n] == parts[-1 - n]:
                n += 1
            if n > best_len:
                best, best_len = [cand], n
            elif n == best_len:
                best.append(cand)
        if len(best) != 1:
            return None  # ambiguous: a guess here would put figures on the wrong file
        return str(self.root.joinpath(*best[0]))


class PathMapper:
    def __init__(
        self,
        root: Path,
        prefix_maps: Sequence[PrefixMap] = (),
        index: WorkspaceIndex | None = None,
    ) -> None:
        self.root = root.resolve()
        self.prefix_maps = sorted(prefix_maps, key=lambda m: len(m.source), reverse=True)
        self._index = index
        self._cache: dict[str, str | None] = {}

    @property
    def index(self) -> WorkspaceIndex:
        if self._index is None:
            self._index = WorkspaceIndex(self.root)
        return self._index

    def _inside(self, path: Path) -> bool:
        try:
            path.relative_to(self.root)
        except ValueError:
            return False
        return True

    def map(self, recorded: str) -> str | None:
        if recorded in self._cache:
            return self._cache[recorded]
        self._cache[recorded] = result = self._map(recorded)
        return result

    def _map(self, recorded: str) -> str | None:
        if not recorded or recorded.startswith(("<", "~")):
            return None
        for m in self.prefix_maps:
            if recorded == m.source or recorded.startswith((m.source + "/", m.source + "\\")):
                rest = recorded[len(m.source) :].lstrip("/\\")
                target = Path(m.target)
                if not target.is_absolute():
                    target = self.root / target
                candidate = (target / rest).resolve()
                if candidate.is_file():
                    return str(candidate)
        as_is = Path(recorded)
        if not as_is.is_absolute():
            as_is = self.root / as_is
        if as_is.is_file():
            resolved = as_is.resolve()
            if self._inside(resolved):
                return str(resolved)
            # another checkout of the project on this machine: fall through to suffix matching
        # the standard library is never the workspace's, however its file names collide
        if recorded.startswith(_STDLIB_ROOTS) and "site-packages" not in recorded:
            return None
        return self.index.longest_suffix(recorded)

    def apply(self, profile: Profile) -> Profile:
        """The profile with `workspace_paths` set; mapped library code becomes user code."""
        mapped = [
            None if profile.kinds[fid] in (FunctionKind.NATIVE, FunctionKind.IDLE) else self.map(p)
            for fid, p in enumerate(profile.paths)
        ]
        return profile.with_workspace_paths(mapped)


def match_function(
    defs: Sequence[FunctionDef], name: str, line: int, hot_lines: Sequence[int] = ()
) -> FunctionDef | None:
    """The source function a profiled (name, first line) refers to: by name, then by line.

    Profilers record a bare name (cProfile, py-spy) or a qualified one (pyinstrument, Scalene);
    both match the end of a source qualified name. Among several same-named functions the nearest
    to the recorded line wins; a function renamed since the profile is found by line alone.
    """
    if name.startswith("<"):
        return None  # <module>, <lambda>, <genexpr>: no `def` to land on
    dotted = name.replace(".<locals>", "")
    by_name = [d for d in defs if d.qualname == name or d.dotted == dotted]
    if not by_name:
        by_name = [d for d in defs if d.name == dotted.rsplit(".", 1)[-1]]
    anchor_lines = [line] if line > 0 else list(hot_lines)
    if by_name:
        if len(by_name) == 1 or not anchor_lines:
            return by_name[0]
        containing = [d for d in by_name if any(d.contains(a) for a in anchor_lines)]
        if len(containing) == 1:
            return containing[0]
        pool = containing or by_name
        return min(pool, key=lambda d: min(abs(d.first_line - a) for a in anchor_lines))
    if line > 0:
        # renamed since: the innermost function whose span holds the recorded first line
        holding = [d for d in defs if d.first_line <= line <= d.end_line]
        if holding:
            return max(holding, key=lambda d: d.first_line)
    return None
