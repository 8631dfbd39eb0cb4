"""Scan results as documents: the stable JSON and SARIF 2.1.0 (GitHub code scanning)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from megawatt import __version__
from megawatt.analyzers.syntax import SourceProblem
from megawatt.model import HotFunction, Opportunity
from megawatt.skills import SkillSet


def opportunity_json(o: Opportunity) -> dict[str, Any]:
    f = o.finding
    # lines and columns are 1-based; columns count code points; ends are exclusive
    return {
        "skill": f.skill,
        "path": f.path,
        "line": f.span.line,
        "end_line": f.span.end_line,
        "column": f.span.column + 1,
        "end_column": f.span.end_column + 1,
        "function": f.function,
        "message": f.message,
        "confidence": round(f.confidence, 3),
        "expected_gain": o.expected_gain,
        "function_share": o.function_share,
        "estimated_savings": o.estimated_savings,
        # how the estimate was made: "calls", "lines", "self" (rough), "function", "cold"
        "savings_method": o.method or None,
        "savings_evidence": o.evidence or None,
        "evidence": dict(f.evidence),
        "fixable": f.fix is not None,
    }


def hot_function_json(h: HotFunction) -> dict[str, Any]:
    return {
        "path": h.workspace_path or h.path,
        "function": h.function,
        "line": h.workspace_line or h.line,
        "self_share": h.self_share,
        "total_share": h.total_share,
        "calls": h.calls,
    }


def problem_json(p: SourceProblem) -> dict[str, Any]:
    # kind: "syntax" (the parser and the compiler disagree with the text) or "encoding"
    return {
        "path": p.path,
        "line": p.line,
        "column": p.column,
        "kind": p.kind,
        "message": p.message,
    }


def scan_json(
    opportunities: Sequence[Opportunity],
    hot: Sequence[HotFunction],
    extra: dict[str, Any],
    problems: Sequence[SourceProblem] = (),
) -> dict[str, Any]:
    return {
        "version": __version__,
        **extra,
        "syntax_errors": [problem_json(p) for p in problems],
        "hot_functions": [hot_function_json(h) for h in hot],
        "opportunities": [opportunity_json(o) for o in opportunities],
    }


def _uri(path: str, root: Path) -> str:
    try:
        return Path(os.path.relpath(path, root)).as_posix()
    except ValueError:
        return Path(path).as_posix()


def _level(o: Opportunity) -> str:
    if o.function_share is not None and o.estimated_savings >= 0.01:
        return "warning"
    return "note" if o.finding.confidence < 0.6 else "warning"


def _notification(p: SourceProblem, root: Path) -> dict[str, Any]:
    return {
        "level": "error",
        "message": {"text": f"{p.label}: {p.message}"},
        "descriptor": {"id": f"megawatt/{p.kind}-error"},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": _uri(p.path, root), "uriBaseId": "%SRCROOT%"},
                    "region": {"startLine": p.line, "startColumn": p.column},
                }
            }
        ],
    }


def sarif(
    opportunities: Sequence[Opportunity],
    skills: SkillSet,
    root: Path,
    problems: Sequence[SourceProblem] = (),
) -> dict[str, Any]:
    rule_ids = sorted({o.skill for o in opportunities} | set(skills.skills))
    index = {rid: i for i, rid in enumerate(rule_ids)}
    rules = []
    for rid in rule_ids:
        skill = skills.get(rid)
        desc = skill.meta.description if skill else rid
        rules.append(
            {
                "id": rid,
                "name": "".join(w.capitalize() for w in rid.split("-")),
                "shortDescription": {"text": desc.split(". ")[0][:200]},
                "fullDescription": {"text": desc},
                "help": {"text": desc, "markdown": skill.body if skill else desc},
                "defaultConfiguration": {"level": "warning"},
                "properties": {"tags": ["performance"]},
            }
        )
    results = []
    for o in opportunities:
        f = o.finding
        uri = _uri(f.path, root)
        results.append(
            {
                "ruleId": f.skill,
                "ruleIndex": index[f.skill],
                "level": _level(o),
                "message": {"text": f.message},
                "locations": [
                    {
                        "physicalLocation": {
                            "artifactLocation": {"uri": uri, "uriBaseId": "%SRCROOT%"},
                            "region": {
                                "startLine": f.span.line,
                                "startColumn": f.span.column + 1,
                                "endLine": f.span.end_line,
                                "endColumn": f.span.end_column + 1,
                            },
                        }
                    }
                ],
                "partialFingerprints": {"megawatt/v1": f"{f.skill}:{f.function}:{uri}"},
                "properties": {
                    "confidence": f.confidence,
                    "estimatedSavings": o.estimated_savings,
                },
            }
        )
    return {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "megawatt",
                        "version": __version__,
                        "rules": rules,
                    }
                },
                # the files the analysis could not (fully) read: a tool notification, not a result
                "invocations": [
                    {
                        "executionSuccessful": True,
                        "toolExecutionNotifications": [_notification(p, root) for p in problems],
                    }
                ],
                "originalUriBaseIds": {"%SRCROOT%": {"uri": root.resolve().as_uri() + "/"}},
                "columnKind": "unicodeCodePoints",
                "results": results,
            }
        ],
    }
