"""Every built-in detector, and their patterns compiled into one query once per process."""

from __future__ import annotations

import importlib
import pkgutil
import threading
from dataclasses import dataclass
from functools import cache

from tree_sitter import Query

from megawatt.analyzers.detector import Detector
from megawatt.analyzers.parsing import PYTHON


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
        owner: list[int] = []
        errors: list[str] = []
        for cls in _detector_classes():
            # one broken detector (a missing or invalid .scm) must not take the others down
            try:
                det = cls()
                src = det.query_source()
                count = Query(PYTHON, src).pattern_count
            except Exception as err:
                errors.append(f"{getattr(cls, 'id', cls.__name__)}: cannot load: {err}")
                continue
            owner.extend([len(detectors)] * count)
            detectors.append(det)
            sources.append(src)
        return CompiledDetectors(
            tuple(detectors), Query(PYTHON, "\n".join(sources)), tuple(owner), tuple(errors)
        )


def detector_ids() -> tuple[str, ...]:
    return tuple(compiled().ids)
