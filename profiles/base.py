"""What every profile loader provides, and the helpers they share.

A loader turns the bytes of one file (already read, un-gzipped, and sniffed as its format) into a
`Profile`. It raises `ProfileFormatError` with a precise reason for anything it cannot read; any
other exception escaping a loader is a bug, and `load()` turns it into a `ProfileFormatError` too.
"""

from __future__ import annotations

from typing import Any, Protocol

from megawatt.errors import ProfileFormatError
from megawatt.profiles.profile import Profile


class Loader(Protocol):
    format: str

    def __call__(self, source: str, data: bytes, parsed: Any = None) -> Profile:
        """Load `data` read from `source`; `parsed` is the decoded JSON for JSON formats."""
        ...


def require(condition: object, source: str, reason: str) -> None:
    """Raise a format error unless `condition` holds."""
    if not condition:
        raise ProfileFormatError(source, reason)


def expect_dict(value: Any, source: str, where: str) -> dict[str, Any]:
    require(isinstance(value, dict), source, f"{where} is not an object")
    return value  # type: ignore[no-any-return]


def expect_list(value: Any, source: str, where: str) -> list[Any]:
    require(isinstance(value, list), source, f"{where} is not a list")
    return value  # type: ignore[no-any-return]
