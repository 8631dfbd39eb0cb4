"""Two profiles side by side (`megawatt profile diff`): each function keyed by its path within
the project it was recorded in and by the name that project's source gives it, so a profile of
one checkout pairs with a profile of another, and a bare cProfile name with a qualified one.

A profile's project is the one its file sits in (recordings live in `.megawatt/profiles/`), else
the current one. Its paths are mapped onto that project as `megawatt profile` maps them (its
[tool.megawatt] path-map, `--map`, the longest matching suffix); a path that maps nowhere has the
`--map` prefixes replaced in its text, so checkouts that are gone still pair up.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from megawatt.config import find_project_root, load_settings
from megawatt.model import FunctionKind
from megawatt.profiles import load
from megawatt.profiles.detect import DEFAULT_MAX_BYTES
from megawatt.profiles.locate import SourceIndex, place
from megawatt.profiles.mapping import PrefixMap
from megawatt.profiles.ops import Diff, Key, diff
from megawatt.profiles.profile import Profile
from megawatt.profiles.project import mapper_for


def _marked(folder: Path) -> bool:
    return (folder / "pyproject.toml").is_file() or (folder / ".git").exists()


def project_of(path: Path, default: Path) -> Path:
    """The nearest project (by its markers) holding `path`, else `default`."""
    found = find_project_root(path.resolve().parent, within=default)
    return found if _marked(found) else default


def _rewrite(path: str, maps: Sequence[PrefixMap]) -> str:
    for m in sorted(maps, key=lambda m: len(m.source), reverse=True):
        if path == m.source or path.startswith((m.source + "/", m.source + "\\")):
            return m.target.rstrip("/\\") + path[len(m.source) :]
    return path


def _key_path(path: str, roots: Sequence[Path]) -> str:
    """`path` within the innermost of `roots` holding it (each profile's project), else as it
    is: the same file of two checkouts, or of their virtual environments, gets the same key."""
    if not os.path.isabs(path):
        return Path(path).as_posix()
    for root in sorted(roots, key=lambda r: len(r.parts), reverse=True):
        try:
            rel = os.path.relpath(path, root)
        except ValueError:  # another drive
            continue
        if not rel.startswith(".."):
            return Path(rel).as_posix()
    return path


def keys(
    profile: Profile, root: Path, roots: Sequence[Path], maps: Sequence[str] = ()
) -> tuple[Profile, list[Key]]:
    """The profile mapped onto its project `root`, and each function's key: its path within one
    of `roots` (after `--map`) and the name its source gives it."""
    settings, _warnings = load_settings(root)
    mapped = mapper_for(root, settings, maps).apply(profile)
    prefix_maps = [PrefixMap.parse(m) for m in maps]
    sources = SourceIndex()
    out: list[Key] = []
    for fid in range(len(mapped)):
        workspace = mapped.workspace_paths[fid] if mapped.workspace_paths else None
        name = profile.names[fid]
        if workspace and mapped.kind(fid) == FunctionKind.USER:
            found = place(mapped, fid, sources)
            name = found.qualname if found else name
        path = workspace or _rewrite(profile.paths[fid], prefix_maps)
        out.append((_key_path(path, roots), name))
    return mapped, out


def compare(
    before: Path,
    after: Path,
    default_root: Path,
    maps: Sequence[str] = (),
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> Diff:
    """Load both profiles and diff them by project-relative keys."""
    roots = [project_of(before, default_root), project_of(after, default_root)]
    b, b_keys = keys(load(before, max_bytes), roots[0], roots, maps)
    a, a_keys = keys(load(after, max_bytes), roots[1], roots, maps)
    return diff(b, a, b_keys, a_keys)
