"""The editor's quick pass (server/quick.py) against a full analysis of the same text: what it
finds in the edited statement, where it moves everything else, and when it hands over."""

from __future__ import annotations

import random
from pathlib import Path

from megawatt.config import Settings
from megawatt.server.analysis import analyze_snapshot
from megawatt.server.edits import changed
from megawatt.server.quick import quick_snapshot
from megawatt.server.session import Analysis, FolderState, Snapshot

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "shop.py"


def snap(source: bytes, tmp_path: Path, version: int = 1) -> Snapshot:
    folder = FolderState(root=tmp_path, settings=Settings())
    return Snapshot("file:///x.py", str(tmp_path / "x.py"), version, source, None, folder, "utf-16")


def keys(a: Analysis) -> list[tuple[str, int, int, int, int]]:
    return [
        (f.skill, f.span.start_byte, f.span.end_byte, f.span.line, f.span.column)
        for f in a.findings
    ]


def test_changed_region() -> None:
    assert changed(b"abcdef", b"abXcdef") == (2, 2, 3)
    assert changed(b"abcdef", b"abef") == (2, 4, 2)
    assert changed(b"aaaa", b"aaaaa") == (4, 4, 5)


def test_an_edit_in_one_function_is_found_and_the_rest_moves(tmp_path: Path) -> None:
    old = EXAMPLE.read_bytes()
    settled = analyze_snapshot(snap(old, tmp_path), None, True)
    # a regex compiled in a loop, typed into an early function: two new lines
    anchor = old.index(b"def parse_sku(")
    body = old.index(b"\n", anchor) + 1
    new = old[:body] + b"    for _ in range(3):\n        re.compile('x')\n" + old[body:]
    quick = quick_snapshot(snap(new, tmp_path, 2), settled)
    full = analyze_snapshot(snap(new, tmp_path, 2), None, True)
    assert quick is not None and not quick.settled
    assert keys(quick) == keys(full)  # the new finding, and every later one moved two lines
    assert any(f.skill == "regex-in-function" and f.function == "parse_sku" for f in quick.findings)
    assert [(d.qualname, d.line, d.end_line) for d in quick.defs] == [
        (d.qualname, d.line, d.end_line) for d in full.defs
    ]
    assert quick.diagnostics and len(quick.diagnostics) == len(full.diagnostics)


def test_a_changed_import_marks_everything_for_the_settled_pass(tmp_path: Path) -> None:
    old = EXAMPLE.read_bytes()
    settled = analyze_snapshot(snap(old, tmp_path), None, True)
    new = old.replace(b"import re\n", b"import re as regex\n", 1)
    quick = quick_snapshot(snap(new, tmp_path, 2), settled)
    assert quick is not None and all(c.partial for c in quick.order if c.fact is False)
    # the settled pass sees the module's facts changed and analyses every statement again
    again = analyze_snapshot(snap(new, tmp_path, 2), quick, False)
    assert keys(again) == keys(analyze_snapshot(snap(new, tmp_path, 2), None, True))


def test_random_keystrokes_agree_with_a_full_analysis_once_settled(tmp_path: Path) -> None:
    rng = random.Random(3)
    source = EXAMPLE.read_bytes()
    previous = analyze_snapshot(snap(source, tmp_path), None, True)
    agree = 0
    for version in range(2, 62):
        at = rng.randrange(len(source))
        source = source[:at] + rng.choice([b"x", b" ", b"\n", b"("]) + source[at:]
        quick = quick_snapshot(snap(source, tmp_path, version), previous)
        full = analyze_snapshot(snap(source, tmp_path, version), None, True)
        assert quick is not None
        agree += keys(quick) == keys(full)
        previous = full  # what the settled pass gives once the edits pause
    # the quick pass sees the edited statement without the other definitions and parses it
    # on its own: where a keystroke breaks the syntax, tree-sitter's recovery can differ
    assert agree >= 45, agree


def test_the_settled_pass_stops_when_asked(tmp_path: Path) -> None:
    # the server stops a settled pass of an older text when a keystroke arrives
    import threading

    import pytest

    from megawatt.analyzers.engine import Cancelled

    stop = threading.Event()
    stop.set()
    with pytest.raises(Cancelled):
        analyze_snapshot(snap(EXAMPLE.read_bytes(), tmp_path), None, True, stop)
    assert analyze_snapshot(snap(EXAMPLE.read_bytes(), tmp_path), None, True, threading.Event())
