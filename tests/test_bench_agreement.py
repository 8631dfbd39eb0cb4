"""The agreement study's pure helpers: matching, callee lookup, sampling, parsing both reports."""

from __future__ import annotations

from bench.agreement import Hit, callee_before, match, megawatt_hits, pick, ruff_hits


def hit(path: str, line: int, end: int | None = None, code: str = "X") -> Hit:
    return Hit(path, line, end if end is not None else line, 1, code, "")


def test_callee_before() -> None:
    assert callee_before("    x = any(") == "any"
    assert callee_before("if all(\n        ") == "all"
    assert callee_before("builtins.any(") == "builtins.any"
    assert callee_before("g = any((") == "any"  # a parenthesized argument
    assert callee_before("f(a, (") == ""
    assert callee_before("x = [") == ""
    assert callee_before("") == ""


def test_match_overlap_and_slack() -> None:
    ruff = [hit("a.py", 10), hit("a.py", 20), hit("b.py", 5)]
    mw = [hit("a.py", 9, 11), hit("a.py", 22), hit("c.py", 5)]
    both, r_only, m_only = match(ruff, mw)
    assert [(r.line, m.line) for r, m in both] == [(10, 9)]  # the range 9-11 holds line 10
    assert [(h.path, h.line) for h in r_only] == [("a.py", 20), ("b.py", 5)]  # 2 apart, other file
    assert [(h.path, h.line) for h in m_only] == [("a.py", 22), ("c.py", 5)]


def test_match_is_one_to_one_nearest_first() -> None:
    # consecutive imports: each ruff finding pairs with the Megawatt finding on its own line
    ruff = [hit("a.py", 3), hit("a.py", 4)]
    mw = [hit("a.py", 4)]
    both, r_only, m_only = match(ruff, mw)
    assert [(r.line, m.line) for r, m in both] == [(4, 4)]
    assert [h.line for h in r_only] == [3]
    assert m_only == []


def test_match_prefers_overlap_to_slack() -> None:
    # `any(([...]))` on line 10 (Megawatt misses it) and `all(\n [...]\n)` on lines 11-13:
    # ruff's line 12 overlaps the call, so line 10 must not take it for being one line away
    ruff = [hit("a.py", 10), hit("a.py", 12)]
    mw = [hit("a.py", 11, 13)]
    both, r_only, _ = match(ruff, mw)
    assert [(r.line, m.line) for r, m in both] == [(12, 11)]
    assert [h.line for h in r_only] == [10]


def test_pick_prefers_one_per_file_then_fills() -> None:
    hits = [hit("b.py", 1), hit("a.py", 2), hit("a.py", 1), hit("c.py", 7)]
    assert [(h.path, h.line) for h in pick(hits, 2)] == [("a.py", 1), ("b.py", 1)]
    assert [(h.path, h.line) for h in pick(hits, 4)] == [
        ("a.py", 1),
        ("a.py", 2),
        ("b.py", 1),
        ("c.py", 7),
    ]


def test_reports_parse() -> None:
    ruff_doc = [
        {
            "code": "C419",
            "filename": "/x/a.py",
            "location": {"row": 3, "column": 9},
            "end_location": {"row": 4, "column": 2},
            "message": "Unnecessary list comprehension",
        },
        {"code": None, "filename": "/x/bad.py", "location": {"row": 1, "column": 1}, "message": ""},
    ]
    hits, unparsed = ruff_hits(ruff_doc)
    assert [(h.code, h.line, h.end_line, h.column) for h in hits] == [("C419", 3, 4, 9)]
    assert unparsed == ["/x/bad.py"]
    mw_doc = {
        "opportunities": [
            {
                "skill": "quadratic-concat",
                "path": "/x/a.py",
                "line": 2,
                "end_line": 2,
                "column": 5,
                "message": "m",
                "evidence": {"call": "sum(xs, [])", "in_loop": "false"},
            }
        ]
    }
    (m,) = megawatt_hits(mw_doc)
    assert (m.code, m.line, m.evidence["call"]) == ("quadratic-concat", 2, "sum(xs, [])")
