"""The profiles a project is configured to use, loaded and mapped onto its workspace."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from megawatt.config import Settings
from megawatt.errors import MegawattError, ProfileError
from megawatt.profiles import load_many
from megawatt.profiles.mapping import PathMapper, PrefixMap
from megawatt.profiles.ops import merge
from megawatt.profiles.profile import Profile


@dataclass
class ProjectProfile:
    profile: Profile | None
    files: list[Path] = field(default_factory=list)
    errors: list[ProfileError] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def configured_files(root: Path, settings: Settings) -> list[Path]:
    """Profile files from settings: files as given; for a folder, its newest profile.

    A folder such as `.megawatt/profiles/` collects recordings over time; merging them all would
    mix yesterday's code with today's, so only the latest recording of each folder is used.
    """
    files: list[Path] = []
    for entry in settings.profiles:
        path = Path(entry).expanduser()
        path = path if path.is_absolute() else root / path
        if path.is_dir():
            candidates = [p for p in path.iterdir() if p.is_file() and not p.name.startswith(".")]
            if candidates:
                files.append(max(candidates, key=lambda p: p.stat().st_mtime))
        elif path.is_file():
            files.append(path)
    return files


def mapper_for(root: Path, settings: Settings, extra_maps: Sequence[str] = ()) -> PathMapper:
    maps = [PrefixMap(k.rstrip("/\\"), v) for k, v in settings.path_map.items()]
    maps += [PrefixMap.parse(m) for m in extra_maps]
    return PathMapper(root, maps)


def load_project_profile(
    root: Path,
    settings: Settings,
    files: Sequence[Path] | None = None,
    extra_maps: Sequence[str] = (),
) -> ProjectProfile:
    """Load `files` (or the configured ones), merge those of one unit, map paths onto `root`."""
    chosen = list(files) if files else configured_files(root, settings)
    result = ProjectProfile(profile=None, files=chosen)
    if not chosen:
        return result
    loaded = load_many(chosen, settings.max_profile_bytes)
    result.errors = loaded.errors
    if not loaded.profiles:
        return result
    by_unit: dict[str, list[Profile]] = {}
    for p in loaded.profiles:
        by_unit.setdefault(p.unit, []).append(p)
    # the unit with the most profiles wins; a mixed set cannot be added up
    unit, group = max(by_unit.items(), key=lambda kv: len(kv[1]))
    for other, rest in by_unit.items():
        if other != unit:
            names = ", ".join(p.source for p in rest)
            result.notes.append(f"not merged (measured in {other}, not {unit}): {names}")
    try:
        merged = merge(group)
    except MegawattError as err:  # pragma: no cover - units already agree
        result.notes.append(str(err))
        merged = group[0]
    result.profile = mapper_for(root, settings, extra_maps).apply(merged)
    return result
