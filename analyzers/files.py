"""Which files a scan reads: Python sources under the given paths, minus what the user ignores.

Inside a git work tree, `git ls-files` answers (it knows every .gitignore rule, nested ones
included); elsewhere a walk skips virtualenvs (any folder holding `pyvenv.cfg`), caches and VCS
folders. Explicitly named files are always scanned.
"""

from __future__ import annotations

import fnmatch
import os
import subprocess
from collections.abc import Iterable, Sequence
from pathlib import Path

PY_SUFFIXES = (".py", ".pyi")
SKIP_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        "__pycache__",
        "node_modules",
        ".tox",
        ".nox",
        ".mypy_cache",
        ".ruff_cache",
        ".pytest_cache",
        ".megawatt",
        ".venv",
        "site-packages",
        "dist-packages",
    }
)


def _git_files(folder: Path) -> list[Path] | None:
    try:
        proc = subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z", "--", "."],
            cwd=folder,
            capture_output=True,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if proc.returncode != 0:
        return None
    out = []
    for raw in proc.stdout.split(b"\0"):
        if raw.endswith((b".py", b".pyi")):
            path = folder / os.fsdecode(raw)
            if path.is_file() and not any(
                part in SKIP_DIRS for part in Path(os.fsdecode(raw)).parts
            ):
                out.append(path)
    return out


def walk_python_files(folder: Path) -> Iterable[Path]:
    """Python files below `folder`, skipping virtualenvs, caches and VCS folders."""
    for dirpath, dirnames, filenames in os.walk(folder):
        if "pyvenv.cfg" in filenames and Path(dirpath) != folder:
            dirnames[:] = []
            continue
        dirnames[:] = sorted(
            d
            for d in dirnames
            if d not in SKIP_DIRS
            and not d.endswith(".egg-info")
            and not os.path.isfile(os.path.join(dirpath, d, "pyvenv.cfg"))
        )
        for name in sorted(filenames):
            if name.endswith(PY_SUFFIXES):
                yield Path(dirpath, name)


def _excluded(path: Path, root: Path, patterns: Sequence[str]) -> bool:
    if not patterns:
        return False
    try:
        rel = path.relative_to(root).as_posix()
    except ValueError:
        rel = path.as_posix()
    return any(
        fnmatch.fnmatch(rel, p)
        or fnmatch.fnmatch(path.name, p)
        or rel.startswith(p.rstrip("/") + "/")
        for p in patterns
    )


def discover(
    paths: Sequence[Path], exclude: Sequence[str] = (), root: Path | None = None
) -> tuple[list[Path], list[str]]:
    """Python files to scan, sorted and unique, and errors for paths that do not exist."""
    found: dict[str, Path] = {}
    errors: list[str] = []
    base = (root or Path.cwd()).resolve()
    for given in paths:
        path = given.resolve()
        if path.is_file():
            found.setdefault(str(path), path)  # named explicitly: always scanned
        elif path.is_dir():
            listed = _git_files(path)
            if not listed:
                # not in git, or a folder git ignores as a whole (say, a Python installation
                # inside a dotfiles repository) that the user named explicitly: walk it
                listed = None
            for f in listed if listed is not None else walk_python_files(path):
                f = f.resolve() if listed is not None else f
                if not _excluded(f, base, exclude):
                    found.setdefault(str(f), f)
        else:
            errors.append(f"{given}: no such file or directory")
    return [found[k] for k in sorted(found)], errors
