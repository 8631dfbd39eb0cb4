"""Helpers for detector tests: find, fix, and run code before and after a fix."""

from __future__ import annotations

import textwrap
from typing import Any

from megawatt.analyzers.context import FileContext
from megawatt.analyzers.engine import analyze_context
from megawatt.fixes.deterministic import with_fixes
from megawatt.fixes.edits import apply_edits
from megawatt.model import Finding
from megawatt.skills import load_skills


def findings(source: str, skill: str, path: str = "example.py") -> list[Finding]:
    """The findings of one detector on (dedented) source, with their fixes attached."""
    src = textwrap.dedent(source).encode()
    ctx = FileContext(path, src)
    result = analyze_context(ctx, select={skill})
    assert result.errors == [], result.errors
    return with_fixes(ctx, result.findings, load_skills())


def lines(source: str, skill: str) -> list[int]:
    return [f.span.line for f in findings(source, skill)]


def fixed(source: str, skill: str, only_safe: bool = False, rounds: int = 5) -> str:
    """Source after applying every fix of `skill`, re-analysing until nothing is left to fix."""
    src = textwrap.dedent(source)
    for _ in range(rounds):
        todo = [f for f in findings(src, skill) if f.fix and (f.fix.safe or not only_safe)]
        if not todo:
            break
        taken: list[Any] = []
        edits = []
        for f in todo:
            assert f.fix is not None
            if any(
                (e.start < t.end and t.start < e.end) or e.start == t.start
                for e in f.fix.edits
                for t in taken
            ):
                continue  # overlapping: the next round picks it up
            taken.extend(f.fix.edits)
            edits.extend(f.fix.edits)
        src = apply_edits(src.encode(), edits).decode()
    compile(src, "fixed.py", "exec")
    return src


def run(source: str, expression: str) -> Any:
    """Execute a module's source as a real module and evaluate `expression` in it.

    The module is registered in sys.modules while it runs: dataclasses with postponed
    annotations look their module up there.
    """
    import sys
    import types

    module = types.ModuleType("megawatt_example")
    sys.modules[module.__name__] = module
    try:
        exec(compile(textwrap.dedent(source), "example.py", "exec"), module.__dict__)
        return eval(expression, module.__dict__)
    finally:
        del sys.modules[module.__name__]
