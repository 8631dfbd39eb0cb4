"""Every built-in detector, and their patterns compiled into one query once per process."""

from __future__ import annotations

import bisect
import importlib
import pkgutil
import threading
from dataclasses import dataclass
from functools import cache

from tree_sitter import Query

from megawatt.analyzers.detector import Detector
from megawatt.analyzers.imports import IMPORTS_SOURCE
from megawatt.analyzers.parsing import PYTHON
from megawatt.analyzers.symbols import DEFS_SOURCE

# owner of the patterns that gather facts for everyone (the file's function definitions and
# imports) rather than matches for one detector: read from the same single pass over the tree
FACTS = -1
FACTS_SOURCE = DEFS_SOURCE + "\n" + IMPORTS_SOURCE


def _detector_classes() -> list[type[Detector]]:
    """Every Detector subclass defined in a module of `megawatt.analyzers.detectors`."""
    import megawatt.analyzers.detectors as package

    found: list[type[Detector]] = []
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
        try:
            module = importlib.import_module(f"{package.__name__}.{info.name}")
        except Exception:  # reported as missing detectors by the analysis, never fatal
            continue
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, Detector)
                and value is not Detector
                and value.__module__ == module.__name__
            ):
                found.append(value)
    return found


_lock = threading.Lock()


@dataclass(frozen=True)
class CompiledDetectors:
    detectors: tuple[Detector, ...]
    query: Query
    owner: tuple[int, ...]  # pattern index → index into detectors
    errors: tuple[str, ...] = ()  # detectors that could not be loaded, and why

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(d.id for d in self.detectors)


@cache
def compiled() -> CompiledDetectors:
    with _lock:
        detectors: list[Detector] = []
        sources: list[str] = []
        errors: list[str] = []
        for cls in _detector_classes():
            try:
                det = cls()
                sources.append(det.query_source())
                detectors.append(det)
            except Exception as err:
                errors.append(f"{getattr(cls, 'id', cls.__name__)}: cannot load: {err}")
        try:
            query, owner = _combine([*sources, FACTS_SOURCE])
        except Exception:
            # one broken detector (an invalid .scm) must not take the others down: find it
            kept: list[int] = []
            for i, (det, src) in enumerate(zip(detectors, sources, strict=True)):
                try:
                    Query(PYTHON, src)
                    kept.append(i)
                except Exception as err:
                    errors.append(f"{det.id}: cannot load: {err}")
            detectors = [detectors[i] for i in kept]
            sources = [sources[i] for i in kept]
            query, owner = _combine([*sources, FACTS_SOURCE])
        return CompiledDetectors(tuple(detectors), query, owner, tuple(errors))


def _combine(sources: list[str]) -> tuple[Query, tuple[int, ...]]:
    """One query of every source; each pattern's owner found by where its text starts (the
    last source is the facts' own)."""
    query = Query(PYTHON, "\n".join(sources))
    starts, at = [], 0
    for src in sources:
        starts.append(at)
        at += len(src.encode("utf-8")) + 1
    last = len(sources) - 1
    owner = []
    for i in range(query.pattern_count):
        index = bisect.bisect_right(starts, query.start_byte_for_pattern(i)) - 1
        owner.append(FACTS if index == last else index)
    return query, tuple(owner)


def detector_ids() -> tuple[str, ...]:
    return tuple(compiled().ids)
