"""cProfile / profile output: the marshalled dict that `pstats.Stats.dump_stats` writes.

    {(file, line, name): (primitive_calls, calls, tottime, cumtime, {caller_key: (pc, nc, tt, ct)})}

cProfile already excludes recursive re-entries from `cumtime`, so inclusive time never
double-counts recursion. Built-ins are recorded with file "~" and line 0.

The dict is keyed by (file, line, name), and code objects that share one (the `__init__` of
every dataclass, compiled from "<string>", or any code made by `exec` of one text) overwrite one
another when cProfile writes the file: their time is gone from the self times while the callers'
`cumtime` still holds it. The whole profile is therefore the larger of the summed self times and
the outermost functions' inclusive time, so no function's share exceeds the whole run.
"""

from __future__ import annotations

import marshal
import sys
from typing import Any

from megawatt.errors import ProfileFormatError
from megawatt.profiles.builder import ProfileBuilder
from megawatt.profiles.profile import Profile

format = "pstats"


def _stats(source: str, data: bytes) -> dict[Any, Any]:
    try:
        stats = marshal.loads(data)
    except (ValueError, EOFError, TypeError) as err:
        version = f"{sys.version_info.major}.{sys.version_info.minor}"
        raise ProfileFormatError(
            source,
            f"pstats data that Python {version} cannot read ({err}); the file is truncated, "
            "corrupt, or written by an incompatible Python version",
        ) from None
    if not isinstance(stats, dict):
        raise ProfileFormatError(source, f"pstats data is a {type(stats).__name__}, not a dict")
    if not stats:
        raise ProfileFormatError(source, "pstats file holds no functions")
    return stats


def _valid_key(key: Any) -> bool:
    return isinstance(key, tuple) and len(key) == 3 and isinstance(key[1], int)


def _name(value: Any) -> str:
    # the pure-Python `profile` module keys its own entry by a code object, not a name
    return value if isinstance(value, str) else getattr(value, "co_name", None) or str(value)


def load(source: str, data: bytes, parsed: Any = None) -> Profile:
    stats = _stats(source, data)
    b = ProfileBuilder(source, format, "seconds")
    total = 0.0
    outermost = 0.0  # inclusive time of functions nothing recorded called: the profiled run
    widest = 0.0
    for key, value in stats.items():
        if not _valid_key(key) or not isinstance(value, tuple) or len(value) != 5:
            raise ProfileFormatError(source, f"pstats entry {key!r} has an unexpected shape")
        path, line, name = str(key[0]), key[1], _name(key[2])
        _pc, nc, tt, ct, callers = value
        fid = b.function(path, name, line)
        b.set_function(fid, float(tt), float(ct), int(nc))
        total += float(tt)
        widest = max(widest, float(ct))
        if not isinstance(callers, dict):
            raise ProfileFormatError(source, f"pstats callers of {name} are not a dict")
        if not callers:
            outermost += float(ct)
        for ckey, cval in callers.items():
            if not _valid_key(ckey):
                raise ProfileFormatError(source, f"pstats caller {ckey!r} has an unexpected shape")
            caller = b.function(str(ckey[0]), _name(ckey[2]), ckey[1])
            if isinstance(cval, tuple) and len(cval) == 4:
                b.add_edge(caller, fid, float(cval[3]), int(cval[1]))
            else:  # the pure-Python `profile` module stores only a call count
                b.add_edge(caller, fid, 0.0, int(cval))
    return b.build(total_weight=max(total, outermost, widest))
