"""Megawatt: find and fix the Python code that burns compute.

The public surface of the core is re-exported here; subpackages (`megawatt.profiles`, ...) hold the
parts. Heavy modules are imported lazily by their users so that the CLI starts fast.
"""

from __future__ import annotations

from megawatt.errors import (
    ConfigError,
    MegawattError,
    ProfileError,
    ProfileFormatError,
    UnknownProfileFormat,
)
from megawatt.model import FunctionKind, HotFunction, Location

__version__ = "0.1.0"

__all__ = [
    "ConfigError",
    "FunctionKind",
    "HotFunction",
    "Location",
    "MegawattError",
    "ProfileError",
    "ProfileFormatError",
    "UnknownProfileFormat",
    "__version__",
]
