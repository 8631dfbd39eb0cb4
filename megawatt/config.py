"""`[tool.megawatt]` in pyproject.toml, read into a pydantic model.

Keys are kebab-case in TOML (`path-map`) and accepted in snake_case too, since editors send
settings as JSON objects. Unknown keys are kept out of the model and reported by name, once, so a
typo never passes silently and never stops the tool.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from megawatt.errors import ConfigError


def _kebab(name: str) -> str:
    return name.replace("_", "-")


DEFAULT_MODEL = "claude-sonnet-4-6"


class LlmSettings(BaseModel):
    """`[tool.megawatt.llm]`: AI fixes. Off until enabled; the API key is never a setting (it
    comes from ANTHROPIC_API_KEY or the editor's secret storage)."""

    model_config = ConfigDict(
        alias_generator=_kebab, populate_by_name=True, extra="forbid", frozen=True
    )

    enabled: bool = Field(default=False, description="Send code to the model to generate fixes.")
    model: str = Field(default=DEFAULT_MODEL, min_length=1, description="Claude model id.")
    max_tokens: int = Field(default=4096, ge=256, le=64000, description="Per model answer.")
    timeout: float = Field(default=60.0, gt=0, description="Seconds per model request.")
    max_steps: int = Field(default=8, ge=1, le=30, description="Model turns per candidate.")
    token_budget: int = Field(
        default=80000, ge=1000, description="Input + output tokens one fix may use in all."
    )
    test_timeout: float = Field(default=120.0, gt=0, description="Seconds for the tests' run.")
    deadline: float = Field(
        default=300.0, gt=0, description="Seconds for a whole fix: the model and every check."
    )
    max_retry_wait: float = Field(
        default=30.0, ge=0, description="Longest wait a rate limit's retry-after may ask for."
    )
    min_gain: float = Field(
        default=0.05, ge=0, description="Smallest measured speed-up offered (0.05 = 5 % faster)."
    )
    allow_unverified: bool = Field(
        default=False,
        description="Also offer fixes that no test or replayed call exercised (marked so).",
    )


class Settings(BaseModel):
    """Project settings; every field has a default so an empty table is valid."""

    model_config = ConfigDict(
        alias_generator=_kebab, populate_by_name=True, extra="ignore", frozen=True
    )

    profiles: list[str] = Field(
        default_factory=lambda: [".megawatt/profiles"],
        description="Profile files or folders of profiles, relative to the project root.",
    )
    path_map: dict[str, str] = Field(
        default_factory=dict,
        description="Recorded path prefix → workspace path, for profiles taken elsewhere.",
    )
    hot_threshold: float = Field(
        default=0.02, ge=0.0, le=1.0, description="Inclusive share from which a function is hot."
    )
    top: int = Field(default=20, ge=1, description="Rows shown by `megawatt profile`.")
    max_profile_mb: float = Field(
        default=2048, gt=0, description="Largest profile file Megawatt will read."
    )
    profiler: str = Field(default="cprofile", description="Profiler for `megawatt profile run`.")
    exclude: list[str] = Field(default_factory=list, description="Glob patterns never scanned.")
    select: list[str] | None = Field(default=None, description="Only these skill ids.")
    ignore: list[str] = Field(default_factory=list, description="Never these skill ids.")
    profile_command: list[str] = Field(
        default_factory=list,
        description="The command the editor's 'Record profile' runs (under `megawatt profile run`).",
    )
    llm: LlmSettings = Field(default_factory=LlmSettings, description="AI fixes.")

    @field_validator("profiler")
    @classmethod
    def _known_profiler(cls, value: str) -> str:
        if value not in ("cprofile", "py-spy", "pyinstrument"):
            raise ValueError("must be one of cprofile, py-spy, pyinstrument")
        return value

    @property
    def max_profile_bytes(self) -> int:
        return int(self.max_profile_mb * 1024 * 1024)


def known_keys() -> set[str]:
    keys: set[str] = set()
    for name, field in Settings.model_fields.items():
        keys.add(name)
        keys.add(field.alias or name)
    return keys


def parse_settings(table: dict[str, Any], where: str) -> tuple[Settings, list[str]]:
    """The settings in `table`, and warnings for keys Megawatt does not know."""
    known = known_keys()
    unknown = sorted(k for k in table if k not in known)
    warnings = [f"{where}: unknown key {k!r} in [tool.megawatt] (ignored)" for k in unknown]
    try:
        settings = Settings.model_validate({k: v for k, v in table.items() if k in known})
    except ValidationError as err:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in err.errors()
        )
        raise ConfigError(f"{where}: invalid [tool.megawatt] settings: {problems}") from None
    return settings, warnings


def find_project_root(start: Path, within: Path | None = None) -> Path:
    """The nearest folder at or above `start` holding a pyproject.toml or .git; without one,
    `within` (the workspace folder; for the CLI, the current directory) when it holds `start`,
    else `start`'s own folder.

    A file's folder is a poor guess for a project without markers: `pkg/mod.py` would make
    `pkg/` the root and miss the `.megawatt/profiles/` and settings of the folder above it.
    """
    start = start.resolve()
    here = start if start.is_dir() else start.parent
    for folder in (here, *here.parents):
        if (folder / "pyproject.toml").is_file() or (folder / ".git").exists():
            return folder
    base = (within if within is not None else Path.cwd()).resolve()
    if here == base or base in here.parents:
        return base
    return here


def load_settings(root: Path) -> tuple[Settings, list[str]]:
    pyproject = root / "pyproject.toml"
    if not pyproject.is_file():
        return Settings(), []
    try:
        doc = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise ConfigError(f"{pyproject}: not valid TOML ({err})") from None
    table = doc.get("tool", {}).get("megawatt", {})
    if not isinstance(table, dict):
        raise ConfigError(f"{pyproject}: [tool.megawatt] must be a table")
    return parse_settings(table, str(pyproject))
