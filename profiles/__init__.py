"""Profiles: profiler output → one `Profile` of numpy arrays.

load(path)              one file, format recognised by content
load_many(paths)        several files; the good ones load, the bad ones are reported
merge(profiles)         one profile from several of the same unit
diff(before, after)     per-function time and share, before and after (ops; compare pairs checkouts)
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from megawatt.errors import ProfileError, ProfileFormatError
from megawatt.profiles.detect import DEFAULT_MAX_BYTES, read_profile_bytes, sniff

if TYPE_CHECKING:
    from megawatt.profiles.profile import Profile

__all__ = ["FORMATS", "LoadResult", "Profile", "load", "load_bytes", "load_many"]

# format name → module holding `load(source, data, parsed)`; imported only when a file needs it
FORMATS: dict[str, str] = {
    "pstats": "megawatt.profiles.pstats_format",
    "speedscope": "megawatt.profiles.speedscope",
    "collapsed": "megawatt.profiles.collapsed",
    "pyinstrument": "megawatt.profiles.pyinstrument",
    "scalene": "megawatt.profiles.scalene",
    "pprof": "megawatt.profiles.pprof",
}


def load_bytes(source: str, data: bytes) -> Profile:
    fmt, parsed = sniff(source, data)
    module = importlib.import_module(FORMATS[fmt])
    try:
        profile: Profile = module.load(source, data, parsed)
    except ProfileError:
        raise
    except (KeyError, IndexError, TypeError, ValueError, AttributeError, RecursionError) as err:
        raise ProfileFormatError(
            source, f"malformed {fmt} data ({type(err).__name__}: {err})"
        ) from None
    if len(profile) == 0 or profile.total_weight <= 0:
        raise ProfileFormatError(source, f"{fmt} profile holds no samples")
    return profile


def load(path: str | Path, max_bytes: int = DEFAULT_MAX_BYTES) -> Profile:
    """Load one profile file; raises `ProfileError` naming the file and the problem."""
    p = Path(path)
    profile = load_bytes(str(p), read_profile_bytes(p, max_bytes))
    if profile.recorded_at is None:
        try:
            from dataclasses import replace

            profile = replace(profile, recorded_at=p.stat().st_mtime)
        except OSError:
            pass
    return profile


@dataclass
class LoadResult:
    profiles: list[Profile] = field(default_factory=list)
    errors: list[ProfileError] = field(default_factory=list)


def load_many(paths: Iterable[str | Path], max_bytes: int = DEFAULT_MAX_BYTES) -> LoadResult:
    """Load each file; a bad file is recorded in `errors` and never stops the others."""
    result = LoadResult()
    for path in paths:
        try:
            result.profiles.append(load(path, max_bytes))
        except ProfileError as err:
            result.errors.append(err)
    return result


def __getattr__(name: str) -> Any:
    # numpy loads with Profile: a scan that uses no profile should not pay for it at start-up
    if name == "Profile":
        from megawatt.profiles.profile import Profile

        return Profile
    raise AttributeError(name)
