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

# a folder's recordings tried, newest first, before giving up on it: enough to step over a
# recording or two that a crashed or running profiler left half-written
MAX_TRIES = 5


@dataclass
class ProjectProfile:
    profile: Profile | None
    files: list[Path] = field(default_factory=list)
    errors: list[ProfileError] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # a broken newest recording → the older one of its folder used in its place
    stand_ins: dict[str, Path] = field(default_factory=dict)


def configured_entries(root: Path, settings: Settings) -> list[list[Path]]:
    """Per configured entry, the files to try in order: a file as given; for a folder, its
    recordings newest first (the newest is meant, the older ones stand in when it is broken)."""
    entries: list[list[Path]] = []
    for entry in settings.profiles:
        path = Path(entry).expanduser()
        path = path if path.is_absolute() else root / path
        if path.is_dir():
            candidates = []
            for p in path.iterdir():
                try:
                    if p.is_file() and not p.name.startswith("."):
                        candidates.append((p.stat().st_mtime, p))
                except OSError:  # deleted while we looked
                    continue
            if candidates:
                entries.append([p for _, p in sorted(candidates, reverse=True)])
        elif path.is_file():
            entries.append([path])
    return entries


def configured_files(root: Path, settings: Settings) -> list[Path]:
    """Profile files from settings: files as given; for a folder, its newest profile.

    A folder such as `.megawatt/profiles/` collects recordings over time; merging them all would
    mix yesterday's code with today's, so only the latest recording of each folder is used.
    """
    return [tries[0] for tries in configured_entries(root, settings)]


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
    entries = [[Path(f)] for f in files] if files else configured_entries(root, settings)
    result = ProjectProfile(profile=None, files=[tries[0] for tries in entries])
    if not entries:
        return result
    profiles: list[Profile] = []
    for i, tries in enumerate(entries):
        for attempt, path in enumerate(tries[:MAX_TRIES]):
            loaded = load_many([path], settings.max_profile_bytes)
            result.errors.extend(loaded.errors)
            if loaded.profiles:
                profiles.extend(loaded.profiles)
                if attempt:
                    # the newest recording is broken: the newest one that loads stands in
                    result.files[i] = path
                    for err in result.errors:
                        if Path(err.path) in tries[:attempt]:
                            result.stand_ins[err.path] = path
                break
    if not profiles:
        return result
    by_unit: dict[str, list[Profile]] = {}
    for p in profiles:
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
