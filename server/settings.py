"""Editor settings → `Settings` per workspace folder.

The editor sends `{"globalSettings": {...}, "settings": [{"workspace": uri, ...}, ...]}` as
initialization options (ruff's and the VS Code template's shape), or a flat object; it may also
answer `workspace/configuration` for section "megawatt". Keys are camelCase from editors
(`hotThreshold`) or the pyproject's kebab/snake case. Per folder: the editor's values override the
folder's `[tool.megawatt]`. Invalid values are dropped and reported once, the valid rest is kept.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pygls.uris import to_fs_path

from megawatt.config import Settings, known_keys, load_settings
from megawatt.errors import ConfigError

_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")
# editor-only keys that are not project settings
EDITOR_KEYS = {"workspace", "interpreter", "path", "trace", "showNotifications", "cwd", "trusted"}


def _snake(key: str) -> str:
    return _CAMEL.sub("_", key).lower().replace("-", "_")


def normalise(raw: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in raw.items():
        if key in EDITOR_KEYS:
            continue
        if key == "llm" and isinstance(value, dict):
            # the API key never travels in settings: it is dropped here, not merged
            # an unset editor value (VS Code sends "" for the model) leaves the project's
            value = {
                _snake(k): v
                for k, v in value.items()
                if _snake(k) != "api_key" and v is not None and v != ""
            }
        out[_snake(key)] = value
    return out


def trusted_option(options: object) -> bool:
    """Whether the editor trusts the workspace: only an explicit `"trusted": false` says no."""
    return not (isinstance(options, dict) and options.get("trusted") is False)


def split_options(options: Any) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """(global settings, folder path → settings) from initialization options of either shape."""
    if not isinstance(options, dict):
        return {}, {}
    if "globalSettings" in options or "settings" in options:
        global_ = options.get("globalSettings") or {}
        per: dict[str, dict[str, Any]] = {}
        for item in options.get("settings") or []:
            if isinstance(item, dict) and isinstance(item.get("workspace"), str):
                path = to_fs_path(item["workspace"]) or item["workspace"]
                per[str(Path(path).resolve())] = item
        return (global_ if isinstance(global_, dict) else {}), per
    return options, {}


def resolve(root: Path, *layers: dict[str, Any]) -> tuple[Settings, list[str]]:
    """The folder's pyproject settings with each editor layer over them; problems as text."""
    problems: list[str] = []
    try:
        base, warnings = load_settings(root)
        problems += warnings
    except ConfigError as err:
        base = Settings()
        problems.append(str(err))
    merged = base.model_dump()
    known = known_keys()
    for layer in layers:
        for key, value in normalise(layer).items():
            if key not in known:
                problems.append(f"editor setting {key!r} is not a Megawatt setting (ignored)")
                continue
            if key == "llm" and isinstance(value, dict):
                value = {**merged.get("llm", {}), **value}  # per key over [tool.megawatt.llm]
            candidate = {**merged, key: value}
            try:
                Settings.model_validate(candidate)
            except ValueError as err:
                problems.append(
                    f"editor setting {key!r} = {value!r} is invalid ({err.__class__.__name__})"
                )
                continue
            merged = candidate
    return Settings.model_validate(merged), problems
