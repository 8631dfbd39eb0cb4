"""Memoize findings from the profile: a pure function the profile shows called very many times.

The memoize detector sees only source, so it reports only what the source shows repeating
(recursion whose subproblems overlap, calls from loops over records). A profile with call
counts (cProfile, pprof) shows the rest: a pure helper called a million times, from anywhere in
the program. Such a function, if it passes the detector's purity gate and holds no memoize
finding yet, gets one here, with the figures. Where the profile meets the source (the scan, the
editor's analysis, the agent's tools), before hot spots are made, so a function with a memoize
finding is not also listed as a hot spot with no known pattern.

The profile tells how often the function runs, never how often its arguments repeat: the fix
is offered as unsafe with that reason, and the finding is less sure than a static one.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from megawatt.analyzers.symbols import FunctionDef
from megawatt.model import Finding

if TYPE_CHECKING:
    from tree_sitter import Node

    from megawatt.analyzers.context import FileContext
    from megawatt.analyzers.detectors.memoize import Verdict
    from megawatt.profiles.profile import Profile
    from megawatt.ranking import ProfileIndex

MEMOIZE = "memoize"
# A cache hit costs about 0.1-0.2 µs (hash the arguments, one dict lookup, the C wrapper): about
# what a small function's body costs. Below 10,000 calls even a perfect hit rate saves a few ms a
# run, not worth a cache's memory and the risk of a stale result; the functions worth it in real
# workloads are called 10^5-10^7 times.
MIN_CALLS = 10_000
# Below 1% of the run (inclusive), removing every call would save less than the run-to-run noise
# of an interleaved benchmark on this kind of machine (1-2%): not worth a person's time.
MIN_SHARE = 0.01
# The static detector's findings are 0.25-0.9 sure; this one knows purity and call counts, not
# whether arguments repeat, so it ranks below every static memoize finding.
CONFIDENCE = 0.2
TOP_CALLERS = 3  # named in the message


@dataclass(frozen=True)
class Caller:
    name: str  # as the profile names it: "render_row (report.py)"
    calls: int | None


@dataclass(frozen=True)
class CallFigures:
    """What the profile says about how often one function runs."""

    calls: int
    share: float  # inclusive, of the whole run
    weight: float  # inclusive, in the profile's unit
    callers: tuple[Caller, ...]  # hottest first, recursion left out
    files: int  # distinct files the callers are in
    recursive: bool

    @property
    def outside(self) -> int | None:
        """The calls from other functions, where every edge counts them."""
        if any(c.calls is None for c in self.callers):
            return None
        return sum(c.calls or 0 for c in self.callers)

    @property
    def counted(self) -> int:
        """The calls the threshold counts: for a recursive function, those from outside. Its
        own recursion repeats arguments only when subproblems overlap, which the static
        detector judges from the source; a tree walk called once makes a million calls that a
        cache would never hit."""
        outside = self.outside
        return outside if self.recursive and outside else self.calls


def wanted(select: Collection[str] | None, ignore: Collection[str] | None) -> bool:
    return (select is None or MEMOIZE in select) and not (ignore and MEMOIZE in ignore)


def profiled_memoize(
    path: str,
    source: bytes,
    defs: Sequence[FunctionDef],
    index: ProfileIndex | None,
    findings: Sequence[Finding],
    ctx: FileContext | None = None,
    min_calls: int = MIN_CALLS,
    min_share: float = MIN_SHARE,
) -> list[Finding]:
    """A memoize finding for each function of `path` that the profile shows called at least
    `min_calls` times (from outside, if it is recursive) for at least `min_share` of the run
    (inclusive), that passes the memoize
    purity gate and that holds no memoize finding in `findings`. `ctx` saves a parse when the
    caller has the file's tree; without one the file is parsed only if some function qualifies."""
    if index is None or not index.has_file(path) or not index.profile.has_calls:
        return []  # sampled profiles count no calls: nothing to say how often it runs
    taken = {f.function_line for f in findings if f.path == path and f.skill == MEMOIZE}
    busy: list[tuple[FunctionDef, CallFigures]] = []
    for d in defs:
        if d.line in taken:
            continue
        figures = call_figures(index, path, d, defs)
        if figures is not None and figures.counted >= min_calls and figures.share >= min_share:
            busy.append((d, figures))
    if not busy:
        return []
    from megawatt.analyzers.context import FileContext
    from megawatt.analyzers.detectors.memoize import Prover, purity_gate
    from megawatt.analyzers.suppress import suppressions

    if ctx is None:
        ctx = FileContext(path, source)
    prover = Prover(ctx)  # one per file: the verdicts of the functions it calls are shared
    out: list[Finding] = []
    for d, figures in busy:
        node = _def_node(ctx, d)
        if node is None:
            continue
        gate = purity_gate(ctx, prover, node)
        if not gate.passed or gate.verdict is None or _object_parameters(node):
            continue
        if _unseen_effects(node, gate.params):
            continue
        name = node.child_by_field_name("name")
        if name is None:
            continue
        out.append(_finding(ctx, index.profile, d, name, figures, gate.params, gate.verdict))
    if not out:
        return out
    silenced = suppressions(ctx)
    return _with_fixes(ctx, [f for f in out if not silenced.silences(f)])


