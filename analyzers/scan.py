"""Scanning many files: both cores, a content-hash cache, and per-file results.

Each worker parses a file once and runs every selected detector; the main process only merges.
Results are cached per file by the hash of its content, Megawatt's version and the detector
selection, so an unchanged file is never parsed twice.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from collections.abc import Callable, Collection, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from megawatt import __version__
from megawatt.analyzers.context import FileContext
from megawatt.analyzers.engine import analyze_context
from megawatt.analyzers.symbols import FunctionDef, functions
from megawatt.analyzers.syntax import SourceProblem, source_problem
from megawatt.model import Finding

# below this many files, starting worker processes costs more than it saves
PARALLEL_THRESHOLD = 48
BATCH = 24
# the shape of a cached FileResult: a new field must not be read as missing from an old pickle
CACHE_FORMAT = 2


@dataclass
class FileResult:
    path: str
    digest: str
    findings: list[Finding] = field(default_factory=list)
    functions: list[FunctionDef] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    lines: int = 0
    problem: SourceProblem | None = None  # not (all) Python: undecodable, or a syntax error


@dataclass
class ScanResult:
    files: list[FileResult]
    cached: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def findings(self) -> list[Finding]:
        return [f for r in self.files for f in r.findings]

    @property
    def lines(self) -> int:
        return sum(r.lines for r in self.files)

    @property
    def problems(self) -> list[SourceProblem]:
        return [r.problem for r in self.files if r.problem is not None]


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "megawatt"


class ResultCache:
    """One pickle per (version, selection): path → (mtime_ns, size, digest, result)."""

    def __init__(self, folder: Path, selection: str) -> None:
        key = hashlib.blake2b(
            f"{__version__}|{CACHE_FORMAT}|{selection}".encode(), digest_size=8
        ).hexdigest()
        self.file = folder / f"scan-{key}.pickle"
        self.entries: dict[str, tuple[int, int, str, FileResult]] = {}
        self.dirty = False
        try:
            with self.file.open("rb") as f:
                loaded = pickle.load(f)
            if isinstance(loaded, dict):
                self.entries = loaded
        except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError, ValueError):
            self.entries = {}  # a missing or stale cache is simply empty

    def get(self, path: Path, stat: os.stat_result) -> FileResult | None:
        entry = self.entries.get(str(path))
        if entry is not None and entry[0] == stat.st_mtime_ns and entry[1] == stat.st_size:
            return entry[3]
        return None

    def get_by_digest(self, path: Path, digest: str, stat: os.stat_result) -> FileResult | None:
        entry = self.entries.get(str(path))
        if entry is not None and entry[2] == digest:
            self.entries[str(path)] = (stat.st_mtime_ns, stat.st_size, digest, entry[3])
            self.dirty = True
            return entry[3]
        return None

    def put(self, path: Path, stat: os.stat_result, result: FileResult) -> None:
        self.entries[str(path)] = (stat.st_mtime_ns, stat.st_size, result.digest, result)
        self.dirty = True

    def save(self) -> None:
        if not self.dirty:
            return
        self.file.parent.mkdir(parents=True, exist_ok=True)
        # write then rename: a scan killed half-way never leaves a torn cache behind
        fd, tmp = tempfile.mkstemp(dir=self.file.parent, suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            pickle.dump(self.entries, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, self.file)


def clear_cache(folder: Path) -> int:
    removed = 0
    if folder.is_dir():
        for f in folder.glob("scan-*.pickle"):
            f.unlink(missing_ok=True)
            removed += 1
    return removed


def digest_of(source: bytes) -> str:
    return hashlib.blake2b(source, digest_size=16).hexdigest()


def analyze_source(
    path: str, source: bytes, select: Collection[str] | None, ignore: Collection[str]
) -> FileResult:
    from megawatt.fixes.deterministic import with_fixes
    from megawatt.skills import builtin_skills

    ctx = FileContext(path, source)
    result = analyze_context(ctx, select, ignore)
    # the rewrite tells whether a fix exists; checking that it compiles waits for `fix`
    findings = with_fixes(ctx, result.findings, builtin_skills(), verify=False)
    return FileResult(
        path=path,
        digest=digest_of(source),
        findings=findings,
        functions=functions(ctx.tree, ctx.defs_matches),
        errors=result.errors,
        problem=source_problem(path, source, ctx.tree),
        lines=source.count(b"\n") + (0 if source.endswith(b"\n") or not source else 1),
    )


def _analyze_batch(
    batch: list[tuple[str, bytes | None]], select: Collection[str] | None, ignore: Collection[str]
) -> list[FileResult]:
    out = []
    for path, source in batch:
        if source is None:
            try:
                source = Path(path).read_bytes()
            except OSError as err:
                out.append(FileResult(path, "", errors=[f"cannot read ({err.strerror or err})"]))
                continue
        out.append(analyze_source(path, source, select, ignore))
    return out


def scan(
    files: Sequence[Path],
    select: Collection[str] | None = None,
    ignore: Collection[str] = (),
    cache_dir: Path | None = None,
    jobs: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ScanResult:
    selection = ",".join(sorted(select)) if select is not None else "*"
    selection += "|-" + ",".join(sorted(ignore))
    cache = ResultCache(cache_dir, selection) if cache_dir is not None else None
    results: dict[str, FileResult] = {}
    errors: list[str] = []
    # (path, stat, source): the source is read here only when the cache must compare digests;
    # otherwise the worker reads it, so file contents never cross a process boundary
    todo: list[tuple[Path, os.stat_result, bytes | None]] = []
    cached = 0
    for path in files:
        try:
            stat = path.stat()
            source: bytes | None = None
            if cache is not None:
                hit = cache.get(path, stat)
                if hit is None and str(path) in cache.entries:
                    source = path.read_bytes()
                    hit = cache.get_by_digest(path, digest_of(source), stat)
                if hit is not None:
                    results[str(path)] = hit
                    cached += 1
                    continue
        except OSError as err:
            errors.append(f"{path}: cannot read ({err.strerror or err})")
            continue
        todo.append((path, stat, source))
    total = len(files)
    done = cached
    if progress:
        progress(done, total)

    def record(fresh: list[FileResult]) -> None:
        nonlocal done
        for r in fresh:
            results[r.path] = r
        done += len(fresh)
        if progress:
            progress(done, total)

    workers = jobs or os.cpu_count() or 1
    items = [(str(p), src) for p, _s, src in todo]
    if workers > 1 and len(items) >= PARALLEL_THRESHOLD:
        batches = [items[i : i + BATCH] for i in range(0, len(items), BATCH)]
        with ProcessPoolExecutor(max_workers=workers) as pool:
            futures = [pool.submit(_analyze_batch, b, select, ignore) for b in batches]
            for fut in futures:
                record(fut.result())
    else:
        for item in items:
            record(_analyze_batch([item], select, ignore))
    if cache is not None:
        for path, stat, _src in todo:
            fresh = results.get(str(path))
            if fresh is not None and fresh.digest:
                cache.put(path, stat, fresh)
        try:
            cache.save()
        except OSError as err:
            errors.append(f"{cache.file}: cannot write the cache ({err.strerror or err})")
    ordered = [results[str(p)] for p in files if str(p) in results]
    errors.extend(f"{r.path}: {e}" for r in ordered if not r.digest for e in r.errors)
    ordered = [r for r in ordered if r.digest]
    return ScanResult(files=ordered, cached=cached, errors=errors)
