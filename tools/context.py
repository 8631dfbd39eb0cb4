"""`ToolContext`: what every tool reads — the workspace, its settings, profile and skills, and the
editor's unsaved buffers — and the one place where a path given by a model is checked."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from megawatt.config import Settings, load_settings
from megawatt.errors import ConfigError
from megawatt.skills import SkillSet, builtin_skills, load_skills
from megawatt.tools.errors import ToolError

if TYPE_CHECKING:
    from megawatt.profiles.profile import Profile
    from megawatt.ranking import ProfileIndex

__all__ = ["ToolContext"]


@dataclass
class ToolContext:
    """The workspace the tools answer about. `overrides` maps absolute paths to the text of
    unsaved editor buffers, read instead of the file on disk; `problems` collects what could not
    be loaded (a bad setting, a broken profile) so a host can show it."""

    root: Path
    settings: Settings = field(default_factory=Settings)
    skills: SkillSet = field(default_factory=builtin_skills)
    profile: Profile | None = None
    index: ProfileIndex | None = None
    overrides: dict[str, bytes] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.root = Path(self.root).resolve()
        if self.profile is not None and self.index is None:
            from megawatt.ranking import ProfileIndex

            self.index = ProfileIndex(self.profile)

    @classmethod
    def for_root(
        cls,
        root: Path,
        profile_files: Sequence[Path] = (),
        overrides: Mapping[str, bytes] | None = None,
        use_profile: bool = True,
    ) -> ToolContext:
        """The context as `megawatt scan` sees `root`: `[tool.megawatt]` settings (defaults,
        and a problem noted, when they are invalid), the configured profiles (or
        `profile_files`) merged and mapped onto the workspace, built-in and project skills."""
        base = Path(root).resolve()
        problems: list[str] = []
        try:
            settings, warnings = load_settings(base)
            problems += warnings
        except ConfigError as err:
            settings = Settings()
            problems.append(f"{err} (using the default settings)")
        skills = load_skills(base)
        problems += skills.errors
        profile = None
        if use_profile:
            from megawatt.profiles.project import load_project_profile

            loaded = load_project_profile(base, settings, list(profile_files))
            problems += [str(e) for e in loaded.errors] + loaded.notes
            profile = loaded.profile
        return cls(
            root=base,
            settings=settings,
            skills=skills,
            profile=profile,
            overrides=dict(overrides or {}),
            problems=problems,
        )

    # -- paths -----------------------------------------------------------------------------

    def resolve(self, given: str) -> Path:
        """`given` (relative to the root, or absolute) as an absolute path inside the root.

        Raises ToolError when it leads outside the workspace (`..`, an absolute path elsewhere,
        a symlink out) or names no file."""
        if not given.strip():
            raise ToolError("path is empty: give a file path relative to the workspace root")
        candidate = Path(given)
        if not candidate.is_absolute():
            candidate = self.root / candidate
        try:
            resolved = candidate.resolve()
        except (OSError, ValueError) as err:  # a NUL byte, a symlink loop
            raise ToolError(f"path {given!r} cannot be used: {err}") from None
        if not resolved.is_relative_to(self.root):
            raise ToolError(
                f"path {given!r} is outside the workspace ({self.root}); "
                "give a path relative to the workspace root"
            )
        if self.buffer(resolved) is None and not resolved.is_file():
            what = "a folder, not a file" if resolved.is_dir() else "no such file"
            raise ToolError(f"path {given!r}: {what} in the workspace")
        return resolved

    def relative(self, path: str | Path) -> str:
        """`path` relative to the root in POSIX form; a path outside the root as it is."""
        p = Path(path)
        try:
            return p.relative_to(self.root).as_posix()
        except ValueError:
            return str(p)

    # -- text ------------------------------------------------------------------------------

    def buffer(self, path: Path) -> bytes | None:
        """The unsaved buffer of `path` (already resolved), if the editor has one."""
        found = self.overrides.get(str(path))
        if found is not None or not self.overrides:
            return found
        for key, value in self.overrides.items():
            if os.path.realpath(key) == str(path):
                return value
        return None

    def override_paths(self) -> list[Path]:
        """The unsaved buffers' paths that lie inside the root."""
        inside = (Path(os.path.realpath(k)) for k in self.overrides)
        return sorted(p for p in inside if p.is_relative_to(self.root))

    def read(self, path: Path) -> bytes:
        """The text of `path` (already resolved): the unsaved buffer if there is one."""
        found = self.buffer(path)
        if found is not None:
            return found
        try:
            return path.read_bytes()
        except OSError as err:
            raise ToolError(f"{self.relative(path)}: cannot be read ({err.strerror})") from None