def call_figures(
    index: ProfileIndex, path: str, d: FunctionDef, defs: Sequence[FunctionDef]
) -> CallFigures | None:
    """How often the profile saw `d` called, by whom, and its inclusive share; None without
    call counts."""
    ev = index.evidence_of(path, d.line, defs)
    if ev is None:
        return None
    calls = ev.calls()
    if calls is None:
        return None
    p = index.profile
    weight = ev.total_weight()
    own = set(ev.fids)
    by_caller: dict[str, int | None] = {}
    files: set[str] = set()
    recursive = False
    for fid in ev.fids:
        for edge in p.callers(fid):
            if edge.function in own:
                recursive = True  # its calls of itself: not a caller elsewhere
                continue
            caller = _caller_name(p, edge.function)
            files.add(p.paths[edge.function])
            before = by_caller.get(caller, 0)
            by_caller[caller] = (
                None if before is None or edge.calls is None else before + edge.calls
            )
    callers = tuple(
        Caller(n, c) for n, c in sorted(by_caller.items(), key=lambda kv: -(kv[1] or 0))
    )
    return CallFigures(calls, p.share(weight), weight, callers, len(files), recursive)


def _caller_name(p: Profile, fid: int) -> str:
    file = p.paths[fid].replace("\\", "/").rsplit("/", 1)[-1]
    return f"{p.names[fid]} ({file})" if file else p.names[fid]


def _def_node(ctx: FileContext, d: FunctionDef) -> Node | None:
    """The `function_definition` whose name is where `d` says."""
    row = d.name_line - 1
    node = ctx.tree.root_node.descendant_for_point_range(
        (row, d.name_column), (row, d.name_end_column)
    )
    fn = node.parent if node is not None else None
    if fn is None or fn.type != "function_definition" or fn.child_by_field_name("name") != node:
        return None
    return fn


def _object_parameters(fn: Node) -> list[str]:
    """Parameters annotated with a type not known to be hashable and immutable (`order: Order`):
    a cache cannot hash an `eq` dataclass (TypeError), and keys other objects by identity, so a
    changed object gets a stale result. The static detector sees such arguments repeat in the
    file; from call counts alone, they are refused."""
    from megawatt.analyzers.context import text
    from megawatt.analyzers.detectors.memoize import annotation_kind

    found: list[str] = []
    params = fn.child_by_field_name("parameters")
    for p in params.named_children if params is not None else []:
        if p.type not in ("typed_parameter", "typed_default_parameter"):
            continue
        annotation = p.child_by_field_name("type")
        if annotation is not None and annotation_kind(annotation) == "unknown":
            found.append(text(p))
    return found


def _unseen_effects(fn: Node, params: dict[str, str]) -> str:
    """Why a function the purity gate passes may still not be cacheable from call counts
    alone (the static detector has the source's evidence of repeated arguments; this finder
    has none), or "":

    - it returns nothing: a pure function that returns nothing does nothing, so it acts in a
      way the gate cannot see (`deque(islice(it, n), maxlen=0)` advances an iterator it got);
    - it calls a method of an argument not annotated hashable, other than a str/bytes/number
      method (`token.match()`): the result depends on an object's state, which a cache keyed
      by the object misses;
    - it asks whether such an argument is a list, dict or set: those come, and cannot be
      hashed."""
    from megawatt.analyzers.context import text
    from megawatt.analyzers.detectors.memoize import IMMUTABLE_METHODS, root_name

    # an argument annotated str, int, tuple, … is no object with a state
    unknown = {name for name, kind in params.items() if kind != "hashable"}
    body = fn.child_by_field_name("body")
    returns = False
    stack = [body] if body is not None else []
    while stack:
        n = stack.pop()
        if n.type == "return_statement" and n.named_children:
            returns = True
        elif n.type == "call":
            func = n.child_by_field_name("function")
            if func is not None and func.type == "attribute":
                obj = func.child_by_field_name("object")
                method = text(func.child_by_field_name("attribute"))
                if (
                    obj is not None
                    and obj.type == "identifier"
                    and text(obj) in unknown
                    and method not in IMMUTABLE_METHODS
                ):
                    return f"calls {text(obj)}.{method}(), a method of an argument"
            elif func is not None and text(func) == "isinstance":
                args = n.child_by_field_name("arguments")
                parts = args.named_children if args is not None else []
                first = root_name(parts[0]) if parts else None
                kinds = text(parts[1]) if len(parts) > 1 else ""
                if (
                    first is not None
                    and text(first) in unknown
                    and any(k in kinds for k in ("list", "dict", "set"))
                ):
                    return f"asks whether {text(first)} is a list, dict or set"
        stack.extend(n.named_children)
    return "" if returns else "returns nothing"


