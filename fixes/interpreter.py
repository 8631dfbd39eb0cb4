"""The project's interpreter, found as its users set it up: an active or in-project virtualenv,
Poetry, uv, conda or pyenv, else Megawatt's own; with where it came from, for the verdict."""

from __future__ import annotations

import base64
import hashlib
import os
import re
import sys
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "Interpreter",
    "find_interpreter",
    "find_python",
    "inside",
    "is_venv",
    "read_toml",
    "toml_table",
]


def inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def is_venv(path: str) -> bool:
    return os.path.isfile(os.path.join(path, "pyvenv.cfg"))


@dataclass(frozen=True)
class Interpreter:
    """The Python that runs the workspace's tests, and where it was found (for the verdict)."""

    path: str  # not resolved: a venv's symlink is what makes it the venv's
    source: str  # "VIRTUAL_ENV", ".venv", "uv (.venv)", "poetry", "conda (CONDA_PREFIX)", …


def _python_in(env_dir: Path) -> str | None:
    for rel in ("bin/python", "bin/python3", "Scripts/python.exe", "python.exe"):
        candidate = env_dir / rel
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return None


def read_toml(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
        return {}


def toml_table(data: Mapping[str, Any], *keys: str) -> dict[str, Any]:
    for key in keys:
        value = data.get(key)
        if not isinstance(value, dict):
            return {}
        data = value
    return dict(data)


def _home(environ: Mapping[str, str]) -> Path:
    return Path(environ.get("HOME") or Path.home())


def _poetry_venv_folders(environ: Mapping[str, str]) -> list[Path]:
    home = _home(environ)
    folders: list[Path] = []
    if environ.get("POETRY_VIRTUALENVS_PATH"):
        folders.append(Path(environ["POETRY_VIRTUALENVS_PATH"]))
    config_dir = environ.get("POETRY_CONFIG_DIR") or (
        str(home / "Library/Application Support/pypoetry")
        if sys.platform == "darwin"
        else os.path.join(environ.get("XDG_CONFIG_HOME") or home / ".config", "pypoetry")
    )
    configured = toml_table(read_toml(Path(config_dir) / "config.toml"), "virtualenvs").get("path")
    if isinstance(configured, str):
        folders.append(Path(os.path.expanduser(configured)))
    cache = environ.get("POETRY_CACHE_DIR") or (
        str(home / "Library/Caches/pypoetry")
        if sys.platform == "darwin"
        else os.path.join(environ.get("XDG_CACHE_HOME") or home / ".cache", "pypoetry")
    )
    folders.append(Path(cache) / "virtualenvs")
    return folders


def _poetry_python(root: Path, environ: Mapping[str, str]) -> str | None:
    """Poetry's cached venv of this project: `<name>-<hash of its folder>-py<version>`."""
    pyproject = read_toml(root / "pyproject.toml")
    poetry = toml_table(pyproject, "tool", "poetry")
    if not poetry and not (root / "poetry.lock").is_file():
        return None
    if toml_table(read_toml(root / "poetry.toml"), "virtualenvs").get("in-project") is True:
        return None  # .venv, looked for already
    name = poetry.get("name") or toml_table(pyproject, "project").get("name")
    if not isinstance(name, str) or not name:
        return None
    # poetry's naming: the lower-cased name with shell-hostile characters replaced, cut at 42,
    # then 8 characters of the url-safe base64 SHA-256 of the project folder's real path
    stem = re.sub(r'[ $`!*@"\\\r\n\t]', "_", name.lower())[:42]
    folder = os.path.normcase(os.path.realpath(root))
    digest = base64.urlsafe_b64encode(hashlib.sha256(folder.encode()).digest()).decode()[:8]
    for venvs in _poetry_venv_folders(environ):
        try:
            entries = [e for e in os.scandir(venvs) if e.is_dir()]
        except OSError:
            continue
        exact = [e for e in entries if e.name.startswith(f"{stem}-{digest}-py")]
        # a project that moved keeps its old hash: the name alone, when it is unambiguous
        named = [
            e for e in entries if re.fullmatch(rf"{re.escape(stem)}-[\w-]{{8}}-py[\d.]+", e.name)
        ]
        for matches in (exact, named if len(named) == 1 else []):
            newest = sorted(matches, key=lambda e: e.stat().st_mtime, reverse=True)
            for entry in newest:
                if python := _python_in(Path(entry.path)):
                    return python
    return None


def _conda_python(root: Path, environ: Mapping[str, str]) -> Interpreter | None:
    prefix = environ.get("CONDA_PREFIX")
    within = bool(prefix) and inside(os.path.realpath(prefix or ""), os.path.realpath(root))
    if prefix and within and (python := _python_in(Path(prefix))):
        return Interpreter(python, "conda (CONDA_PREFIX)")
    name = None
    for spec in ("environment.yml", "environment.yaml"):
        try:
            text = (root / spec).read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        found = re.search(r"(?m)^name:\s*[\"']?([^\s\"'#]+)", text)
        if found:
            name = found.group(1)
            break
    if name is None:
        return None
    home = _home(environ)
    folders = [
        Path(p)
        for key in ("CONDA_ENVS_PATH", "CONDA_ENVS_DIRS")
        for p in environ.get(key, "").split(os.pathsep)
        if p
    ]
    for key in ("CONDA_EXE", "MAMBA_EXE"):
        if environ.get(key):
            folders.append(Path(environ[key]).parent.parent / "envs")
    if environ.get("MAMBA_ROOT_PREFIX"):
        folders.append(Path(environ["MAMBA_ROOT_PREFIX"]) / "envs")
    for base in ("miniconda3", "anaconda3", "miniforge3", "mambaforge", "micromamba", ".conda"):
        folders.append(home / base / "envs")
    folders.append(Path("/opt/conda/envs"))
    for folder in folders:
        if python := _python_in(folder / name):
            return Interpreter(python, "conda (environment.yml)")
    return None


def _pyenv_python(root: Path, environ: Mapping[str, str]) -> str | None:
    try:
        text = (root / ".python-version").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    pyenv_root = Path(environ.get("PYENV_ROOT") or _home(environ) / ".pyenv")
    for line in text.splitlines():
        version = line.split("#", 1)[0].strip()
        if version and version != "system" and os.sep not in version and version != "..":
            return _python_in(pyenv_root / "versions" / version)
    return None


def find_interpreter(root: Path, environ: Mapping[str, str] | None = None) -> Interpreter:
    """The interpreter for the workspace's tests, looked for as its users set it up: the active
    VIRTUAL_ENV if it is the workspace's, then .venv/venv/env, Poetry's venv, uv's
    UV_PROJECT_ENVIRONMENT, conda, pyenv's .python-version; else Megawatt's own."""
    env = os.environ if environ is None else environ
    root = Path(root)
    real_root = os.path.realpath(root)
    active = env.get("VIRTUAL_ENV")
    ours = bool(active) and inside(os.path.realpath(active or ""), real_root)
    if active and ours and (python := _python_in(Path(active))):
        return Interpreter(python, "VIRTUAL_ENV")
    for name in (".venv", "venv", "env"):
        folder = root / name
        if name == "env" and not is_venv(str(folder)):
            continue  # too common a folder name to trust without pyvenv.cfg
        if python := _python_in(folder):
            uv = name == ".venv" and (root / "uv.lock").is_file()
            return Interpreter(python, "uv (.venv)" if uv else name)
    if python := _poetry_python(root, env):
        return Interpreter(python, "poetry")
    uv_env = env.get("UV_PROJECT_ENVIRONMENT")
    if uv_env and (python := _python_in(root / uv_env)):  # an absolute one replaces root
        return Interpreter(python, "uv (UV_PROJECT_ENVIRONMENT)")
    if conda := _conda_python(root, env):
        return conda
    if python := _pyenv_python(root, env):
        return Interpreter(python, "pyenv (.python-version)")
    return Interpreter(sys.executable, "Megawatt's own interpreter")


def find_python(root: Path) -> str:
    """The interpreter for the workspace's tests (see `find_interpreter`)."""
    return find_interpreter(root).path


# --- Which pytest plugins the project needs ------------------------------------------------
