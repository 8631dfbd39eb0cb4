"""The workspace's Python files as a scan sees them, plus unsaved buffers not yet on disk."""

from __future__ import annotations

from pathlib import Path

from megawatt.analyzers.files import PY_SUFFIXES, discover
from megawatt.tools.context import ToolContext

__all__ = ["python_files"]


def python_files(ctx: ToolContext) -> list[Path]:
    """Sorted, unique: `.gitignore`d files, virtualenvs, caches and `exclude` are left out, and
    so is a symlink that leads out of the root."""
    listed, _missing = discover([ctx.root], ctx.settings.exclude, ctx.root)
    found = [p for p in listed if p.resolve().is_relative_to(ctx.root)]
    unsaved = [p for p in ctx.override_paths() if p.suffix in PY_SUFFIXES]
    return sorted(set(found) | set(unsaved))