def _count(n: int) -> str:
    """1,234 · 12,345 · 1.2M: how a person reads a call count."""
    if n >= 1_000_000:
        return f"{n / 1_000_000:.1f}M"
    return f"{n:,}"


def _finding(
    ctx: FileContext,
    p: Profile,
    d: FunctionDef,
    name: Node,
    figures: CallFigures,
    params: dict[str, str],
    verdict: Verdict,
) -> Finding:
    from megawatt.analyzers.detectors.memoize import PROFILED
    from megawatt.savings import amount

    n = len(figures.callers)
    where = f"{n} caller{'s' if n != 1 else ''}"
    if figures.files > 1:
        where += f" in {figures.files} files"
    outside = figures.outside or 0
    times = f"{_count(figures.calls)} times"
    per, each = figures.calls, "a call"
    if figures.recursive and 0 < outside < figures.calls:
        # a recursive call's inclusive time is part of its caller's: per call from outside
        times += f" ({_count(outside)} from outside, the rest by its own recursion)"
        per, each = outside, "an outside call"
    per_call = ""
    if p.unit == "seconds":
        w = figures.weight / per
        # a few µs is the common case: whole microseconds would round most of them to 0
        per_call = f", {w * 1e6:.1f} µs {each}" if w < 1e-5 else f", {amount(p, w)} {each}"
    pure = "no writes, no I/O, reads nothing that changes, immutable result"
    if verdict.mutable_reads:
        pure = f"no writes, no I/O, immutable result; reads module-level {', '.join(verdict.mutable_reads)}"
    unknown = [k for k, v in params.items() if v != "hashable"]
    hashable = (
        "parameters annotated hashable"
        if not unknown
        else f"unannotated parameter{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}"
    )
    recursion = "recursive, " if figures.recursive or verdict.self_calls else ""
    message = (
        f"{d.qualname}() is called {times} from {where}, "
        f"{figures.share * 100:.1f}% of the run{per_call}; pure: {recursion}{pure}, {hashable}. "
        "If those calls repeat arguments, a cache returns the result without recomputing it; "
        "the profile cannot tell how often they do"
    )
    top = ", ".join(
        f"{c.name}: {_count(c.calls)}" if c.calls is not None else c.name
        for c in figures.callers[:TOP_CALLERS]
    )
    if n > TOP_CALLERS:
        top += f", and {n - TOP_CALLERS} more"
    evidence = [
        (PROFILED, f"{figures.calls:,}"),
        ("inclusive_share", f"{figures.share * 100:.1f}% of the run ({amount(p, figures.weight)})"),
        ("callers", top or "none recorded"),
        ("function", d.qualname),
        ("recursive_calls", str(len(verdict.self_calls))),
        ("parameters", ", ".join(f"{k}: {v}" for k, v in params.items())),
    ]
    if verdict.mutable_reads:
        evidence.append(("reads_globals", ", ".join(verdict.mutable_reads)))
    function, function_line = ctx.function_context(name)
    confidence = CONFIDENCE - (0.05 if verdict.mutable_reads else 0.0)
    return Finding(
        skill=MEMOIZE,
        path=ctx.path,
        span=ctx.span(name),
        function=function,
        function_line=function_line,
        message=message,
        confidence=round(confidence, 2),
        evidence=tuple(evidence),
    )


def _with_fixes(ctx: FileContext, findings: list[Finding]) -> list[Finding]:
    """The memoize rewrite's fix on each (unsafe: see skills/memoize/rewrite.py), as the scan
    attaches fixes to detector findings: whether one exists, its compile check left to `fix`."""
    from megawatt.fixes.deterministic import fix_for
    from megawatt.skills import builtin_skills

    skills = builtin_skills()
    return [replace(f, fix=fix_for(ctx, f, skills, verify=False)) for f in findings]
