"""Megawatt's exceptions.

    MegawattError
    ├── ConfigError              a [tool.megawatt] table or an editor setting that cannot be used
    └── ProfileError             a profile file that cannot be loaded (carries the path)
        ├── UnknownProfileFormat     the content matches no supported profiler's output
        └── ProfileFormatError       the content is of a known format but broken, truncated or empty

Every error says *what* is wrong and *where* (a file, a key); callers show `str(err)` to the user
as it is, with no traceback.
"""

from __future__ import annotations

from pathlib import Path


class MegawattError(Exception):
    """Base of every error Megawatt raises on purpose."""


class ConfigError(MegawattError):
    """Configuration that cannot be used."""


class ProfileError(MegawattError):
    """A profile file that cannot be loaded."""

    def __init__(self, path: str | Path, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


class UnknownProfileFormat(ProfileError):
    """The file is not the output of any supported profiler."""


class ProfileFormatError(ProfileError):
    """The file is of a known format but cannot be read."""
